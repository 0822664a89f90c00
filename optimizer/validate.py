"""Feasibility and cost of an answer, exactly as the format defines them.

Independent of the solver: it never builds a model, so it can judge the solver.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

from optimizer.answer import Answer, Placement
from optimizer.problem import Problem


@dataclass
class Check:
    feasible: bool
    cost: float
    violations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Item:
    name: str
    technician: str
    garage: str
    start: int
    end: int
    lift: bool
    new: bool  # placed or moved: checked against everything


def _inside_a_shift(problem: Problem, tech_id: str, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in problem.technicians[tech_id].shifts)


def check_plan(problem: Problem, answer: Answer) -> Check:
    """Placements and moves (squeeze, replan; empty in offers mode)."""
    bad: list[str] = []
    w = problem.policy.weights
    requests = {r.id: r for r in problem.requests}
    appointments = {a.id: a for a in problem.appointments}
    cost = 0.0
    items: list[_Item] = []
    placed: set[str] = set()
    for pl in answer.placements:
        where = f"placement of {pl.request}"
        r = requests.get(pl.request)
        if r is None:
            bad.append(f"{where}: unknown request")
            continue
        if pl.request in placed:
            bad.append(f"{where}: placed twice")
        placed.add(pl.request)
        tech = problem.technicians.get(pl.technician)
        candidates = dict(problem.candidate_garages(r))
        if tech is None:
            bad.append(f"{where}: unknown technician {pl.technician}")
            continue
        if tech.garage != pl.garage:
            bad.append(f"{where}: {pl.technician} does not work at {pl.garage}")
        if r.skill not in tech.skills:
            bad.append(f"{where}: {pl.technician} lacks skill {r.skill}")
        if pl.garage not in candidates:
            bad.append(f"{where}: {pl.garage} is not a candidate garage")
        if pl.end - pl.start != r.duration:
            bad.append(f"{where}: lasts {pl.end - pl.start} min, not {r.duration}")
        if pl.start % problem.slot:
            bad.append(f"{where}: start is off the {problem.slot}-minute grid")
        if pl.start < problem.now_exact or pl.start < r.origin:
            bad.append(f"{where}: starts before now or before its earliest")
        elif pl.garage in problem.garages and pl.start < problem.arrival(r, pl.garage):
            bad.append(f"{where}: starts before the customer can be at {pl.garage}")
        if r.latest is not None and pl.start > r.latest:
            bad.append(f"{where}: starts after its latest")
        if not _inside_a_shift(problem, pl.technician, pl.start, pl.start + r.duration):
            bad.append(f"{where}: not inside a single shift of {pl.technician}")
        cost += problem.wait_weight(r.urgency) * (pl.start - r.origin)
        cost += w.travel_km * candidates.get(pl.garage, 0.0)
        items.append(_Item(where, pl.technician, tech.garage, pl.start, pl.start + r.duration, r.lift, True))
    for r in problem.requests:
        if r.id not in placed:
            cost += problem.unplaced_cost(r)

    moved: dict[str, _Item] = {}
    for mv in answer.moves:
        where = f"move of {mv.appointment}"
        a = appointments.get(mv.appointment)
        if a is None:
            bad.append(f"{where}: unknown appointment")
            continue
        if mv.appointment in moved:
            bad.append(f"{where}: moved twice")
            continue
        if not problem.is_movable(a):
            bad.append(f"{where}: not movable (status {a.status}, pinned {a.pinned}, mode {problem.mode})")
        tech = problem.technicians.get(mv.technician)
        if tech is None:
            bad.append(f"{where}: unknown technician {mv.technician}")
            continue
        if tech.garage != problem.garage_of(a):
            bad.append(f"{where}: changes garage")
        if a.skill not in tech.skills:
            bad.append(f"{where}: {mv.technician} lacks skill {a.skill}")
        if mv.end - mv.start != a.duration:
            bad.append(f"{where}: lasts {mv.end - mv.start} min, not {a.duration}")
        # A change of technician alone is a move too, and every moved appointment's new start must be
        # on the grid (format, feasibility 3): only work left where it is may stay off the grid.
        if mv.start % problem.slot:
            bad.append(f"{where}: start is off the {problem.slot}-minute grid")
        if mv.start < problem.now_exact:
            bad.append(f"{where}: starts before now")
        if abs(mv.start - a.start) > a.flex_minutes:
            bad.append(f"{where}: shifts {abs(mv.start - a.start)} min, beyond its flex of {a.flex_minutes}")
        if not _inside_a_shift(problem, mv.technician, mv.start, mv.start + a.duration):
            bad.append(f"{where}: not inside a single shift of {mv.technician}")
        cost += w.move + w.shift_minute * abs(mv.start - a.start)
        moved[a.id] = _Item(where, mv.technician, tech.garage, mv.start, mv.start + a.duration, a.lift, True)
    if len(moved) > problem.policy.max_moves:
        bad.append(f"{len(moved)} appointments move, more than max_moves {problem.policy.max_moves}")

    items.extend(moved.values())
    for a in problem.appointments:
        if a.id not in moved:
            items.append(_Item(f"appointment {a.id}", a.technician, problem.garage_of(a), a.start, a.end, a.lift, False))
    bad.extend(_overlaps(problem, items))
    return Check(not bad, cost, bad)


def _overlaps(problem: Problem, items: list[_Item]) -> list[str]:
    bad = []
    by_tech: dict[str, list[_Item]] = defaultdict(list)
    lifts_at: dict[str, list[_Item]] = defaultdict(list)
    for it in items:
        by_tech[it.technician].append(it)
        if it.lift:
            lifts_at[it.garage].append(it)
    for tech_items in by_tech.values():
        new = [it for it in tech_items if it.new]
        for i, it in enumerate(new):
            for other in tech_items:
                if other is it or (other.new and new.index(other) < i):
                    continue
                if other.start < it.end and it.start < other.end:
                    bad.append(f"{it.name} overlaps {other.name} on {it.technician}")
    for garage, lift_items in lifts_at.items():
        capacity = problem.garages[garage].lifts
        for it in (x for x in lift_items if x.new):
            # the load at every instant of the item: check at each start inside it
            instants = {it.start} | {o.start for o in lift_items if it.start < o.start < it.end}
            for t in sorted(instants):
                load = sum(1 for o in lift_items if o.start <= t < o.end)
                if load > capacity:
                    bad.append(f"{it.name}: {load} lift jobs at {garage} at minute {t}, only {capacity} lifts")
                    break
    return bad


def check_offers(problem: Problem, answer: Answer) -> Check:
    """Offers mode: every offer a feasible single placement against the plan, cost as stated."""
    bad: list[str] = []
    if answer.placements or answer.moves:
        bad.append("offers mode: nothing is placed or moved")
    by_request: dict[str, list] = defaultdict(list)
    for o in answer.offers:
        by_request[o.request].append(o)
    total = 0.0
    for r in problem.requests:
        offers = by_request.pop(r.id, [])
        if len(offers) > problem.policy.offers:
            bad.append(f"request {r.id}: {len(offers)} offers, more than {problem.policy.offers}")
        seen = set()
        costs = []
        alone = problem_for_single(problem, r.id)
        for o in offers:
            if (o.garage, o.start) in seen:
                bad.append(f"request {r.id}: two offers at {o.garage} starting at the same time")
            seen.add((o.garage, o.start))
            single = Answer(status="", placements=[Placement(r.id, o.garage, o.technician, o.start, o.end)])
            c = check_plan(alone, single)
            bad.extend(f"offer {o.rank} of {r.id}: {v.split(': ', 1)[-1]}" for v in c.violations)
            costs.append(c.cost)
            if abs(c.cost - o.cost) > 1e-3:
                bad.append(f"offer {o.rank} of {r.id}: cost {o.cost} stated, {c.cost:.3f} by the format")
        if costs != sorted(costs):
            bad.append(f"request {r.id}: offers are not cheapest first")
        total += min(costs) if costs else problem.unplaced_cost(r)
    for rid in by_request:
        bad.append(f"offers for unknown request {rid}")
    return Check(not bad, total, bad)


def problem_for_single(problem: Problem, request_id: str) -> Problem:
    """The same plan with one request alone, as offers mode sees each request."""
    return replace(problem, mode="offers", requests=[r for r in problem.requests if r.id == request_id],
                   _candidates=problem._candidates)


def check_answer(problem: Problem, answer: Answer, statement: bool = False) -> Check:
    """Feasibility and cost; with `statement`, also what a whole answer says of itself (`check_statement`)."""
    check = check_offers(problem, answer) if problem.mode == "offers" else check_plan(problem, answer)
    bad = check_statement(problem, answer, check.cost) if statement else []
    return Check(check.feasible and not bad, check.cost, [*check.violations, *bad])


def check_statement(problem: Problem, answer: Answer, cost: float) -> list[str]:
    """What an answer says of itself, against the format: its status, its bound, which requests it leaves
    unplaced, and the rule offers (exactly what the standard rules give: optimizer.rule)."""
    from optimizer.rule import rule_offers

    bad: list[str] = []
    planned = bool(answer.placements or answer.moves or answer.offers)
    if answer.status not in ("OPTIMAL", "FEASIBLE") and (planned or answer.status != "INFEASIBLE"):
        bad.append(f"status: {answer.status or 'missing'} for an answer with a plan (OPTIMAL or FEASIBLE)"
                   if planned else f"status: {answer.status or 'missing'} (OPTIMAL, FEASIBLE or INFEASIBLE)")
    for name in ("cost", "bound"):  # a number, or (the bound) absent: "1234.0" in quotes states nothing
        value = getattr(answer, name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                  or math.isnan(value)):  # NaN differs from every cost by nothing a test sees
            bad.append(f"{name}: {value!r} is not a number")
    if answer.cost is None:
        bad.append("cost: missing (every answer states the total of the cost section)")
    if isinstance(answer.bound, (int, float)) and answer.bound > cost + 1e-3:
        bad.append(f"bound: {answer.bound} is above the cost {cost:.3f}, so it bounds nothing")
    answered = {o.request for o in answer.offers} if problem.mode == "offers" else \
        {p.request for p in answer.placements}
    said = [u.request for u in answer.unplaced]
    for r in problem.requests:
        if r.id in answered and r.id in said:
            bad.append(f"request {r.id}: both {'offered' if problem.mode == 'offers' else 'placed'} and unplaced")
        elif r.id not in answered and r.id not in said:
            bad.append(f"request {r.id}: neither {'offered' if problem.mode == 'offers' else 'placed'} nor unplaced")
    if not answer.rule_offers_stated:
        bad.append("rule_offers: missing (every answer reports the rule offer of each request, null where none)")
    else:
        expected = dict(zip((r.id for r in problem.requests), rule_offers(problem), strict=True))
        if len(answer.rule_offers) != len(expected):
            bad.append(f"rule_offers: {len(answer.rule_offers)} given, one per request ({len(expected)}) expected")
        else:
            # each names its request; a null stands for the request at its place in the problem
            for r, given in zip(problem.requests, answer.rule_offers, strict=True):
                request = given.request if given is not None and given.request in expected else r.id
                rule = expected[request]
                mine = None if given is None else (given.garage, given.technician, given.start, given.end)
                theirs = None if rule is None else (rule.garage, rule.technician, rule.start, rule.end)
                if mine != theirs:
                    bad.append(f"rule offer of {request}: {_said(mine, problem)} given, the rules give "
                               f"{_said(theirs, problem)}")
    return bad


def _said(slot: tuple | None, problem: Problem) -> str:
    from optimizer.clock import format_instant

    if slot is None:
        return "none"
    garage, technician, start, _end = slot
    return f"{garage}/{technician} at {format_instant(start, problem.zone)}"

