"""The direct line: a case put straight to one garage, which accepts with a start or declines.

The rules' offer is kept from the moment the operator asked, so the accepted answer's
override is judged against what the caller would otherwise have been given.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.errors import (
    AlreadyAnswered,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ReasonRequired,
    SlotTaken,
)
from scheduler.models import Case, DirectLineRequest, Garage, User
from scheduler.services import overrides
from scheduler.services.booking import check_working_time, confirm, lock_case, replace_booking, technician_for
from scheduler.services.planning import Slot, active_policy, case_offers


def send(session: Session, actor: User, case: Case, garage_id: str, message: str, now: datetime) -> DirectLineRequest:
    if not message.strip():
        raise Invalid("Write a message for the garage: what the caller needs.", field="message")
    garage = session.get(Garage, garage_id) if isinstance(garage_id, str) else None
    if garage is None:
        raise Invalid(f"No garage {garage_id!r}: see GET /api/v1/garages.", field="garage")
    lock_case(session, case)  # one open request per garage and case, even when two operators send at once
    if case.status in ("done", "cancelled"):
        raise Conflict(f"Case {case.id} is {case.status}.")
    expire_due(session, now)
    if session.scalar(select(DirectLineRequest.id).where(DirectLineRequest.case_id == case.id,
                                                         DirectLineRequest.garage_id == garage_id,
                                                         DirectLineRequest.status == "open")):
        raise Conflict(f"{garage.name} already has this case on the direct line: wait for its answer.")
    policy = active_policy(session)
    rule = case_offers(session, case, now, policy).rule
    request = DirectLineRequest(
        case=case, garage=garage, message=message, status="open", created_at=now, created_by_id=actor.id,
        expires_at=now + timedelta(minutes=policy.direct_line_expiry_minutes),
        rule_garage_id=rule.garage if rule else None, rule_technician_id=rule.technician if rule else None,
        rule_start=rule.start if rule else None, rule_end=rule.end if rule else None,
        rule_note=rule.late_because if rule else "The rules offered nothing within the horizon.")
    session.add(request)
    case.log("direct_line", f"Put to {garage.name} on the direct line: {message}", actor, now)
    session.flush()
    return request


def expire_due(session: Session, now: datetime) -> list[DirectLineRequest]:
    """Open requests past their time expire, and the case's timeline says so."""
    due = list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.status == "open",
                                                               DirectLineRequest.expires_at <= now)))
    for request in due:
        request.status = "expired"
        minutes = round((request.expires_at - request.created_at).total_seconds() / 60)
        request.case.log("direct_line_expired", f"No answer from {request.garage.name} within {minutes} min",
                         at=request.expires_at)
    session.flush()
    return due


def get_request(session: Session, actor: User, request_id: int) -> DirectLineRequest:
    request = session.get(DirectLineRequest, request_id)
    if request is None:
        raise NotFound(f"No direct-line request {request_id}.")
    if actor.role in ("reception", "workshop") and request.garage_id != actor.garage_id:
        raise Forbidden("This request was put to another garage.")
    return request


def visible(session: Session, actor: User, status: str | None, now: datetime) -> list[DirectLineRequest]:
    """A garage's requests for its reception and workshop; an operator's own requests."""
    expire_due(session, now)
    query = select(DirectLineRequest).order_by(DirectLineRequest.created_at.desc(), DirectLineRequest.id.desc())
    if actor.role in ("reception", "workshop"):
        query = query.where(DirectLineRequest.garage_id == actor.garage_id)
    else:
        query = query.where(DirectLineRequest.created_by_id == actor.id)
    if status:
        query = query.where(DirectLineRequest.status == status)
    return list(session.scalars(query.limit(200)))


