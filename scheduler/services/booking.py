"""Booking an appointment: the rules of capacity are in `capacity`, the database has the last word."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.network import network
from scheduler.errors import AlreadyBooked, Conflict, Forbidden, Invalid, ReasonRequired, RuleBroken, SlotTaken
from scheduler.models import ACTIVE, Appointment, Case, DirectLineRequest, Garage, Policy, Technician, User
from scheduler.services import capacity, notices, outbox, overrides, policies
from scheduler.services.capacity import Clash
from scheduler.services.planning import (
    CaseOffers, case_offers, case_target, desk_offers, garage_slots, open_from, working_day,
)
from scheduler.texts import N_, Phrase


def book(session: Session, case: Case, technician: Technician, start: datetime, end: datetime, *,
         channel: str = "call_centre", pinned: bool = False, overbooked: bool = False,
         actor: User | None = None, flex_minutes: int = 60) -> Appointment:
    """Insert an appointment, or raise SlotTaken when the database guard refuses it; nothing is left behind."""
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
        if capacity.refused_by_guard(exc):
            raise SlotTaken(N_("That slot was just taken."), technician=technician.id, start=start.isoformat()) from None
        raise
    return appointment


def lock_case(session: Session, case: Case) -> None:
    """Take the writes on one case in turn: two people booking or answering for it at once
    would each see it unbooked. PostgreSQL locks the row, then the case and its bookings are
    read afresh; SQLite already runs one writer at a time."""
    lock_cases(session, [case.id])
    session.expire(case)


def lock_cases(session: Session, case_ids) -> None:
    """Take the writes on these cases in turn, always in the order of their ids and always before the garage's
    (capacity.lock_garage): two writers that need the same cases never each hold one the other waits for."""
    session.flush()  # what this transaction changed survives the re-read
    session.execute(select(Case.id).where(Case.id.in_(sorted(set(case_ids)))).order_by(Case.id).with_for_update())


def refuse_closed(case: Case) -> None:
    """A finished or cancelled case takes no booking, request, squeeze or change of urgency: the one rule for all
    of them (a case raised to P1 after its work was done logged an override that would stay pending for good)."""
    if case.status in ("done", "cancelled"):
        raise Conflict(N_("Case %(case)s is %(status)s: open a new case."), words={"case": case.id, "status": case.status})


def active_booking(case: Case) -> Appointment | None:
    """The case's one active appointment, if it has one (booked, checked in or in progress)."""
    return next((a for a in case.appointments if a.status in ACTIVE), None)


def booked_already(template: str, current: Appointment) -> Conflict:
    """A refusal that names the case's booking (where, when) and carries it."""
    return Conflict(template, words={"case": current.case_id, "garage": current.garage.name,
                                     "start": current.garage.local(current.start_at)}, appointment=current.to_dict())


def refuse_booked_within_target(case: Case, target) -> None:
    """The levers that send a customer elsewhere (the direct line, a drive-in) are for a case the rules leave without
    a time in its target (`target`: planning.Target). Booked within it, a garage's yes put the customer 14 days later,
    and a drive-in had them expected at two garages, the booked one keeping a time for a customer who never comes."""
    current = active_booking(case)
    if current is not None and (current.status != "booked" or target.met_by(current.start_at)):
        raise booked_already(N_("Case %(case)s is already booked at %(garage)s, %(start)s, within its target: move "
                                "the booking if the caller asks for another garage."), current)


def _garage(session: Session, garage_id: str) -> Garage:
    garage = session.get(Garage, garage_id) if isinstance(garage_id, str) else None
    if garage is None:
        raise Invalid(N_("No garage %(garage)s: see GET /api/v1/garages."), words={"garage": repr(garage_id)},
                      field="garage")
    return garage


def technician_for(session: Session, case: Case, garage_id: str, technician_id: str) -> Technician:
    """The named technician, who must work at that garage and have the case's skill.

    From the shared network (scheduler/network.py): read-only, with their shifts, skills and garage already
    loaded, so checking the slot costs no query. Booking links an appointment to it by id only.
    """
    _garage(session, garage_id)
    known = network(session)
    technician = next((t for t in known.technicians.get(garage_id, ()) if t.id == technician_id), None)
    if technician is None:  # the network holds the active technicians only
        raise Invalid(N_("No technician %(technician)s works at %(garage)s."),
                      words={"technician": repr(technician_id), "garage": garage_id}, field="technician")
    if case.job_type.skill_code not in known.skills[technician.id]:
        raise RuleBroken(N_("%(technician)s has no %(skill)s skill, which this job needs."),
                         words={"technician": technician.name, "skill": case.job_type.skill_code})
    return technician


