"""Technicians at the admin desk: add, move, skills, weekly shifts, absences, and what a change hits.

A change that takes working time away (an absence, a shorter shift, a move to another garage) can leave
booked work with no one to do it. The change is saved, and the work it hits is listed exactly (what was on
shift before and is not any more, by capacity.shifts, the one rule); re-planning it is the garage desk's
own preview and confirm (squeeze.preview_replan): nothing moves until someone confirms.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from itertools import pairwise

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, NotFound, Said, Weekday, refuse_fields
from scheduler.models import (
    ACTIVE,
    Absence,
    Appointment,
    Garage,
    PlanPreview,
    ShiftPattern,
    Skill,
    Technician,
    User,
)
from scheduler.models.case import name_key
from scheduler.services import audit, capacity, squeeze
from scheduler.texts import N_
from scheduler.typed import as_clock, as_ranges

MAX_ABSENCE_DAYS = 366
HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
WEEKDAYS = Weekday.NAMES
# Day names as an admin types them: English or French, whole or cut short (three letters at least), any
# case, with or without the abbreviation's dot ("Mon", "monday", "lun.", "Lundi"); pages show the reader's.
DAY_NAMES = (("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
             ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"))
SHORT_FORMS = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}  # common ones that are no prefix of the name


def weekday_of(word: str) -> int:
    """The weekday (0 = Monday) a typed day name means; -1 when it names none (refused under the field)."""
    typed = word.strip().rstrip(".:").lower()
    if len(typed) < 3:
        return -1
    return SHORT_FORMS.get(typed, next((day for names in DAY_NAMES for day, name in enumerate(names)
                                        if name.startswith(typed)), -1))


def technician_dict(t: Technician, now: datetime | None = None) -> dict:
    zone = t.garage.zone
    return {"id": t.id, "garage": t.garage_id, "name": t.name, "active": t.active, "skills": t.skill_codes,
            "shifts": shift_facts(t.shift_patterns),
            "absences": [absence_dict(a, zone) for a in sorted(t.absences, key=lambda a: a.first_day)
                         if now is None or a.span(zone)[1] > now]}


def absence_dict(a: Absence, zone) -> dict:
    """In UTC, as every time the API answers: a whole day's bounds are its local midnights, said in UTC."""
    start, end = (moment.astimezone(timezone.utc) for moment in a.span(zone))
    return {"id": a.id, "technician": a.technician_id, "start": start.isoformat(), "end": end.isoformat(),
            "part_day": a.start_at is not None, "reason": a.reason}


def shift_facts(patterns) -> list[dict]:
    return [{"weekday": p.weekday, "start": p.starts.strftime("%H:%M"), "end": p.ends.strftime("%H:%M")}
            for p in sorted(patterns, key=lambda p: (p.weekday, p.starts))]


def get(session: Session, actor: User, technician_id: object) -> Technician:
    return audit.find(session, actor, Technician, technician_id, "technician")


# -- what a change hits --------------------------------------------------------------------------------------

def can_do(technician: Technician, appointment: Appointment) -> bool:
    """Whether the technician booked for a job can still do it where and when it is booked: the one reading of
    "someone is on shift for this booking" after an absence, a move, shorter hours, a closed day or a skill taken
    away."""
    return technician.garage_id == appointment.garage_id and technician.active and \
        appointment.skill_code in technician.skill_codes and \
        capacity.works(technician, appointment.start_at, appointment.end_at)


def cannot_be_booked(technician: Technician) -> dict:
    """Why no work can be booked with this technician, as facts (none: they can be): no skill, no shift, or shifts
    only on days the garage is closed, which the garage's hours cut away (capacity.shifts)."""
    if not technician.active:
        return {}
    if not technician.skills:
        return {"code": "no_skills"}
    if not technician.shift_patterns:
        return {"code": "no_shifts"}
    open_days = {h.weekday for h in technician.garage.opening_hours}
    if open_days and not {p.weekday for p in technician.shift_patterns} & open_days:
        return {"code": "shifts_on_closed_days", "days": sorted({Weekday(p.weekday) for p in technician.shift_patterns})}
    return {}


