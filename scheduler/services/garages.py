"""Garages at the admin desk: name, address, location, phone, lifts, opening hours with lunch, closed days.

A garage's id never changes: statistics, overrides and users refer to it, so a rename is a new name on the
same garage. Shorter hours and closed days take working time away (capacity.shifts reads them): the work
that hits is listed as for a technician's absence, and re-planned the same way.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from zoneinfo import available_timezones

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Said, Weekday, refuse_fields
from scheduler.models import Appointment, ClosedDay, Garage, OpeningHours, User
from scheduler.models.case import name_key
from scheduler.services import audit, capacity
from scheduler.services.cases import is_phone
from scheduler.services.technicians import WEEKDAYS, Hit, _clock, _hit_many, off_shift, weekday_of
from scheduler.texts import N_
from scheduler.typed import as_clock, as_day, as_ranges

GARAGE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
TEXTS = {"name": 120, "address": 200, "city": 80}
GIVE = {"name": N_("Give the garage's name (at most %(limit)s characters)."),
        "address": N_("Give the garage's address (at most %(limit)s characters)."),
        "city": N_("Give the garage's city (at most %(limit)s characters).")}


def hours_facts(garage: Garage) -> list[dict]:
    return [{"weekday": h.weekday, "opens": f"{h.opens:%H:%M}", "closes": f"{h.closes:%H:%M}",
             "lunch_start": f"{h.lunch_starts:%H:%M}" if h.lunch_starts else None,
             "lunch_end": f"{h.lunch_ends:%H:%M}" if h.lunch_ends else None}
            for h in sorted(garage.opening_hours, key=lambda h: h.weekday)]


def closed_facts(garage: Garage) -> list[dict]:
    return [{"day": c.day.isoformat(), "reason": c.reason} for c in sorted(garage.closed_days, key=lambda c: c.day)]


def garage_dict(garage: Garage) -> dict:
    return {**garage.to_dict(), "opening_hours": hours_facts(garage), "closed_days": closed_facts(garage)}


def get(session: Session, actor: User, garage_id: object) -> Garage:
    return audit.find(session, actor, Garage, garage_id, "garage")


# -- parsing (API and pages alike) -------------------------------------------------------------------------------

def _hours(value: object, problems: dict) -> list[OpeningHours] | None:
    if not isinstance(value, list):
        problems["opening_hours"] = N_("opening_hours is a list of {weekday, opens, closes, lunch_start, lunch_end}.")
        return None
    if not value:
        # a slip, not a decision: a garage with no hours on record books whenever its technicians work
        # (capacity.shifts), weekends included, the opposite of "a day not listed is closed"
        problems["opening_hours"] = N_("Give the days the garage opens: with none listed, it would take bookings "
                                       "whenever its technicians work.")
        return None
    out, seen = [], set()
    for item in value:
        item = item if isinstance(item, dict) else {}
        weekday = item.get("weekday")
        opens, closes = _clock(item.get("opens")), _clock(item.get("closes"))
        lunch = [item.get("lunch_start"), item.get("lunch_end")]
        lunch_start, lunch_end = (_clock(v) for v in lunch)
        day = Weekday(weekday) if isinstance(weekday, int) and 0 <= weekday <= 6 else None
        if day is None or isinstance(weekday, bool):
            problems["opening_hours"] = N_("Unknown day (on the page, a day's name from Mon to Sun; in the API, a "
                                           "weekday from 0 for Monday to 6 for Sunday).")
        elif weekday in seen:
            problems["opening_hours"] = Said(N_("%(day)s is given twice: one line per day."), day=day)
        elif item.get("extra"):
            problems["opening_hours"] = Said(N_("%(day)s: opening hours and one lunch closure at most; %(extra)s "
                                                "would not be kept."), day=day, extra=item["extra"])
        elif opens is None or closes is None or closes <= opens:
            problems["opening_hours"] = Said(N_("%(day)s: opens and closes are times like 07:45 and 18:30, "
                                                "closing after opening."), day=day)
        elif any(lunch) and (lunch_start is None or lunch_end is None or not opens < lunch_start < lunch_end < closes):
            problems["opening_hours"] = Said(N_("%(day)s: the lunch closure is two times inside the opening hours, "
                                                "e.g. 12:00-13:30."), day=day)
        else:
            seen.add(weekday)
            out.append(OpeningHours(weekday=weekday, opens=opens, closes=closes, lunch_starts=lunch_start,
                                    lunch_ends=lunch_end))
            continue
        return None
    return sorted(out, key=lambda h: h.weekday)


def _closed(value: object, problems: dict) -> list[ClosedDay] | None:
    if not isinstance(value, list):
        problems["closed_days"] = N_("closed_days is a list of {day, reason}.")
        return None
    out, seen = [], set()
    for item in value:
        if not isinstance(item, dict):  # a bare "2026-12-25" too: each day is an object, with its reason
            problems["closed_days"] = Said(N_("closed_days is a list of {day, reason}, not %(value)s."),
                                           value=repr(item))
            return None
        typed = item.get("day")
        try:
            day = date.fromisoformat(typed) if isinstance(typed, str) else None
        except ValueError:
            day = None
        reason = item.get("reason") or "public holiday"
        if day is None or not 2000 <= day.year <= 2100:
            problems["closed_days"] = Said(N_("A closed day is a date like 2026-12-25, not %(value)s."),
                                           value=repr(typed))
        elif day in seen:
            problems["closed_days"] = Said(N_("%(day)s is given twice."), day=day.isoformat())
        elif not isinstance(reason, str) or len(reason) > 80:
            problems["closed_days"] = Said(N_("%(day)s: the reason is text of at most 80 characters."),
                                           day=day.isoformat())
        else:
            seen.add(day)
            out.append(ClosedDay(day=day, reason=reason.strip() or "public holiday"))
            continue
        return None
    return sorted(out, key=lambda c: c.day)


def parse_hours(text: str) -> list[dict]:
    """A page's hours, one line per day: "Mon 07:45-18:30 lunch 12:00-13:30" (or "lun. … déjeuner …")."""
    out = []
    for line in filter(None, (as_ranges(raw).strip() for raw in text.splitlines())):
        parts = line.replace(",", " ").split()
        spans = [[as_clock(t) for t in p.split("-", 1)] for p in parts[1:] if "-" in p]
        entry = {"weekday": weekday_of(parts[0]),
                 "opens": spans[0][0] if spans else "", "closes": spans[0][1] if spans else ""}
        if len(spans) > 1:
            entry["lunch_start"], entry["lunch_end"] = spans[1][0], spans[1][1]
        if len(spans) > 2:  # a second break is not kept: said, not dropped
            entry["extra"] = " ".join("-".join(span) for span in spans[2:])
        out.append(entry)
    return out


