"""One entry point for every mode: a problem in, an answer out, always within the time limit."""

from __future__ import annotations

import time

from optimizer.answer import Answer
from optimizer.freetime import FreeTime
from optimizer.offers import offers_for, unplaced
from optimizer.problem import Problem
from optimizer.rule import rule_offers

# This machine has 2 cores: 2 workers found better plans in 2 s and 10 s than 1 or 8 (docs/performance.md).
DEFAULT_WORKERS = 2


def solve_offers(problem: Problem, free: FreeTime | None = None) -> Answer:
    free = free or FreeTime(problem)
    answer = Answer(status="OPTIMAL", cost=0.0)
    for request in problem.requests:
        found = offers_for(problem, free, request, problem.policy.offers)
        answer.offers.extend(found)
        if found:
            answer.cost += found[0].cost
        else:
            answer.unplaced.append(unplaced(problem, request, free))
            answer.cost += problem.unplaced_cost(request)
    answer.bound = answer.cost  # exact enumeration: the offers are provably the cheapest
    return answer


def solve(problem: Problem, time_limit: float | None = None, workers: int = DEFAULT_WORKERS,
          seed: int = 0) -> Answer:
    started = time.perf_counter()
    limit = problem.policy.time_limit_seconds if time_limit is None else time_limit
    free = FreeTime(problem)
    if problem.mode == "offers":
        answer = solve_offers(problem, free)
    elif problem.mode == "replan":
        from optimizer.replan import replan

        answer = replan(problem, _left(limit, started), workers=workers, seed=seed)
    else:
        from optimizer.squeeze import plan  # OR-Tools is loaded only when a model is solved

        answer = plan(problem, _left(limit, started), workers=workers, seed=seed)
    answer.rule_offers = rule_offers(problem, free)
    answer.solve_seconds = time.perf_counter() - started
    return answer


# Of the time limit, the least the search keeps, however long loading took.
SEARCH_FLOOR = 0.25


def _left(limit: float, started: float) -> float:
    """What is left of the time limit: loading OR-Tools (about 0.3 s once per process on a quiet machine, 1-3 s on
    a busy one) and reading the free time count against it, as the caller waits for them too; but the search
    keeps a quarter of the limit (a 1 s squeeze left 0.05 s found nothing and answered the no-move plan)."""
    return max(SEARCH_FLOOR * limit, 0.05, limit - (time.perf_counter() - started))
