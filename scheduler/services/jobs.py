"""The workshop's job flow: check-in, start, finish, no-show, cancel, more time, hand over. Each is a fact.

Start and finish times are what every override's outcome is judged on: the verdict, the gain and
the knock-on are computed from them, never typed in.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Forbidden, Invalid, NotFound, RuleBroken
from scheduler.models import ACTIVE, Appointment, DriveIn, PlanPreview, Technician, User
from scheduler.services import booking, capacity, outbox, overrides, planning, squeeze
from scheduler.services.open_work import waits_on_a_garage
from scheduler.texts import N_, Phrase

ACTIONS = ("check-in", "start", "finish", "no-show", "cancel")
# Each action as a refusal says it, in the reader's language (the action's name is the API's word).
SAID = {"check-in": Phrase(N_("check in")), "start": Phrase(N_("start the work")),
        "finish": Phrase(N_("finish the work")), "no-show": Phrase(N_("mark absent")), "cancel": Phrase(N_("cancel"))}
# From which statuses each action may be taken: anything else is refused (409) and says why.
# A customer marked absent who turns up after all is checked in from no_show (`_back_after_no_show`).
ALLOWED = {"check-in": ("booked", "no_show"), "start": ("booked", "checked_in"), "finish": ("in_progress",),
           "no-show": ("booked",), "cancel": ("booked", "checked_in")}
RESULT = {"check-in": "checked_in", "start": "in_progress", "finish": "done", "no-show": "no_show",
          "cancel": "cancelled"}
# A technician's id is at most this long (scheduler/models/technician.py): a longer one names nobody.
MAX_ID = 40
# Most extra time a job can be given at once: more than a working day is a new booking.
MAX_EXTRA_MINUTES = 8 * 60


def _back_after_no_show(session: Session, appointment: Appointment, now: datetime) -> None:
    """A customer marked absent who turns up after all: checked in on the day, their job from now on (its booked
    start when still ahead) with the same technician, when that time is free (a no-show gives it to others), the
    case has not been booked again and no garage is asked about it meanwhile; otherwise they are a walk-in now."""
    garage, case = appointment.garage, appointment.case
    if garage.today(now) != appointment.day:
        raise RuleBroken(N_("This no-show was on another day: register the customer as a walk-in."))
    if booking.active_booking(case) is not None:
        raise Conflict(N_("The case has been booked again since the no-show: check in that booking."))
    if waits_on_a_garage(session, case, now):
        raise Conflict(N_("A garage is still asked about case %(case)s or expects the customer: withdraw that first."),
                       words={"case": case.id})
    # not "since the no-show": the time may have been shared already (an overbooking the customer was to wait in)
    start = max(appointment.start_at, now.replace(second=0, microsecond=0))
    end = start + (appointment.end_at - appointment.start_at)
    in_the_way = _move_to(session, appointment, start)
    if in_the_way is None:
        return
    # which time and what is in it, so reception can say it to the customer at the counter
    technician, begins, ends = appointment.technician.name, garage.local(start), f"{garage.local(end):%H:%M}"
    if in_the_way == "shift":
        raise Conflict(N_("%(technician)s is not on shift for the whole job from now (%(start)s–%(end)s): register "
                          "the customer as a walk-in to squeeze them in."),
                       words={"technician": technician, "start": begins, "end": ends})
    if in_the_way == "lifts":
        raise Conflict(N_("Every lift is taken between %(start)s and %(end)s: register the customer as a walk-in to "
                          "squeeze them in."), words={"start": begins, "end": ends})
    raise Conflict(N_("%(technician)s has other work between %(start)s and %(end)s (%(plates)s): register the customer "
                      "as a walk-in to squeeze them in."),
                   words={"technician": technician, "start": begins, "end": ends,
                          "plates": ", ".join(a.case.vehicle.plate for a in in_the_way)})


def _started_early(session: Session, appointment: Appointment, now: datetime, other_day: bool) -> datetime | None:
    """Work started before its booked time (the customer came early, the technician has room): the job moves to now
    with its technician, when they are on shift and free for all of it, so the board shows it where it is done
    and its booked time is free for others; what was not sent yet about that time no longer holds. Returns the
    start it was booked at. When they are not free: on its own day it starts where it is booked (as before, the
    technician's to fit in); a day early is refused."""
    booked_at, technician = appointment.start_at, appointment.technician
    if _move_to(session, appointment, now.replace(second=0, microsecond=0)) is None:
        outbox.supersede_unsent(session, [appointment], why=outbox.STARTED)
        booking.tell_who_waits_no_more(session, technician.id, booked_at)
        return booked_at
    if other_day:
        raise RuleBroken(N_("This appointment is on %(day)s and %(technician)s is not on shift and free for it now: "
                            "start it on its day, or hand it to a colleague who is."),
                         words={"day": appointment.day, "technician": technician.name})
    return None


def may_check_in_ahead(appointment: Appointment, now: datetime) -> bool:
    """A car left ahead of its day: the evening before, or before a closed day (Saturday for Monday), no earlier.
    A car checked in no longer moves with a re-plan, so a slip of days ahead would freeze its booking."""
    garage = appointment.garage
    return appointment.day == planning.next_open_day(garage, garage.today(now))


def _in_the_way(session: Session, appointment: Appointment, start: datetime, end: datetime
                ) -> str | list[Appointment] | None:
    """What keeps the job, whole and with its technician, from [start, end): "shift" (they do not work all of
    it), the technician's other work (a job of theirs running late included), "lifts"; None when nothing does."""
    capacity.lock_garage(session, appointment.garage_id)
    if not capacity.works(appointment.technician, start, end):
        return "shift"
    clash = capacity.clash(session, appointment.technician, start, end, appointment.lift, (appointment.id,))
    late = [a for a in running_beside(session, appointment) if running_end(a) > start]
    if clash.busy or late:
        return sorted({*clash.busy, *late}, key=lambda a: a.start_at)
    return "lifts" if clash.lifts_full else None


def _move_to(session: Session, appointment: Appointment, start: datetime) -> str | list[Appointment] | None:
    """The job, whole and with its technician, from `start` on, when nothing is in the way (None); otherwise what
    is (`_in_the_way`), and nothing moved."""
    end = start + (appointment.end_at - appointment.start_at)
    if (in_the_way := _in_the_way(session, appointment, start, end)) is not None:
        return in_the_way
    appointment.start_at, appointment.end_at = start, end
    # moved into free time, it overbooks nobody any more
    appointment.overbooked = False
    return None


def get_appointment(session: Session, actor: User, appointment_id: int) -> Appointment:
    appointment = session.get(Appointment, appointment_id)
    if appointment is None:
        raise NotFound(N_("No appointment %(id)s."), words={"id": appointment_id})
    if not actor.can_see_garage(appointment.garage_id):
        raise Forbidden(N_("This appointment belongs to another garage."))
    return appointment


def _check_actor(actor: User, appointment: Appointment) -> None:
    if actor.role not in ("reception", "workshop") or actor.garage_id != appointment.garage_id:
        raise Forbidden(N_("Only the garage's reception and workshop act on its appointments."))


def act(session: Session, actor: User, appointment: Appointment, action: str, now: datetime, *,
        note: str = "", reason: str = "") -> Appointment:
    """Take one step of the job flow, from the status that allows it."""
    if action not in ACTIONS:
        raise NotFound(N_("No action %(action)s: use one of %(actions)s."),
                       words={"action": repr(action), "actions": ", ".join(ACTIONS)})
    _check_actor(actor, appointment)
    booking.lock_case(session, appointment.case)
    session.refresh(appointment)  # a colleague may have acted on it meanwhile
    if appointment.status not in ALLOWED[action]:
        raise Conflict(N_("This appointment is %(status)s: “%(action)s” is not possible from there."),
                       words={"status": appointment.status, "action": SAID[action]},
                       status=appointment.status)
    # the day and the hour are rules of the job flow (422); a status someone else changed is a conflict (409)
    # before its day: a car left the evening before is checked in and keeps its time; work begun is moved to now
    early = appointment.garage.today(now) < appointment.day
    if action == "check-in" and early and not may_check_in_ahead(appointment, now):
        raise RuleBroken(N_("This appointment is on %(day)s: a car is checked in ahead on the day before at the "
                            "earliest."), words={"day": appointment.day})
    if action in ("check-in", "start") and appointment.status != "no_show":
        _refuse_past_day(appointment, now)
    if action == "start" and (away := capacity.absence_at(appointment.technician, now)) is not None:
        # off sick since ten: the job would be started in their name and its overtime warned of
        raise Conflict(N_("%(technician)s is absent now (%(reason)s): give the job to a colleague first."),
                       words={"technician": appointment.technician.name, "reason": away.reason},
                       technician=appointment.technician_id)
    if action == "no-show" and now < appointment.start_at:
        # the board offers it from the start only; the API said yes hours ahead and freed the time
        raise RuleBroken(N_("The customer is due at %(time)s: mark them absent once that time has passed."),
                       words={"time": appointment.garage.local(appointment.start_at)})
    case = appointment.case
    late = appointment.status == "no_show"
    data = {"appointment": appointment.id, "garage": appointment.garage_id}
    if late:
        _back_after_no_show(session, appointment, now)
    elif action == "start" and now.replace(second=0, microsecond=0) < appointment.start_at:
        if (booked_at := _started_early(session, appointment, now, other_day=early)) is not None:
            data["booked_for"] = booked_at.isoformat()
    elif early and action == "check-in":
        data["booked_for"] = appointment.start_at.isoformat()
    appointment.status = RESULT[action]
    if action == "check-in":
        appointment.checked_in_at = now
        if late:
            case.status, data["after_no_show"] = "booked", True
    elif action == "start":
        appointment.started_at = now
        # the car is in the workshop: it has arrived, whether or not reception checked it in first
        appointment.checked_in_at = appointment.checked_in_at or now
        case.status = "in_progress"
    elif action == "finish":
        appointment.finished_at = now
        if note:
            appointment.note = note
            data["note"] = note
        case.status = "done"
    elif action in ("no-show", "cancel"):
        case.status = "open" if case.urgency in ("P1", "P2") else "cancelled"
        if reason:
            data["reason"] = reason
        if action == "cancel":
            # what was not sent yet about it (its confirmation, a move) is no longer true: the customer hears it is
            # cancelled, not "moved to 15:15" and "cancelled" side by side
            told = not outbox.never_told(session, appointment)
            outbox.supersede_unsent(session, [appointment], why=outbox.CANCELLED)
            if told:
                outbox.queue(session, "cancelled", appointment, now)
    if action in ("finish", "no-show", "cancel"):
        session.flush()  # its time is free (done early, or never to be done): the work after it may wait no more
        booking.tell_who_waits_no_more(session, appointment.technician_id, appointment.start_at)
    case.log(action.replace("-", "_"), actor, now, **data)
    if action in ("start", "finish"):
        overrides.settle_outcome(session, appointment, now)
    session.flush()
    return appointment


def running_end(appointment: Appointment) -> datetime:
    """When the work will end as it runs: a job started late ends its length after it started, not at its booked
    end (started at 10:10, an 08:00-08:45 job ends at 10:55). Once "more time" was given, its end already holds
    the late start (counting it again added it each time)."""
    if appointment.started_at is None:  # the case's events are read only for work under way (a board has dozens)
        return appointment.end_at
    if any(e.kind == "more_time" and e.data.get("appointment") == appointment.id for e in appointment.case.events):
        return appointment.end_at
    return capacity.as_it_runs(appointment.start_at, appointment.end_at, appointment.started_at)[1]


def left_of(appointment: Appointment, now: datetime) -> tuple[datetime, datetime]:
    """What is left of a job from now: the whole of it before it starts; from now to when it will end (a minute at
    least, for a job running past its end) once under way."""
    begin = max(appointment.start_at, now.replace(second=0, microsecond=0))
    return begin, max(running_end(appointment), begin + timedelta(minutes=1))


def _cannot_take(technician: Technician, appointment: Appointment, now: datetime, day_shifts: list | None = None
                 ) -> str | None:
    """The rule of who may take a job over, as a code (None: they may): another active technician of its garage,
    with its skill, on shift for what is left of it. Whether they are free then is `hand_over`'s question, asked of
    the database. A board asks it of every colleague for every job: no refusal is worded for that."""
    if not technician.active or technician.garage_id != appointment.garage_id:
        return "elsewhere"
    if technician.id == appointment.technician_id:
        return "same"
    if appointment.skill_code not in technician.skill_codes:
        return "skill"
    if not capacity.works(technician, *left_of(appointment, now), day_shifts):
        return "shift"
    return None


def why_not_take(technician: Technician, appointment: Appointment, now: datetime):
    """Why this colleague may not take the job over, as the refusal to raise (None: they may)."""
    code = _cannot_take(technician, appointment, now)
    garage, name = appointment.garage, technician.name
    if code == "elsewhere":  # the id as it was sent: another garage's staff are not this garage's to name
        return Invalid(N_("No technician %(technician)s works at %(garage)s."), field="technician",
                       words={"technician": repr(technician.id), "garage": garage.name})
    if code == "same":
        return Invalid(N_("%(technician)s already has this job."), words={"technician": name}, field="technician")
    if code == "skill":
        return RuleBroken(N_("%(technician)s has no %(skill)s skill, which this job needs."), field="technician",
                          words={"technician": name, "skill": appointment.skill_code})
    if code == "shift":
        begin, finish = left_of(appointment, now)
        return RuleBroken(N_("%(technician)s is not on shift %(start)s–%(end)s: pick a colleague who is."),
                          field="technician", words={"technician": name, "start": garage.local(begin),
                                                     "end": f"{garage.local(finish):%H:%M}"})
    return None


def can_take(technician: Technician, appointment: Appointment, now: datetime, day_shifts: list | None = None) -> bool:
    """Whether the colleague may take the job over (`day_shifts`: their shifts on the day of what is left of it,
    when the caller has them)."""
    return _cannot_take(technician, appointment, now, day_shifts) is None


def taking(session: Session, technician: Technician, appointment: Appointment, now: datetime,
           among: list[Appointment] | None = None) -> list[Appointment]:
    """The colleague's other work over the job, from its start to when it will end as it runs (`among`: a board's
    day of work, read instead of the database)."""
    return capacity.busy(session, technician.id, appointment.start_at, left_of(appointment, now)[1],
                         (appointment.id,), among)


def free_to_take(session: Session, appointment: Appointment, now: datetime) -> list[Technician]:
    """The colleagues who may take the job and have no other work then, by name."""
    return [t for t in sorted(appointment.garage.technicians, key=lambda t: t.name)
            if can_take(t, appointment, now) and not taking(session, t, appointment, now)]


def _refuse_past_day(appointment: Appointment, now: datetime) -> None:
    # started days late, a 45-minute job ran from Saturday to Monday: 48 hours on today's board, a lift taken
    # since midnight, and "more time" counted from Saturday
    if appointment.garage.today(now) > appointment.day:
        raise RuleBroken(N_("This appointment was on %(day)s, not today: mark the customer absent or cancel it, and "
                          "book today's work as a walk-in."), words={"day": appointment.day})


def hand_over(session: Session, actor: User, appointment: Appointment, technician_id: object, now: datetime
              ) -> Appointment:
    """A colleague takes the job over: its technician went home sick, or is held up by a job that overran.

    Same garage, same time, so the customer sees no change and is not told; work already started stays started
    (its start is a fact), even from an earlier day (a job that ran overnight). The colleague must be on shift
    for what is left of it and free until it will end (the database's guard has the last word); a consented
    overbooking the colleague takes without a clash is one no more. The case's timeline says who took it over.
    """
    _check_actor(actor, appointment)
    if not isinstance(technician_id, str) or not technician_id:
        raise Invalid(N_("Name the technician who takes the job over."), field="technician")
    booking.lock_case(session, appointment.case)
    session.refresh(appointment)
    if appointment.status not in ACTIVE:
        raise Conflict(N_("This appointment is %(status)s: there is no job to hand over."),
                       words={"status": appointment.status}, status=appointment.status)
    if appointment.status != "in_progress":
        _refuse_past_day(appointment, now)
    garage = appointment.garage
    capacity.lock_garage(session, garage.id)
    taker = session.get(Technician, technician_id) if len(technician_id) <= MAX_ID else None
    if taker is None:
        raise Invalid(N_("No technician %(technician)s works at %(garage)s."), field="technician",
                      words={"technician": repr(technician_id[:MAX_ID]), "garage": garage.name},
                      free=[t.id for t in free_to_take(session, appointment, now)])
    refused = why_not_take(taker, appointment, now)
    if refused is not None:
        refused.details["free"] = [t.id for t in free_to_take(session, appointment, now)]
        raise refused
    other = taking(session, taker, appointment, now)
    if other:
        free = free_to_take(session, appointment, now)
        said = (N_("%(technician)s has other work then (%(plates)s). Free then: %(free)s.") if free else
                N_("%(technician)s has other work then (%(plates)s), and no colleague who can do it is free."))
        raise Conflict(said, free=[t.id for t in free],
                       words={"technician": taker.name, "plates": ", ".join(a.case.vehicle.plate for a in other),
                              "free": ", ".join(t.name for t in free)})
    before = appointment.technician_id
    try:
        with session.begin_nested():
            appointment.technician = taker
            if appointment.overbooked and not capacity.clash(session, taker, appointment.start_at,
                                                             appointment.end_at, appointment.lift,
                                                             (appointment.id,)):
                appointment.overbooked = False  # the overlap it was consented for stays with the one sent home
            session.flush()
    except IntegrityError as exc:
        if capacity.refused_by_guard(exc):
            raise Conflict(N_("%(technician)s has other work then: pick a colleague who is free."),
                           words={"technician": taker.name}) from None
        raise
    appointment.case.log("handed_over", actor, now, appointment=appointment.id, garage=garage.id,
                         technician=taker.id, technician_before=before)
    for technician in (before, taker.id):  # the work it leaves, and itself where it now waits for no one
        booking.tell_who_waits_no_more(session, technician, appointment.start_at)
    for stale in replans_for_more_time(session, appointment):
        # its longer time no longer runs into the work of the one it was taken from (the colleague is free then)
        stale.status, stale.decided_at = "superseded", now
    session.flush()
    return appointment


def replans_for_more_time(session: Session, appointment: Appointment) -> list[PlanPreview]:
    """The re-plans still open of the work this job's "more time" ran into."""
    return [p for p in session.scalars(select(PlanPreview).where(
        PlanPreview.garage_id == appointment.garage_id, PlanPreview.kind == "replan", PlanPreview.status == "open"))
        if (p.plan.get("cause") or {}).get("kind") == "more_time"
        and p.plan["cause"].get("appointment") == appointment.id]


def running_beside(session: Session, appointment: Appointment) -> list[Appointment]:
    """The technician's other jobs under way: starting a second car is allowed (waiting for a part, a test
    drive), but the person who does it is told, since one of the two is then late or idle."""
    return list(session.scalars(select(Appointment).where(
        Appointment.technician_id == appointment.technician_id, Appointment.status == "in_progress",
        Appointment.id != appointment.id).order_by(Appointment.started_at)))


def more_time(session: Session, actor: User, appointment: Appointment, minutes: object, now: datetime
              ) -> tuple[Appointment, PlanPreview | None, list[Appointment]]:
    """The job needs longer: extend it, and when that runs into later work, preview a re-plan of that work.

    Running into a colleague's next job is the workshop's explicit decision, so the extended job is
    flagged overbooked until the re-plan moves the later work away. Also returned: the later work that
    no re-plan may move (checked in, started, due already) and so waits for this job to end.
    """
    _check_actor(actor, appointment)
    if not isinstance(minutes, int) or isinstance(minutes, bool) or not 0 < minutes <= MAX_EXTRA_MINUTES:
        raise Invalid(N_("minutes must be a whole number from 1 to %(most)s."), words={"most": MAX_EXTRA_MINUTES},
                      field="minutes")
    if appointment.status not in ACTIVE:
        raise Conflict(N_("This appointment is %(status)s: it cannot take more time."),
                       words={"status": appointment.status})
    booking.lock_case(session, appointment.case)
    capacity.lock_garage(session, appointment.garage_id)
    # from when the work will end as it runs (given 2 h more, a job started late ended before its own length)
    old_end = appointment.end_at
    asked = minutes
    new_end = running_end(appointment) + timedelta(minutes=minutes)
    minutes = int((new_end - old_end).total_seconds() // 60)  # what its end moved: a late start's too
    clash = capacity.clash(session, appointment.technician, old_end, new_end, appointment.lift, (appointment.id,))
    appointment.end_at = new_end
    appointment.overbooked = appointment.overbooked or bool(clash)
    appointment.case.log("more_time", actor, now, appointment=appointment.id, garage=appointment.garage_id,
                         minutes=minutes, asked=asked, end=new_end.isoformat())
    session.flush()
    later, held = split_by_movable(clash.busy, now)
    # A re-plan still open for this job's earlier extension is out of date, even when these minutes run into
    # nothing new: this one replaces it at reception, and takes over the work it was to re-place and the
    # minutes it was for.
    earlier = replans_for_more_time(session, appointment)
    total = minutes
    for p in earlier:
        p.status, p.decided_at = "superseded", now
        total += p.plan["cause"].get("minutes", 0)
        known = {a.id for a in later}
        taken = session.scalars(select(Appointment).where(Appointment.id.in_(p.plan.get("replaced", []))))
        later += [a for a in taken if a.id not in known and a.status == "booked" and a.start_at >= now]
    preview = None
    if later:
        preview = squeeze.preview_replan(session, actor, appointment.garage, later, now,
                                         cause={"kind": "more_time", "appointment": appointment.id, "minutes": total})
    elif not earlier:  # no re-plan to decide first: whoever now waits longer in turn behind it is told at once
        squeeze.tell_who_waits_for(session, appointment, now, ended_before=old_end)
    return appointment, preview, held


def split_by_movable(busy: list[Appointment], now: datetime) -> tuple[list[Appointment], list[Appointment]]:
    """The work a longer job runs into: what a re-plan may move (booked, still to come), and what waits for it
    whatever happens (checked in, started, due already), soonest first."""
    later = [a for a in busy if a.status == "booked" and a.start_at >= now]
    return later, sorted((a for a in busy if a not in later), key=lambda a: a.start_at)


def held_behind(session: Session, longer: Appointment | None, now: datetime) -> list[Appointment]:
    """The customers already here whose work the longer job runs into: no re-plan moves them, they wait for it."""
    if longer is None or not longer.active:
        return []
    clash = capacity.clash(session, longer.technician, longer.start_at, longer.end_at, longer.lift, (longer.id,))
    return split_by_movable(clash.busy, now)[1]


def past_shift(appointment: Appointment) -> datetime | None:
    """When the technician's shift ends, if the job (given more time) now runs past it: overtime to agree on."""
    start, end = appointment.start_at, appointment.end_at
    technician = appointment.technician
    for s, e in capacity.shifts(technician, appointment.garage.today(start)):
        if s <= start < e:
            return e if end > e else None
    return None


def arrived(session: Session, actor: User, drive_in_id: int, now: datetime) -> DriveIn:
    """An announced drive-in is at the counter: it becomes a walk-in here, ready to squeeze in."""
    drive_in = session.get(DriveIn, drive_in_id)
    if drive_in is None:
        raise NotFound(N_("No drive-in %(id)s."), words={"id": drive_in_id})
    if actor.role not in ("reception", "workshop") or actor.garage_id != drive_in.garage_id:
        raise Forbidden(N_("Only the expected garage marks a drive-in arrived."))
    if drive_in.status != "expected":
        raise Conflict(N_("This drive-in is already %(status)s."), words={"status": drive_in.status})
    drive_in.status = "arrived"
    case = drive_in.case
    case.channel, case.garage_id = "walk_in", drive_in.garage_id
    case.log("arrived", actor, now, garage=drive_in.garage_id, drive_in=drive_in.id)
    session.flush()
    return drive_in
