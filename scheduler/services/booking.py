"""Booking an appointment: the database has the last word on double booking."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Forbidden, Invalid, ReasonRequired, RuleBroken, SlotTaken
from scheduler.models import ACTIVE, Appointment, Case, Garage, Technician, User
from scheduler.services import overrides
from scheduler.services.planning import CaseOffers, active_policy, case_offers

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
    try:
        with session.begin_nested():
            # Made inside the savepoint: linking it to the case must not flush it before the savepoint exists.
            appointment = Appointment(
                case=case, garage_id=technician.garage_id, technician_id=technician.id, start_at=start, end_at=end,
                channel=channel, pinned=pinned, overbooked=overbooked, created_by_id=actor.id if actor else None,
                skill_code=case.job_type.skill_code, lift=case.job_type.needs_lift, flex_minutes=flex_minutes,
            )
            session.add(appointment)
            session.flush()
    except IntegrityError as exc:
        if is_double_booking(exc):
            raise SlotTaken("That slot was just taken.", technician=technician.id,
                            start=start.isoformat()) from None
        raise
    return appointment


def lock_case(session: Session, case: Case) -> None:
    """Take the writes on one case in turn: two people booking or answering for it at once
    would each see it unbooked. PostgreSQL locks the row, then the case and its bookings are
    read afresh; SQLite already runs one writer at a time."""
    session.flush()  # what this transaction changed survives the re-read
    session.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    session.expire(case)


def _garage(session: Session, garage_id: str) -> Garage:
    garage = session.get(Garage, garage_id)
    if garage is None:
        raise Invalid(f"No garage {garage_id!r}: see GET /api/v1/garages.", field="garage")
    return garage


def works(technician: Technician, start: datetime, end: datetime) -> bool:
    """Whether [start, end) lies within one of the technician's shifts that day."""
    return any(s <= start and end <= e for s, e in technician.shifts_on(technician.garage.today(start)))


def busy_with_others(session: Session, case: Case, technician_id: str, start: datetime,
                     end: datetime) -> list[Appointment]:
    """The technician's work overlapping [start, end), leaving out the case's own booking (it is being moved)."""
    return [a for a in overlapping(session, technician_id, start, end) if a.case_id != case.id or a.status != "booked"]


def technician_for(session: Session, case: Case, garage_id: str, technician_id: str) -> Technician:
    """The named technician, who must work at that garage and have the case's skill."""
    _garage(session, garage_id)
    technician = session.get(Technician, technician_id)
    if technician is None or technician.garage_id != garage_id or not technician.active:
        raise Invalid(f"No technician {technician_id!r} works at {garage_id}.", field="technician")
    if case.job_type.skill_code not in technician.skill_codes:
        raise RuleBroken(f"{technician.name} has no {case.job_type.skill_code} skill, which this job needs.")
    return technician


def free_technician(session: Session, case: Case, garage_id: str, start: datetime, end: datetime) -> Technician:
    """Someone at the garage with the skill who works then, free if anyone is: the caller names a time, not a person.

    When everyone who works then is busy, the first of them comes back, and booking says the slot is taken.
    """
    garage = _garage(session, garage_id)
    skill = case.job_type.skill_code
    working = [t for t in sorted(garage.technicians, key=lambda t: t.id)
               if t.active and skill in t.skill_codes and works(t, start, end)]
    if not working:
        raise RuleBroken(f"No one with the {skill} skill works at {garage.name} "
                         f"{garage.local(start):%a %d %b %H:%M}–{garage.local(end):%H:%M}: pick another time.")
    return next((t for t in working if not busy_with_others(session, case, t.id, start, end)), working[0])


# How far in the past a start may be: "now" typed a minute ago is still now.
GRACE = timedelta(minutes=15)


def check_working_time(technician: Technician, start: datetime, end: datetime, now: datetime) -> None:
    if start < now - GRACE:
        raise RuleBroken("That start is in the past: pick a time from now on.")
    if not works(technician, start, end):
        local = technician.garage.local(start)
        raise RuleBroken(f"{technician.name} does not work {local:%a %d %b %H:%M}–{technician.garage.local(end):%H:%M}"
                         " (outside their shift): pick another time or technician.")


def replace_booking(session: Session, case: Case, technician: Technician, start: datetime, *, channel: str,
                    pinned: bool, overbooked: bool, actor: User) -> tuple[Appointment, list[Appointment]]:
    """Book, cancelling the case's earlier bookings that have not started, all or nothing."""
    end = start + timedelta(minutes=case.job_type.duration_minutes)
    earlier = [a for a in case.appointments if a.status == "booked"]
    with session.begin_nested():  # a refused insert also restores the earlier bookings
        for old in earlier:
            old.status = "cancelled"
        session.flush()
        appointment = book(session, case, technician, start, end, channel=channel, pinned=pinned,
                           overbooked=overbooked, actor=actor)
    return appointment, earlier


