"""The direct line: a case put straight to one garage, which accepts with a start or declines.

The rules' offer is kept from the moment the operator asked, so the accepted answer's
override is judged against what the caller would otherwise have been given.

A request expires by the clock: reads derive it (`DirectLineRequest.status_at`) and never write;
the next write that touches it stores it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from scheduler.errors import (
    AlreadyAnswered,
    Conflict,
    Forbidden,
    Invalid,
    MissesTarget,
    NotFound,
    ReasonRequired,
    SlotTaken,
)
from scheduler.models import Case, DirectLineRequest, Garage, Policy, User
from scheduler.services import capacity, overrides, planning, policies
from scheduler.services.booking import (
    active_booking,
    booked_already,
    confirm,
    job_length,
    lock_case,
    note_offers_shown,
    place,
    refuse_booked_within_target,
    refuse_closed,
    technician_for,
    tell_who_waits,
    withdraw_asked,
)
from scheduler.services.planning import Slot, Target, case_offers
from scheduler.texts import N_


def send(session: Session, actor: User, case: Case, garage_id: str, message: str, now: datetime) -> DirectLineRequest:
    if not message.strip():
        raise Invalid(N_("Write a message for the garage: what the caller needs."), field="message")
    garage = session.get(Garage, garage_id) if isinstance(garage_id, str) else None
    if garage is None:
        raise Invalid(N_("No garage %(garage)s: see GET /api/v1/garages."), words={"garage": repr(garage_id)},
                      field="garage")
    lock_case(session, case)  # one open request per garage and case, even when two operators send at once
    refuse_closed(case)
    expire_due(session, now, case)
    if session.scalar(select(DirectLineRequest.id).where(DirectLineRequest.case_id == case.id,
                                                         DirectLineRequest.garage_id == garage_id,
                                                         DirectLineRequest.status == "open")):
        raise Conflict(N_("%(garage)s already has this case on the direct line: wait for its answer."),
                       words={"garage": garage.name})
    policy = policies.in_force(session, now)
    found = case_offers(session, case, now, policy)
    refuse_booked_within_target(case, found.target)
    rule = found.rule
    request = DirectLineRequest(
        case=case, garage=garage, message=message, status="open", created_at=now, created_by_id=actor.id,
        expires_at=expiry(now, policy),
        rule_garage_id=rule.garage if rule else None, rule_technician_id=rule.technician if rule else None,
        rule_start=rule.start if rule else None, rule_end=rule.end if rule else None,
        rule_note=rule.late_because if rule else "The rules offered nothing within the horizon.",
        rule_reasons=rule.reason_facts() if rule else [])
    session.add(request)
    note_offers_shown(case, found, now)
    case.log("direct_line", actor, now, garage=garage.id, message=message)
    session.flush()
    return request


def expiry(sent: datetime, policy: Policy) -> datetime:
    """When a request sent at `sent` expires: the policy's minutes to answer (direct_line_expiry_minutes) after it
    is sent, at any hour, as issue #4 states the rule. Sent while the garage is closed, it can expire before
    anyone there reads it: the operator is warned before and after sending (web.operator), not given a longer clock.

    The one definition: stored as the request's `expires_at` when it is sent; its status (status_at), the API,
    the pages, the open-work queue and the sweeper (expire_due) all read that.
    """
    return sent + timedelta(minutes=policy.direct_line_expiry_minutes)


def unread_until(request: DirectLineRequest, now: datetime) -> datetime | None:
    """When the request's garage opens, if not before the request expires (expiry): nobody there will read it in
    time, and the operator is told so; None when the garage can answer."""
    opens = planning.open_from(request.garage, now)
    return opens if opens >= request.expires_at else None


def expire_due(session: Session, now: datetime, case: Case | None = None) -> list[DirectLineRequest]:
    """Store the expiry of open requests past their time (of one case, or all), with a line in each timeline.

    Only writes call this: a read derives the same answer from the clock.
    """
    query = select(DirectLineRequest).where(DirectLineRequest.status == "open", DirectLineRequest.expires_at <= now)
    if case is not None:
        query = query.where(DirectLineRequest.case_id == case.id)
    due = list(session.scalars(query))
    for request in due:
        request.status = "expired"
        request.case.log("direct_line_expired", at=request.expires_at, **expiry_fact(request))
    session.flush()
    return due


def expiry_fact(request: DirectLineRequest) -> dict:
    return {"garage": request.garage_id, "request": request.id,
            "minutes": round((request.expires_at - request.created_at).total_seconds() / 60)}


def with_status(query, status: str | None, now: datetime):
    """Filter requests by the status they have now, expiry by the clock included."""
    timed_out = and_(DirectLineRequest.status == "open", DirectLineRequest.expires_at <= now)
    if status == "open":
        return query.where(DirectLineRequest.status == "open", DirectLineRequest.expires_at > now)
    if status == "expired":
        return query.where(or_(DirectLineRequest.status == "expired", timed_out))
    if status:
        return query.where(DirectLineRequest.status == status)
    return query


def get_request(session: Session, actor: User, request_id: int) -> DirectLineRequest:
    request = session.get(DirectLineRequest, request_id)
    if request is None:
        raise NotFound(N_("No direct-line request %(id)s."), words={"id": request_id})
    if actor.role in ("reception", "workshop") and request.garage_id != actor.garage_id:
        raise Forbidden(N_("This request was put to another garage."))
    return request


def visible(session: Session, actor: User, status: str | None, now: datetime, limit: int = 200, offset: int = 0
            ) -> list[DirectLineRequest]:
    """A garage's requests for its reception and workshop; an operator's own requests."""
    query = select(DirectLineRequest).order_by(DirectLineRequest.created_at.desc(), DirectLineRequest.id.desc())
    if actor.role in ("reception", "workshop"):
        query = query.where(DirectLineRequest.garage_id == actor.garage_id)
    else:
        query = query.where(DirectLineRequest.created_by_id == actor.id)
    return list(session.scalars(with_status(query, status, now).limit(limit).offset(offset)))


def target_of(session: Session, request: DirectLineRequest) -> Target:
    """The case's urgency target as it stood when the operator asked: what an acceptance is judged by."""
    case = request.case
    nearest = planning.snapshot(session, request.created_at).nearest_garage(case.lat, case.lon) \
        if case.lat is not None else request.garage
    # counted from the call (or the urgency's last change), as the case's own target: asking a garage a day late
    # does not move it
    return planning.target_for(case.urgency, min(case.urgent_since, request.created_at), nearest)