def off_shift(session: Session, technician: Technician, now: datetime) -> set[int]:
    """The technician's active work from now on that they can no longer do where and when it is booked."""
    rows = session.scalars(select(Appointment).where(
        Appointment.technician_id == technician.id, Appointment.status.in_(ACTIVE), Appointment.end_at > now))
    return {a.id for a in rows if not can_do(technician, a)}


@dataclass
class Hit:
    """The appointments a change left with no one on shift for them: the ones it made so, no others."""

    appointments: list[Appointment] = field(default_factory=list)

    @property
    def movable(self) -> list[Appointment]:
        """What a re-plan may move: booked, not started (checked-in and started work is the desk's call)."""
        return [a for a in self.appointments if a.status == "booked"]

    def by_garage(self) -> dict[str, list[Appointment]]:
        out: dict[str, list[Appointment]] = {}
        for a in self.appointments:
            out.setdefault(a.garage_id, []).append(a)
        return out


def _hit(session: Session, actor: User, before: set[int], technician: Technician, now: datetime) -> Hit:
    return _hit_many(session, actor, {technician.id: before}, [technician], now)


def _hit_many(session: Session, actor: User, before: dict[str, set[int]], people: list[Technician],
              now: datetime) -> Hit:
    """What is off shift now and was not before the change, over these technicians.

    Each booking hit is a fact on its case's timeline ("stranded"): the call centre finds there the bookings
    that still have no one (scheduler.services.stranded), whatever a re-plan later places."""
    session.flush()
    after = set().union(*(off_shift(session, t, now) - before.get(t.id, set()) for t in people))
    rows = list(session.scalars(select(Appointment).where(Appointment.id.in_(after))
                                .order_by(Appointment.start_at))) if after else []
    for a in rows:
        if a.status == "booked":
            a.case.log("stranded", actor, now, appointment=a.id, garage=a.garage_id, start=a.start_at.isoformat(),
                       technician=a.technician_id)
    return Hit(rows)


# -- parsing what an admin typed (API and pages alike) --------------------------------------------------------

def _skills(session: Session, value: object, problems: dict) -> list[Skill] | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems["skills"] = N_("skills is a list of skill codes.")
        return None
    found = {s.code: s for s in session.scalars(select(Skill).where(Skill.code.in_(value)))}
    unknown = [v for v in value if v not in found]
    if unknown:
        problems["skills"] = Said(N_("Unknown skill %(skill)s: choose among %(skills)s."), skill=repr(unknown[0]),
                                  skills=", ".join(all_skills(session)))
        return None
    return [found[v] for v in sorted(set(value))]


def all_skills(session: Session) -> list[str]:
    return list(session.scalars(select(Skill.code).order_by(Skill.code)))


def _clock(value: object) -> time | None:
    match = HHMM.match(value) if isinstance(value, str) else None
    return time(int(match[1]), int(match[2])) if match else None


def _shifts(value: object, problems: dict) -> list[ShiftPattern] | None:
    """[{weekday 0-6, start "HH:MM", end "HH:MM"}]: spans of one weekday may not overlap."""
    if not isinstance(value, list):
        problems["shifts"] = N_("shifts is a list of {weekday, start, end}.")
        return None
    spans: list[tuple[int, time, time]] = []
    for i, item in enumerate(value):
        weekday = item.get("weekday") if isinstance(item, dict) else None
        start, end = (_clock(item.get(k)) if isinstance(item, dict) else None for k in ("start", "end"))
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            problems["shifts"] = Said(N_("Shift %(n)s: unknown day (on the page, a day's name from Mon to Sun; in the "
                                         "API, a weekday from 0 for Monday to 6 for Sunday)."), n=i + 1)
        elif start is None or end is None:
            problems["shifts"] = Said(N_("Shift %(n)s: start and end are times like 08:00 and 12:30."), n=i + 1)
        elif end <= start:
            problems["shifts"] = Said(N_("Shift %(n)s (%(day)s): it must end after it starts."), n=i + 1,
                                      day=Weekday(weekday))
        else:
            spans.append((weekday, start, end))
            continue
        return None
    spans.sort()
    for (d1, _, e1), (d2, s2, _) in pairwise(spans):
        if d1 == d2 and s2 < e1:
            problems["shifts"] = Said(N_("Two shifts overlap on %(day)s: make them follow each other."),
                                      day=Weekday(d1))
            return None
    return [ShiftPattern(weekday=d, starts=s, ends=e) for d, s, e in spans]


