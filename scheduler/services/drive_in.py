"""Announcing a drive-in: the customer heads for the nearest garage, whose reception expects them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Invalid
from scheduler.models import Case, DriveIn, Garage, User
from scheduler.services import overrides
from scheduler.services.planning import active_policy, case_offers, nearest_garages, open_from

# A driver with a warning light is told to go slowly: 30 km/h door to door, plus time to set off.
SETTING_OFF = timedelta(minutes=10)
SPEED_KMH = 30


def announce(session: Session, actor: User, case: Case, now: datetime, garage_id: str | None = None,
             expected_at: datetime | None = None, note: str = "") -> DriveIn:
    if case.status in ("done", "cancelled"):
        raise Conflict(f"Case {case.id} is {case.status}.")
    if case.lat is None:
        raise Invalid("The case has no location to find the nearest garage from.", field="location")
    nearest = nearest_garages(session, case.lat, case.lon)
    if garage_id is None:
        garage, km = nearest[0]
    else:
        garage, km = next(((g, d) for g, d in nearest if g.id == garage_id), (None, 0.0))
        if garage is None:
            raise Invalid(f"No garage {garage_id!r}: see GET /api/v1/garages.", field="garage")
    if expected_at is None:
        # a garage that is closed on arrival expects the car when it opens
        expected_at = open_from(garage, now + SETTING_OFF + timedelta(hours=km / SPEED_KMH))
    elif expected_at < now - timedelta(minutes=15) or expected_at > now + timedelta(days=1):
        raise Invalid("expected_at must be within the next 24 hours.", field="expected_at")
    policy = active_policy(session)
    drive_in = DriveIn(case=case, garage=garage, expected_at=expected_at.replace(microsecond=0), note=note,
                       announced_at=now, announced_by_id=actor.id)
    session.add(drive_in)
    rule = case_offers(session, case, now, policy).rule
    overrides.record(session, actor, case, "walk_in", note or "Drive-in announced: customer told to come now",
                     rule, policy, now, garage_id=garage.id)
    case.log("drive_in", f"Drive-in announced at {garage.name}, expected {garage.local(expected_at):%a %d %b %H:%M}", actor, now)
    session.flush()
    return drive_in


def expected(session: Session, garage: Garage, since: datetime) -> list[DriveIn]:
    return list(session.scalars(select(DriveIn).where(DriveIn.garage_id == garage.id, DriveIn.status == "expected",
                                                      DriveIn.expected_at >= since).order_by(DriveIn.expected_at)))