def answer(session: Session, actor: User, request: DirectLineRequest, accept: bool, now: datetime, *,
           start: datetime | None = None, technician_id: str | None = None, reason: str = "",
           overbook: bool = False, late_ok: bool = True) -> DirectLineRequest:
    """Accept (book a pinned appointment) or decline (with a reason); once only.

    The garage may overbook its own technician or lifts: it knows its workshop. That is an explicit
    decision with a reason, flagged on the appointment, and only when there is a real overlap.
    With `late_ok` false, a start that misses the case's urgency target is refused until confirmed.
    """
    lock_case(session, request.case)
    session.refresh(request)  # another answer may have been committed while we waited for the lock
    expire_due(session, now, request.case)
    if request.withdrawn:
        raise AlreadyAnswered(N_("This request was withdrawn at %(when)s: the case was booked meanwhile."),
                              status=request.status, words={"when": f"{request.garage.local(request.answered_at):%H:%M}"})
    if request.status != "open":
        when = request.answered_at or request.expires_at
        raise AlreadyAnswered(N_("This request is already %(status)s (at %(when)s)."), status=request.status,
                              words={"status": request.status, "when": f"{request.garage.local(when):%H:%M}"})
    case = request.case
    if not accept:
        if not reason:
            raise ReasonRequired(N_("Say why you decline, so the operator can tell the caller and try elsewhere."))
        _close(request, "declined", actor, now, reason)
        case.log("direct_line_answer", actor, now, garage=request.garage_id, request=request.id, accepted=False,
                 seconds=request.response_seconds, reason=reason)
        return request
    if start is None or not technician_id:
        raise Invalid(N_("To accept, give the start and the technician."), field="start" if start is None else "technician")
    technician = technician_for(session, case, request.garage_id, technician_id)
    start = start.replace(second=0, microsecond=0)
    end = start + job_length(case, active_booking(case))  # as place() books it
    capacity.check_slot(technician, start, end, now)
    target = target_of(session, request)
    if not late_ok and not target.met_by(start):
        raise MissesTarget(N_("%(start)s misses the %(urgency)s target (start by the end of %(day)s): confirm to accept "
                              "it anyway."), words={"start": start.astimezone(request.garage.zone),
                                                    "urgency": case.urgency, "day": target.due_day},
                           latest_start=target.latest_start.isoformat())
    current = active_booking(case)
    if current is not None and current.status != "booked":
        raise Conflict(N_("The customer is already %(status)s at %(garage)s."),
                       words={"status": current.status, "garage": current.garage.name})
    if current is not None and start >= current.start_at:
        # a yes replaces the case's booking: never with a later one (the operator asked for earlier)
        raise booked_already(N_("Case %(case)s is already booked at %(garage)s, %(start)s, no later than this: "
                                "offer an earlier time, or decline."), current)
    ignore = (current.id,) if current else ()
    capacity.lock_garage(session, technician.garage_id)
    clash = capacity.clash(session, technician, start, end, case.job_type.needs_lift, ignore)
    if clash and not overbook:
        raise _busy(session, case, technician, start, now, clash)
    if clash and not reason:
        raise ReasonRequired(N_("Say why you overbook: who absorbs it, so the planners can see what it cost."),
                             kind="overbook")
    try:
        appointment = place(session, case, technician, start, channel="direct_line", pinned=True, clash=clash,
                            actor=actor, replacing=current)
    except SlotTaken:
        raise _busy(session, case, technician, start, now, capacity.Clash(busy=[], lifts_full=False)) from None
    _close(request, "accepted", actor, now, reason)
    request.appointment_id = appointment.id
    rule = None if request.rule_start is None else Slot(request.rule_garage_id, request.rule_technician_id,
                                                        request.rule_start, request.rule_end)
    sender = session.get(User, request.created_by_id) if request.created_by_id else actor
    policy = policies.in_force(session, request.created_at)
    overrides.record(session, sender, case, "direct_line", request.message, rule, policy, request.created_at,
                     appointment=appointment, rule_note=request.rule_note, garage_id=request.garage_id,
                     rule_reasons=request.rule_reasons)
    waits = 0
    if clash:
        later = capacity.work_from(session, appointment.technician_id, appointment.start_at, (appointment.id,))
        turn = capacity.turn_order(appointment)
        knock_on = overrides.knock_on(later, appointment.start_at, appointment.end_at, turn)
        overrides.record(session, actor, case, "overbook", reason, rule, policy, now, appointment=appointment,
                         **knock_on)
        tell_who_waits(session, later, knock_on, now)
        waits = overrides.own_wait(later, appointment.start_at, turn)
    overrides.settle_pending(session, case, appointment, now)
    case.log("direct_line_answer", actor, now, garage=request.garage_id, request=request.id, accepted=True,
             seconds=request.response_seconds, start=appointment.start_at.isoformat(), overbooked=bool(clash),
             **({"misses_target": case.urgency} if not target.met_by(appointment.start_at) else {}))
    confirm(session, case, appointment, [current] if current else [], actor, now, waits=waits)
    withdraw_asked(session, case, now)  # other garages asked about the same case need not answer any more
    session.flush()
    return request


