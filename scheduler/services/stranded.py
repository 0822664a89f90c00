"""Bookings stranded by a change at the admin desk: an absence, a closed day, shorter hours, a technician moved.

A re-plan moves work within its day and its flex; a closed day's bookings, or those a re-plan could not
place, need a new day agreed with the customer, which is the call centre's work. The change that hit each
booking left a fact on its case ("stranded"); a booking is still stranded while it is where it was and its
technician still cannot do it then (technicians.can_do, the one reading). A read: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import Appointment, Case, CaseEvent
from scheduler.services.capacity import BOOKING_WINDOW
from scheduler.services.technicians import can_do


@dataclass(frozen=True)
class Stranded:
    appointment: Appointment
    since: datetime  # when the change left no one to do it: a re-plan at its garage may still place it within its day


def bookings(session: Session, now: datetime) -> list[Stranded]:
    """The bookings still to come that no one can do where and when they are booked, soonest first."""
    # a booking is at most a year ahead, so a fact older than that concerns none still to come
    facts = session.scalars(select(CaseEvent).where(CaseEvent.kind == "stranded", CaseEvent.at > now - BOOKING_WINDOW)
                            .order_by(CaseEvent.at, CaseEvent.id))
    hit = {int(e.data["appointment"]): e.at for e in facts if (e.data or {}).get("appointment")}  # the latest change
    if not hit:
        return []
    query = (select(Appointment).where(Appointment.id.in_(hit), Appointment.status == "booked",
                                       Appointment.start_at > now)
             .options(selectinload(Appointment.case).selectinload(Case.customer),
                      selectinload(Appointment.case).selectinload(Case.vehicle))
             .order_by(Appointment.start_at, Appointment.id))
    return [Stranded(a, hit[a.id]) for a in session.scalars(query) if not can_do(a.technician, a)]
