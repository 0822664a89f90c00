"""From the database to the optimizer and back: offers, the rule offer, a garage's free times.

Each question is answered on a `Snapshot` of the network (loaded once per request), with one call to
the optimizer's front door, within the policy's time limit, and the standard rules as the fallback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from time import perf_counter

from sqlalchemy.orm import Session

from optimizer import Answer, LateReason, Location, Offer, RuleOffer, make_request, rule_offers, solve
from optimizer.clock import floor_minute
from optimizer.freetime import FreeTime
from optimizer.geo import haversine_km
from optimizer.rule import rule_offer
from scheduler.errors import RuleBroken
from scheduler.models import Case, Garage, Policy, User
from scheduler.services import policies
from scheduler.services.engine import EngineUnavailable, ask
from scheduler.services.replay_plan import free_minutes
from scheduler.services.snapshot import Snapshot
from scheduler.texts import N_


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
    reasons: tuple = ()  # the optimizer's LateReason facts: why the rule offer is not earlier
    arrival: datetime | None = None  # when the customer can be at the garage

    def same_place_and_time(self, garage: str, start: datetime) -> bool:
        return self.garage == garage and self.start == start

    def to_dict(self) -> dict:
        return {"garage": self.garage, "technician": self.technician,
                "start": self.start.isoformat(), "end": self.end.isoformat()}

    def offer_dict(self) -> dict:
        """As an offer is answered (API.md): where and when, with its wait, distance and cost."""
        return {**self.to_dict(), "wait_minutes": self.wait_minutes, "distance_km": round(self.distance_km, 2),
                "cost": round(self.cost, 3), "arrival": self.arrival.isoformat() if self.arrival else None}

    def reason_facts(self) -> list[dict]:
        """The reasons as stored data: ISO times, garage ids, minutes."""
        return [{"code": r.code, "free_at": _at(r.free_at).isoformat() if r.free_at is not None else None,
                 "garage": r.garage, "minutes": r.minutes} for r in self.reasons]


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
    policy_id: int | None = None  # the rules they were found under

    def sealed_facts(self) -> list:
        """What a desk was shown, as compact plain data (starts and ends in minutes since the epoch, other times as
        ISO text): a page or an API answer carries it, signed, to the booking it leads to (web/shown.py), which then
        need not search the network again."""
        latest = self.target.latest_start
        return [self.policy_id, self.target.urgency, latest.isoformat() if latest else None, self.degraded,
                _slot_facts(self.rule) if self.rule else None, [_slot_facts(o) for o in self.offers]]

    @classmethod
    def from_sealed(cls, facts: list) -> CaseOffers:
        policy_id, urgency, latest, degraded, rule, offers = facts
        return cls(_slot_from(rule) if rule else None, [_slot_from(o) for o in offers],
                   Target(urgency, datetime.fromisoformat(latest) if latest is not None else None), 0.0,
                   degraded=degraded, policy_id=policy_id)

    @property
    def met(self) -> bool:
        """Whether the best offer meets the urgency target: if not, the P1 guard stops silent booking."""
        return bool(self.offers) and self.target.met_by(self.offers[0].start)

    def gives(self, garage: str, start: datetime) -> bool:
        """Whether the rules or the optimizer offered this garage and start."""
        return any(s.same_place_and_time(garage, start) for s in [self.rule, *self.offers] if s is not None)

    def rule_fact(self) -> dict:
        """The rule offer as the timeline stores it: a fact, worded when read."""
        # the urgency the rules were asked under: after an urgency change the rule offer is the new urgency's
        if self.rule is None:
            return {"none": True, "urgency": self.target.urgency}
        return {**self.rule.to_dict(), "wait_minutes": self.rule.wait_minutes, "reasons": self.rule.reason_facts(),
                "urgency": self.target.urgency}

    def offers_fact(self) -> dict:
        return {"offers": [{"garage": o.garage, "start": o.start.isoformat(), "wait_minutes": o.wait_minutes}
                           for o in self.offers]}

    def to_dict(self) -> dict:
        rule = None if self.rule is None else {**self.rule.to_dict(), "late_because": self.rule.late_because,
                                               "reasons": self.rule.reason_facts()}
        return {
            "degraded": self.degraded,
            "rule_offer": rule,
            "offers": [o.offer_dict() for o in self.offers],
            "target": {"urgency": self.target.urgency,
                       "latest_start": self.target.latest_start.isoformat() if self.target.latest_start else None,
                       "met": self.met},
        }


def _slot_facts(slot: Slot) -> list:
    reasons = [[r.code, r.free_at, r.garage, r.minutes] for r in slot.reasons]
    # a slot's start and end are whole minutes (the optimizer's); its arrival is now plus the drive, to the second
    return [slot.garage, slot.technician, floor_minute(slot.start), floor_minute(slot.end), slot.wait_minutes,
            slot.distance_km, slot.cost, slot.late_because, reasons,
            slot.arrival.isoformat() if slot.arrival is not None else None]


def _slot_from(facts: list) -> Slot:
    garage, technician, start, end, wait, km, cost, late_because, reasons, came = facts
    return Slot(garage, technician, _at(start), _at(end), wait_minutes=wait, distance_km=km, cost=cost,
                late_because=late_because, reasons=tuple(LateReason(*r) for r in reasons),
                arrival=datetime.fromisoformat(came) if came is not None else None)


# Assumed for a garage with no opening hours on record when counting working days.
WORKING_WEEK = dict.fromkeys(range(5), [(time(0), time(18))])
# Far enough for any run of closed days an admin can enter (a summer closure), near enough to end.
_LOOK_AHEAD_DAYS = 400


def _hours(garage: Garage) -> dict:
    """{weekday: [(opens, closes), ...]} in the garage's local time: one span, or two around lunch."""
    return {h.weekday: h.spans() for h in garage.opening_hours}


