"""Capacity: is this technician busy, is a lift free, is this slot allowed. One definition, every path.

Offers, booking, the direct line, squeeze-ins, manual slots and admin changes all ask here; the database
guard (scheduler/models/appointment.py) enforces the same rule as the last word. Every active appointment
takes its technician's time and, when it needs one, a lift, overbooked ones included: an overbooking is a
person's consent to one overlap, not a hole in the plan.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import RuleBroken, TooFarAhead
from scheduler.models import ACTIVE, Appointment, Garage, Technician
from scheduler.models.appointment import LIFTS_FULL, TECHNICIAN_BUSY
from scheduler.texts import N_

# How far in the past a start may be: "now" typed a minute ago is still now.
GRACE = timedelta(minutes=15)
# How far ahead anyone may book, whoever decides. The rules offer within the policy's horizon (horizon_days, 28 by
# default); a person may book beyond it (an override, with a reason), but a start past this is a slip of the
# keyboard (2099 for 2026), not a booking. One rule for every path: booking, moves, the direct line's answer.
BOOKING_WINDOW = timedelta(days=365)


@dataclass
class Clash:
    """What stands in the way of [start, end) for one technician: their other work, the garage's lifts."""

    busy: list[Appointment] = field(default_factory=list)
    lifts_full: bool = False

    def __bool__(self) -> bool:
        return bool(self.busy) or self.lifts_full


def busy(session: Session, technician_id: str, start: datetime, end: datetime,
         ignore: Collection[int] = (), among: Collection[Appointment] | None = None) -> list[Appointment]:
    """The technician's active work holding them over [start, end) (half-open: back to back is not overlap): as
    booked, or as it runs once under way (as_it_runs).

    `among`: work already loaded that holds all of theirs over [start, end) (a board's day), read instead of the
    database, by the same rule."""
    if among is not None:
        return sorted((a for a in among if a.technician_id == technician_id and a.status in ACTIVE
                       and _holds(a, start, end) and a.id not in ignore), key=lambda a: a.start_at)
    query = select(Appointment).where(
        Appointment.technician_id == technician_id, Appointment.status.in_(ACTIVE),
        or_(and_(Appointment.start_at < end, Appointment.end_at > start),
            # work under way holds its technician as it runs, wherever it was booked (as_it_runs)
            and_(Appointment.status == "in_progress", Appointment.started_at < end)))
    if ignore:
        query = query.where(Appointment.id.not_in(list(ignore)))
    return [a for a in session.scalars(query.order_by(Appointment.start_at)) if _holds(a, start, end)]


def _holds(job, start: datetime, end: datetime) -> bool:
    first, last = as_it_runs(job.start_at, job.end_at, getattr(job, "started_at", None))
    return first < end and last > start


def as_it_runs(start: datetime, end: datetime, started: datetime | None) -> tuple[datetime, datetime]:
    """The time a job holds its technician: as booked; once under way, from its booked start or when it began,
    whichever is first, to its booked end or its length after it began, whichever is last (begun at 13:05, a job
    booked 15:00-15:45 holds 13:05-15:45, and one booked 10:30-11:30 holds 10:30-14:05). The one reading of "is
    work under way in the way": of a booking's check (busy) and of the offers (the planning snapshot)."""
    if started is None:
        return start, end
    return min(start, started), max(end, started + (end - start))


def turn_order(job) -> tuple:
    """The order a technician takes their jobs in: by start, work already begun first at the same start (it is not
    left half done), then the more urgent (an urgent car overbooked onto a routine one goes first), then the one
    booked first."""
    return job.start_at, getattr(job, "started_at", None) is None, job.case.urgency, job.id