def hours_text(garage: Garage, day_names: tuple[str, ...] = WEEKDAYS, lunch: str = "lunch") -> str:
    """The hours as the page shows them, with the reader's day names and word for lunch."""
    return "\n".join(f"{day_names[h['weekday']]} {h['opens']}-{h['closes']}"
                     + (f" {lunch} {h['lunch_start']}-{h['lunch_end']}" if h["lunch_start"] else "")
                     for h in hours_facts(garage))


def parse_closed(text: str) -> list[dict]:
    """A page's closed days, one per line: "2026-12-25 Christmas" (or "25/12/2026 Noël")."""
    out = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        day, _, reason = line.partition(" ")
        out.append({"day": as_day(day), "reason": reason.strip() or "public holiday"})
    return out


def closed_text(garage: Garage) -> str:
    return "\n".join(f"{c['day']} {c['reason']}" for c in closed_facts(garage))


def _fields(session: Session, data: dict, problems: dict, creating: bool, own: str | None = None) -> dict:
    values: dict = {}
    for name, limit in TEXTS.items():
        if name in data or creating:
            value = data.get(name)
            if not isinstance(value, str) or not value.strip() or len(value) > limit:
                problems[name] = Said(GIVE[name], limit=limit)
            else:
                values[name] = value.strip()
    if "name" in values:
        # two garages of one name read as one in every list, offer and message: the operator cannot tell them apart.
        # Names are compared as a reader does (name_key: "Ecully" is "Écully"); SQLite's lower() leaves "É" as it is.
        # Only a new name is checked: two garages named alike before this rule must stay editable.
        key = name_key(values["name"])
        names = dict(session.execute(select(Garage.id, Garage.name)).all())
        if key != name_key(names.get(own or "", "")) and any(
                name_key(n) == key for g, n in names.items() if g != own):
            problems["name"] = Said(N_("Another garage is already named %(name)s."), name=values["name"])
    if "phone" in data or creating:
        phone = data.get("phone")
        if not isinstance(phone, str) or len(phone.strip()) > 30 or not is_phone(phone):
            problems["phone"] = N_("The phone is digits, spaces and + ( ) . - (6 to 30), e.g. +33 4 72 10 20 30.")
        else:
            values["phone"] = phone.strip()
    if "lifts" in data or creating:
        lifts = data.get("lifts")
        if not isinstance(lifts, int) or isinstance(lifts, bool) or not 0 <= lifts <= 50:
            problems["lifts"] = N_("lifts is a whole number from 0 to 50.")
        else:
            values["lifts"] = lifts
    if "location" in data or creating:
        where = data.get("location")
        lat, lon = (where.get(k) if isinstance(where, dict) else None for k in ("lat", "lon"))
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lat, lon)) \
                or not -90 <= lat <= 90 or not -180 <= lon <= 180:
            problems["location"] = N_("The location is a latitude from -90 to 90 and a longitude from -180 to 180, in degrees.")
        else:
            values["lat"], values["lon"] = float(lat), float(lon)
    if "timezone" in data or creating:
        zone = data.get("timezone")
        zone = "Europe/Paris" if zone is None and creating else zone
        if isinstance(zone, str) and zone in zone_names():
            values["timezone"] = zone
        else:  # a number or a list stored as a zone broke every page and offer near the garage
            problems["timezone"] = Said(N_("Unknown time zone %(zone)s: e.g. Europe/Paris."),
                                        zone=repr(zone) if isinstance(zone, str) else "—")
    if "opening_hours" in data or creating:
        values["opening_hours"] = _hours(data.get("opening_hours", []), problems)
    if "closed_days" in data:
        values["closed_days"] = _closed(data["closed_days"], problems)
    return values


