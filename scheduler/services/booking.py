"""Booking an appointment: the database has the last word on double booking."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import SlotTaken
from scheduler.models import ACTIVE, Appointment, Case, Technician, User

GUARD = "appointment_no_double_booking"


def is_double_booking(exc: IntegrityError) -> bool:
    return GUARD in str(exc.orig) or getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == GUARD


def overlapping(session: Session, technician_id: str, start: datetime, end: datetime,
                exclude: int | None = None) -> list[Appointment]:
    query = select(Appointment).where(
        Appointment.technician_id == technician_id,
        Appointment.status.in_(ACTIVE),
        Appointment.overbooked.is_(False),
        Appointment.start_at < end,
        Appointment.end_at > start,
    )
    if exclude is not None:
        query = query.where(Appointment.id != exclude)
    return list(session.scalars(query))


def book(session: Session, case: Case, technician: Technician, start: datetime, end: datetime, *,
         channel: str = "call_centre", pinned: bool = False, overbooked: bool = False,
         actor: User | None = None, flex_minutes: int = 60) -> Appointment:
    """Insert an appointment, or raise SlotTaken; the failed insert leaves nothing behind."""
    if not overbooked and overlapping(session, technician.id, start, end):
        raise SlotTaken("That slot was just taken.", technician=technician.id, start=start.isoformat())
    appointment = Appointment(
        case=case, garage_id=technician.garage_id, technician_id=technician.id, start_at=start, end_at=end,
        channel=channel, pinned=pinned, overbooked=overbooked, created_by_id=actor.id if actor else None,
        skill_code=case.job_type.skill_code, lift=case.job_type.needs_lift, flex_minutes=flex_minutes,
    )
    try:
        with session.begin_nested():
            session.add(appointment)
            session.flush()
    except IntegrityError as exc:
        if is_double_booking(exc):
            raise SlotTaken("That slot was just taken.", technician=technician.id,
                            start=start.isoformat()) from None
        raise
    return appointment