def _in_turn(jobs: list, free: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """When each job begins and ends when a technician takes `jobs` one after another in this order, each at its
    time or when the one before is done, whichever is later (from `free` on, when given: busy until then)."""
    for job in jobs:
        begins = job.start_at if free is None else max(job.start_at, free)
        free = begins + (job.end_at - job.start_at)
        yield begins, free


def waits_in_turn(jobs: list, free: datetime | None = None) -> list[int]:
    """How long each job's customer waits when a technician takes `jobs` in turn (`_in_turn`). Minutes, in the
    order given. The one reading of "how long does an overbooking make people wait": the board's and the knock-on
    an override records."""
    return [int((begins - job.start_at).total_seconds() // 60)
            for job, (begins, _end) in zip(jobs, _in_turn(jobs, free), strict=True)]


def done_in_turn(jobs: list, free: datetime | None = None) -> datetime | None:
    """When the technician is done with `jobs` taken in turn (`_in_turn`); `free` when there are none."""
    done = free
    for _begins, done in _in_turn(jobs, free):  # the last end is the answer
        pass
    return done


def work_from(session: Session, technician_id: str, start: datetime, ignore: Collection[int] = ()) -> list[Appointment]:
    """The technician's active work from a day before `start` to a day after: what an overbooking at `start` can
    push back in turn, and the work taken before it and still running then, which it waits for."""
    # from a day before: work booked to end before `start` may still run past it, pushed back by an earlier
    # overbooking (taken in turn, as the board does, it is what the new job waits for)
    return busy(session, technician_id, start - timedelta(days=1), start + timedelta(days=1), ignore)


def _lift_work(garage_id: str, start: datetime, end: datetime | None = None) -> list:
    """Where the garage's lift work in use over [start, end) (to the end of time without `end`) is read: the one
    reading of "this job holds a lift" (active, on a lift)."""
    where = [Appointment.garage_id == garage_id, Appointment.lift.is_(True), Appointment.status.in_(ACTIVE),
             Appointment.end_at > start]
    return where + ([Appointment.start_at < end] if end is not None else [])


def lift_peak(session: Session, garage_id: str, start: datetime, end: datetime,
              ignore: Collection[int] = ()) -> int:
    """The most lift jobs in use at once at the garage during [start, end)."""
    query = select(Appointment.start_at, Appointment.end_at).where(*_lift_work(garage_id, start, end))
    if ignore:
        query = query.where(Appointment.id.not_in(list(ignore)))
    spans = session.execute(query).all()
    edges = sorted([(max(a, start), 1) for a, _ in spans] + [(min(b, end), -1) for _, b in spans])
    in_use = peak = 0
    for _, step in edges:  # ends sort before starts at the same instant: back to back is not overlap
        in_use += step
        peak = max(peak, in_use)
    return peak


def beyond_lifts(session: Session, garage: Garage, now: datetime) -> set[int]:
    """The garage's lift work from now on that finds no lift: wherever more lift jobs overlap than it has
    lifts, the ones that start last (the first ones booked there hold the lifts). Back to back is no overlap.
    A consented overbooking is an extra the garage agreed to: it neither counts against the lifts nor is listed
    (counted, it pushed ordinary bookings after it onto the list of work to re-plan)."""
    holding: list[Appointment] = []
    over: set[int] = set()
    for a in session.scalars(select(Appointment).where(*_lift_work(garage.id, now), Appointment.overbooked.is_(False))
                             .order_by(Appointment.start_at, Appointment.id)):
        holding = [h for h in holding if h.end_at > a.start_at]
        if len(holding) >= garage.lifts:
            over.add(a.id)
        else:
            holding.append(a)
    return over


def clash(session: Session, technician: Technician, start: datetime, end: datetime, lift: bool,
          ignore: Collection[int] = ()) -> Clash:
    """Everything that would make [start, end) on this technician an overbooking."""
    garage = technician.garage
    return Clash(busy=busy(session, technician.id, start, end, ignore),
                 lifts_full=lift and lift_peak(session, garage.id, start, end, ignore) >= garage.lifts)


def shifts(technician: Technician, day: date) -> list[tuple[datetime, datetime]]:
    """The technician's working spans on a local day, as aware datetimes: the one definition of "on shift".

    Their weekly pattern, within the garage's opening hours (lunch closure out; a garage with no hours on
    record is open), none on the garage's closed days, absences (whole days or part of one) cut out.
    Offers, booking, squeeze-ins, re-plans, boards and the admin's "what does this hit" all read this.
    """
    garage = technician.garage
    if any(c.day == day for c in garage.closed_days):
        return []
    zone = garage.zone
    spans = [(datetime.combine(day, p.starts, zone), datetime.combine(day, p.ends, zone))
             for p in technician.shift_patterns if p.weekday == day.weekday()]
    if garage.opening_hours:
        open_spans = [(datetime.combine(day, a, zone), datetime.combine(day, b, zone))
                      for h in garage.opening_hours if h.weekday == day.weekday() for a, b in h.spans()]
        spans = [(max(s, a), min(e, b)) for s, e in spans for a, b in open_spans if max(s, a) < min(e, b)]
    for absence in technician.absences:
        if absence.first_day <= day <= absence.last_day:
            spans = _without(spans, absence.span(zone))
    return sorted(spans)


def _without(spans: list[tuple[datetime, datetime]], gap: tuple[datetime, datetime]) -> list[tuple[datetime, datetime]]:
    out = []
    for s, e in spans:
        if gap[0] > s:
            out.append((s, min(e, gap[0])))
        if gap[1] < e:
            out.append((max(s, gap[1]), e))
    return [(s, e) for s, e in out if s < e]


def absence_at(technician: Technician, start: datetime, end: datetime | None = None):
    """The technician's absence covering the moment `start` (sick since ten, on leave this week), or with `end`
    the whole of [start, end) (time off entered twice), if any."""
    zone = technician.garage.zone
    for absence in technician.absences:
        first, last = absence.span(zone)
        if first <= start < last and (end is None or end <= last):
            return absence
    return None


def works(technician: Technician, start: datetime, end: datetime,
          day_shifts: list[tuple[datetime, datetime]] | None = None) -> bool:
    """Whether [start, end) lies within one of the technician's shifts that day (`day_shifts`: that day's
    `shifts`, when the caller has them already: a board asks for each of its jobs)."""
    spans = day_shifts if day_shifts is not None else shifts(technician, technician.garage.today(start))
    return any(s <= start and end <= e for s, e in spans)


def check_window(start: datetime, now: datetime, zone) -> None:
    """A start is bookable when it is neither past nor beyond BOOKING_WINDOW; `zone` is the garage's, to say it in."""
    if start < now - GRACE:
        raise RuleBroken(N_("That start is in the past: pick a time from now on."), field="start")
    latest = now + BOOKING_WINDOW
    if start > latest:
        raise TooFarAhead(N_("%(start)s is too far ahead: bookings are taken at most %(days)s days ahead (until "
                             "%(latest)s). Check the day."), field="start",
                          words={"start": start.astimezone(zone), "days": BOOKING_WINDOW.days,
                                 "latest": latest.astimezone(zone).date()},
                          latest_start=latest.isoformat())


def check_slot(technician: Technician, start: datetime, end: datetime, now: datetime) -> None:
    """A slot is allowed when it is within the booking window and inside one of the technician's shifts."""
    check_window(start, now, technician.garage.zone)
    if not works(technician, start, end):
        local = technician.garage.local(start)
        raise RuleBroken(N_("%(technician)s does not work %(start)s–%(end)s (outside their shift): pick another time "
                            "or technician."), field="start",
                         words={"technician": technician.name, "start": local,
                                "end": f"{technician.garage.local(end):%H:%M}"})


def lock_garage(session: Session, garage_id: str) -> None:
    """Take the garage's writes in turn, so a check and the write it allows are not split by another booking.

    PostgreSQL: the same transaction-level lock the database guard takes. SQLite runs one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": f"frontline.garage:{garage_id}"})


def refused_by_guard(exc: IntegrityError) -> bool:
    """Whether the database refused a write because of capacity (technician busy or lifts full)."""
    constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
    return constraint in (TECHNICIAN_BUSY, LIFTS_FULL) or any(name in str(exc.orig)
                                                               for name in (TECHNICIAN_BUSY, LIFTS_FULL))