def free_technician(session: Session, case: Case, garage_id: str, start: datetime, end: datetime,
                    ignore: tuple[int, ...] = ()) -> Technician:
    """Someone at the garage with the skill who works then, free if anyone is: the caller names a time, not a person.

    When everyone who works then is busy, the first of them comes back, and booking says so.
    """
    garage = _garage(session, garage_id)
    skill = case.job_type.skill_code
    working = [t for t in sorted(garage.qualified(skill), key=lambda t: t.id) if capacity.works(t, start, end)]
    if not working:
        opens = open_from(garage, start)
        if opens > start:  # a Sunday, 03:00: the garage is shut, not short of a skill
            raise RuleBroken(N_("%(garage)s is closed then: it opens %(opens)s."), field="time",
                             words={"garage": garage.name, "opens": garage.local(opens)})
        raise RuleBroken(N_("No one with the %(skill)s skill works at %(garage)s %(start)s–%(end)s: pick another time."),
                         words={"skill": skill, "garage": garage.name, "start": garage.local(start),
                                "end": f"{garage.local(end):%H:%M}"}, field="time")
    return next((t for t in working if not capacity.busy(session, t.id, start, end, ignore)), working[0])


def job_length(case: Case, replacing: Appointment | None = None) -> timedelta:
    """How long the booking takes: its job type's length, or the longer one the booking it replaces was given
    (more time asked before the work started: a move does not take it back)."""
    length = timedelta(minutes=case.job_type.duration_minutes)
    return max(length, replacing.end_at - replacing.start_at) if replacing is not None else length


def place(session: Session, case: Case, technician: Technician, start: datetime, *, channel: str, pinned: bool,
          clash: Clash, actor: User, replacing: Appointment | None = None) -> Appointment:
    """Book, cancelling the booking it replaces, all or nothing. `clash` is what the person consented to."""
    end = start + job_length(case, replacing)
    with session.begin_nested():  # a refused insert also restores the booking it was to replace
        if replacing is not None:
            replacing.status = "cancelled"
            session.flush()
        appointment = book(session, case, technician, start, end, channel=channel, pinned=pinned,
                           overbooked=bool(clash), actor=actor)
    return appointment


def _refusal(session: Session, case: Case, technician: Technician, start: datetime, now: datetime,
             typed: bool, overbook_allowed: bool, policy: Policy | None = None, own_garage: bool = False) -> SlotTaken:
    """Say what happened: an offer someone took meanwhile, or a time the person typed that is busy. The free
    times offered instead are ones the person may book: reception books at its own garage only, so it is given
    that garage's free times around the slot, never the network's offers it would be refused."""
    hint = Phrase(N_(" Or overbook it, with a reason.")) if overbook_allowed else ""
    if typed or own_garage:
        garage = technician.garage
        around = garage_slots(session, case, garage, now, around=start)
        return SlotTaken(N_("Busy then: %(technician)s or every lift at %(garage)s is taken at %(start)s. Free times "
                            "around it are listed.%(hint)s"),
                         words={"technician": technician.name, "garage": garage.name, "start": garage.local(start),
                                "hint": hint},
                         offers=[s.offer_dict() for s in around], busy_then=True, overbook_allowed=overbook_allowed)
    fresh = case_offers(session, case, now, policy)
    refusal = SlotTaken(N_("Slot just taken: %(technician)s or every lift at %(garage)s is busy then. Here are the next "
                           "offers.%(hint)s"),
                        words={"technician": technician.name, "garage": technician.garage.name, "hint": hint},
                        offers=fresh.to_dict()["offers"], overbook_allowed=overbook_allowed)
    refusal.fresh = (case.id, fresh)
    return refusal


def still_offered(shown: CaseOffers | None, case: Case, policy: Policy) -> bool:
    """Whether offers shown earlier are still the ones to judge a booking by: found for the case's urgency as it is,
    under the rules now in force, and by the optimizer (offers the rules gave when it failed call every free slot
    offered: they would let any slot be booked without a reason). Capacity is not theirs to say: the slot is
    checked afresh either way."""
    return shown is not None and shown.degraded is None and shown.policy_id == policy.id \
        and shown.target.urgency == case.urgency


