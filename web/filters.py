"""Template helpers: times in the garage's zone, urgency badges, durations."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from flask_babel import format_date, format_decimal, format_scientific, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.services import outbox
from scheduler.texts import short_date


def _local(moment: datetime, garage) -> datetime:
    """In the garage's zone, or the network's where no single garage applies; never raw UTC."""
    if garage is not None:
        return garage.local(moment)
    return moment.astimezone(ZoneInfo(current_app.config["NETWORK_TIMEZONE"]))


def said_date(day: date, zone=None, weekday: str = "EEE", month: str = "MMM") -> str:
    """A date as the reader says it short, "jeu. 3 déc.", with its year when that is not this year
    ("jeu. 3 déc. 2099"): scheduler.texts.short_date, this year being the app clock's in `zone` (a garage's
    zone, or the network's)."""
    from web.clock import now

    zone = zone or ZoneInfo(current_app.config["NETWORK_TIMEZONE"])
    return short_date(day, now().astimezone(zone).date(), str(get_locale() or "en"), weekday=weekday, month=month)


def local_time(moment: datetime | None, garage=None) -> str:
    return "" if moment is None else _local(moment, garage).strftime("%H:%M")


def local_datetime(moment: datetime | None, garage=None) -> str:
    if moment is None:
        return ""
    local = _local(moment, garage)
    return f"{said_date(local.date(), local.tzinfo)} {local:%H:%M}"


def until_label(moment: datetime, garage=None) -> str:
    """When something ends, as people say it: an end at midnight is the end of the day before (an absence typed
    "to 02/12" ends on the 2nd, not "Thu 3 Dec 00:00")."""
    local = _local(moment, garage)
    if local.hour == 0 and local.minute == 0:
        return _("%(day)s, end of day", day=said_date(local.date() - timedelta(days=1), local.tzinfo))
    return local_datetime(moment, garage)


def local_when(moment: datetime | None, garage=None, since: datetime | None = None) -> str:
    """The time alone when it falls on the same local day as `since`, else with its day."""
    if moment is None or since is None or _local(moment, garage).date() != _local(since, garage).date():
        return local_datetime(moment, garage)
    return local_time(moment, garage)


def short_day(day: date) -> str:
    return format_date(day, "EEE d")


def day_label(day: date) -> str:
    return format_date(day, "EEEE d MMMM y")


def fit_label(day: date, today: date) -> str:
    """The squeeze's button and heading: today's, or after closing the next open day's (squeeze.squeeze_day)."""
    return _("Fit into today") if day == today else _("Fit into %(day)s", day=format_date(day, "EEEE d MMMM"))


def minutes_label(minutes: int | None, days: bool = True) -> str:
    """A span of time: "45 min", "2 h 05", "3.5 d" (days of 24 h; `days=False` keeps hours, for work time)."""
    if minutes is None:
        return "—"
    sign = "-" if minutes < 0 else ""
    minutes = abs(minutes)
    if days and minutes >= 1440:
        return sign + _("%(days)s d", days=format_decimal(minutes / 1440, format="0.#"))
    if minutes >= 60:
        return f"{sign}{minutes // 60} h" + (f" {minutes % 60:02d}" if minutes % 60 else "")
    return f"{sign}{minutes} min"