def _open_days(garage: Garage, hours: dict, first: date):
    """The days from `first` on that the garage opens, with their spans: its week, less its closed days."""
    closed = {c.day for c in garage.closed_days}
    for ahead in range(_LOOK_AHEAD_DAYS):
        day = first + timedelta(days=ahead)
        if day.weekday() in hours and day not in closed:
            yield day, hours[day.weekday()]


def _first_open(garage: Garage, hours: dict, now: datetime) -> datetime:
    """`now` if open by `hours`, else the next opening (lunch and closed days skipped); `now` when `hours` is empty.

    One reading of "when is the garage next open" for the targets (working_day) and for who can read a message."""
    zone = garage.zone
    local = now.astimezone(zone)
    for day, spans in _open_days(garage, hours, local.date()) if hours else ():
        for opens, closes in spans:
            if local < datetime.combine(day, closes, zone):
                return max(now, datetime.combine(day, opens, zone))
    return now


def open_from(garage: Garage, now: datetime) -> datetime:
    """`now` while the garage is open, else when it next opens: when someone there can first read a message.

    A garage with no opening hours on record is treated as open.
    """
    return _first_open(garage, _hours(garage), now)


def working_day(garage: Garage, now: datetime) -> date:
    """The working day a call at `now` belongs to: today while the garage is still open, else its next open day."""
    return _first_open(garage, _hours(garage) or WORKING_WEEK, now).astimezone(garage.zone).date()


def next_open_day(garage: Garage, day: date) -> date:
    """The first day after `day` the garage opens."""
    return next((d for d, _spans in _open_days(garage, _hours(garage) or WORKING_WEEK, day + timedelta(days=1))),
                day + timedelta(days=1))


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
            day = next_open_day(garage, day)
    return Target(urgency, datetime.combine(day + timedelta(days=1), time(0), garage.zone))


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


def arrival(now: datetime, km: float, policy: Policy) -> datetime:
    """When a customer setting off now can be at a garage `km` away: the format's arrival (version 1.1)."""
    if not policy.travel_speed_kmh:
        return now
    return now + timedelta(minutes=math.ceil(km / policy.travel_speed_kmh * 60))


