"""The rule offer: what the standard rules alone give one request, with no moves.

It is the counterfactual of every override, so it is computed exactly as the format
defines it and says which rule made it late.
"""

from __future__ import annotations

from optimizer.answer import RuleOffer
from optimizer.clock import format_instant, grid_ceil
from optimizer.freetime import FreeTime
from optimizer.problem import Problem, Request


def earliest_at(free: FreeTime, problem: Problem, request: Request, garages: list[str],
                lower: int, lift: bool | None = None) -> tuple[int, int, str] | None:
    """(start, garage rank, technician) of the first fit at these garages, ties by rank then id."""
    lift = request.lift if lift is None else lift
    best: tuple[int, int, str] | None = None
    for rank, garage in enumerate(garages):
        for tech in problem.technicians_by_garage[garage]:
            if request.skill not in tech.skills:
                continue
            upper = request.latest if best is None else min(best[0], request.latest or best[0])
            start = free.first_start(tech.id, request.duration, lift, lower, upper)
            if start is not None and (best is None or (start, rank, tech.id) < best):
                best = (start, rank, tech.id)
    return best


def rule_offer(problem: Problem, free: FreeTime, request: Request) -> RuleOffer | None:
    candidates = [g for g, _ in problem.candidate_garages(request)]
    home = candidates[: problem.policy.rule.garages]
    notice = problem.policy.rule.min_notice_minutes
    lower = grid_ceil(max(problem.now + notice, request.earliest), problem.slot)
    if request.latest is not None and lower > request.latest:
        return None
    found = earliest_at(free, problem, request, home, lower)
    if found is None:
        return None
    start, rank, tech = found
    return RuleOffer(request.id, home[rank], tech, start, start + request.duration,
                     late_because=_late_because(problem, free, request, candidates, home, start, notice))


def _late_because(problem: Problem, free: FreeTime, request: Request, candidates: list[str],
                  home: list[str], start: int, notice: int) -> str:
    def at(minute: int) -> str:
        return format_instant(minute, problem.zone)[:16].replace("T", " ")

    now_lower = grid_ceil(max(problem.now, request.earliest), problem.slot)
    if start <= now_lower:
        return "nothing: the first possible slot"
    reasons = []
    sooner_home = earliest_at(free, problem, request, home, now_lower)
    if sooner_home is not None and sooner_home[0] < start:
        reasons.append(f"minimum notice of {notice} min (free at {at(sooner_home[0])} otherwise)")
    others = [g for g in candidates if g not in home]
    sooner_other = earliest_at(free, problem, request, others, now_lower) if others else None
    if sooner_other is not None and sooner_other[0] < start:
        reasons.append(f"only the first {len(home)} garage(s) are looked at "
                       f"({others[sooner_other[1]]} is free at {at(sooner_other[0])})")
    if not reasons:
        if request.lift:
            no_lift = earliest_at(free, problem, request, home, now_lower, lift=False)
            if no_lift is not None and no_lift[0] < start:
                reasons.append(f"every lift is taken until then (a technician is free at {at(no_lift[0])})")
        if not reasons:
            reasons.append(f"no {request.skill} technician is free earlier")
    return "; ".join(reasons)