def book_for_case(session: Session, actor: User, case: Case, garage_id: str, technician_id: str, start: datetime,
                  reason: str, now: datetime, *, replaces: int | None = None, typed: bool = False,
                  overbook: bool | None = None, departure: str = "manual_slot", repeat: bool = True,
                  shown: CaseOffers | None = None) -> tuple[Appointment, bool]:
    """The operator's or reception's booking, with the P1 guard and the override it may be.

    Returns the appointment and whether it was made now: with `repeat` (a page's form), repeating the
    booking the case already has gives that one back, so a double submit never books twice; without it
    (the API's contract) that is 409 already_booked like any other. Another booking for a booked
    case is a move: it must name the booking it replaces, with a reason.

    A slot the rules or the optimizer offered needs nothing more. A slot they did not give
    (manual_slot, or `departure`: a walk-in placed by hand), an overbooking (overbook), a P1 beyond
    its target or a move (rebook) each need a reason and are logged as an override against the rule
    offer. Overbooking needs consent: the garage's own tick (`overbook`), or for the call centre a
    policy that allows it.

    `shown`: the offers this desk showed the person a moment ago (web/shown.py vouches for them), judged on
    instead of searching again while the case's urgency and the rules in force are the ones they were found under.
    """
    lock_case(session, case)
    refuse_closed(case)
    own_garage = actor.role == "reception"  # reception books at its own garage only, and is offered its free times
    if own_garage and garage_id != actor.garage_id:
        raise Forbidden(N_("Reception books at its own garage; ask the call centre for another one."))
    start = start.replace(second=0, microsecond=0)
    current = active_booking(case)
    if repeat and current is not None and replaces is None and current.garage_id == garage_id \
            and current.start_at == start and technician_id in ("", None, current.technician_id):
        return current, False  # a double submit, even once its start has passed
    if current is not None and replaces is None:  # first: a client's retry after the start is still this, not a 422
        raise AlreadyBooked(N_("Case %(case)s is already booked (%(garage)s, %(start)s): say which booking this "
                               "replaces to move it."), appointment=current.to_dict(),
                            words={"case": case.id, "garage": current.garage.name,
                                   "start": current.garage.local(current.start_at)})
    # before anyone is looked for: a day decades ahead is a typo, whoever works then
    capacity.check_window(start, now, _garage(session, garage_id).zone)
    if current is not None:
        if replaces != current.id:
            raise Conflict(N_("The case's booking is now %(current)s, not %(replaces)s: reload and try again."),
                           words={"current": current.id, "replaces": replaces},
                           appointment=current.to_dict())
        if current.status != "booked":
            raise Conflict(N_("The customer is already %(status)s: the booking cannot move."),
                           words={"status": current.status})
        if current.garage_id == garage_id and current.start_at == start \
                and technician_id in ("", None, current.technician_id):  # a move that moves nothing is no rebook
            raise AlreadyBooked(N_("Case %(case)s is already booked then (%(garage)s, %(start)s): nothing to move."),
                                appointment=current.to_dict(),
                                words={"case": case.id, "garage": current.garage.name,
                                       "start": current.garage.local(current.start_at)})
    elif replaces is not None:
        raise Conflict(N_("Case %(case)s has no active booking to replace."), words={"case": case.id})
    end = start + job_length(case, current)
    ignore = (current.id,) if current else ()
    technician = (technician_for(session, case, garage_id, technician_id) if technician_id
                  else free_technician(session, case, garage_id, start, end, ignore))
    capacity.check_slot(technician, start, end, now)
    policy = policies.in_force(session, now)
    consent = policy.allow_overbook if overbook is None else overbook
    lift = case.job_type.needs_lift
    # The chosen slot first, by the one rule of "busy": a refusal searches the network once, for its fresh offers.
    # A busy slot is refused with fresh offers (API.md: 409 slot_taken), unless overbooking is consented to and a
    # reason given; a person who ticked "overbook" (`overbook` True) and gave no reason is asked for it instead.
    allowed = consent and (bool(reason) or overbook is True)
    if not allowed and capacity.clash(session, technician, start, end, lift, ignore):
        raise _refusal(session, case, technician, start, now, typed, consent, policy, own_garage)
    # what this desk was offered (reception: its garage's free times), as shown or looked for again
    found = shown if still_offered(shown, case, policy) else desk_offers(session, actor, case, now, policy)
    # Again under the garage's lock, so the check and the write it allows are not split by another booking
    # (the first check was a read anyone could beat); the database's guard stays the last word.
    capacity.lock_garage(session, technician.garage_id)
    clash = capacity.clash(session, technician, start, end, lift, ignore)
    if clash and not allowed:
        raise _refusal(session, case, technician, start, now, typed, consent, policy, own_garage)
    misses_target = case.urgency == "P1" and not found.target.met_by(start)
    # With the optimizer failed or late, what it would offer is not known: a free slot (offered a moment ago,
    # most likely) is not called a departure from it, so no booking is refused because of the solver (DESIGN).
    offered = found.degraded is not None or found.gives(garage_id, start)
    kind = ("overbook" if clash else "rebook" if current is not None
            else departure if misses_target or not offered else None)
    if kind and not reason:
        why = (N_("the technician or the lifts are busy then") if kind == "overbook"
               else N_("it moves the case's booking") if kind == "rebook"
               else N_("it misses the P1 target (started the same working day)") if misses_target
               else N_("the rules did not offer that slot"))
        rule_garage = session.get(Garage, found.rule.garage) if found.rule else None
        said = (N_("Give a reason to book this: %(why)s. The rules offer %(rule)s at %(garage)s.") if rule_garage
                else N_("Give a reason to book this: %(why)s. The rules offer %(rule)s."))
        raise ReasonRequired(said, words={"why": Phrase(why), "garage": rule_garage.name if rule_garage else "",
                                          "rule": rule_garage.local(found.rule.start) if rule_garage
                                          else Phrase(N_("nothing"))},
                             kind=kind, rule_offer=found.rule.to_dict() if found.rule else None,
                             # the target as this slot meets it or not: the one the refusal is about
                             target={**found.to_dict()["target"], "met": found.target.met_by(start)})
    try:
        # a move keeps how the booking came (a direct-line answer moved is still the garage's yes to the case)
        appointment = place(session, case, technician, start, channel=current.channel if current else case.channel,
                            pinned=kind is not None, clash=clash, actor=actor, replacing=current)
    except SlotTaken:
        raise _refusal(session, case, technician, start, now, typed, policy.allow_overbook, policy, own_garage) \
            from None
    note_offers_shown(case, found, now)
    later = capacity.work_from(session, technician.id, start, (appointment.id,)) if clash else []
    turn = capacity.turn_order(appointment)
    knock_on = overrides.knock_on(later, start, end, turn) if clash else {}
    if kind:
        overrides.record(session, actor, case, kind, reason, found.rule, policy, now, appointment=appointment,
                         **knock_on)
    if clash:
        tell_who_waits(session, later, knock_on, now)
    overrides.settle_pending(session, case, appointment, now)
    # booked, then checked in: the timeline tells it in that order
    confirm(session, case, appointment, [current] if current else [], actor, now, reason,
            waits=overrides.own_wait(later, start, turn) if clash else 0)
    checked_in_if_here(session, case, appointment, actor, now)
    return appointment, True