def can_be_there(case: Case, garage: Garage, since: datetime, policy: Policy) -> datetime | None:
    """When the case's customer, setting off at `since`, can be at the garage (None: no location known)."""
    if case.lat is None or case.lon is None:
        return None
    return arrival(since, haversine_km(case.lat, case.lon, garage.lat, garage.lon), policy)


def snapshot(session: Session, now: datetime, policy: Policy | None = None) -> Snapshot:
    """The request's planning context: made once per session, moment and policy, then reused."""
    policy = policy or policies.in_force(session, now)
    key = ("frontline.snapshot", now, policy.id)
    snap = session.info.get(key)
    if snap is None:
        snap = session.info[key] = Snapshot(session, now, policy)
    return snap


def nearest_garages(session: Session, lat: float, lon: float, now: datetime | None = None) -> list[tuple[Garage, float]]:
    """Every garage with its distance in km, nearest first."""
    from scheduler.db import utcnow

    return snapshot(session, now or utcnow()).nearest(lat, lon)


def _request(case: Case, now: datetime, garages: tuple[str, ...] | None = None, earliest: datetime | None = None):
    if case.lat is None or case.lon is None:
        raise RuleBroken(N_("The case has no location: give the caller's position to search the network."))
    job = case.job_type
    return make_request(id=str(case.id), duration=job.duration_minutes, skill=job.skill_code, lift=job.needs_lift,
                        urgency=case.urgency, location=Location(case.lat, case.lon), garages=garages, now=now,
                        earliest=earliest or now)


def _slot(found: Offer | RuleOffer, snap: Snapshot, km: float | None = None, **extra) -> Slot:
    """An optimizer offer (minutes since the epoch) as a Slot of datetimes, with the wait and the arrival."""
    now = snap.now
    wait = max(0, round(found.start - now.timestamp() / 60))
    came = arrival(now, km, snap.policy) if km is not None else None
    return Slot(found.garage, found.technician, _at(found.start), _at(found.end), wait_minutes=wait, arrival=came,
                **extra)


def _rule_slot(found: RuleOffer | None, snap: Snapshot, km: dict[str, float]) -> Slot | None:
    if found is None:
        return None
    return _slot(found, snap, km.get(found.garage), late_because=found.late_because, reasons=found.reasons)


def _proven(answer: Answer, snap: Snapshot, case: Case, window: datetime, others: list[float],
            since: datetime) -> bool:
    """Whether answers from this window are the network's: nothing beyond it could rank among them (a wait
    counts from `since`, the request's earliest start)."""
    if not others or window >= snap.horizon_end:
        return True
    rule = answer.rule_offers[0] if answer.rule_offers else None
    edge = math.floor(window.timestamp() / 60)
    if rule is not None and rule.start > edge and not any(r.code == "rule_garages" for r in rule.reasons):
        return False  # another garage might be free before the rule offer, beyond what was looked at
    offers, weights = answer.offers, snap.plan_policy.weights
    if len(offers) < snap.plan_policy.offers:
        return False
    beyond = weights.wait[case.urgency] * (edge - since.timestamp() / 60) + weights.travel_km * min(others)
    return offers[-1].cost < beyond


def _size(problem) -> tuple[int, int]:
    """How many shifts and appointments a problem has (a widening only ever adds to both)."""
    return sum(len(t.shifts) for t in problem.technicians.values()), len(problem.appointments)


