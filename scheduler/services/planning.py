"""From the database to an optimizer problem, and back: the one place the layers meet."""

from __future__ import annotations

import math
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
from scheduler.services import policies
from scheduler.services.engine import EngineUnavailable, ask


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
    # Set when the optimizer failed or ran out of time: the offers are then the rules' own, and the page says so.
    degraded: str | None = None

    @property
    def met(self) -> bool:
        """Whether the best offer meets the urgency target: if not, the P1 guard stops silent booking."""
        return bool(self.offers) and self.target.met_by(self.offers[0].start)

    def gives(self, garage: str, start: datetime) -> bool:
        """Whether the rules or the optimizer offered this garage and start."""
        return any(s.same_place_and_time(garage, start) for s in [self.rule, *self.offers] if s is not None)

    def rule_fact(self) -> dict:
        """The rule offer as the timeline stores it: a fact, worded when read."""
        if self.rule is None:
            return {"none": True}
        return {**self.rule.to_dict(), "wait_minutes": self.rule.wait_minutes, "late_because": self.rule.late_because}

    def offers_fact(self) -> dict:
        return {"offers": [{"garage": o.garage, "start": o.start.isoformat(), "wait_minutes": o.wait_minutes}
                           for o in self.offers]}

    def to_dict(self) -> dict:
        rule = None if self.rule is None else {**self.rule.to_dict(), "late_because": self.rule.late_because}
        return {
            "degraded": self.degraded,
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


def arrival(now: datetime, km: float, policy: Policy) -> datetime:
    """When a customer setting off now can be at a garage `km` away: the format's arrival (version 1.1)."""
    if not policy.travel_speed_kmh:
        return now
    return now + timedelta(minutes=math.ceil(km / policy.travel_speed_kmh * 60))


def nearest_garages(session: Session, lat: float, lon: float) -> list[tuple[Garage, float]]:
    """Every garage with its distance in km, nearest first."""
    garages = [(g, haversine_km(lat, lon, g.lat, g.lon)) for g in session.scalars(select(Garage))]
    return sorted(garages, key=lambda pair: (pair[1], pair[0].id))


def case_offers(session: Session, case: Case, now: datetime, policy: Policy | None = None) -> CaseOffers:
    """The standard rules' offer and the cheapest offers across the network, for one case.

    The optimizer answers within the policy's time limit; when it fails or is late, the offers are the
    rule offer alone (or nothing) and `degraded` says why, so no page waits on it or breaks because of it.
    """
    started = perf_counter()
    policy = policy or policies.in_force(session, now)
    document = offers_problem(session, case, policy, now)
    nearest = nearest_garages(session, case.lat, case.lon)[0][0]
    target = target_for(case.urgency, now, nearest)
    limit = policy.time_limit_seconds or 1.0

    def rules():
        problem = parse_problem(document)
        free = FreeTime(problem)
        return problem, free, rule_offer(problem, free, problem.requests[0])

    try:
        problem, free, ro = ask(rules, limit)
    except EngineUnavailable as exc:
        return CaseOffers(None, [], target, perf_counter() - started, degraded=exc.code)
    rule = None if ro is None else _slot(ro, now, late_because=ro.late_because)
    try:
        found = ask(lambda: offers_for(problem, free, problem.requests[0], problem.policy.offers), limit)
    except EngineUnavailable as exc:
        return CaseOffers(rule, [rule] if rule else [], target, perf_counter() - started, degraded=exc.code)
    offers = [_slot(o, now, distance_km=o.distance_km, cost=o.cost) for o in found]
    return CaseOffers(rule, offers, target, perf_counter() - started)


def garage_slots(session: Session, case: Case, garage: Garage, now: datetime, count: int = 8,
                 around: datetime | None = None) -> list[Slot]:
    """The earliest free starts for this case at one garage: what its reception can say yes to.

    With `around`, the free starts nearest that time (a busy time a person typed): some before, some after.
    """
    policy = policies.in_force(session, now)
    document = offers_problem(session, case, policy, now, only=garage)
    document["requests"][0]["garages"] = [garage.id]  # the garage itself is asked, however far the caller is
    if around is not None:
        document["requests"][0]["earliest"] = max(now, around - timedelta(hours=3))

    def search():
        problem = parse_problem(document)
        return offers_for(problem, FreeTime(problem), problem.requests[0], count * (2 if around else 1))

    try:
        found = [_slot(o, now) for o in ask(search, policy.time_limit_seconds or 1.0)]
    except EngineUnavailable:
        return []
    if around is not None:
        found = sorted(sorted(found, key=lambda s: abs((s.start - around).total_seconds()))[:count],
                       key=lambda s: s.start)
    return found
