"""From the database to an optimizer problem, and back: the one place the layers meet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from time import perf_counter

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from optimizer.answer import Offer, RuleOffer
from optimizer.freetime import FreeTime
from optimizer.geo import haversine_km
from optimizer.offers import offers_for
from optimizer.problem import parse_problem
from optimizer.rule import rule_offer
from scheduler.errors import RuleBroken
from scheduler.models import ACTIVE, Appointment, Case, Garage, Policy, Technician


def active_policy(session: Session) -> Policy:
    policy = session.scalar(select(Policy).where(Policy.active.is_(True)).order_by(Policy.version.desc()))
    return policy or Policy(version=0)


@dataclass(frozen=True)
class Slot:
    """A (garage, technician, start, end) with what the optimizer said of it, as datetimes."""

    garage: str
    technician: str
    start: datetime
    end: datetime
    wait_minutes: int = 0
    distance_km: float = 0.0
    cost: float = 0.0
    late_because: str = ""

    def same_place_and_time(self, garage: str, start: datetime) -> bool:
        return self.garage == garage and self.start == start

    def to_dict(self) -> dict:
        return {"garage": self.garage, "technician": self.technician,
                "start": self.start.isoformat(), "end": self.end.isoformat()}


@dataclass(frozen=True)
class Target:
    """The urgency target: P1 started the same working day, P2 within two, P3 the customer's choice."""

    urgency: str
    latest_start: datetime | None

    def met_by(self, start: datetime) -> bool:
        return self.latest_start is None or start < self.latest_start

    @property
    def due_day(self) -> date | None:
        """The last day the work may start on (latest_start is the midnight after it)."""
        return None if self.latest_start is None else (self.latest_start - timedelta(days=1)).date()


@dataclass
class CaseOffers:
    rule: Slot | None
    offers: list[Slot]
    target: Target
    problem_seconds: float

    @property
    def met(self) -> bool:
        """Whether the best offer meets the urgency target: if not, the P1 guard stops silent booking."""
        return bool(self.offers) and self.target.met_by(self.offers[0].start)

    def gives(self, garage: str, start: datetime) -> bool:
        """Whether the rules or the optimizer offered this garage and start."""
        return any(s.same_place_and_time(garage, start) for s in [self.rule, *self.offers] if s is not None)

    def to_dict(self) -> dict:
        rule = None if self.rule is None else {**self.rule.to_dict(), "late_because": self.rule.late_because}
        return {
            "rule_offer": rule,
            "offers": [{**o.to_dict(), "wait_minutes": o.wait_minutes, "distance_km": round(o.distance_km, 2),
                        "cost": round(o.cost, 3)} for o in self.offers],
            "target": {"urgency": self.target.urgency,
                       "latest_start": self.target.latest_start.isoformat() if self.target.latest_start else None,
                       "met": self.met},
        }


# Assumed for a garage with no opening hours on record when counting working days.
WORKING_WEEK = dict.fromkeys(range(5), (time(0), time(18)))


def _hours(garage: Garage) -> dict:
    """{weekday: (opens, closes)} in the garage's local time."""
    return {h.weekday: (h.opens, h.closes) for h in garage.opening_hours}


def _first_open(hours: dict, now: datetime, zone) -> datetime:
    """`now` if open by `hours`, else the next opening; `now` when `hours` is empty."""
    local = now.astimezone(zone)
    for ahead in range(8):
        day = local.date() + timedelta(days=ahead)
        if day.weekday() in hours:
            opens, closes = (datetime.combine(day, t, zone) for t in hours[day.weekday()])
            if local < closes:
                return max(now, opens)
    return now


def open_from(garage: Garage, now: datetime) -> datetime:
    """`now` while the garage is open, else when it next opens: when someone there can first read a message.

    A garage with no opening hours on record is treated as open.
    """
    return _first_open(_hours(garage), now, garage.zone)


def working_day(garage: Garage, now: datetime) -> date:
    """The working day a call at `now` belongs to: today while the garage is still open, else its next open day."""
    return _first_open(_hours(garage) or WORKING_WEEK, now, garage.zone).astimezone(garage.zone).date()


def _next_open_day(day: date, open_days: dict) -> date:
    day += timedelta(days=1)
    while day.weekday() not in open_days:
        day += timedelta(days=1)
    return day


def target_for(urgency: str, now: datetime, garage: Garage) -> Target:
    """P1: started the same working day; P2: within 2 more working days; P3: the customer's choice.

    Working days are the nearest garage's: a P1 called after it closes is due the next day it opens,
    not already late.
    """
    if urgency == "P3":
        return Target(urgency, None)
    day = working_day(garage, now)
    if urgency == "P2":
        for _ in range(2):
            day = _next_open_day(day, _hours(garage) or WORKING_WEEK)
    return Target(urgency, datetime.combine(day + timedelta(days=1), time(0), garage.zone))


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


def _slot(found: Offer | RuleOffer, now: datetime, **extra) -> Slot:
    """An optimizer offer (minutes since the epoch) as a Slot of datetimes, with the wait from `now`."""
    wait = max(0, round(found.start - now.timestamp() / 60))
    return Slot(found.garage, found.technician, _at(found.start), _at(found.end), wait_minutes=wait, **extra)