def case_offers(session: Session, case: Case, now: datetime, policy: Policy | None = None) -> CaseOffers:
    """The standard rules' offer and the cheapest offers across the network, for one case.

    Offers start now, or tomorrow for a P2 or P3 when the policy keeps today from the call centre
    (`policies.visible_from`). The rule garages are looked at over the whole booking horizon; the others over a
    window from now that widens until nothing beyond it could be a better offer. The optimizer answers within
    the policy's time limit; when it fails or is late, the offers are the rules' own and `degraded`
    says why, so no page waits on it or breaks because of it.
    """
    started = perf_counter()
    snap = snapshot(session, now, policy)
    candidates = snap.candidates(case.lat, case.lon) if case.lat is not None else []
    nearest = _nearest(snap, case)
    target = target_for(case.urgency, min(case.urgent_since, now), nearest)
    since = _visible_from(snap, case, now, nearest)
    request = _request(case, now, earliest=since)
    km = dict(candidates)
    home = [g for g, _ in candidates[:snap.policy.rule_garages]]
    others = [d for _, d in candidates[snap.policy.rule_garages:]]
    limit = snap.policy.time_limit_seconds or 1.0
    window = now + timedelta(days=1)
    work = snap.work(ignore_case=case.id, skill=case.job_type.skill_code, lift=case.job_type.needs_lift)
    answer, size = None, None
    while True:
        until = {g: snap.horizon_end if g in home else min(window, snap.horizon_end) for g in km}
        problem = snap.plan("offers", until, [request], work=work)
        # a wider window only adds shifts and work: when it added none, the problem and its answer are the same
        if answer is not None and _size(problem) == size:
            if _proven(answer, snap, case, window, others, since):
                break
            window = now + 2 * (window - now)
            continue
        size = _size(problem)
        try:
            answer = ask(lambda: solve(problem), limit)
        except EngineUnavailable as exc:
            try:
                rule = _rule_slot(ask(lambda: rule_offers(problem)[0], limit), snap, km)
            except EngineUnavailable:
                rule = None
            return CaseOffers(rule, [rule] if rule else [], target, perf_counter() - started, degraded=exc.code,
                              policy_id=snap.policy.id)
        if _proven(answer, snap, case, window, others, since):
            break
        window = now + 2 * (window - now)
    offers = [_slot(o, snap, o.distance_km, distance_km=o.distance_km, cost=o.cost) for o in answer.offers]
    rule = answer.rule_offers[0]
    reserve = bool(snap.policy.p1_reserve_minutes) and case.urgency != "P1"
    if rule is not None and (reserve or since > now):  # a rule on top of the engine's: the rule offer asked again
        free = FreeTime(problem)  # the plan the rule offer was found in
        rule = _kept_for_p1(snap, case, problem, free, request, rule)
        if rule is not None and since > now:  # today kept from the call centre (policies.visible_from)
            uncut = rule_offer(problem, free, replace(request, earliest=math.ceil(now.timestamp() / 60)))
            if uncut is not None and _at(uncut.start) < since:  # said only where it made the rule offer later
                rule = replace(rule, reasons=(LateReason("same_day"), *(r for r in rule.reasons if r.code != "none")))
    return CaseOffers(_rule_slot(rule, snap, km), offers, target, perf_counter() - started, policy_id=snap.policy.id)


def _kept_for_p1(snap: Snapshot, case: Case, problem, free: FreeTime, request, rule: RuleOffer | None
                 ) -> RuleOffer | None:
    """The rule offer under the policy's P1 reserve, as a replay plays it: work other than a P1 goes to the first
    garage-day that keeps p1_reserve_minutes of free technician time after it (replay_plan.free_minutes, from
    now on today); a later day's rule offer says so. Every technician of a garage counts, so each garage asked
    is read once, whole, over the horizon."""
    reserve = snap.policy.p1_reserve_minutes or 0
    if rule is None or not reserve or case.urgency == "P1":
        return rule
    pushed = False
    work = snap.work(ignore_case=case.id)
    whole: dict[str, tuple] = {}
    while rule is not None:
        if rule.garage not in whole:
            plan = snap.plan("offers", {rule.garage: snap.horizon_end}, [], work=work)
            whole[rule.garage] = (plan, FreeTime(plan))
        plan, everyone = whole[rule.garage]
        zone = snap.network.garages[rule.garage].zone
        day = _at(rule.start).astimezone(zone).date()
        lo = max(datetime.combine(day, time(0), zone), snap.now)
        hi = datetime.combine(day + timedelta(days=1), time(0), zone)
        left = free_minutes(everyone, plan, rule.garage, math.floor(lo.timestamp() / 60),
                            math.floor(hi.timestamp() / 60))
        if left - request.duration >= reserve:
            break
        pushed = True
        rule = rule_offer(problem, free, replace(request, earliest=math.floor(hi.timestamp() / 60)))
    if rule is None or not pushed:
        return rule
    return replace(rule, reasons=(LateReason("p1_reserve", minutes=reserve),
                                  *(r for r in rule.reasons if r.code != "none")))


