"""What the front line looks at: a garage's day, the network's load, the latest cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import cached_property

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import ACTIVE, Appointment, Case, Garage, Technician
from scheduler.services import capacity, jobs

# Booked but not checked in this long after its start: reception should chase it.
LATE_AFTER = timedelta(minutes=15)


def _minutes(start: datetime, end: datetime) -> int:
    """Whole minutes from start to end as a clock runs: two times of one zone subtract as wall-clock times in
    Python, and a night shift 00:30-06:00 on the day the clocks go forward counted 330 minutes, not 270."""
    return int((end.astimezone(timezone.utc) - start.astimezone(timezone.utc)).total_seconds() // 60)


# The work a day's load counts: booked, under way or done (a finished job took its time); not cancelled or no-show.
HOLDS_TIME = (*ACTIVE, "done")

@dataclass
class Overlap:
    """Two jobs on one technician at once (an overbooking people chose): the later one's customer waits."""

    first: Appointment
    later: Appointment
    minutes: int
    # the end of the technician's shift the later job, so delayed, no longer ends within (None: it still does):
    # it cannot be done as booked, and needs a colleague, another day or a call to its customer
    past_shift: datetime | None = None

    @property
    def ends(self) -> datetime:
        """When the later job, so delayed, ends."""
        return self.later.end_at + timedelta(minutes=self.minutes)


@dataclass
class TechnicianDay:
    technician: Technician
    shifts: list[tuple[datetime, datetime]]
    appointments: list[Appointment] = field(default_factory=list)
    # False for one deactivated or moved to another garage since, on the board for the work they leave there
    here: bool = True

    @property
    def active(self) -> list[Appointment]:
        return [a for a in self.appointments if a.active]

    @property
    def shift_minutes(self) -> int:
        return sum(_minutes(s, e) for s, e in self.shifts)

    @property
    def booked_minutes(self) -> int:
        """The day's booked work, done work included: a finished job took its time (it used to drop out of the
        load, so a full day read 15 % booked by evening). Cancelled and no-show work took none."""
        return sum(_minutes(a.start_at, a.end_at) for a in self.appointments
                   if a.status in HOLDS_TIME)

    def free_minutes_after(self, moment: datetime) -> int:
        """Shift time after `moment` that no active job takes."""
        free = 0
        for s, e in self.shifts:
            s = max(s, moment)
            if s >= e:
                continue
            taken = sum(max(0, _minutes(max(s, a.start_at), min(e, a.end_at))) for a in self.active)
            free += max(0, _minutes(s, e) - taken)
        return free

    @property
    def overlaps(self) -> list[Overlap]:
        """Each job that waits, with the one it waits for: the technician takes the jobs in turn
        (capacity.turn_order), each when the one before is done (capacity.waits_in_turn): a job pushed back pushes
        the next one too, and a short job inside a long one waits to its end."""
        jobs = sorted(self.active, key=capacity.turn_order)
        # a job already started waits for nothing any more (the banner still said its customer waited 50 min)
        return [Overlap(jobs[i - 1], job, minutes, self._past_shift(job, minutes))
                for i, (job, minutes) in enumerate(zip(jobs, capacity.waits_in_turn(jobs), strict=True))
                if minutes and job.started_at is None]

    def _past_shift(self, job: Appointment, wait: int) -> datetime | None:
        """The end of the stretch of work the job was booked in (shifts that touch are one: 08:00-12:00 then
        12:00-17:00 is no break), when waiting `wait` minutes makes it end after it."""
        shift_end = None
        for s, e in sorted(self.shifts):
            if shift_end is not None and s <= shift_end:
                shift_end = max(shift_end, e)
            elif s <= job.start_at < e:
                shift_end = e
            elif shift_end is not None:
                break
        return shift_end if shift_end is not None and job.end_at + timedelta(minutes=wait) > shift_end else None

    def off_shift(self, appointment: Appointment) -> bool:
        """Work booked outside the technician's shifts (an absence or a shorter shift came after it)."""
        return not any(s <= appointment.start_at and appointment.end_at <= e for s, e in self.shifts)


