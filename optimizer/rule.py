"""The rule offer: what the standard rules alone give one request, with no moves.

It is the counterfactual of every override, so it is computed exactly as the format defines
it, and says which rule made it late: as facts (LateReason) for planners' statistics, and in
English for people.
"""

from __future__ import annotations

from optimizer.answer import LateReason, RuleOffer
from optimizer.clock import format_instant, grid_ceil
from optimizer.freetime import FreeTime
from optimizer.offers import garage_lower
from optimizer.problem import Problem, Request

Found = tuple[int, int, str]  # (start, index among the garages looked at, technician)


def earliest_at(free: FreeTime, problem: Problem, request: Request, garages: list[tuple[str, float]],
                lower: int, lift: bool | None = None, before: int | None = None) -> Found | None:
    """The first fit at these (garage, km) from `lower` and each garage's arrival; ties by garage order, then id.

    With `before`, only a start at or before it counts.
    """
    lift = request.lift if lift is None else lift
    cap = request.latest if before is None else min(before, request.latest if request.latest is not None else before)
    lower = grid_ceil(lower, problem.slot)
    best: Found | None = None
    for index, (garage, km) in enumerate(garages):
        # A later garage must start strictly earlier, and so must a later technician (ids ascend).
        upper = cap if best is None else best[0] - 1
        start_at = max(lower, garage_lower(problem, request, km))
        if upper is not None and start_at > upper:
            continue
        for tech in problem.technicians_by_garage[garage]:
            if request.skill not in tech.skills:
                continue
            start = free.first_start(tech.id, request.duration, lift, start_at, upper)
            if start is not None:
                best, upper = (start, index, tech.id), start - 1
                if start == start_at:
                    break  # nothing at this garage can be earlier
    return best


def rule_offer(problem: Problem, free: FreeTime, request: Request) -> RuleOffer | None:
    candidates = problem.candidate_garages(request)
    home = candidates[: problem.policy.rule.garages]
    notice = problem.policy.rule.notice(request.urgency)
    lower = max(problem.now + notice, request.earliest)
    if request.latest is not None and grid_ceil(lower, problem.slot) > request.latest:
        return None
    found = earliest_at(free, problem, request, home, lower)
    if found is None:
        return None
    start, index, tech = found
    reasons = late_reasons(problem, free, request, candidates, index, start, notice)
    return RuleOffer(request.id, home[index][0], tech, start, start + request.duration,
                     late_because=describe(problem, request, reasons), reasons=reasons)


def rule_offers(problem: Problem, free: FreeTime | None = None) -> list[RuleOffer | None]:
    """The rule offer of every request, in the problem's order (None where the rules offer nothing)."""
    free = free or FreeTime(problem)
    return [rule_offer(problem, free, request) for request in problem.requests]


def late_reasons(problem: Problem, free: FreeTime, request: Request, candidates: list[tuple[str, float]],
                 index: int, start: int, notice: int) -> tuple[LateReason, ...]:
    """Why the rule offer (at candidates[index], `start`) is not earlier."""
    rule_garages = problem.policy.rule.garages
    home, others = candidates[:rule_garages], candidates[rule_garages:]
    if start <= grid_ceil(max(problem.now, request.earliest), problem.slot):
        return (LateReason("none"),)
    reasons = []
    sooner_home = earliest_at(free, problem, request, home, request.earliest, before=start - 1)
    if sooner_home is not None:
        reasons.append(LateReason("min_notice", free_at=sooner_home[0], minutes=notice))
    sooner_other = earliest_at(free, problem, request, others, request.earliest, before=start - 1) if others else None
    if sooner_other is not None:
        reasons.append(LateReason("rule_garages", free_at=sooner_other[0], garage=others[sooner_other[1]][0],
                                  minutes=rule_garages))
    if reasons:
        return tuple(reasons)
    garage, km = candidates[index]
    if request.location is not None and start == garage_lower(problem, request, km):
        return (LateReason("travel", garage=garage, minutes=problem.arrival_after_km(km) - problem.now),)
    if request.lift:
        no_lift = earliest_at(free, problem, request, home, request.earliest, lift=False, before=start - 1)
        if no_lift is not None:
            return (LateReason("lifts_full", free_at=no_lift[0]),)
    return (LateReason("no_technician"),)


def describe(problem: Problem, request: Request, reasons: tuple[LateReason, ...]) -> str:
    """The reasons in English, as the JSON answer and the desk show them."""

    def at(minute: int | None) -> str:
        return format_instant(minute or 0, problem.zone)[:16].replace("T", " ")

    words = {
        "none": lambda r: "nothing: the first possible slot",
        "min_notice": lambda r: f"minimum notice of {r.minutes} min (free at {at(r.free_at)} otherwise)",
        "rule_garages": lambda r: f"only the first {r.minutes} garage(s) are looked at "
                                  f"({r.garage} is free at {at(r.free_at)})",
        "lifts_full": lambda r: f"every lift is taken until then (a technician is free at {at(r.free_at)})",
        "no_technician": lambda r: f"no {request.skill} technician is free earlier",
        "travel": lambda r: f"the customer cannot be at {r.garage} earlier ({r.minutes} min away)",
    }
    return "; ".join(words[r.code](r) for r in reasons)
