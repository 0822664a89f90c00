"""What-if replay: the recorded demand of a period, played again under a changed policy.

Each case opened in the period, in the order it arrived, gets a rule offer at the moment it
arrived, against the plan as it stood then. Two passes are played the same way over the same
starting plan: `rules` with the policy version in force at each case's arrival, and `changed`
with that version plus the planner's changes. In each pass the placement a case gets takes its
capacity for the cases after it (its real booking does not: the pass books it where the pass's
rules put it), but for a customer who really booked later than the pass offers (their own choice,
or people's doing): they keep that booking, or their technician's first free time after it when
the pass gave it away. Played as everyone taking the first offer, a week of routine work chosen for
later dates filled the next days, and the `rules` pass no longer gave the offers the same rules
had really made. Where people did better than the rules, the pass still books the rules' offer:
its `rules` is the period run by the rules alone, which the record's rule offers were not.
The demand played ends when the replay was made (a call taken between its two passes would be
played by one only). Work booked during the period for cases opened before it enters the plan when it
was booked. Cancelled bookings are left out: the record does not say when they were cancelled.

Waits are from the call to the start: the pass's rule offer for `rules` and `changed`, the real
start (or the booked start) for `humans`. A case the rules offer nothing within the horizon is
counted as unplaced, not as a wait. An override was unnecessary under the change when the changed
rule offer starts no later than what its people achieved (within one slot) and the rules' own pass does not.

The passes are independent: inline they run one after the other in a thread; on a queue (RQ on
Redis) each is a job that any worker may take, and the last one to finish writes the figures.
"""

from __future__ import annotations

import bisect
import math
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from optimizer.geo import haversine_km
from scheduler.db import may_write, utcnow
from scheduler.errors import Invalid, NotFound, RuleBroken
from scheduler.models import (
    URGENCIES,
    Appointment,
    Case,
    Garage,
    JobType,
    Override,
    Policy,
    Replay,
    ReplayPart,
    Technician,
    User,
)
from scheduler.models.replay import PASSES
from scheduler.services import capacity, policies
from scheduler.services.planning import working_day
from scheduler.services.replay_plan import RULE_PATHS, NetworkPlan, Rules
from scheduler.services.stats import NETWORK_ZONE, local_day_start
from scheduler.texts import N_

# A human override was unnecessary when the changed policy starts the work no later than they did, within one slot.
WITHIN_A_SLOT = timedelta(minutes=15)

MAX_DAYS = 92
Progress = Callable[[float], None]


