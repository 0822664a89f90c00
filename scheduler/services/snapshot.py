"""What the optimizer sees, built straight from database rows: the one seam between the layers.

A snapshot is made once per request. It keeps the policy, the garages and their technicians, and
loads the booked work of a window only when a question needs it. The optimizer's dataclasses are
built directly (no JSON, no re-validation); `document` writes the same plan as a problem file,
which is what the optimizer's validated path reads, so the two can be compared (and exported).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import Integer, and_, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.sql.functions import FunctionElement

from optimizer import Appointment as PlanItem
from optimizer import Garage as PlanGarage
from optimizer import Location, Problem, Request, make_problem, policy_from_dict
from optimizer import Technician as PlanTechnician
from optimizer.geo import haversine_km
from scheduler.models import ACTIVE, Appointment, Case, Garage, Policy, Technician
from scheduler.network import network
from scheduler.services.capacity import as_it_runs

# Work that may touch a shift starting before a window's end: no shift is longer than a day.
SHIFT_REACH = timedelta(days=1)


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


def local_days(zone, start: datetime, end: datetime) -> list[date]:
    """The local days of [start, end] in that zone."""
    first, last = start.astimezone(zone).date(), end.astimezone(zone).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _running(start: int, end: int, started: datetime | None) -> tuple[int, int]:
    """A job's minutes as the plan reads them: as booked, or as it runs once under way (capacity.as_it_runs)."""
    if started is None:
        return start, end
    first, last = as_it_runs(_at(start), _at(end), started)
    return int(first.timestamp() // 60), -(-int(last.timestamp()) // 60)


class epoch_minute(FunctionElement):
    """An instant as whole minutes since the epoch, computed by the database (floor; `ceil=True` rounds up).

    Thousands of rows per question: converting each to an aware datetime in Python was most of the cost.
    """

    type = Integer()
    inherit_cache = True

    def __init__(self, column, ceil: bool = False):
        super().__init__(column)
        self.ceil = ceil


@compiles(epoch_minute, "sqlite")
def _epoch_minute_sqlite(element, compiler, **kw):
    seconds = f"CAST(strftime('%s', {compiler.process(list(element.clauses)[0], **kw)}) AS INTEGER)"
    return f"(({seconds} + 59) / 60)" if element.ceil else f"({seconds} / 60)"


@compiles(epoch_minute, "postgresql")
def _epoch_minute_pg(element, compiler, **kw):
    minutes = f"(EXTRACT(EPOCH FROM {compiler.process(list(element.clauses)[0], **kw)}) / 60)"
    return f"CAST({'CEIL' if element.ceil else 'FLOOR'}{minutes} AS INTEGER)"


class Snapshot:
    """The planning context of one request: loaded once, asked many questions."""

    def __init__(self, session: Session, now: datetime, policy: Policy):
        self.session, self.now, self.policy = session, now, policy
        self.plan_policy = policy_from_dict(policy.as_problem_policy())
        self.horizon_end = now + timedelta(days=policy.horizon_days)
        self.network = network(session)
        self._garages: dict[str, Garage] | None = None

    # -- the network ----------------------------------------------------------------------------
    @property
    def garages(self) -> dict[str, Garage]:
        """The garages as objects of the request's session: safe to link to what the request writes.

        (The shared network's objects are detached and read-only: linking one to a new row would
        attach it to this session, and its commit would expire it for every later request.)
        """
        if self._garages is None:
            rows = self.session.scalars(select(Garage).options(selectinload(Garage.opening_hours)))
            self._garages = {g.id: g for g in rows}
        return self._garages

    def nearest(self, lat: float, lon: float) -> list[tuple[Garage, float]]:
        """Every garage with its distance in km, nearest first (ties by id), as the format orders candidates."""
        return sorted(((g, haversine_km(lat, lon, g.lat, g.lon)) for g in self.garages.values()),
                      key=lambda pair: (pair[1], pair[0].id))

    def nearest_garage(self, lat: float, lon: float) -> Garage:
        """The garage nearest to a place (ties by id), as `nearest` ranks them, from the shared network:
        read-only, for counting a target (its hours and zone), never to link to a new row."""
        return min(self.network.garages.values(), key=lambda g: (haversine_km(lat, lon, g.lat, g.lon), g.id))

    def candidates(self, lat: float, lon: float) -> list[tuple[str, float]]:
        """The garage ids within the search radius with their distance, nearest first: the optimizer's candidates."""
        near = sorted(((g.id, haversine_km(lat, lon, g.lat, g.lon)) for g in self.network.garages.values()),
                      key=lambda pair: (pair[1], pair[0]))
        return [(g, km) for g, km in near if km <= self.policy.search_radius_km]

    def technicians(self, garage_ids: Iterable[str]) -> list[Technician]:
        return [t for g in garage_ids for t in self.network.technicians.get(g, [])]

    # -- a plan of the window a question needs ------------------------------------------------------
    def spans(self, garage_ids: Iterable[str], until: datetime) -> dict[str, datetime]:
        """Each garage's shifts are taken up to `until` (never past the booking horizon)."""
        return dict.fromkeys(garage_ids, min(until, self.horizon_end))

    def plan(self, mode: str, until: dict[str, datetime], requests: list[Request],
             ignore_case: int | None = None, ignore: Collection[int] = (), work: Work | None = None) -> Problem:
        """The optimizer's problem: shifts starting before each garage's `until`, the work that can touch them.

        `ignore_case` leaves out the case's own booking (it is being moved); `ignore`, appointments being re-placed.
        `work` is the work a widening search already read (`Snapshot.work`): only what the wider window adds is read.
        A `work` made for one skill (an offers question) leaves out what cannot change its answer: the technicians
        without the skill (and their work) unless the job needs a lift (their lift work fills the lifts), and, in
        offers mode, work starting after the last shift looked at.
        """
        garage_ids = list(until)
        work = work or self.work(ignore_case, ignore)
        technicians = self.technicians(garage_ids)
        skills = self.network.skills
        if work.skill is not None and not work.lift:
            technicians = [t for t in technicians if work.skill in skills[t.id]]
        shifts = {t.id: self._shifts(t, until[t.garage_id]) for t in technicians}
        if mode == "offers":
            # a start is only looked for within these shifts: work starting after the last of them changes nothing
            reach = dict.fromkeys(garage_ids, self.now)
            for t in technicians:
                if shifts[t.id] and (work.skill is None or work.skill in skills[t.id]):
                    reach[t.garage_id] = max(reach[t.garage_id], _at(shifts[t.id][-1][1]))
        else:
            reach = {g: u + SHIFT_REACH for g, u in until.items()}
        items = work.until(reach)
        return make_problem(
            mode=mode, now=self.now.astimezone(self._zone(garage_ids)), slot=self.policy.slot_minutes,
            garages=[PlanGarage(g, Location(garage.lat, garage.lon), garage.lifts)
                     for g in garage_ids for garage in (self.network.garages[g],)],
            technicians=[PlanTechnician(t.id, t.garage_id, skills[t.id], shifts[t.id]) for t in technicians],
            appointments=items, requests=requests, policy=self.plan_policy)

    def _zone(self, garage_ids: list[str]):
        # `now` in the garages' zone: the rules then explain themselves in local time
        return self.network.garages[garage_ids[0]].zone if garage_ids else timezone.utc

    def _shifts(self, technician: Technician, until: datetime) -> tuple[tuple[int, int], ...]:
        """Shifts that end after now and start before `until`."""
        zone = technician.garage.zone
        first, last = self.now.astimezone(zone).date(), until.astimezone(zone).date()
        spans = self.network.shifts_between(technician, first, last)
        starts, ends = self.network.shift_edges(technician, first, last)
        first = bisect_right(ends, self.now.timestamp() / 60)  # ends are sorted as starts are: shifts never overlap
        last = bisect_left(starts, until.timestamp() / 60)
        return spans[first:last]

    def work(self, ignore_case: int | None = None, ignore: Collection[int] = (), skill: str | None = None,
             lift: bool = False) -> Work:
        """The active work of the garages a question looks at, read window by window as it widens.

        With `skill` (one request's question): only the work of the technicians with that skill, and when the
        request needs a lift, every lift job too (they fill the lifts).
        """
        return Work(self, ignore_case, ignore, skill, lift)

    def _work(self, since: dict[str, datetime | None], until: dict[str, datetime], ignore_case: int | None,
              ignore: Collection[int] = (), skill: str | None = None, lift: bool = False) -> list[PlanItem]:
        """The active work of those garages from now (or from `since`, what was read before) until each one's end:
        busy time, lifts in use."""
        if not until:
            return []
        groups: dict[tuple[datetime | None, datetime], list[str]] = {}
        for g in until:
            groups.setdefault((since.get(g), until[g]), []).append(g)
        window = or_(*(and_(Appointment.garage_id.in_(ids), Appointment.start_at < end,
                            *([Appointment.start_at >= begin] if begin is not None else []))
                       for (begin, end), ids in groups.items()))
        query = (select(Appointment.id, Appointment.technician_id, epoch_minute(Appointment.start_at),
                        epoch_minute(Appointment.end_at, ceil=True), Appointment.skill_code, Appointment.lift,
                        Appointment.status, Appointment.pinned, Appointment.flex_minutes, Appointment.garage_id,
                        Appointment.started_at, Case.urgency)
                 .join(Case, Case.id == Appointment.case_id)
                 .where(window, Appointment.status.in_(ACTIVE),
                        # work under way holds its technician as it runs, past its booked end too (as_it_runs)
                        or_(Appointment.end_at > self.now, Appointment.status == "in_progress")))
        if ignore_case is not None:
            # the case's own booking does not block its own move
            query = query.where((Appointment.case_id != ignore_case) | (Appointment.status != "booked"))
        if ignore:
            query = query.where(Appointment.id.not_in(list(ignore)))
        known = {t.id for t in self.technicians(list(until))}
        if skill is not None:
            skilled = Appointment.technician_id.in_(sorted(t for t in known if skill in self.network.skills[t]))
            query = query.where(or_(skilled, Appointment.lift.is_(True)) if lift else skilled)
        # Core rows, not ORM objects: thousands of rows per question
        # a squeeze or a re-plan moves non-urgent work only (DESIGN): a P1's car, immobilised, stays where people
        # booked it, as if pinned
        return [(a[9], PlanItem(str(a[0]), a[1], *_running(a[2], a[3], a[10]), a[4], a[5], a[11], a[6],
                                a[7] or a[11] == "P1", a[8]))
                for a in self.session.connection().execute(query).all() if a[1] in known]

    # -- the same plan as a problem file (the validated path, and what a planner exports) -----------
    def document(self, mode: str, until: dict[str, datetime], requests: list[dict],
                 ignore_case: int | None = None) -> dict:
        problem = self.plan(mode, until, [], ignore_case)

        def at(minute: int) -> str:
            return datetime.fromtimestamp(minute * 60, timezone.utc).isoformat()

        return {
            "version": 1, "mode": mode, "now": self.now.astimezone(problem.zone).isoformat(),
            "slot_minutes": problem.slot,
            "garages": [{"id": g.id, "location": {"lat": g.location.lat, "lon": g.location.lon}, "lifts": g.lifts}
                        for g in problem.garages.values()],
            "technicians": [{"id": t.id, "garage": t.garage, "skills": sorted(t.skills),
                             "shifts": [{"start": at(s), "end": at(e)} for s, e in t.shifts]}
                            for t in problem.technicians.values()],
            "appointments": [{"id": a.id, "technician": a.technician, "start": at(a.start), "end": at(a.end),
                              "skill": a.skill, "lift": a.lift, "status": a.status, "pinned": a.pinned,
                              "flex_minutes": a.flex_minutes} for a in problem.appointments],
            "requests": requests,
            "policy": self.policy.as_problem_policy(),
        }


class Work:
    """One question's view of the booked work, per garage up to a moment: a window that widens reads only
    what it adds, so a search that widens five times reads each appointment once.

    Made per question, never kept across a write: a refusal's fresh offers read the database afresh.
    """

    def __init__(self, snap: Snapshot, ignore_case: int | None, ignore: Collection[int], skill: str | None = None,
                 lift: bool = False):
        self.snap, self.ignore_case, self.ignore = snap, ignore_case, ignore
        self.skill, self.lift = skill, lift
        self.read: dict[str, datetime] = {}
        self.items: dict[str, list[PlanItem]] = {}

    def until(self, until: dict[str, datetime]) -> list[PlanItem]:
        """The work of each garage starting before its moment (and ending after now), garage by garage."""
        narrower = [g for g, u in until.items() if g in self.read and u < self.read[g]]
        for g in narrower:  # never asked by a widening search; read again rather than filter
            del self.read[g], self.items[g]
        wanted = {g: u for g, u in until.items() if self.read.get(g) != u}
        for g in wanted:
            self.items.setdefault(g, [])
        for g, item in self.snap._work({g: self.read.get(g) for g in wanted}, wanted, self.ignore_case, self.ignore,
                                      self.skill, self.lift):
            self.items[g].append(item)
        self.read.update(wanted)
        return [item for g in until for item in self.items[g]]