def span_label(minutes: int | None) -> str:
    """A span as the desk says it: "2 d 19 h", not a planner's "2.8 d" (whole days, then hours, then minutes)."""
    if minutes is None or abs(minutes) < 1440:
        return minutes_label(minutes)
    sign = "-" if minutes < 0 else ""
    days, hours = divmod(abs(minutes) // 60, 24)
    return sign + (_("%(days)s d %(hours)s h", days=days, hours=hours) if hours else _("%(days)s d", days=days))


def wait_label(minutes: int) -> str:
    """How long the customer waits, as an operator would say it on the phone."""
    if minutes < 60:
        return _("in %(n)s min", n=minutes)
    if minutes < 1440:
        return _("in %(h)s h %(m)02d", h=minutes // 60, m=minutes % 60)
    return ngettext("in %(num)s day", "in %(num)s days", round(minutes / 1440))


def seconds_label(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    return f"{seconds} s" if seconds < 60 else f"{seconds // 60} min {seconds % 60:02d} s"


def garage_names(text: str, garages: dict) -> str:
    """The optimizer speaks in garage ids; people read names."""
    for garage_id in sorted(garages, key=len, reverse=True):
        text = re.sub(rf"\b{re.escape(garage_id)}\b", garages[garage_id].name, text)
    return text


_INSTANT = re.compile(r"(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(?::\d{2})?(?:[+-]\d{2}:\d{2}|Z)?")


def plain_times(text: str) -> str:
    """The optimizer's notes carry ISO times (already local); an operator reads 'Wed 25 Nov 13:30'."""
    return _INSTANT.sub(lambda m: f"{said_date(date.fromisoformat(m[1]))} {m[2]}", text)


def status_label(status: str) -> str:
    """A status (case, appointment, drive-in, direct-line request, preview, message, replay) in the reader's language."""
    return {"booked": _("booked"), "checked_in": _("checked in"), "in_progress": _("in progress"), "done": _("done"),
            "cancelled": _("cancelled"), "no_show": _("no-show"), "open": _("open"), "queued": _("queued"),
            "sent": _("sent"), "failed": _("failed"), "expected": _("expected"), "arrived": _("arrived"),
            "accepted": _("accepted"), "declined": _("declined"), "expired": _("expired"),
            "confirmed": _("confirmed"), "rejected": _("rejected"), "superseded": _("superseded"),
            "running": _("running")}.get(status, status.replace("_", " "))


def case_status_label(status: str) -> str:
    """A case's status: a case with no booking wanted any more is closed (its timeline says so), not "cancelled",
    which is said of a booking."""
    return _("closed") if status == "cancelled" else status_label(status)


def role_label(role: str) -> str:
    return {"operator": _("operator"), "reception": _("reception"), "workshop": _("workshop"),
            "planner": _("planner"), "admin": _("admin")}.get(role, role)


def channel_label(channel: str) -> str:
    """How a case or a booking came in: by the call centre, at a garage's counter, on the direct line."""
    return {"call_centre": _("call centre"), "walk_in": _("walk-in"),
            "direct_line": _("direct line")}.get(channel, channel.replace("_", " "))


def team_label(team: str) -> str:
    """The team a user's actions count towards; a garage's team by its role (the name says the garage)."""
    from web.planner.labels import TEAMS

    return str(TEAMS[team]) if team in TEAMS else role_label(team.rpartition(" ")[2])


def term(label: str | None) -> str:
    """A label of the network's catalogue (job types, skills), in the reader's language: a job type's own French
    label when an admin gave one (read once per request), else the catalog's translation."""
    if not label:
        return ""
    locale = str(get_locale() or "en")
    if locale == "fr":
        from flask import g
        from sqlalchemy import select

        from scheduler.models import JobType
        from scheduler.services.catalogue import job_label
        from web.extensions import db

        if "job_types_named_fr" not in g:
            g.job_types_named_fr = {j.label: j for j in db.session.scalars(
                select(JobType).where(JobType.label_fr.is_not(None)))}
        if label in g.job_types_named_fr:
            return job_label(g.job_types_named_fr[label], locale, _)
    return _(label)


def skill_label(code: str) -> str:
    """A skill by its code, in the reader's language (the labels are read once per request)."""
    from flask import g
    from sqlalchemy import select

    from scheduler.models import Skill
    from web.extensions import db

    if "skill_labels" not in g:
        g.skill_labels = {c: (label, label_fr) for c, label, label_fr
                          in db.session.execute(select(Skill.code, Skill.label, Skill.label_fr))}
    label, label_fr = g.skill_labels.get(code, (code, None))
    return label_fr if label_fr and str(get_locale() or "en") == "fr" else term(label)


def event_text(event, names) -> str:
    from web.timeline import describe

    return describe(event, names, str(get_locale() or "en"))


def event_kind(kind: str) -> str:
    from web.timeline import kind_label

    return kind_label(kind)


def timeline_pos(start: datetime, end: datetime, span: tuple[datetime, datetime]) -> str:
    """CSS left and width, in percent of the board's span, of a block from `start` to `end`."""
    first, last = span
    total = max(1.0, (last - first).total_seconds())
    left = max(0.0, (start - first).total_seconds() / total * 100)
    right = min(100.0, (end - first).total_seconds() / total * 100)
    return f"left:{left:.3f}%;width:{max(0.4, right - left):.3f}%"


def fromiso(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def km(distance: float) -> str:
    """A distance as the reader writes it: "15,0" in French, "15.0" in English."""
    return format_decimal(distance, format="#,##0.0")


def number_text(value: float) -> str:
    """A stored number as the reader writes it, as precise as it was: "45,5" and "0,0001" in French, "30" for 30.0,
    "10,000,000" in English (not "1e+07"). Beyond what anyone counts in (a typed 1e20), "1E20": the decimal
    pattern cannot write it at all."""
    if HUGE <= abs(value) < float("inf"):
        return format_scientific(value, format="0.###E0")
    return format_decimal(value, format="#,##0.#########")


HUGE = 1e15


def number_field(value: float) -> str:
    """A stored number as the reader types it into a field: "32,5" in French, with no grouping, which a field
    would not read back."""
    return format_decimal(value, format="0.#########")


ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _list_separator() -> str:
    return "\u202f; " if str(get_locale() or "en") == "fr" else "; "


def fact_value(value: object) -> str:
    """An audit fact's value as a person reads it: times in the network's zone, lists joined, yes/no."""
    if value is None or value == []:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, str) and ISO_MOMENT.match(value):
        try:
            return local_datetime(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, list):
        return _list_separator().join(fact_value(v) for v in value)
    if isinstance(value, dict) and "weekday" in value:  # a shift or a day's opening hours
        text = f"{day_name(int(value['weekday']))} {value.get('start') or value.get('opens')}–{value.get('end') or value.get('closes')}"
        if value.get("lunch_start"):
            text += " " + _("lunch %(start)s–%(end)s", start=value["lunch_start"], end=value["lunch_end"])
        return text
    if isinstance(value, dict):
        return " ".join(str(v) for v in value.values())
    if isinstance(value, float):
        return number_text(value)
    return str(value)


def day_name(weekday: int) -> str:
    """A weekday (0 = Monday) as the reader writes it short: "Mon", "lun."."""
    return format_date(date(2024, 1, 1 + weekday), "EEE")  # 2024-01-01 was a Monday


def day_names() -> tuple[str, ...]:
    """The week's days as the reader writes them short, Monday first: what the hours and shifts boxes show
    (the boxes read English and French alike: technicians.weekday_of)."""
    return tuple(day_name(d) for d in range(7))


def reason_text(reason: str | None) -> str:
    """An override's reason: the person's own words as typed, or the app's default worded for the reader."""
    from scheduler.services.overrides import GIVEN_BY_APP

    return _(reason) if reason in GIVEN_BY_APP else (reason or "")


def quoted(text: object) -> str:
    """Someone's words quoted as the reader's language does: « mot » (no-break spaces inside) or “word”."""
    return f"«\u00a0{text}\u00a0»" if str(get_locale() or "en") == "fr" else f"“{text}”"


def audit_word(word: str) -> str:
    """An audit entry's entity, action or changed field in the reader's words (one not listed as it is)."""
    words = {
        # entities
        "user": _("user"), "garage": _("garage"), "technician": _("technician"), "job_type": _("job type"),
        "symptom": _("symptom"), "policy": _("policy version"),
        # actions
        "created": _("created"), "changed": _("changed"), "deactivated": _("deactivated"),
        "reactivated": _("reactivated"), "password_reset": _("password reset"),
        "password_changed": _("password changed"), "absence_added": _("absence added"),
        "absence_removed": _("absence removed"),
        # fields
        "username": _("username"), "name": _("name"), "role": _("role"), "password": _("password"),
        "other_sessions_ended": _("other sessions and tokens ended"), "active": _("active"), "label": _("label"),
        "label_fr": _("label in French"), "skill": _("skill"), "duration_minutes": _("duration (minutes)"),
        "lift": _("needs a lift"), "urgency": _("urgency"), "skills": _("skills"), "shifts": _("shifts"),
        "absence": _("absence"), "start": _("start"), "end": _("end"), "reason": _("reason"),
        "work_hit": _("work hit"), "address": _("address"), "city": _("city"), "phone": _("phone"),
        "lifts": _("lifts"), "location": _("location"), "timezone": _("time zone"),
        "opening_hours": _("opening hours"), "closed_days": _("closed days"),
    }
    if word not in words:
        from web.planner.labels import FIELDS  # a policy's rule, as the planner's page names it

        if word in FIELDS:
            return str(FIELDS[word])
    return words.get(word, word.replace("_", " "))


def audit_subject(entry) -> str:
    """What an audit entry is about, as the admin knows it: a user by their username (their id means nothing), a
    garage or a technician by name with the id the addresses use ("Givors (givors)"); one since removed by its id."""
    from scheduler.models import Garage, Technician, User
    from web.extensions import db

    # the identity map: each subject read once per page
    if entry.entity == "user" and entry.entity_id.isdecimal():
        user = db.session.get(User, int(entry.entity_id))
        if user is not None:
            return user.username
    elif entry.entity in ("garage", "technician"):
        found = db.session.get(Garage if entry.entity == "garage" else Technician, entry.entity_id)
        if found is not None and found.name != entry.entity_id:
            return f"{found.name} ({entry.entity_id})"
    return entry.entity_id


def absence_reason(reason: str) -> str:
    """An absence's reason in the reader's language: the app's own words (the default "leave", the sick-today
    button's "sick") worded, what an admin typed as typed."""
    words = {"leave": _("leave"), "sick": _("sick"), "training": _("training")}
    return words.get(reason, reason)


def audit_value(value: object, field: str) -> str:
    """A changed field's value as a person reads it: roles and skills worded, the rest as fact_value."""
    if field == "role" and isinstance(value, str):
        return role_label(value)
    if field == "reason" and isinstance(value, str):
        return absence_reason(value)
    if field == "work_hit" and isinstance(value, list):  # appointment ids mean nothing to a reader: how many
        return ngettext("%(num)s appointment", "%(num)s appointments", len(value))
    if field == "garage" and isinstance(value, str):  # a garage by its name, as every page names it (not lyon-07)
        from web.i18n import garage_name_by_id

        return garage_name_by_id().get(value, value)
    if field in ("skill", "skills") and value:
        return _list_separator().join(skill_label(v) for v in (value if isinstance(value, list) else [value]))
    return fact_value(value)


def delivery_error(error: str) -> str:
    """Why a customer message did not go, in the reader's language where the app itself said why (a message its
    booking replaced before it went); a mail server's own words stay as they came."""
    if error == outbox.CANCELLED:
        return _("its booking was cancelled before it went: never sent")
    if error == outbox.STARTED:
        return _("the work began before it went: never sent")
    if error == outbox.NO_LONGER_LATE:
        return _("the wait it told of was over before it went: never sent")
    if error.startswith("superseded:"):
        return _("its booking was replaced before it went: never sent")
    return error


def percent(share: float) -> str:
    """0.46 as the reader writes it: "46 %" in French (a narrow no-break space), "46%" in English."""
    from flask_babel import format_percent

    return format_percent(share)


class _Colon:
    """The colon after a label, "\u202f:" in French, as a global: for macros imported without the page's context."""

    def __str__(self) -> str:
        return "\u202f:" if str(get_locale() or "en") == "fr" else ":"

    def __html__(self) -> str:
        return str(self)


def register(app: Flask) -> None:
    from web.late_reasons import why_not_earlier

    app.jinja_env.filters.update(withdrawn=outbox.withdrawn,
                                 local_time=local_time, local_datetime=local_datetime, local_when=local_when,
                                 until_label=until_label,
                                 day_label=day_label, minutes_label=minutes_label, span_label=span_label, wait_label=wait_label,
                                 seconds_label=seconds_label, garage_names=garage_names,
                                 plain_times=plain_times, event_text=event_text, event_kind=event_kind,
                                 status_label=status_label, case_status_label=case_status_label, fromiso=fromiso, km=km,
                                 why_not_earlier=why_not_earlier, term=term,
                                 skill_label=skill_label, role_label=role_label, channel_label=channel_label,
                                 short_day=short_day, said_date=said_date, decimal=km, team_label=team_label,
                                 percent=percent, number=number_text, number_field=number_field,
                                 fact_value=fact_value, audit_word=audit_word, audit_value=audit_value,
                                 audit_subject=audit_subject, absence_reason=absence_reason,
                                 quoted=quoted, reason_text=reason_text, delivery_error=delivery_error)
    # the page's context gives `colon`; a macro imported without that context (admin/_audit.html) reads this one
    from scheduler.services.jobs import may_check_in_ahead

    app.jinja_env.globals.update(timeline_pos=timeline_pos, colon=_Colon(), list_separator=_list_separator,
                                 fit_label=fit_label, may_check_in_ahead=may_check_in_ahead)

    @app.context_processor
    def globals_():
        from web.auth import home_url

        french = str(get_locale() or "en") == "fr"
        # "Label{{ colon }} value": French sets a narrow no-break space before the colon
        return {"current_locale": str(get_locale() or "en"), "colon": "\u202f:" if french else ":",
                "home_url": home_url(current_user) if current_user.is_authenticated else "/"}