def _day(data: dict, name: str) -> date | None:
    """A day as YYYY-MM-DD (or the day of a full ISO time); None when not given. Nothing trailing: "2026-10-02x"
    is refused, not read as the 2nd. Before 1970 nothing is on record and the engine's minutes count from then."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            day = date.fromisoformat(value) if len(value) == 10 else datetime.fromisoformat(value).date()
        except ValueError:
            pass
        else:
            if day.year >= 1970:
                return day
            raise Invalid(N_("%(name)s must be a day from 1970 on."), words={"name": name}, field=name)
    raise Invalid(N_("%(name)s must be a day, YYYY-MM-DD."), words={"name": name}, field=name)


def parse_params(data: dict) -> dict:
    """{from, to (inclusive days), policy: {changed fields}} checked: a 400 names the field."""
    first, last = _day(data, "from"), _day(data, "to")
    if first is None or last is None:
        raise Invalid(N_("from and to are required (days, YYYY-MM-DD)."), field="from" if first is None else "to")
    if last < first:
        raise Invalid(N_("The period must not end before it starts."), field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(N_("A replay covers at most %(days)s days."), words={"days": MAX_DAYS}, field="to")
    if last >= date.max:  # its end is the next day's midnight: past the calendar, the replay's thread crashed
        raise Invalid(N_("to must be a day before 9999-12-31."), field="to")
    changes = policies.validate(data.get("policy") or {})
    if "note" in changes:  # a version's note changes no rule: a replay of it replayed nothing it named
        raise Invalid(N_("note describes a policy version, it is no rule: a replay changes rules."), field="note")
    return {"from": first.isoformat(), "to": last.isoformat(), "policy": changes}


def create(session: Session, actor: User | None, data: dict, now: datetime, runner: str = "inline") -> Replay:
    params = parse_params(data)
    if date.fromisoformat(params["from"]) > now.astimezone(NETWORK_ZONE).date():
        # a period to come has no recorded demand: its replay showed 0 cases and offered to apply the change
        raise RuleBroken(N_("That period has not begun: no demand is recorded for it yet."), field="from")
    replay = Replay(status="queued", params=params, runner=runner,
                    created_by_id=actor.id if actor else None,
                    created_at=now, parts=[ReplayPart(name=name) for name in PASSES])
    session.add(replay)
    session.flush()
    return replay


def get(session: Session, replay_id: int) -> Replay:
    replay = session.get(Replay, replay_id)
    if replay is None:
        raise NotFound(N_("No replay %(id)s."), words={"id": replay_id})
    return replay


def recent(session: Session, limit: int = 10) -> list[Replay]:
    return list(session.scalars(select(Replay).options(selectinload(Replay.parts), selectinload(Replay.created_by))
                                .order_by(Replay.created_at.desc(), Replay.id.desc()).limit(limit)))


def played_until(replay: Replay, zone: ZoneInfo = NETWORK_ZONE) -> datetime:
    """The end of the demand a replay plays: its period's, or the moment it was made for a period not over yet. Its
    passes load the demand each when it starts, and the figures read it when the last ends: a call taken between
    them was played by one pass and not the other, and counted as the change's gain."""
    return min(period(replay.params, zone)[1], replay.created_at)


def not_replayed(params: dict) -> list[str]:
    """The changed fields no rule offer reads: a replay of them gives the rules' own figures, and says so."""
    return sorted(p for p in params.get("policy") or {} if p not in RULE_PATHS)


def period(params: dict, zone: ZoneInfo = NETWORK_ZONE) -> tuple[datetime, datetime]:
    return (local_day_start(date.fromisoformat(params["from"]), zone),
            local_day_start(date.fromisoformat(params["to"]) + timedelta(days=1), zone))


# -- what the record holds ----------------------------------------------------------------

@dataclass
class Demand:
    case_id: int
    opened_at: datetime
    urgency: str
    duration: int
    skill: str
    lift: bool
    lat: float
    lon: float
    human_start: datetime | None
    at_counter: bool = False  # a walk-in: the call centre's rules on today do not apply to them
    booked: tuple[str, datetime, datetime, bool] | None = None  # the first real booking: technician, start, end, lift


def demand(session: Session, start: datetime, end: datetime) -> tuple[list[Demand], int]:
    """The cases opened in [start, end), in arrival order, and how many had no location to replay."""
    rows = session.execute(
        select(Case.id, Case.opened_at, Case.urgency, Case.lat, Case.lon, JobType.duration_minutes,
               JobType.skill_code, JobType.needs_lift, Case.channel)
        .join(JobType, JobType.code == Case.job_type_code)
        .where(Case.opened_at >= start, Case.opened_at < end).order_by(Case.opened_at, Case.id)).all()
    starts: dict[int, datetime] = {}
    booked: dict[int, tuple[str, datetime, datetime, bool]] = {}
    for case_id, started, technician, booked_start, booked_end, lift in session.execute(
            select(Appointment.case_id, Appointment.started_at, Appointment.technician_id, Appointment.start_at,
                   Appointment.end_at, Appointment.lift)
            .join(Case, Case.id == Appointment.case_id)
            .where(Case.opened_at >= start, Case.opened_at < end, Appointment.status != "cancelled")):
        moment = started or booked_start
        if case_id not in starts or moment < starts[case_id]:
            starts[case_id] = moment
        if case_id not in booked or booked_start < booked[case_id][1]:
            booked[case_id] = (technician, booked_start, booked_end, lift)
    out = [Demand(r.id, r.opened_at, r.urgency, r.duration_minutes, r.skill_code, r.needs_lift, r.lat, r.lon,
                  starts.get(r.id), r.channel == "walk_in", booked.get(r.id))
           for r in rows if r.lat is not None and r.lon is not None]
    return out, len(rows) - len(out)


