"""The CP-SAT model for `squeeze` and `replan`: place requests jointly, moving movable work.

Start variables are slot indices from a grid-aligned origin and intervals are minutes
from that origin, so domains and coefficients stay small.
Fixed work never enters the model as intervals: it is cut out of each option's start
domain instead. That also keeps over-bookings people made (two fixed jobs on one
technician, more lift jobs than lifts) from making the model infeasible, as the format
requires: fixed items are never checked against each other.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass, field

from ortools.sat.python import cp_model

from optimizer.answer import Answer, Move, Placement, Unplaced
from optimizer.baseline import no_move_plan
from optimizer.clock import grid_ceil, grid_floor
from optimizer.freetime import Span, merge, saturated, subtract
from optimizer.offers import garage_lower, unplaced
from optimizer.problem import Appointment, Problem, Request, Technician

SCALE = 1000  # objective units per cost unit: the format's costs have fractional km


@dataclass
class RequestVars:
    request: Request
    start: cp_model.IntVar  # slot index, pinned to 0 when unplaced
    lower: int  # slot index of the earliest allowed start
    options: dict[str, tuple[cp_model.IntVar, str]] = field(default_factory=dict)  # tech -> (present, garage)


@dataclass
class MoveVars:
    appointment: Appointment
    stay: cp_model.IntVar
    start: cp_model.IntVar
    shift: cp_model.IntVar
    anchor: int  # the start variable's value while the appointment stays
    options: dict[str, cp_model.IntVar] = field(default_factory=dict)  # tech -> present


@dataclass
class SolveStats:
    status: str
    cost_scaled: float
    bound_scaled: float


class PlanModel:
    def __init__(self, problem: Problem, allowed: dict[str, list[Span]] | None = None):
        """`allowed`: for a request named in it, the only spans its start may lie in (a neighbourhood)."""
        self.p = problem
        self.allowed = allowed or {}
        self.slot = problem.slot
        self.origin = grid_floor(problem.now, problem.slot)
        self.model = cp_model.CpModel()
        self.requests: list[RequestVars] = []
        self.moves: list[MoveVars] = []
        self.tech_intervals: dict[str, list] = defaultdict(list)
        self.new_intervals: dict[str, list] = defaultdict(list)  # placements and move options
        self.conflicted_stays: list[tuple[Appointment, cp_model.IntVar]] = []
        self.lift_intervals: dict[str, list] = defaultdict(list)
        self.new_lift: dict[str, list] = defaultdict(list)  # (interval, present) of placements and move options
        self.lift_conflicted_stays: dict[str, list[tuple[Appointment, cp_model.IntVar]]] = defaultdict(list)
        self.objective: list = []
        self.constant = 0.0
        self._split_fixed_and_movable()
        self._add_requests()
        self._add_moves()
        self._add_resources()
        self.model.minimize(sum(self.objective))

    # -- what may move ---------------------------------------------------------------
    def _split_fixed_and_movable(self) -> None:
        p = self.p
        garages = {g for r in p.requests for g, _ in p.candidate_garages(r)}
        self.garages = garages
        movable = {a.id for a in p.appointments if p.is_movable(a) and p.garage_of(a) in garages}
        # Work that already overlaps other work stays put: it is never re-checked.
        by_tech: dict[str, list[Appointment]] = defaultdict(list)
        lift_by_garage: dict[str, list[Appointment]] = defaultdict(list)
        for a in p.appointments:
            by_tech[a.technician].append(a)
            if a.lift:
                lift_by_garage[p.garage_of(a)].append(a)
        # Movable work that already overlaps other work on its technician stays movable, but its
        # original slot is checked against new items only (existing work is never re-checked).
        self.conflicted: set[str] = set()
        for items in by_tech.values():
            items.sort(key=lambda a: a.start)
            for i, a in enumerate(items):
                for b in items[i + 1:]:
                    if b.start >= a.end:
                        break
                    self.conflicted.update(x.id for x in (a, b) if x.id in movable)
        # Movable lift work where existing work already needs more lifts than there are stays movable
        # too: moving some of it away can make room. Where lifts are over-booked, the load is checked
        # only while something new is there (`_add_over_lifts`), as the format checks it.
        self.over_lift: dict[str, list[Span]] = {}
        self.lift_conflicted: set[str] = set()
        for garage, items in lift_by_garage.items():
            over = saturated(((a.start, a.end) for a in items), p.garages[garage].lifts + 1)
            if over:
                self.over_lift[garage] = over
                self.lift_conflicted.update(a.id for a in items if a.id in movable
                                            and any(s < a.end and a.start < e for s, e in over))
        self.movable = [a for a in p.appointments if a.id in movable]
        fixed = [a for a in p.appointments if a.id not in movable]
        self.fixed_busy: dict[str, list[Span]] = defaultdict(list)
        fixed_lift: dict[str, list[Span]] = defaultdict(list)
        for a in fixed:
            self.fixed_busy[a.technician].append((a.start, a.end))
            if a.lift:
                fixed_lift[p.garage_of(a)].append((a.start, a.end))
        self.fixed_busy = {t: merge(v) for t, v in self.fixed_busy.items()}
        self.fixed_lift = fixed_lift
        self.lift_full = {g: saturated(fixed_lift[g], p.garages[g].lifts) for g in garages}

    def _free(self, tech: Technician, lift: bool) -> list[Span]:
        free = subtract(list(tech.shifts), self.fixed_busy.get(tech.id, []))
        return subtract(free, self.lift_full[tech.garage]) if lift else free

    def _domain(self, windows: list[Span], duration: int, lo: int, hi: int | None) -> list[list[int]]:
        """Slot-index ranges of grid starts in [lo, hi] at which `duration` fits a window."""
        out = []
        for a, b in windows:
            first = grid_ceil(max(a, lo), self.slot)
            last = grid_floor(b - duration, self.slot)
            if hi is not None:
                last = min(last, grid_floor(hi, self.slot))
            if first <= last:
                out.append([(first - self.origin) // self.slot, (last - self.origin) // self.slot])
        return out

    # -- requests ----------------------------------------------------------------------
    def _add_requests(self) -> None:
        p, m = self.p, self.model
        w = p.policy.weights
        for r in p.requests:
            lower = grid_ceil(r.earliest, self.slot)
            wait_w = p.wait_weight(r.urgency)
            doms: dict[str, tuple[list, str, float]] = {}
            for garage, km in p.candidate_garages(r):
                at_garage = garage_lower(p, r, km)  # the customer cannot be there earlier
                for tech in p.technicians_by_garage[garage]:
                    if r.skill not in tech.skills:
                        continue
                    free = self._free(tech, r.lift)
                    if r.id in self.allowed:
                        free = _within(free, self.allowed[r.id], r.duration)
                    dom = self._domain(free, r.duration, at_garage, r.latest)
                    if dom:
                        doms[tech.id] = (dom, garage, km)
            lo = (lower - self.origin) // self.slot
            union = cp_model.Domain.from_intervals([[lo, lo]] + [iv for d, _, _ in doms.values() for iv in d])
            start = m.new_int_var_from_domain(union, f"s_{r.id}")
            rv = RequestVars(r, start, lo)
            self.requests.append(rv)
            unplaced_cost = p.unplaced_cost(r)
            if not doms:
                self.constant += unplaced_cost
                m.add(start == lo)
                continue
            placed = []
            for tech_id, (dom, garage, km) in doms.items():
                present = m.new_bool_var(f"p_{r.id}_{tech_id}")
                m.add_linear_expression_in_domain(start, cp_model.Domain.from_intervals(dom)).only_enforce_if(present)
                rv.options[tech_id] = (present, garage)
                placed.append(present)
                iv = m.new_optional_fixed_size_interval_var(start * self.slot, r.duration, present,
                                                            f"i_{r.id}_{tech_id}")
                self.tech_intervals[tech_id].append(iv)
                self.new_intervals[tech_id].append((iv, present))
                if r.lift:
                    self.lift_intervals[garage].append(iv)
                    self.new_lift[garage].append((iv, present))
                travel = wait_w * (self.origin + lo * self.slot - r.origin) + w.travel_km * km
                self.objective.append(round(travel * SCALE) * present)
            m.add(sum(placed) <= 1)
            is_placed = sum(placed)
            m.add(start == lo).only_enforce_if([x.Not() for x in placed])
            # wait beyond the earliest slot, counted only when placed (start is lo otherwise)
            self.objective.append(round(wait_w * self.slot * SCALE) * (start - lo))
            self.objective.append(round(unplaced_cost * SCALE) * (1 - is_placed))

    # -- moves -------------------------------------------------------------------------
    def _add_moves(self) -> None:
        p, m = self.p, self.model
        w = p.policy.weights
        moved_flags = []
        for a in self.movable:
            garage = p.garage_of(a)
            lo = max(a.start - a.flex_minutes, p.now)
            hi = a.start + a.flex_minutes
            doms = {}
            for tech in p.technicians_by_garage[garage]:
                if a.skill not in tech.skills:
                    continue
                dom = self._domain(self._free(tech, a.lift), a.duration, lo, hi)
                if tech.id == a.technician and (a.start - self.origin) % self.slot == 0:
                    # the same technician at the same start is staying, not a move
                    dom = _without(dom, (a.start - self.origin) // self.slot)
                if dom:
                    doms[tech.id] = dom
            stay = m.new_bool_var(f"stay_{a.id}")
            if not doms:
                m.add(stay == 1)
            all_iv = [iv for d in doms.values() for iv in d]
            anchor = all_iv[0][0] if all_iv else 0
            start = m.new_int_var_from_domain(cp_model.Domain.from_intervals([[anchor, anchor]] + all_iv), f"n_{a.id}")
            span = max(a.flex_minutes, 0) + self.slot
            shift = m.new_int_var(0, span, f"d_{a.id}")
            mv = MoveVars(a, stay, start, shift, anchor)
            self.moves.append(mv)
            stay_iv = m.new_optional_fixed_size_interval_var(a.start - self.origin, a.duration, stay, f"st_{a.id}")
            if a.id in self.conflicted:
                self.conflicted_stays.append((a, stay))
            else:
                self.tech_intervals[a.technician].append(stay_iv)
            if a.id in self.lift_conflicted:
                self.lift_conflicted_stays[garage].append((a, stay))
                # outside the over-booked spans its stay takes a lift like any other job
                for s, e in subtract([(a.start, a.end)], self.over_lift[garage]):
                    self.lift_intervals[garage].append(
                        m.new_optional_fixed_size_interval_var(s - self.origin, e - s, stay, f"sl_{a.id}_{s}"))
            elif a.lift:
                self.lift_intervals[garage].append(stay_iv)
            options = []
            for tech_id, dom in doms.items():
                present = m.new_bool_var(f"m_{a.id}_{tech_id}")
                m.add_linear_expression_in_domain(start, cp_model.Domain.from_intervals(dom)).only_enforce_if(present)
                iv = m.new_optional_fixed_size_interval_var(start * self.slot, a.duration, present,
                                                            f"mi_{a.id}_{tech_id}")
                self.tech_intervals[tech_id].append(iv)
                self.new_intervals[tech_id].append((iv, present))
                if a.lift:
                    self.lift_intervals[garage].append(iv)
                    self.new_lift[garage].append((iv, present))
                mv.options[tech_id] = present
                options.append(present)
            m.add_exactly_one([stay] + options)
            rel_old = a.start - self.origin
            m.add(start == anchor).only_enforce_if(stay)
            m.add(shift == 0).only_enforce_if(stay)
            m.add(shift >= start * self.slot - rel_old).only_enforce_if(stay.Not())
            m.add(shift >= rel_old - start * self.slot).only_enforce_if(stay.Not())
            self.objective.append(round(w.move * SCALE) * (1 - stay))
            self.objective.append(round(w.shift_minute * SCALE) * shift)
            moved_flags.append(1 - stay)
        if moved_flags:
            m.add(sum(moved_flags) <= p.policy.max_moves)

    # -- technicians and lifts ---------------------------------------------------------
    def _add_resources(self) -> None:
        m = self.model
        for ivs in self.tech_intervals.values():
            if len(ivs) > 1:
                m.add_no_overlap(ivs)
        for a, stay in self.conflicted_stays:
            start, end = a.start - self.origin, a.end - self.origin
            for iv, present in self.new_intervals[a.technician]:
                before, after = m.new_bool_var(""), m.new_bool_var("")
                m.add(iv.end_expr() <= start).only_enforce_if(before)
                m.add(iv.start_expr() >= end).only_enforce_if(after)
                m.add_bool_or([before, after]).only_enforce_if([stay, present])
        for garage, ivs in self.lift_intervals.items():
            lifts = self.p.garages[garage].lifts
            fixed = []
            # The fixed lift load, capped at capacity: where it is full, nothing new fits anyway.
            events: dict[int, int] = defaultdict(int)
            for s, e in self.fixed_lift.get(garage, []):
                events[s] += 1
                events[e] -= 1
            level, times = 0, sorted(events)
            for t0, t1 in zip(times, times[1:]):
                level += events[t0]
                if level > 0:
                    fixed.append((m.new_fixed_size_interval_var(t0 - self.origin, t1 - t0, f"fl_{garage}_{t0}"),
                                  min(level, lifts)))
            over = self._add_over_lifts(garage)
            m.add_cumulative([iv for iv, _ in fixed] + [iv for iv, _ in over] + ivs,
                             [d for _, d in fixed] + [d for _, d in over] + [1] * len(ivs), lifts)

    def _add_over_lifts(self, garage: str) -> list[tuple[cp_model.IntervalVar, cp_model.IntVar]]:
        """Where existing lift work exceeds the lifts, its movable part that stays counts only while
        something new (a placement or a moved job) overlaps that span: one interval per span between
        existing lift events, its demand the movable jobs staying there, or 0 while nothing new is there.
        Exact: a new item there sees load = fixed + staying + new, which must be ≤ lifts at its instants,
        so the staying jobs alone must fit beside the fixed ones over the whole span (the span's load is
        constant, as its bounds are every existing start and end)."""
        m = self.model
        stays = self.lift_conflicted_stays.get(garage)
        if not stays:
            return []
        p = self.p
        events = sorted({t for a in p.appointments if a.lift and p.garage_of(a) == garage for t in (a.start, a.end)})
        out = []
        for t0, t1 in zip(events, events[1:]):
            if not any(s <= t0 and t1 <= e for s, e in self.over_lift[garage]):
                continue
            here = [stay for a, stay in stays if a.start < t1 and t0 < a.end]
            if not here:
                continue
            lo, hi = t0 - self.origin, t1 - self.origin
            touching = []
            for iv, present in self.new_lift[garage]:
                starts, ends = m.new_bool_var(""), m.new_bool_var("")
                m.add(iv.start_expr() < hi).only_enforce_if(starts)
                m.add(iv.start_expr() >= hi).only_enforce_if(starts.Not())
                m.add(iv.end_expr() > lo).only_enforce_if(ends)
                m.add(iv.end_expr() <= lo).only_enforce_if(ends.Not())
                overlaps = m.new_bool_var("")
                m.add_bool_and([present, starts, ends]).only_enforce_if(overlaps)
                m.add_bool_or([present.Not(), starts.Not(), ends.Not(), overlaps])
                touching.append(overlaps)
            if not touching:
                continue
            used = m.new_bool_var(f"ol_{garage}_{t0}")
            m.add_max_equality(used, touching)
            demand = m.new_int_var(0, len(here), f"od_{garage}_{t0}")
            m.add(demand == sum(here)).only_enforce_if(used)
            m.add(demand == 0).only_enforce_if(used.Not())
            out.append((m.new_fixed_size_interval_var(lo, hi - lo, f"oi_{garage}_{t0}"), demand))
        return out


    # -- solving -----------------------------------------------------------------------
    def hint(self, placements: list[Placement], moves: list[Move] = ()) -> None:
        """Warm start from a whole plan: the given placements and moves, everything else where it is."""
        by_request = {pl.request: pl for pl in placements}
        by_appointment = {mv.appointment: mv for mv in moves}
        m = self.model
        for rv in self.requests:
            pl = by_request.get(rv.request.id)
            chosen = pl.technician if pl is not None and pl.technician in rv.options else None
            m.add_hint(rv.start, (pl.start - self.origin) // self.slot if chosen else rv.lower)
            for tech_id, (present, _) in rv.options.items():
                m.add_hint(present, tech_id == chosen)
        for mv in self.moves:
            moved = by_appointment.get(mv.appointment.id)
            chosen = moved.technician if moved is not None and moved.technician in mv.options else None
            m.add_hint(mv.stay, chosen is None)
            m.add_hint(mv.shift, abs(moved.start - mv.appointment.start) if chosen else 0)
            m.add_hint(mv.start, (moved.start - self.origin) // self.slot if chosen else mv.anchor)
            for tech_id, present in mv.options.items():
                m.add_hint(present, tech_id == chosen)

    def solve(self, time_limit: float, workers: int, seed: int) -> tuple[SolveStats, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = max(0.01, time_limit)
        solver.parameters.num_workers = workers
        solver.parameters.random_seed = seed
        # Presolve probing and symmetry detection took ~2.8 s of a 2 s budget on a
        # garage-week; without them the search starts at once and finds better plans.
        solver.parameters.cp_model_probing_level = 0
        solver.parameters.symmetry_level = 0
        status = solver.solve(self.model)
        return SolveStats(solver.status_name(status), solver.objective_value, solver.best_objective_bound), solver

    def extract(self, solver: cp_model.CpSolver) -> tuple[list[Placement], list[Move], list[Unplaced]]:
        placements, moves, missing = [], [], []
        for rv in self.requests:
            chosen = [(t, g) for t, (present, g) in rv.options.items() if solver.boolean_value(present)]
            if not chosen:
                missing.append(unplaced(self.p, rv.request))
                continue
            tech_id, garage = chosen[0]
            start = self.origin + solver.value(rv.start) * self.slot
            placements.append(Placement(rv.request.id, garage, tech_id, start, start + rv.request.duration))
        for mv in self.moves:
            if solver.boolean_value(mv.stay):
                continue
            a = mv.appointment
            tech_id = next(t for t, present in mv.options.items() if solver.boolean_value(present))
            start = self.origin + solver.value(mv.start) * self.slot
            moves.append(Move(a.id, tech_id, start, start + a.duration))
        return placements, moves, missing


def _within(free: list[Span], allowed: list[Span], duration: int) -> list[Span]:
    """The parts of the free windows in which a job of `duration` starts inside an allowed span."""
    out = []
    for a, b in free:
        for lo, hi in allowed:
            if lo < b and a <= hi:
                out.append((max(a, lo), min(b, hi + duration)))
    return out


def _without(dom: list[list[int]], value: int) -> list[list[int]]:
    out = []
    for lo, hi in dom:
        if lo <= value <= hi:
            if lo < value:
                out.append([lo, value - 1])
            if value < hi:
                out.append([value + 1, hi])
        else:
            out.append([lo, hi])
    return out


# Up to this many movable jobs a squeeze is one model, proved optimal in a second or two on a two-garage day
# (61-106 movable jobs, measured); beyond, one model of a network's day (1,173 movable jobs: 150,418 at 2 s,
# 8,408: nothing found in 3 s) is far behind the re-plan's search from a constructive start (102,088 at 2 s).
AT_ONCE = 400
# Of a squeeze's time limit, the share the re-plan's search takes before the one model goes on from its plan; and
# from how many requests it does so on a small day too (one or two into a day: the one model proves them at once).
SEARCH_SHARE = 0.5
MANY = 3
# How long a squeeze that left requests with no place may spend placing them greedily, moving what is in the way:
# seconds of its own thread's CPU time, not of the clock on the wall. The greedy walk-in on the demo's full day takes
# 0.14 s; on a machine busy with other processes half a second of wall time was not enough, and the walk-in had no
# place (a CI run; 3 solves in 6 with eight processes busy on two cores).
GREEDY_SECONDS = 0.5


def plan(problem: Problem, time_limit: float, workers: int = 8, seed: int = 0) -> Answer:
    """Squeeze or re-plan as one model; never fails to answer: the no-move plan is the fallback. What is left
    unplaced is said as the re-plan says it: "no technician free" only when there is no room even with
    every movable job gone (another request may have taken it, or the move limit kept it)."""
    from optimizer.insertion import Inserter
    from optimizer.replan import (  # it builds on this model
        WHOLE_AT_ONCE,
        Plan,
        evaluate,
        fill,
        lower_bound,
        replan,
        why_unplaced,
    )

    movable = sum(problem.is_movable(a) for a in problem.appointments)
    if movable > AT_ONCE:
        return replan(problem, time_limit, workers, seed)
    if len(problem.requests) >= MANY or (movable > WHOLE_AT_ONCE and len(problem.requests) > 1):
        # Several requests into a full day: the one model from the no-move plan was twice the re-plan's cost at
        # 2 s (12 requests on a garage's two days: 23,768-26,033 against 12,113). The re-plan's search first, then
        # the one model from its plan, which may prove it optimal; the better of the two.
        started = time.perf_counter()
        searched = replan(problem, time_limit * SEARCH_SHARE, workers, seed)
        answer = _one_model(problem, time_limit - (time.perf_counter() - started), workers, seed, start=searched)
        if answer.fallback or answer.cost is None or searched.cost < answer.cost - 1e-9:
            answer = searched  # the model found nothing better in its time (its fallback is the search's plan)
    else:
        answer = _one_model(problem, time_limit, workers, seed)
    if answer.bound is not None and answer.cost is not None:
        # CP-SAT's own bound is weak until it has searched (-10,099,950 on a mid-size squeeze at 2 s)
        answer.bound = min(answer.cost, max(answer.bound, lower_bound(problem)))
    if answer.unplaced and answer.cost is not None:
        placed = Plan({pl.request: pl for pl in answer.placements}, {mv.appointment: mv for mv in answer.moves},
                      answer.cost)
        filled = fill(problem, placed)  # the model's time ran out with free places left for some
        left = sorted((r for r in problem.requests if r.id not in filled.placements),
                      key=lambda r: -problem.unplaced_cost(r))
        if left and answer.status != "OPTIMAL":
            # no free place, and no answer from the model in its time (a walk-in on a full day, the solver starved
            # of a busy machine's cores: it returned the no-move plan and the walk-in had no place): placed greedily,
            # moving the jobs in its way, when that costs less (optimizer.insertion, the re-plan's constructive start)
            inserter = Inserter(problem, filled.placements, filled.moves, clock=time.thread_time)
            until = time.thread_time() + GREEDY_SECONDS
            for request in left:
                inserter.place(request, until)
            greedy = evaluate(problem, inserter.placements, inserter.moves)
            if greedy is not None and greedy.cost < filled.cost - 1e-9:
                filled = greedy
                answer.fallback = False  # not the no-move plan any more
                answer.notes.append("what the model left unplaced was placed greedily, moving the jobs in its way")
        if filled is not placed:
            placed = filled
            answer.status, answer.placements, answer.cost = "FEASIBLE", list(filled.placements.values()), filled.cost
            answer.moves = list(filled.moves.values())
            if answer.bound is not None:
                answer.bound = min(answer.bound, filled.cost)
        answer.unplaced = [why_unplaced(problem, placed, r) for r in problem.requests if r.id not in placed.placements]
    return answer


def _one_model(problem: Problem, time_limit: float, workers: int = 8, seed: int = 0,
               start: Answer | None = None) -> Answer:
    """One CP-SAT model of the whole squeeze, warm-started from `start` (a feasible answer) or the no-move plan,
    which is also what it falls back to."""
    from optimizer.validate import check_plan  # the validator never calls the solver

    started = time.perf_counter()
    if start is not None and start.cost is not None:
        base = Answer(status="FEASIBLE", placements=list(start.placements), moves=list(start.moves),
                      unplaced=list(start.unplaced), cost=start.cost)
    else:
        base_placements, base_unplaced = no_move_plan(problem)
        base = Answer(status="FEASIBLE", placements=base_placements, unplaced=base_unplaced)
        base.cost = check_plan(problem, base).cost
    try:
        pm = PlanModel(problem)
        pm.hint(base.placements, base.moves)
        remaining = time_limit - (time.perf_counter() - started)
        stats, solver = pm.solve(remaining, workers, seed)
    except Exception as exc:  # noqa: BLE001 - the booking screen must never see a solver error
        base.fallback = True
        base.notes.append(f"solver failed ({type(exc).__name__}: {exc}); no-move plan returned")
        return base
    if stats.status not in ("OPTIMAL", "FEASIBLE"):
        base.fallback = True
        base.notes.append(f"solver found nothing in {time_limit:g} s ({stats.status}); no-move plan returned")
        return base
    placements, moves, missing = pm.extract(solver)
    answer = Answer(status=stats.status, placements=placements, moves=moves, unplaced=missing)
    check = check_plan(problem, answer)
    answer.cost = check.cost
    bound = stats.bound_scaled / SCALE + pm.constant
    if not check.feasible or answer.cost > base.cost + 1e-6:
        base.fallback = True
        base.notes.append("solver answer rejected" + (f": {check.violations[:3]}" if not check.feasible else
                                                      " (worse than the no-move plan)"))
        base.bound = min(bound, base.cost)
        return base
    answer.bound = answer.cost if stats.status == "OPTIMAL" else min(bound, answer.cost)
    return answer