@cache
def zone_names() -> frozenset[str]:
    """The IANA zones this machine knows: a garage's zone is one of them, named as the database names it."""
    return frozenset(available_timezones())


# -- the changes ---------------------------------------------------------------------------------------------------

def add(session: Session, actor: User, data: dict, now: datetime) -> Garage:
    audit.require_admin(actor)
    problems: dict[str, str] = {}
    garage_id = data.get("id")
    if not isinstance(garage_id, str) or not GARAGE_ID.match(garage_id):
        problems["id"] = N_("The id is 2 to 40 lower-case letters, digits or dashes, e.g. lyon-08 (it never changes).")
    elif session.get(Garage, garage_id) is not None:
        problems["id"] = Said(N_("There is already a garage %(garage)s."), garage=repr(garage_id))
    values = _fields(session, data, problems, creating=True)
    refuse_fields(problems)
    garage = Garage(id=garage_id, **values)
    session.add(garage)
    session.flush()
    audit.record(session, actor, "garage", garage.id, "created",
                 {k: (None, v) for k, v in garage_dict(garage).items() if k != "id"}, now)
    return garage


CHANGEABLE = ("name", "address", "city", "phone", "lifts", "location", "timezone", "opening_hours", "closed_days")


def change(session: Session, actor: User, garage: Garage, data: dict, now: datetime) -> Hit:
    """Saved whole or not at all; returns the booked work that shorter hours or a closed day leave uncovered."""
    audit.require_admin(actor)
    problems: dict[str, str] = {
        f: N_("id cannot be changed: a garage's id never changes.") if f == "id" else
        Said(N_("%(field)s is not a garage's field: name, address, city, phone, lifts, location, timezone, "
                "opening_hours, closed_days."), field=f)
        for f in sorted(set(data) - set(CHANGEABLE))}
    values = _fields(session, data, problems, creating=False, own=garage.id)
    refuse_fields(problems)
    capacity.lock_garage(session, garage.id)
    before = {t.id: off_shift(session, t, now) for t in garage.technicians}
    over_before = capacity.beyond_lifts(session, garage, now)
    hours, closed = values.pop("opening_hours", None), values.pop("closed_days", None)
    changes = audit.apply(garage, values)
    if "lat" in changes or "lon" in changes:
        changes["location"] = ({"lat": changes.get("lat", (garage.lat,))[0], "lon": changes.get("lon", (garage.lon,))[0]},
                               {"lat": garage.lat, "lon": garage.lon})
        changes.pop("lat", None), changes.pop("lon", None)
    if hours is not None:
        was = hours_facts(garage)
        garage.opening_hours = []
        session.flush()  # the old rows go before the new ones take their (garage, weekday)
        garage.opening_hours = hours
        if hours_facts(garage) != was:
            changes["opening_hours"] = (was, hours_facts(garage))
    if closed is not None:
        was = closed_facts(garage)
        garage.closed_days = []
        session.flush()
        garage.closed_days = closed
        if closed_facts(garage) != was:
            changes["closed_days"] = (was, closed_facts(garage))
    hit = _hit_many(session, actor, before, garage.technicians, now)
    lifted = capacity.beyond_lifts(session, garage, now) - over_before - {a.id for a in hit.appointments}
    if lifted:  # fewer lifts than the lift work booked at once: the jobs beyond them need a re-plan too
        hit.appointments = sorted(hit.appointments + list(session.scalars(
            select(Appointment).where(Appointment.id.in_(lifted)))), key=lambda a: (a.start_at, a.id))
    if changes:
        if hit.appointments:
            changes["work_hit"] = (None, [a.id for a in hit.appointments])
        audit.record(session, actor, "garage", garage.id, "changed", changes, now)
    return hit


def all_garages(session: Session) -> list[Garage]:
    return list(session.scalars(select(Garage).order_by(Garage.id)))