class Versions:
    """The policy versions by the moment they came into force, as policies.in_force picks them."""

    def __init__(self, session: Session):
        self.versions = list(session.scalars(select(Policy).where(Policy.active.is_(True))
                                             .order_by(Policy.created_at, Policy.version)))
        self.moments = [p.created_at for p in self.versions]

    def at(self, moment: datetime) -> Policy:
        i = bisect.bisect_right(self.moments, moment) - 1
        return self.versions[max(i, 0)] if self.versions else Policy(version=0)


def versions_over(session: Session, replay: Replay, zone: ZoneInfo = NETWORK_ZONE) -> list[Policy]:
    """The policy versions the replayed cases met: the `rules` pass plays each case under the one in force when
    it arrived, and the `changed` pass under that one with the changes. A replay of a period not over yet played
    the cases opened before it was made: a version made since met none of them."""
    start, end = period(replay.params, zone)[0], played_until(replay, zone)
    versions = Versions(session)
    return [versions.at(start)] + [v for v, at in zip(versions.versions, versions.moments, strict=True)
                                   if start < at < end]


def _plan(session: Session, start: datetime, until: datetime, zone: ZoneInfo) -> NetworkPlan:
    garages = list(session.scalars(select(Garage).order_by(Garage.id)))
    technicians = list(session.scalars(select(Technician).where(Technician.active.is_(True)).options(
        selectinload(Technician.skills), selectinload(Technician.shift_patterns),
        selectinload(Technician.absences), selectinload(Technician.garage))))
    first = start.astimezone(zone).date() - timedelta(days=1)
    days = [first + timedelta(days=i) for i in range((until.astimezone(zone).date() - first).days + 2)]
    return NetworkPlan(
        [NetworkPlan.garage(g.id, g.lat, g.lon, g.lifts) for g in garages],
        [NetworkPlan.technician(t.id, t.garage_id, t.skill_codes, [s for d in days for s in capacity.shifts(t, d)])
         for t in technicians],
        zone)


@dataclass
class World:
    """What a pass needs, read once: then the pass runs without the database."""

    cases: list[Demand]
    plan: NetworkPlan
    # (created_at, technician, start, end, lift) of work booked for cases opened before the period
    bookings: list[tuple[datetime, str, datetime, datetime, bool]]
    versions: Versions
    changes: dict


def load(session: Session, replay: Replay, zone: ZoneInfo = NETWORK_ZONE) -> World:
    params = replay.params
    start, end = period(params, zone)
    cases, _ = demand(session, start, played_until(replay, zone))
    versions = Versions(session)
    horizon = max([p.horizon_days for p in versions.versions] + [params["policy"].get("horizon_days", 0), 28])
    until = end + timedelta(days=horizon + 1)
    replayed = select(Case.id).where(Case.opened_at >= start, Case.opened_at < end)
    bookings = sorted(tuple(row) for row in session.execute(
        select(Appointment.created_at, Appointment.technician_id, Appointment.start_at, Appointment.end_at,
               Appointment.lift)
        .where(Appointment.status != "cancelled", Appointment.end_at > start, Appointment.start_at < until,
               Appointment.case_id.not_in(replayed))))
    return World(cases, _plan(session, start, until, zone), bookings, versions, params["policy"])


