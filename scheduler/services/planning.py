"""From the database to an optimizer problem, and back: the one place the layers meet."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

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


@dataclass
class CaseOffers:
    rule_offer: RuleOffer | None
    offers: list[Offer]
    problem_seconds: float


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


def offers_problem(session: Session, case: Case, policy: Policy, now: datetime) -> dict:
    """An `offers` problem for one case: the garages within reach, their shifts and booked work."""
    if case.lat is None or case.lon is None:
        raise RuleBroken("The case has no location: give the caller's position to search the network.")
    garages = [g for g in session.scalars(select(Garage).order_by(Garage.id))
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
               Appointment.end_at > now, Appointment.start_at < horizon))
    job = case.job_type
    return {
        "version": 1, "mode": "offers", "now": _iso(now), "slot_minutes": policy.slot_minutes,
        "garages": [{"id": g.id, "location": {"lat": g.lat, "lon": g.lon}, "lifts": g.lifts} for g in garages],
        "technicians": [{"id": t.id, "garage": t.garage_id, "skills": t.skill_codes,
                         "shifts": [{"start": _iso(s), "end": _iso(e)} for d in days for s, e in t.shifts_on(d)
                                    if e > now]} for t in technicians],
        "appointments": [{"id": str(a.id), "technician": a.technician_id, "start": _iso(a.start_at),
                          "end": _iso(a.end_at), "skill": a.skill_code, "lift": a.lift, "status": a.status,
                          "pinned": a.pinned, "flex_minutes": a.flex_minutes} for a in appointments],
        "requests": [{"id": str(case.id), "duration_minutes": job.duration_minutes, "skill": job.skill_code,
                      "lift": job.needs_lift, "urgency": case.urgency,
                      "location": {"lat": case.lat, "lon": case.lon}, "earliest": _iso(now)}],
        "policy": policy.as_problem_policy(),
    }


def case_offers(session: Session, case: Case, now: datetime, policy: Policy | None = None) -> CaseOffers:
    """The standard rules' offer and the cheapest offers across the network, for one case."""
    started = time.perf_counter()
    problem = parse_problem(offers_problem(session, case, policy or active_policy(session), now))
    free = FreeTime(problem)
    request = problem.requests[0]
    return CaseOffers(rule_offer(problem, free, request), offers_for(problem, free, request, problem.policy.offers),
                      time.perf_counter() - started)