def parse_week(text: str) -> list[dict]:
    """A page's shifts, one line per weekday ("Mon 08:00-12:00, 13:30-17:30"), as the API's list."""
    out = []
    for line in text.splitlines():
        line = as_ranges(line).strip()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        weekday = weekday_of(head)
        spans = [s.strip() for s in rest.split(",") if s.strip()]
        if not spans:  # a line of no hours ("foo", "Mon") is a typo, refused as such: it must not empty the week
            out.append({"weekday": weekday, "start": "", "end": ""})
        for span in spans:
            start, _, end = span.partition("-")
            out.append({"weekday": weekday, "start": as_clock(start.strip()), "end": as_clock(end.strip())})
    return out


def week_text(patterns, day_names: tuple[str, ...] = WEEKDAYS) -> str:
    """The shifts as the page shows them, one line per weekday, with the reader's day names."""
    days: dict[int, list[str]] = {}
    for p in sorted(patterns, key=lambda p: (p.weekday, p.starts)):
        days.setdefault(p.weekday, []).append(f"{p.starts:%H:%M}-{p.ends:%H:%M}")
    return "\n".join(f"{day_names[d]} {', '.join(spans)}" for d, spans in sorted(days.items()))


def _name(value: object, problems: dict) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > 120:
        problems["name"] = N_("Give the technician's name (at most 120 characters).")
        return None
    return value.strip()


def _same_name(session: Session, garage_id: str, name: str | None, problems: dict, own: Technician | None = None
               ) -> None:
    """Two active technicians of one name at one garage read as one on the board, in the hand-over list and on
    the timeline. Names are compared as a reader does (name_key); only a new name, a move or a return to work is
    checked, so two named alike before this rule stay editable."""
    if not name or (own is not None and own.active and own.garage_id == garage_id
                    and name_key(own.name) == name_key(name)):
        return
    others = session.scalars(select(Technician.name).where(
        Technician.garage_id == garage_id, Technician.active.is_(True),
        Technician.id != (own.id if own is not None else "")))
    if any(name_key(n) == name_key(name) for n in others):
        problems["name"] = Said(N_("A technician of this garage is already named %(name)s: add what tells them "
                                   "apart (an initial)."), name=name)


def _garage(session: Session, value: object, problems: dict) -> Garage | None:
    found = session.get(Garage, value) if isinstance(value, str) and value else None
    if found is None:
        problems["garage"] = Said(N_("No garage %(garage)s: choose one of the network."), garage=repr(value))
    return found


# -- the changes -----------------------------------------------------------------------------------------------

def add(session: Session, actor: User, garage: Garage, data: dict, now: datetime) -> Technician:
    audit.require_admin(actor)
    # a field the API does not know is refused, not dropped: a technician created without the shifts sent
    # as "week" would work no hours and be offered nowhere
    problems: dict[str, str] = {f: Said(N_("%(field)s is not a technician's field: name, skills, shifts."), field=f)
                                for f in sorted(set(data) - {"name", "skills", "shifts"})}
    name = _name(data.get("name"), problems)
    skills = _skills(session, data.get("skills", []), problems)
    shifts = _shifts(data.get("shifts", []), problems)
    _same_name(session, garage.id, name, problems)
    refuse_fields(problems)
    taken = set(session.scalars(select(Technician.id).where(Technician.id.like(f"{garage.id}-t%"))))
    number = 1
    while f"{garage.id}-t{number:02d}" in taken:
        number += 1
    technician = Technician(id=f"{garage.id}-t{number:02d}", garage=garage, name=name, skills=skills,
                            shift_patterns=shifts)
    session.add(technician)
    session.flush()
    audit.record(session, actor, "technician", technician.id, "created",
                 {"garage": (None, garage.id), "name": (None, name), "skills": (None, technician.skill_codes),
                  "shifts": (None, shift_facts(shifts))}, now)
    return technician