def play(world: World, name: str, progress: Progress = lambda _: None) -> dict[str, str | None]:
    """One pass: {case id: start of the rule offer it got, ISO, or None}, placing each as it goes."""
    plan, bookings = world.plan, world.bookings
    rules_of: dict[int, Rules] = {}
    out: dict[str, str | None] = {}
    b = 0
    step = max(1, len(world.cases) // 100)
    for i, case in enumerate(world.cases):
        while b < len(bookings) and bookings[b][0] <= case.opened_at:
            _, tech, s, e, lift = bookings[b]
            plan.occupy(tech, s, e, lift)
            b += 1
        version = world.versions.at(case.opened_at)
        key = id(version)
        if key not in rules_of:
            rules_of[key] = Rules.of(version if name == "rules" else policies.apply(version, world.changes))
        placed = plan.rule_offer(str(case.case_id), case.opened_at, case.duration, case.skill, case.lift,
                                 case.urgency, case.lat, case.lon, rules_of[key], at_counter=case.at_counter)
        if placed is not None:
            plan.occupy(*_taken(plan, case, placed))
        out[str(case.case_id)] = placed.start.isoformat() if placed else None
        if i % step == 0:
            progress(i / len(world.cases))
    progress(1.0)
    return out


def _taken(plan: NetworkPlan, case: Demand, placed) -> tuple[str, datetime, datetime, bool]:
    """Where a case takes its capacity in a pass: its rule offer; or, when its customer really booked later (their
    choice, or people's doing: either way not sooner than offered), that booking, or the technician's first free
    time after it when the pass gave that time away (falling back to the offer made everyone behind it sooner)."""
    offer = (placed.technician, placed.start, placed.end, case.lift)
    if case.booked is None or case.booked[1] <= placed.start:
        return offer
    technician, start, end, lift = case.booked
    if plan.is_free(technician, start, end, lift):
        return case.booked
    later = plan.first_free(technician, start, end - start, lift)
    return (technician, later, later + (end - start), lift) if later is not None else offer


# -- the figures -----------------------------------------------------------------------------

def _p90(values: list[int]) -> int:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def waits(starts: list[tuple[Demand, datetime | None]], day_of: Callable[[Demand], date], zone: ZoneInfo) -> dict:
    placed = [(d, s) for d, s in starts if s is not None]
    minutes = [max(0, round((s - d.opened_at).total_seconds() / 60)) for d, s in placed]
    same_day = sum(1 for d, s in placed if s.astimezone(zone).date() <= day_of(d))
    median, p90 = (statistics.median(minutes), _p90(minutes)) if minutes else (None, None)
    return {"cases": len(starts), "placed": len(placed), "unplaced": len(starts) - len(placed),
            "median_minutes": median, "p90_minutes": p90,
            "same_day_share": round(same_day / len(placed), 4) if placed else None,
            # API.md's words for the same figures: "the waits (median, p90, same-day share)"
            "median": median, "p90": p90}


def figures(session: Session, replay: Replay, zone: ZoneInfo = NETWORK_ZONE) -> dict:
    start, _ = period(replay.params, zone)
    cases, skipped = demand(session, start, played_until(replay, zone))
    passes = {p.name: p.starts or {} for p in replay.parts}
    garages = list(session.scalars(select(Garage).options(selectinload(Garage.opening_hours),
                                                          selectinload(Garage.closed_days))))

    days: dict[int, date] = {}

    def day_of(d: Demand) -> date:
        """The working day the call belongs to at the nearest garage: the target day of a P1."""
        if d.case_id not in days:
            nearest = min(garages, key=lambda g: (haversine_km(d.lat, d.lon, g.lat, g.lon), g.id))
            days[d.case_id] = working_day(nearest, d.opened_at)
        return days[d.case_id]

    def start_in(name: str, d: Demand) -> datetime | None:
        value = passes[name].get(str(d.case_id))
        return datetime.fromisoformat(value) if value else None

    result: dict = {"cases": len(cases), "skipped": skipped, "from": replay.params["from"], "to": replay.params["to"],
                    "policy": replay.params["policy"], "not_replayed": not_replayed(replay.params)}
    for urgency in URGENCIES:
        mine = [d for d in cases if d.urgency == urgency]
        result[urgency.lower()] = {
            "rules": waits([(d, start_in("rules", d)) for d in mine], day_of, zone),
            "humans": waits([(d, d.human_start) for d in mine], day_of, zone),
            "changed": waits([(d, start_in("changed", d)) for d in mine], day_of, zone),
        }
    by_case = {d.case_id: d for d in cases}
    overrides = list(session.scalars(select(Override).where(Override.case_id.in_(by_case))))
    unnecessary, already = [], []
    for o in overrides:
        achieved = o.actual_start or o.result_start or by_case[o.case_id].human_start
        if achieved is None:
            continue
        rules, changed = (start_in(name, by_case[o.case_id]) for name in ("rules", "changed"))
        # the change's credit is what it adds: where the rules, played the same way, already do as well (the record's
        # rule offer was made against the live plan, which the replay only approximates), the change did nothing
        if rules is not None and rules <= achieved + WITHIN_A_SLOT:
            already.append(o.id)
        elif changed is not None and changed <= achieved + WITHIN_A_SLOT:
            unnecessary.append(o.id)
    result["overrides"] = {"total": len(overrides), "unnecessary": len(unnecessary),
                           "unnecessary_ids": sorted(unnecessary), "already_by_rules": len(already)}
    return result


# -- running a pass as a job -------------------------------------------------------------------

def run_part(session: Session, replay_id: int, name: str) -> None:
    """Play one pass of a replay, committing its progress as it goes (a job is its own edge); the last
    pass to finish writes the replay's figures."""
    replay = get(session, replay_id)
    part = next(p for p in replay.parts if p.name == name)
    part.status, part.started_at, replay.status = "running", utcnow(), "running"
    session.commit()
    try:
        reading = may_write.set(False)  # a read: on SQLite it takes no lock while it loads the period
        try:
            world = load(session, replay)
            session.rollback()
        finally:
            may_write.reset(reading)
        last = [0.0]

        def report(fraction: float) -> None:
            if fraction - last[0] >= 0.02 or fraction >= 1.0:
                part.progress, last[0] = round(fraction, 3), fraction
                session.commit()

        starts = play(world, name, report)
        part.starts, part.status, part.progress, part.finished_at = starts, "done", 1.0, utcnow()
        session.commit()
    except Exception as exc:
        session.rollback()
        fail(session, replay_id, f"{name}: {exc}")
        raise
    finish(session, replay_id)


def finish(session: Session, replay_id: int) -> None:
    """The figures, once every pass is done. They are worked out in a read (seconds on a month of demand,
    during which SQLite's one write lock stays free for the desks), then written in a short write that
    takes the replay in turn: two workers ending at once write them once."""
    reading = may_write.set(False)
    try:
        replay = get(session, replay_id)
        result = figures(session, replay) if all(p.status == "done" for p in replay.parts) else None
        session.rollback()
    finally:
        may_write.reset(reading)
    if result is None:
        return  # another pass is still playing: the last one to end writes the figures
    replay = session.scalar(select(Replay).where(Replay.id == replay_id).with_for_update())
    if replay.status == "running":
        replay.result, replay.status, replay.finished_at = result, "done", utcnow()
    session.commit()


def fail(session: Session, replay_id: int, error: str) -> None:
    replay = session.scalar(select(Replay).where(Replay.id == replay_id).with_for_update())
    if replay is not None:
        replay.status, replay.error, replay.finished_at = "failed", error[:2000], utcnow()
        for part in replay.parts:
            if part.status != "done":
                part.status = "failed"
    session.commit()


_ENGINES: dict[str, object] = {}


def run_job(database_url: str, replay_id: int, names: list[str] | tuple[str, ...] = PASSES) -> None:
    """The job's entry point, in a thread of the app or in an RQ worker: its own engine and session."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from scheduler.db import harden_sqlite

    engine = _ENGINES.get(database_url)
    if engine is None:
        engine = create_engine(database_url)
        harden_sqlite(engine)
        _ENGINES[database_url] = engine
    with sessionmaker(bind=engine, expire_on_commit=True)() as session:
        for name in names:
            run_part(session, replay_id, name)