def answer(session: Session, actor: User, request: DirectLineRequest, accept: bool, now: datetime, *,
           start: datetime | None = None, technician_id: str | None = None, reason: str = "",
           overbook: bool = False) -> DirectLineRequest:
    """Accept (book a pinned appointment) or decline (with a reason); once only.

    The garage may overbook its own technician: it knows its workshop, and the appointment
    is flagged so that the double-booking guard and the planners can tell.
    """
    lock_case(session, request.case)
    session.refresh(request)  # another answer may have been committed while we waited for the lock
    expire_due(session, now)
    if request.status != "open":
        when = request.answered_at or request.expires_at
        raise AlreadyAnswered(f"This request is already {request.status} ({when:%H:%M} UTC).", status=request.status)
    case = request.case
    if not accept:
        if not reason:
            raise ReasonRequired("Say why you decline, so the operator can tell the caller and try elsewhere.")
        _close(request, "declined", actor, now, reason)
        case.log("direct_line_answer", f"{request.garage.name} declined after {_minutes(request)}: {reason}", actor, now)
        return request
    if start is None or not technician_id:
        raise Invalid("To accept, give the start and the technician.", field="start" if start is None else "technician")
    technician = technician_for(session, case, request.garage_id, technician_id)
    start = start.replace(second=0, microsecond=0)
    check_working_time(technician, start, start + timedelta(minutes=case.job_type.duration_minutes), now)
    try:
        appointment, earlier = replace_booking(session, case, technician, start, channel="direct_line", pinned=True,
                                               overbooked=overbook, actor=actor)
    except SlotTaken:
        raise SlotTaken(f"{technician.name} is busy then: pick another time or technician, or overbook.",
                        technician=technician.id, start=start.isoformat()) from None
    appointment_local = request.garage.local(appointment.start_at)
    _close(request, "accepted", actor, now, reason or f"Yes, {appointment_local:%H:%M} with {technician.name}")
    request.appointment_id = appointment.id
    rule = None if request.rule_start is None else Slot(request.rule_garage_id, request.rule_technician_id,
                                                        request.rule_start, request.rule_end)
    sender = session.get(User, request.created_by_id) if request.created_by_id else actor
    override = overrides.record(session, sender, case, "direct_line", request.message, rule, active_policy(session),
                                request.created_at, appointment=appointment, rule_note=request.rule_note)
    override.garage_id = request.garage_id
    overrides.settle_pending(session, case, appointment)
    case.log("direct_line_answer", f"{request.garage.name} accepted after {_minutes(request)}: "
                                   f"{appointment_local:%a %d %b %H:%M}", actor, now)
    confirm(case, appointment, earlier, actor, now, technician)
    # Other garages asked about the same case need not answer any more.
    session.execute(update(DirectLineRequest).where(DirectLineRequest.case_id == case.id,
                                                    DirectLineRequest.status == "open")
                    .values(status="expired", answer=f"Withdrawn: {request.garage.name} took the case"))
    session.flush()
    return request


def _close(request: DirectLineRequest, status: str, actor: User, now: datetime, answer: str) -> None:
    request.status, request.answered_at, request.answered_by_id, request.answer = status, now, actor.id, answer


def _minutes(request: DirectLineRequest) -> str:
    seconds = request.response_seconds or 0
    return f"{seconds // 60} min {seconds % 60:02d} s"


def for_case(session: Session, case: Case, now: datetime) -> list[DirectLineRequest]:
    """Every request made for the case, newest first: the case page shows who was asked and what they said."""
    expire_due(session, now)
    return list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.case_id == case.id)
                                .order_by(DirectLineRequest.created_at.desc(), DirectLineRequest.id.desc())))


def open_for_garage(session: Session, garage: Garage, now: datetime) -> list[DirectLineRequest]:
    expire_due(session, now)
    return list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.garage_id == garage.id,
                                                                DirectLineRequest.status == "open")
                                .order_by(DirectLineRequest.created_at)))


def answered_since(session: Session, garage: Garage, since: datetime) -> list[DirectLineRequest]:
    return list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.garage_id == garage.id,
                                                                DirectLineRequest.status != "open",
                                                                DirectLineRequest.created_at >= since)
                                .order_by(DirectLineRequest.created_at.desc()).limit(5)))
