"""Offers: each request alone against the plan, the cheapest single placements, exactly.

Within one garage the cost only grows with the start, so the k cheapest offers are
among each garage's k earliest distinct starts; garages are visited nearest first and
dropped once their travel cost alone cannot beat the k-th offer found.
"""

from __future__ import annotations

import heapq

from optimizer.answer import Offer, Unplaced
from optimizer.clock import grid_ceil
from optimizer.freetime import FreeTime
from optimizer.problem import Problem, Request


def offer_cost(problem: Problem, request: Request, start: int, km: float) -> float:
    weights = problem.policy.weights
    return problem.wait_weight(request.urgency) * (start - request.origin) + weights.travel_km * km


def offers_for(problem: Problem, free: FreeTime, request: Request, limit: int) -> list[Offer]:
    lower = grid_ceil(request.earliest, problem.slot)
    if request.latest is not None and lower > request.latest:
        return []
    candidates = problem.candidate_garages(request)
    order = sorted(range(len(candidates)), key=lambda i: (candidates[i][1], i))
    wait_floor = problem.wait_weight(request.urgency) * (lower - request.origin)
    best: list[_Worst] = []  # heap of the `limit` best offers, worst on top
    for rank in order:
        garage, km = candidates[rank]
        travel = problem.policy.weights.travel_km * km
        if len(best) == limit and travel + wait_floor > best[0].key[0] + 1e-9:
            break  # nearest first: no farther garage can do better either
        starts: dict[int, str] = {}
        for tech in problem.technicians_by_garage[garage]:
            if request.skill not in tech.skills:
                continue
            for n, start in enumerate(free.starts(tech.id, request.duration, request.lift,
                                                  lower, request.latest)):
                if start not in starts or tech.id < starts[start]:
                    starts[start] = tech.id
                if n + 1 == limit:
                    break
        for start in sorted(starts)[:limit]:
            key = (round(offer_cost(problem, request, start, km), 9), start, rank, starts[start])
            if len(best) < limit:
                heapq.heappush(best, _Worst(key, garage, km))
            elif key < best[0].key:
                heapq.heapreplace(best, _Worst(key, garage, km))
            else:
                break  # later starts here cost more
    ranked = sorted(best, key=lambda n: n.key)
    return [
        Offer(request.id, i + 1, n.garage, n.key[3], n.key[1], n.key[1] + request.duration,
              offer_cost(problem, request, n.key[1], n.km), n.km)
        for i, n in enumerate(ranked)
    ]


class _Worst:
    """Heap entry ordered worst-first, so the heap's top is the offer to drop."""

    __slots__ = ("key", "garage", "km")

    def __init__(self, key: tuple, garage: str, km: float):
        self.key, self.garage, self.km = key, garage, km

    def __lt__(self, other: _Worst) -> bool:
        return self.key > other.key


def unplaced_reason(problem: Problem, request: Request) -> str:
    candidates = problem.candidate_garages(request)
    if not candidates:
        return f"no garage within {problem.policy.max_travel_km:g} km"
    if not any(request.skill in t.skills for g, _ in candidates for t in problem.technicians_by_garage[g]):
        return f"no {request.skill} technician at the candidate garages"
    if request.lift and all(problem.garages[g].lifts == 0 for g, _ in candidates):
        return "no lift at the candidate garages"
    when = "before latest" if request.latest is not None else "in the planning horizon"
    return f"no {request.skill} technician free {when}"


def unplaced(problem: Problem, request: Request) -> Unplaced:
    return Unplaced(request.id, unplaced_reason(problem, request))
