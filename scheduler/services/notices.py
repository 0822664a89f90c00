"""Telling a garage what happened to its work elsewhere: a booking the call centre moved away from it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Appointment, Garage, GarageNotice, User


def booking_moved(session: Session, old: Appointment, new: Appointment, actor: User, reason: str,
                  now: datetime) -> GarageNotice:
    """The garage of `old` learns that the customer will not come then, where they go instead, and why."""
    notice = GarageNotice(garage_id=old.garage_id, case_id=old.case_id, kind="booking_moved", created_at=now,
                          created_by_id=actor.id, data={
                              "appointment": old.id, "technician": old.technician_id, "start": old.start_at.isoformat(),
                              "pinned": old.pinned, "channel": old.channel, "to_garage": new.garage_id,
                              "to_start": new.start_at.isoformat(), "reason": reason, "role": actor.role})
    session.add(notice)
    return notice


def recent(session: Session, garage: Garage, since: datetime) -> list[GarageNotice]:
    """The garage's notices since `since`, newest first."""
    return list(session.scalars(select(GarageNotice).where(GarageNotice.garage_id == garage.id,
                                                           GarageNotice.created_at >= since)
                                .order_by(GarageNotice.created_at.desc(), GarageNotice.id.desc()).limit(20)))