@dataclass
class GarageDay:
    garage: Garage
    day: date
    rows: list[TechnicianDay]
    now: datetime | None = None

    @cached_property
    def overlaps(self) -> list[Overlap]:
        """Every technician's jobs that wait behind the work before them (`TechnicianDay.overlaps`), read once: the
        page's banner, its timeline and the API's jobs all read them."""
        return [o for row in self.rows for o in row.overlaps]

    @property
    def waits(self) -> dict[int, int]:
        """Each job's wait behind the work before it, in minutes."""
        return {o.later.id: o.minutes for o in self.overlaps}

    @property
    def load(self) -> float:
        """Booked minutes over shift minutes of the day."""
        capacity = sum(r.shift_minutes for r in self.rows)
        return sum(r.booked_minutes for r in self.rows) / capacity if capacity else 0.0

    @property
    def booked_minutes(self) -> int:
        return sum(r.booked_minutes for r in self.rows)

    @property
    def shift_minutes(self) -> int:
        return sum(r.shift_minutes for r in self.rows)

    @property
    def free_minutes_left(self) -> int:
        """Unbooked shift time from now on (all of it on a later day; none on an earlier one)."""
        return sum(r.free_minutes_after(self.now) for r in self.rows) if self.now else 0

    @property
    def appointments(self) -> list[Appointment]:
        return sorted((a for r in self.rows for a in r.appointments), key=lambda a: (a.start_at, a.technician_id))

    @property
    def span(self) -> tuple[datetime, datetime]:
        """The hours the timeline shows: the garage's opening hours, widened to every shift and job of the day."""
        start, end = self.garage.day_bounds(self.day)
        hours = [h for h in self.garage.opening_hours if h.weekday == self.day.weekday()]
        zone = self.garage.zone
        edges = [(datetime.combine(self.day, h.opens, zone), datetime.combine(self.day, h.closes, zone)) for h in hours]
        edges += [span for r in self.rows for span in r.shifts]
        edges += [(a.start_at, a.end_at) for r in self.rows for a in r.appointments]
        if not edges:
            local = datetime.combine(self.day, time(8), zone)
            return local, local + timedelta(hours=10)
        first = max(start, min(s for s, _ in edges))
        last = min(end, max(e for _, e in edges))
        return first, last

    @property
    def hours(self) -> list[datetime]:
        """The whole hours within the span, for the time axis."""
        first, last = self.span
        tick = first.astimezone(self.garage.zone).replace(minute=0, second=0, microsecond=0)
        ticks = []
        while tick <= last:
            if tick >= first:
                ticks.append(tick)
            tick = (tick + timedelta(hours=1, minutes=5)).replace(minute=0)  # steady across a DST change
        return ticks

    def off_shift(self) -> list[Appointment]:
        """Work still to do whose technician is not on shift then (an absence or a shorter shift came after it
        was booked), or under way while its technician is absent (gone home sick): it needs another technician or
        another time, and its customer a call."""
        return [a for r in self.rows for a in r.appointments
                if (a.status in ("booked", "checked_in") and r.off_shift(a))
                or (a.status == "in_progress" and self.now is not None and (
                    not r.here or capacity.absence_at(r.technician, self.now) is not None))]

    def colleagues(self, appointment: Appointment) -> list[tuple[Technician, bool]]:
        """Who on this day's board may take the job over (`jobs.can_take`), each with whether they are free until
        it will end (`jobs.taking`, on the board's own day of work): the free first, then by name."""
        moment = self.now or appointment.start_at
        # the rows' shifts are the board's day's: what is left of a job that began on an earlier day is read afresh
        today = self.garage.today(jobs.left_of(appointment, moment)[0]) == self.day
        found = [(r.technician, not jobs.taking(None, r.technician, appointment, moment, r.appointments))
                 for r in self.rows
                 if jobs.can_take(r.technician, appointment, moment, r.shifts if today else None)]
        return sorted(found, key=lambda pair: not pair[1])

    def late(self) -> list[Appointment]:
        """Booked but not checked in 15 minutes after its start; checked in and still not started 15 minutes after
        it (the customer is here, kept waiting); in progress past its end."""
        if self.now is None:
            return []
        return [a for a in self.appointments
                if (a.status in ("booked", "checked_in") and a.start_at + LATE_AFTER <= self.now)
                or (a.status == "in_progress" and a.end_at <= self.now)]

    def lifts(self) -> list[tuple[datetime, datetime, int]]:
        """The lifts in use over the day: (start, end, used) spans, where `used` changes."""
        steps: dict[datetime, int] = defaultdict(int)
        for a in self.appointments:
            if a.active and a.lift:
                steps[a.start_at] += 1
                steps[a.end_at] -= 1
        out, used, times = [], 0, sorted(steps)
        for t0, t1 in zip(times, times[1:]):
            used += steps[t0]
            if used:
                out.append((t0, t1, used))
        return out