def came_at(case: Case, garage: Garage) -> datetime | None:
    """When the customer reached this garage's counter: an announced drive-in's arrival there (jobs.arrived), or a
    walk-in's registration there; None when they never came."""
    arrived = [e.at for e in case.events if e.kind == "arrived" and (e.data or {}).get("garage") == garage.id]
    if arrived:
        return arrived[-1]
    return case.opened_at if case.channel == "walk_in" and case.garage_id == garage.id else None


def checked_in_if_here(session: Session, case: Case, appointment: Appointment, actor: User, now: datetime) -> None:
    """A customer already at the garage's counter (a walk-in registered there, a drive-in arrived there) and booked
    for the day they came for is checked in with the booking: left "booked", their job offered "absent" once its
    time came, and they were sent a late notice while they sat in the waiting room. That day is the garage's
    working day: today while it is open; after closing, the next day it opens (a car left at 18:30 for tomorrow
    morning has arrived)."""
    garage = appointment.garage
    if appointment.status != "booked" or working_day(garage, now) != appointment.day:
        return
    came = came_at(case, garage)
    if came is not None and working_day(garage, came) == appointment.day:  # not a visit of days ago
        appointment.status, appointment.checked_in_at = "checked_in", now
        case.log("check_in", actor, now, appointment=appointment.id, garage=garage.id, at_counter=True)


def tell_who_waits(session: Session, later: list[Appointment], knock_on: dict, now: datetime,
                   why: str = "urgent") -> None:
    """An overbooking makes the customers of the work after it wait in turn (`knock_on`, the override's figures
    from overrides.knock_on over `later`): each one still to arrive whom it delays is told how long they now wait
    in all, not only what this one adds (told 60 then 80 minutes, a customer waited 140). One who is already here
    is told at the counter."""
    for w in knock_on["moved"]:
        waiting = next((a for a in later if a.id == w["appointment"]), None)
        if waiting is not None and w["delay_minutes"] > 0 and waiting.status == "booked":
            outbox.queue(session, "delayed", waiting, now, minutes=w["wait_minutes"], why=why)