def change(session: Session, actor: User, technician: Technician, data: dict, now: datetime) -> Hit:
    """Name, garage (a move), skills, shifts, active: saved whole or not at all; returns the work it hits."""
    audit.require_admin(actor)
    problems: dict[str, str] = {f: Said(N_("%(field)s cannot be changed here."), field=f) for f in sorted(
        set(data) - {"name", "garage", "skills", "shifts", "active"})}
    values: dict = {}
    if "name" in data:
        values["name"] = _name(data["name"], problems)
    if "garage" in data:
        values["garage"] = _garage(session, data["garage"], problems)
    if "skills" in data:
        values["skills"] = _skills(session, data["skills"], problems)
    if "shifts" in data:
        values["shifts"] = _shifts(data["shifts"], problems)
    if "active" in data:
        if not isinstance(data["active"], bool):
            problems["active"] = N_("active is true or false.")
        values["active"] = data["active"]
    back = values.get("active") is True and not technician.active  # reactivated: beside whoever took the name
    if ("name" in values or "garage" in values or back) and values.get("active", technician.active):
        garage = values.get("garage") or technician.garage
        _same_name(session, garage.id if garage else technician.garage_id, values.get("name", technician.name),
                   problems, technician)
    refuse_fields(problems)
    capacity.lock_garage(session, technician.garage_id)
    before = off_shift(session, technician, now)
    changes = audit.apply(technician, {k: v for k, v in values.items() if k in ("name", "active")})
    if "garage" in values and values["garage"].id != technician.garage_id:
        capacity.lock_garage(session, values["garage"].id)
        changes["garage"] = (technician.garage_id, values["garage"].id)
        technician.garage = values["garage"]
    if "skills" in values and [s.code for s in values["skills"]] != technician.skill_codes:
        changes["skills"] = (technician.skill_codes, [s.code for s in values["skills"]])
        technician.skills = values["skills"]
    if "shifts" in values and shift_facts(values["shifts"]) != shift_facts(technician.shift_patterns):
        changes["shifts"] = (shift_facts(technician.shift_patterns), shift_facts(values["shifts"]))
        technician.shift_patterns = values["shifts"]
    hit = _hit(session, actor, before, technician, now)
    if changes:
        if hit.appointments:
            changes["work_hit"] = (None, [a.id for a in hit.appointments])
        audit.record(session, actor, "technician", technician.id, "changed", changes, now)
    return hit


MOMENT = {"start": N_("start is a day (2026-11-24) or a time (2026-11-24T14:00 or with its UTC offset)."),
          "end": N_("end is a day (2026-11-24) or a time (2026-11-24T14:00 or with its UTC offset).")}


def _moment(value: object, zone, name: str, problems: dict, end: bool = False) -> datetime | None:
    """A day (whole days: an end day is included) or a time (naive: the garage's local time)."""
    if isinstance(value, str):
        try:
            if len(value) == 10:  # the day after the last (9999-12-31 has none): in range below, or refused
                day = date.fromisoformat(value)
                moment = datetime.combine(day + timedelta(days=1) if end else day, time(0), zone)
            else:
                moment = datetime.fromisoformat(value)
        except (ValueError, OverflowError):
            moment = None
        if moment is not None and 2000 <= moment.year <= 2100:
            return moment if moment.utcoffset() is not None else moment.replace(tzinfo=zone)
    problems[name] = MOMENT[name]
    return None