def offers_problem(session: Session, case: Case, policy: Policy, now: datetime, only: Garage | None = None) -> dict:
    """An `offers` problem for one case: the garages within reach (or just one), their shifts and booked work.

    Instants are aware datetimes, which `parse_problem` takes as they are: the text round trip cost
    half the call. `json.dumps(document, default=datetime.isoformat)` writes it as a problem file.
    """
    if case.lat is None or case.lon is None:
        raise RuleBroken("The case has no location: give the caller's position to search the network.")
    garages = [only] if only is not None else [
        g for g in session.scalars(select(Garage).order_by(Garage.id))
        if haversine_km(case.lat, case.lon, g.lat, g.lon) <= policy.search_radius_km]
    horizon = now + timedelta(days=policy.horizon_days)
    technicians = list(session.scalars(
        select(Technician).where(Technician.garage_id.in_([g.id for g in garages]), Technician.active.is_(True))
        .options(selectinload(Technician.skills), selectinload(Technician.shift_patterns),
                 selectinload(Technician.absences), selectinload(Technician.garage))))
    first_day = now.astimezone(garages[0].zone).date() if garages else now.date()
    days = [first_day + timedelta(days=i) for i in range(policy.horizon_days + 1)]
    appointments = session.execute(
        select(Appointment.id, Appointment.technician_id, Appointment.start_at, Appointment.end_at,
               Appointment.skill_code, Appointment.lift, Appointment.status, Appointment.pinned,
               Appointment.flex_minutes)
        .where(Appointment.garage_id.in_([g.id for g in garages]), Appointment.status.in_(ACTIVE),
               Appointment.end_at > now, Appointment.start_at < horizon,
               # the case's own booking does not block its own rebooking
               (Appointment.case_id != case.id) | (Appointment.status != "booked")))
    job = case.job_type
    return {
        # `now` in the garages' zone: the rules then explain themselves in local time.
        "version": 1, "mode": "offers", "now": now.astimezone(garages[0].zone if garages else timezone.utc).isoformat(),
        "slot_minutes": policy.slot_minutes,
        "garages": [{"id": g.id, "location": {"lat": g.lat, "lon": g.lon}, "lifts": g.lifts} for g in garages],
        "technicians": [{"id": t.id, "garage": t.garage_id, "skills": t.skill_codes,
                         "shifts": [{"start": s, "end": e} for d in days for s, e in t.shifts_on(d)
                                    if e > now]} for t in technicians],
        "appointments": [{"id": str(a.id), "technician": a.technician_id, "start": a.start_at,
                          "end": a.end_at, "skill": a.skill_code, "lift": a.lift, "status": a.status,
                          "pinned": a.pinned, "flex_minutes": a.flex_minutes} for a in appointments],
        "requests": [{"id": str(case.id), "duration_minutes": job.duration_minutes, "skill": job.skill_code,
                      "lift": job.needs_lift, "urgency": case.urgency,
                      "location": {"lat": case.lat, "lon": case.lon}, "earliest": now}],
        "policy": _for_urgency(policy.as_problem_policy(), case.urgency),
    }


def _for_urgency(block: dict, urgency: str) -> dict:
    # one request per problem: its urgency's notice, as a number
    notice = block["rule"]["min_notice_minutes"]
    return {**block, "rule": {**block["rule"], "min_notice_minutes": notice[urgency]}}


def nearest_garages(session: Session, lat: float, lon: float) -> list[tuple[Garage, float]]:
    """Every garage with its distance in km, nearest first."""
    garages = [(g, haversine_km(lat, lon, g.lat, g.lon)) for g in session.scalars(select(Garage))]
    return sorted(garages, key=lambda pair: (pair[1], pair[0].id))


def case_offers(session: Session, case: Case, now: datetime, policy: Policy | None = None) -> CaseOffers:
    """The standard rules' offer and the cheapest offers across the network, for one case."""
    started = perf_counter()
    problem = parse_problem(offers_problem(session, case, policy or active_policy(session), now))
    free = FreeTime(problem)
    request = problem.requests[0]
    ro = rule_offer(problem, free, request)
    rule = None if ro is None else _slot(ro, now, late_because=ro.late_because)
    offers = [_slot(o, now, distance_km=o.distance_km, cost=o.cost)
              for o in offers_for(problem, free, request, problem.policy.offers)]
    nearest = nearest_garages(session, case.lat, case.lon)[0][0]
    return CaseOffers(rule, offers, target_for(case.urgency, now, nearest), perf_counter() - started)


def garage_slots(session: Session, case: Case, garage: Garage, now: datetime, count: int = 8) -> list[Slot]:
    """The earliest free starts for this case at one garage: what its reception can say yes to."""
    policy = active_policy(session)
    document = offers_problem(session, case, policy, now, only=garage)
    document["policy"]["max_travel_km"] = 1e6  # the garage itself is asked, however far the caller is
    problem = parse_problem(document)
    return [_slot(o, now) for o in offers_for(problem, FreeTime(problem), problem.requests[0], count)]


def describe_wait(minutes: int) -> str:
    if minutes >= 1440:
        return f"in {minutes / 1440:.0f} days" if minutes >= 2880 else "in 1 day"
    if minutes >= 60:
        return f"in {minutes // 60} h {minutes % 60:02d}"
    return f"in {minutes} min"


def present_offers(session: Session, case: Case, now: datetime) -> CaseOffers:
    """The offers as shown to a person; the timeline notes them whenever they change."""
    found = case_offers(session, case, now)
    names = {g.id: g for g in session.scalars(select(Garage))}

    def where(slot: Slot) -> str:
        garage = names[slot.garage]
        return f"{garage.local(slot.start):%a %d %b %H:%M} at {garage.name} ({describe_wait(slot.wait_minutes)})"

    rule_text = f"Standard rules: {where(found.rule)}" if found.rule else "Standard rules: nothing within the horizon"
    offers_text = "Offers shown: " + ("; ".join(where(o) for o in found.offers) or "none")
    shown = {e.kind: e.text for e in case.events if e.kind in ("rule_offer", "offers")}
    if shown.get("rule_offer") != rule_text:
        case.log("rule_offer", rule_text, at=now)
    if shown.get("offers") != offers_text:
        case.log("offers", offers_text, at=now)
    session.flush()
    return found