def tell_who_waits_no_more(session: Session, technician_id: str, since: datetime) -> None:
    """Work gone from a technician's day (cancelled, no-show, handed over, moved): the customers after it who were
    to be told of a wait (tell_who_waits) and, taken in turn now (capacity.waits_in_turn, as the board reads it),
    wait no more are not told it: the delay still unsent goes no more. A shorter wait stays told as it was ("up
    to 40 minutes")."""
    jobs = sorted(capacity.work_from(session, technician_id, since), key=capacity.turn_order)
    on_time = [a for a, minutes in zip(jobs, capacity.waits_in_turn(jobs), strict=True) if minutes == 0]
    outbox.supersede_unsent(session, on_time, why=outbox.NO_LONGER_LATE, kinds=("delayed",))


def note_offers_shown(case: Case, found: CaseOffers, now: datetime) -> None:
    """The timeline records what the person saw when they decided, once per change of the offers."""
    rule = found.rule_fact()
    offers = found.offers_fact()
    last = {e.kind: e.data for e in case.events if e.kind in ("rule_offer", "offers")}
    if _lasting(last.get("rule_offer")) != _lasting(rule):
        case.log("rule_offer", at=now, **rule)
    if _lasting(last.get("offers")) != _lasting(offers):
        case.log("offers", at=now, **offers)


def _lasting(fact: dict | list | None):
    """A fact without its waits: the same offers a minute later wait a minute less, and are not a change."""
    if isinstance(fact, dict):
        return {k: _lasting(v) for k, v in fact.items() if k != "wait_minutes"}
    if isinstance(fact, list):
        return [_lasting(v) for v in fact]
    return fact


def confirm(session: Session, case: Case, appointment: Appointment, earlier: list[Appointment], actor: User,
            now: datetime, reason: str = "", waits: int = 0) -> None:
    """The case is booked: its timeline says so, and so does the customer's outbox; a booking it replaces is
    told to its garage (unless that garage made the move itself). `waits`: the minutes an overbooking's customer
    waits for work begun before theirs (overrides.own_wait), which their message tells them."""
    case.garage_id, case.status = appointment.garage_id, "booked"
    for old in earlier:
        case.log("cancelled", actor, now, appointment=old.id, garage=old.garage_id, start=old.start_at.isoformat())
        if actor.garage_id != old.garage_id:
            notices.booking_moved(session, old, appointment, actor, reason, now)
        tell_who_waits_no_more(session, old.technician_id, old.start_at)
    case.log("booking", actor, now, appointment=appointment.id, garage=appointment.garage_id,
             technician=appointment.technician_id, start=appointment.start_at.isoformat(),
             overbooked=appointment.overbooked)
    if earlier:
        outbox.supersede_unsent(session, earlier)
        if outbox.tells_of_move(earlier[0].garage_id, earlier[0].start_at, appointment.garage_id, appointment.start_at):
            outbox.queue(session, "moved", appointment, now, before=earlier[0].start_at, minutes=waits)
        elif not outbox.any_sent(session, earlier):
            # another technician at the same time and place is nothing to tell one who heard of the booking; one whose
            # confirmation had not gone yet (superseded just now) would otherwise hear of none at all
            outbox.queue(session, "booked", appointment, now, minutes=waits)
    else:
        outbox.queue(session, "booked", appointment, now, minutes=waits)
    # Booked within its target, the case leaves nothing for a garage asked on the direct line to answer (one stayed
    # open at a garage that, the case now booked elsewhere, could no longer read it). Booked beyond its target, the
    # request stands: a yes replaces the booking.
    if session.scalar(select(DirectLineRequest.id).where(_asked(case)).limit(1)) is not None \
            and case_target(session, case, now).met_by(appointment.start_at):
        withdraw_asked(session, case, now)


def _asked(case: Case):
    return and_(DirectLineRequest.case_id == case.id, DirectLineRequest.status == "open")


def withdraw_asked(session: Session, case: Case, now: datetime) -> None:
    """The case's open direct-line requests, closed before their time (DirectLineRequest.withdrawn): no garage asked
    need answer any more."""
    session.execute(update(DirectLineRequest).where(_asked(case)).values(status="expired", answered_at=now))