def add_absence(session: Session, actor: User, technician: Technician, data: dict, now: datetime
                ) -> tuple[Absence, Hit]:
    """Sick today, holiday next week, an afternoon at training: saved, and the booked work it hits listed."""
    audit.require_admin(actor)
    zone = technician.garage.zone
    problems: dict[str, str] = {}
    start = _moment(data.get("start"), zone, "start", problems)
    end = _moment(data.get("end"), zone, "end", problems, end=True)
    reason = data.get("reason") or "leave"
    if not isinstance(reason, str) or len(reason) > 80:
        problems["reason"] = N_("reason is text of at most 80 characters (sick, leave, training...).")
    if start and end:
        if end <= start:
            problems["end"] = N_("The absence must end after it starts.")
        elif end <= now:
            problems["end"] = N_("That absence is already over: nothing to change.")
        elif end - start > timedelta(days=MAX_ABSENCE_DAYS):
            problems["end"] = Said(N_("An absence is at most %(days)s days: add another one after it."),
                                   days=MAX_ABSENCE_DAYS)
    refuse_fields(problems)
    # days given as dates, or as the local midnights that bound them (what the API answers for whole days)
    whole_days = all(isinstance(data.get(k), str) and len(data[k]) == 10 for k in ("start", "end")) or all(
        m.astimezone(zone).time() == time(0) for m in (start, end))
    capacity.lock_garage(session, technician.garage_id)
    # Entered twice (a double submit, two admins): the same time off listed twice, and removing one leaves it off.
    covering = capacity.absence_at(technician, start, end)
    if covering is not None:
        first, last = covering.span(zone)
        raise Conflict(N_("%(name)s is already absent then (%(start)s – %(end)s, %(reason)s)."),
                       words={"name": technician.name, "start": first.astimezone(zone),
                              "end": last.astimezone(zone), "reason": covering.reason}, field="start",
                       absence=covering.id)
    before = off_shift(session, technician, now)
    absence = Absence(technician=technician, reason=reason.strip() or "leave",
                      first_day=start.astimezone(zone).date(),
                      last_day=(end - timedelta(microseconds=1)).astimezone(zone).date(),
                      start_at=None if whole_days else start, end_at=None if whole_days else end)
    session.add(absence)
    hit = _hit(session, actor, before, technician, now)
    audit.record(session, actor, "technician", technician.id, "absence_added",
                 {"absence": (None, absence.id), "start": (None, start), "end": (None, end),
                  "reason": (None, absence.reason), "work_hit": (None, [a.id for a in hit.appointments])}, now)
    return absence, hit


def remove_absence(session: Session, actor: User, absence_id: object, now: datetime) -> Absence:
    """An absence entered by mistake, or a technician back early: the time is theirs again."""
    audit.require_admin(actor)
    absence = session.get(Absence, absence_id) if isinstance(absence_id, int) else None
    if absence is None:
        raise NotFound(N_("No absence %(key)s."), words={"key": repr(absence_id)})
    start, end = absence.span(absence.technician.garage.zone)
    audit.record(session, actor, "technician", absence.technician_id, "absence_removed",
                 {"absence": (absence.id, None), "start": (start, None), "end": (end, None),
                  "reason": (absence.reason, None)}, now)
    absence.technician.absences.remove(absence)
    session.flush()
    return absence


def replan(session: Session, actor: User, garage: Garage, appointment_ids: object, now: datetime,
           reason: str = "") -> PlanPreview:
    """The garage desk's own re-plan preview for these appointments: nothing moves until it is confirmed."""
    if not isinstance(appointment_ids, list) or not appointment_ids or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in appointment_ids):
        refuse_fields({"appointments": N_("appointments is a list of appointment ids.")})
    known = [i for i in appointment_ids if 0 < i < 2 ** 31]  # beyond the ids a database holds: no such appointment
    rows = list(session.scalars(select(Appointment).where(Appointment.id.in_(known))))
    made = squeeze.preview_replan(session, actor, garage, rows, now, reason=reason)
    # asked again (a second click, the absence changed): the earlier open re-plans of the same work are out of
    # date, and would wait on reception's board beside this one
    for earlier in session.scalars(select(PlanPreview).where(
            PlanPreview.garage_id == garage.id, PlanPreview.kind == "replan", PlanPreview.status == "open",
            PlanPreview.id != made.id)):
        if set(earlier.plan.get("replaced", [])) & set(made.plan.get("replaced", [])) and \
                not (earlier.plan.get("cause") or {}).get("kind"):
            earlier.status, earlier.decided_at = "superseded", now
    return made
