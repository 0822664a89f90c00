"""The no-move baseline: requests placed one by one, most urgent first, at their best offer.

It is the warm start of the CP-SAT model and the answer whenever the solver fails or
runs out of time with nothing better.
"""

from __future__ import annotations

from optimizer.answer import Placement, Unplaced
from optimizer.freetime import FreeTime
from optimizer.offers import offers_for, unplaced
from optimizer.problem import Problem

URGENCY_ORDER = {"P1": 0, "P2": 1, "P3": 2}


def no_move_plan(problem: Problem) -> tuple[list[Placement], list[Unplaced]]:
    free = FreeTime(problem)
    placements: list[Placement] = []
    missing: list[Unplaced] = []
    for request in sorted(problem.requests, key=lambda r: URGENCY_ORDER[r.urgency]):
        best = offers_for(problem, free, request, 1)
        if not best:
            missing.append(unplaced(problem, request, free))
            continue
        offer = best[0]
        if offer.cost > problem.unplaced_cost(request):  # leaving it out costs less (a small weights.unplaced)
            missing.append(Unplaced(request.id, "every place for it costs more than leaving it unplaced "
                                                "(weights.unplaced)", "not_worth_placing"))
            continue
        placements.append(Placement(request.id, offer.garage, offer.technician, offer.start, offer.end))
        free.occupy(offer.technician, offer.start, offer.end, request.lift)
    return placements, missing