def garage_day(session: Session, garage: Garage, day: date, now: datetime | None = None) -> GarageDay:
    start, end = garage.day_bounds(day)
    # and whoever still holds work here that day: deactivated, or moved to another garage since, their jobs must
    # show (not on shift, to hand over or re-plan), not vanish from the board
    holding = select(Appointment.technician_id).where(
        Appointment.garage_id == garage.id, Appointment.status.in_(ACTIVE), Appointment.start_at < end,
        Appointment.end_at > start)
    technicians = list(session.scalars(
        select(Technician).where(or_(and_(Technician.garage_id == garage.id, Technician.active.is_(True)),
                                     Technician.id.in_(holding)))
        .options(selectinload(Technician.skills), selectinload(Technician.shift_patterns),
                 selectinload(Technician.absences)).order_by(Technician.name)))
    here = {t.id: t.active and t.garage_id == garage.id for t in technicians}
    rows = {t.id: TechnicianDay(t, capacity.shifts(t, day) if here[t.id] else [], here=here[t.id])
            for t in technicians}
    appointments = session.scalars(
        select(Appointment).where(Appointment.garage_id == garage.id, Appointment.start_at < end,
                                  Appointment.end_at > start, Appointment.status != "cancelled")
        .options(selectinload(Appointment.case).selectinload(Case.vehicle),
                 selectinload(Appointment.case).selectinload(Case.customer),
                 selectinload(Appointment.case).selectinload(Case.job_type))
        .order_by(Appointment.start_at))
    for a in appointments:
        if a.technician_id in rows:
            rows[a.technician_id].appointments.append(a)
    return GarageDay(garage, day, list(rows.values()), now)


def network_load(session: Session, days: list[date]) -> dict[str, dict[date, float]]:
    """Booked share of shift time per garage and local day."""
    garages = list(session.scalars(select(Garage).order_by(Garage.id)
                                   .options(selectinload(Garage.technicians).selectinload(Technician.shift_patterns),
                                            selectinload(Garage.technicians).selectinload(Technician.absences))))
    out: dict[str, dict[date, float]] = {}
    if not garages or not days:
        return out
    first, _ = garages[0].day_bounds(min(days))
    _, last = garages[0].day_bounds(max(days))
    booked: dict[tuple[str, date], int] = defaultdict(int)
    rows = session.execute(select(Appointment.garage_id, Appointment.start_at, Appointment.end_at)
                           .where(Appointment.status.in_(HOLDS_TIME), Appointment.start_at >= first,
                                  Appointment.start_at < last))
    zones = {g.id: g for g in garages}
    for garage_id, s, e in rows:
        booked[(garage_id, zones[garage_id].local(s).date())] += _minutes(s, e)
    for g in garages:
        out[g.id] = {}
        for day in days:
            minutes = sum(_minutes(s, e) for t in g.technicians if t.active
                          for s, e in capacity.shifts(t, day))
            out[g.id][day] = booked[(g.id, day)] / minutes if minutes else 0.0
    return out


def recent_cases(session: Session, limit: int = 20, garage_id: str | None = None, offset: int = 0) -> list[Case]:
    query = select(Case).options(selectinload(Case.customer), selectinload(Case.vehicle),
                                 selectinload(Case.symptom), selectinload(Case.garage))
    if garage_id:
        query = query.where(Case.garage_id == garage_id)
    return list(session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit).offset(offset)))



def board_dict(board: GarageDay) -> dict:
    """The day as the API shows it: technicians with shifts and jobs, lifts in use, what runs late."""
    late = {a.id for a in board.late()}
    waiting = board.waits
    past_shift = {o.later.id for o in board.overlaps if o.past_shift}

    def job(a: Appointment, row: TechnicianDay) -> dict:
        case = a.case
        return {**a.to_dict(), "urgency": case.urgency, "job_type": case.job_type_code,
                "plate": case.vehicle.plate, "customer": case.customer.name, "late": a.id in late,
                "waits_for_overlap_minutes": waiting.get(a.id, 0), "off_shift": row.off_shift(a),
                "ends_past_shift": a.id in past_shift}

    return {
        "garage": board.garage.id, "day": board.day.isoformat(), "load": round(board.load, 4),
        "booked_minutes": board.booked_minutes, "shift_minutes": board.shift_minutes,
        "free_minutes_left": board.free_minutes_left,
        "technicians": [{"id": r.technician.id, "name": r.technician.name, "skills": r.technician.skill_codes,
                         "here": r.here,
                         # in UTC as every other time the API answers (a shift an absence cut came in UTC, the
                         # others in the garage's time: a probe's finding)
                         "shifts": [{"start": _utc(s), "end": _utc(e)} for s, e in r.shifts],
                         "appointments": [job(a, r) for a in r.appointments]} for r in board.rows],
        "lifts": [{"start": _utc(s), "end": _utc(e), "used": used} for s, e, used in board.lifts()],
        "late": sorted(late),
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()