def _busy(session: Session, case: Case, technician, start: datetime, now: datetime,
          clash: capacity.Clash) -> SlotTaken:
    """The refusal of a busy time, with the garage's free times around it: what to answer instead."""
    if clash.lifts_full and not clash.busy:
        template = N_("Every lift is taken then: pick another time or technician, or overbook with a reason.")
        words = {}
    else:
        template = N_("%(technician)s is busy then: pick another time or technician, or overbook with a reason.")
        words = {"technician": technician.name}
    around = planning.garage_slots(session, case, technician.garage, now, around=start)
    return SlotTaken(template, words=words, technician=technician.id, lifts_full=clash.lifts_full,
                     busy=[a.id for a in clash.busy], offers=[s.offer_dict() for s in around])


def _close(request: DirectLineRequest, status: str, actor: User, now: datetime, answer: str) -> None:
    request.status, request.answered_at, request.answered_by_id, request.answer = status, now, actor.id, answer


def for_case(session: Session, case: Case) -> list[DirectLineRequest]:
    """Every request made for the case, newest first: the case page shows who was asked and what they said."""
    return list(session.scalars(select(DirectLineRequest).where(DirectLineRequest.case_id == case.id)
                                .order_by(DirectLineRequest.created_at.desc(), DirectLineRequest.id.desc())))


def open_for_garage(session: Session, garage: Garage, now: datetime) -> list[DirectLineRequest]:
    query = select(DirectLineRequest).where(DirectLineRequest.garage_id == garage.id)
    return list(session.scalars(with_status(query, "open", now).order_by(DirectLineRequest.created_at)))


def answered_since(session: Session, garage: Garage, since: datetime, now: datetime) -> list[DirectLineRequest]:
    query = select(DirectLineRequest).where(DirectLineRequest.garage_id == garage.id,
                                            DirectLineRequest.created_at >= since)
    query = query.where(or_(DirectLineRequest.status != "open", DirectLineRequest.expires_at <= now))
    return list(session.scalars(query.order_by(DirectLineRequest.created_at.desc()).limit(5)))