def lifts_full(session: Session, garage: Garage, start: datetime, end: datetime, case: Case | None = None) -> bool:
    """Whether every lift of the garage is in use at some moment of [start, end)."""
    spans = session.execute(select(Appointment.start_at, Appointment.end_at).where(
        Appointment.garage_id == garage.id, Appointment.lift.is_(True), Appointment.status.in_(ACTIVE),
        Appointment.start_at < end, Appointment.end_at > start,
        Appointment.case_id != (case.id if case else -1))).all()
    edges = sorted([(max(a, start), 1) for a, _ in spans] + [(min(b, end), -1) for _, b in spans])
    in_use = peak = 0
    for _, step in edges:  # ends sort before starts at the same instant: back-to-back is not overlap
        in_use += step
        peak = max(peak, in_use)
    return peak >= garage.lifts


def _slot_taken(found: CaseOffers, technician: Technician, start: datetime, overbook_allowed: bool) -> SlotTaken:
    hint = " Or overbook it, with a reason." if overbook_allowed else ""
    return SlotTaken(f"Slot just taken: {technician.name} or every lift at {technician.garage.name} is busy "
                     f"then. Here are the next offers.{hint}",
                     offers=found.to_dict()["offers"], overbook_allowed=overbook_allowed)


def book_for_case(session: Session, actor: User, case: Case, garage_id: str, technician_id: str, start: datetime,
                  reason: str, now: datetime) -> Appointment:
    """The operator's or reception's booking, with the P1 guard and the override it may be.

    A slot the rules or the optimizer offered needs nothing more. A slot they did not give
    (manual_slot), an overbooking where policy allows it (overbook), or a P1 beyond its
    target each need a reason and are logged as an override against the rule offer.
    """
    lock_case(session, case)
    if case.status in ("done", "cancelled"):
        raise Conflict(f"Case {case.id} is {case.status}: open a new case.")
    if actor.role == "reception" and garage_id != actor.garage_id:
        raise Forbidden("Reception books at its own garage; ask the call centre for another one.")
    start = start.replace(second=0, microsecond=0)
    end = start + timedelta(minutes=case.job_type.duration_minutes)
    technician = (technician_for(session, case, garage_id, technician_id) if technician_id
                  else free_technician(session, case, garage_id, start, end))
    check_working_time(technician, start, end, now)
    policy = active_policy(session)
    found = case_offers(session, case, now, policy)
    busy = busy_with_others(session, case, technician.id, start, end)
    overbooked = bool(busy) or (case.job_type.needs_lift and lifts_full(session, technician.garage, start, end, case))
    if overbooked and not (policy.allow_overbook and reason):
        raise _slot_taken(found, technician, start, policy.allow_overbook)
    kind = "overbook" if overbooked else None if found.gives(garage_id, start) else "manual_slot"
    misses_target = not found.target.met_by(start)
    if misses_target and case.urgency == "P1":
        kind = kind or "manual_slot"
    if kind and not reason:
        why = ("it misses the P1 target (started the same working day)" if misses_target and case.urgency == "P1"
               else "the rules did not offer that slot")
        raise ReasonRequired(f"Give a reason to book this: {why}. The rules offer "
                             f"{found.rule.start.isoformat() if found.rule else 'nothing'}.",
                             kind=kind, rule_offer=found.rule.to_dict() if found.rule else None,
                             target=found.to_dict()["target"])
    try:
        appointment, earlier = replace_booking(session, case, technician, start, channel=case.channel,
                                               pinned=kind is not None, overbooked=bool(busy), actor=actor)
    except SlotTaken:
        raise _slot_taken(case_offers(session, case, now, policy), technician, start, policy.allow_overbook) from None
    if kind:
        overrides.record(session, actor, case, kind, reason, found.rule, policy, now, appointment=appointment)
    overrides.settle_pending(session, case, appointment)
    confirm(case, appointment, earlier, actor, now, technician)
    return appointment


def confirm(case: Case, appointment: Appointment, earlier: list[Appointment], actor: User, now: datetime,
            technician: Technician) -> None:
    garage = technician.garage
    case.garage_id, case.status = garage.id, "booked"
    for old in earlier:
        case.log("cancelled", f"Earlier booking {garage.local(old.start_at):%a %d %b %H:%M} cancelled", actor, now)
    case.log("booking", f"Booked {garage.local(appointment.start_at):%a %d %b %H:%M} at {garage.name} "
                        f"with {technician.name}", actor, now)