def _nearest(snap: Snapshot, case: Case) -> Garage:
    # the shared network's garages: loading every garage into the session cost most of a call at 300 garages
    return snap.nearest_garage(case.lat, case.lon) if case.lat is not None \
        else next(iter(snap.network.garages.values()))


def case_target(session: Session, case: Case, now: datetime) -> Target:
    """The case's urgency target as its offers count it (the nearest garage's working days, from when the case got
    its urgency), without searching."""
    return target_for(case.urgency, min(case.urgent_since, now), _nearest(snapshot(session, now), case))


def _visible_from(snap: Snapshot, case: Case, now: datetime, nearest: Garage) -> datetime:
    """The call centre's cases: from policies.visible_from; a walk-in, at the counter, from now."""
    if case.channel == "walk_in":
        return now
    return policies.visible_from(snap.policy.same_day_visible, case.urgency, now, nearest.zone)


class Slots(list):
    """Free starts; when the optimizer did not answer, none, and `degraded` says why (not a full day)."""

    degraded: str | None = None


def garage_slots(session: Session, case: Case, garage: Garage, now: datetime, count: int = 8,
                 around: datetime | None = None) -> Slots:
    """The earliest free starts for this case at one garage: what its reception can say yes to.

    The garage itself is asked, however far the caller is. With `around`, the free starts nearest
    that time (a busy time a person typed): some before, some after.
    """
    snap = snapshot(session, now)
    earliest = max(now, around - timedelta(hours=3)) if around is not None else now
    request = _request(case, now, garages=(garage.id,), earliest=earliest)
    problem = snap.plan("offers", {garage.id: snap.horizon_end}, [request], ignore_case=case.id)
    problem.policy = replace(problem.policy, offers=count * (2 if around else 1))
    try:
        found = ask(lambda: solve(problem).offers, snap.policy.time_limit_seconds or 1.0)
    except EngineUnavailable as exc:
        unanswered = Slots()
        unanswered.degraded = exc.code
        return unanswered
    slots = [_slot(o, snap, o.distance_km, distance_km=o.distance_km, cost=o.cost) for o in found]
    if around is not None:
        slots = sorted(sorted(slots, key=lambda s: abs((s.start - around).total_seconds()))[:count],
                       key=lambda s: s.start)
    return Slots(slots)


def desk_offers(session: Session, actor: User, case: Case, now: datetime, policy: Policy | None = None) -> CaseOffers:
    """What the reader's desk is offered, and so may book without a reason: the network's offers for the call
    centre; for a garage's reception, which books at its own garage only, that garage's earliest free times (as
    many as the policy offers). The rule offer and the target are the case's either way."""
    found = case_offers(session, case, now, policy)
    if actor.role != "reception" or actor.garage_id is None:
        return found
    garage = session.get(Garage, actor.garage_id)
    own = garage_slots(session, case, garage, now, count=snapshot(session, now, policy).policy.offers)
    return replace(found, offers=list(own), degraded=found.degraded or own.degraded)


def offers_document(session: Session, case: Case, now: datetime, policy: Policy | None = None) -> dict:
    """The case's offers question as a problem file over the whole horizon: the validated path's input,
    and what a planner exports to reproduce a case (`python -m optimizer solve`)."""
    snap = snapshot(session, now, policy)
    until = {g: snap.horizon_end for g, _ in snap.candidates(case.lat, case.lon)}
    since = _visible_from(snap, case, now, _nearest(snap, case))
    request = {"id": str(case.id), "duration_minutes": case.job_type.duration_minutes,
               "skill": case.job_type.skill_code, "lift": case.job_type.needs_lift, "urgency": case.urgency,
               "location": {"lat": case.lat, "lon": case.lon}, "earliest": since.isoformat()}
    return snap.document("offers", until, [request], ignore_case=case.id)
