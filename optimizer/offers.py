"""Offers: each request alone against the plan, the cheapest single placements, exactly.

Within one garage the cost only grows with the start, so a garage's offers come from its
distinct starts, earliest first. The garages are searched best-first: each enters a heap keyed
by a lower bound on its cost (its travel, and the wait until the customer can be there), and is
only looked into when that bound is the cheapest thing left. Looking into it gives its first
real offer; taking an offer brings in the garage's next one. The search stops at the k-th offer
taken, so a P1 looks only at the few garages that can start soonest, and the answer is the one
an exhaustive scan of every candidate garage gives (ties included: cost, then start, then the
garage's place in the candidate order, then technician id).
"""

from __future__ import annotations

from dataclasses import replace
from heapq import heapify, heappop, heappush

from optimizer.answer import Offer, Unplaced
from optimizer.clock import grid_ceil
from optimizer.freetime import FreeTime
from optimizer.problem import Problem, Request, Technician


def offer_cost(problem: Problem, request: Request, start: int, km: float) -> float:
    weights = problem.policy.weights
    return problem.wait_weight(request.urgency) * (start - request.origin) + weights.travel_km * km


def garage_lower(problem: Problem, request: Request, km: float) -> int:
    """The first grid start the request may have at a garage `km` away: earliest, and the customer there."""
    lower = request.earliest
    if request.location is not None and problem.policy.travel_speed_kmh is not None:
        lower = max(lower, problem.arrival_after_km(km))
    return grid_ceil(lower, problem.slot)


class GarageStarts:
    """One garage's distinct starts for a request, earliest first, each with its first technician by id."""

    def __init__(self, free: FreeTime, techs: list[Technician], request: Request, lower: int, upper: int | None):
        self.free, self.request, self.upper = free, request, upper
        heap = []
        # (start, the technician's place in the garage's order by id, their id): `techs` come in that order
        for place, tech in enumerate(techs):
            if request.skill in tech.skills:
                start = free.first_start(tech.id, request.duration, request.lift, lower, upper)
                if start is not None:
                    heap.append((start, place, tech.id))
        heapify(heap)
        self.heap = heap

    def next(self) -> tuple[int, str] | None:
        heap = self.heap
        if not heap:
            return None
        start, _, first = heap[0]
        after = start + self.free.slot
        while heap and heap[0][0] == start:
            _, place, tech = heappop(heap)
            later = self.free.first_start(tech, self.request.duration, self.request.lift, after, self.upper)
            if later is not None:
                heappush(heap, (later, place, tech))
        return start, first


def offers_for(problem: Problem, free: FreeTime, request: Request, limit: int) -> list[Offer]:
    candidates = problem.candidate_garages(request)
    wait_w = problem.wait_weight(request.urgency)
    travel_w = problem.policy.weights.travel_km
    latest = request.latest
    # (cost key, start, candidate rank, technician, garage's starts); a bound has no technician
    # yet (''), which sorts it before any real offer of its garage with the same cost and start.
    heap: list[tuple] = []
    for rank, (garage, km) in enumerate(candidates):
        lower = garage_lower(problem, request, km)
        if latest is None or lower <= latest:
            heap.append((round(wait_w * (lower - request.origin) + travel_w * km, 9), lower, rank, "", None))
    heapify(heap)
    by_garage = problem.technicians_by_garage
    found: list[Offer] = []
    while heap and len(found) < limit:
        _, start, rank, tech, starts = heappop(heap)
        garage, km = candidates[rank]
        if starts is None:
            starts = GarageStarts(free, by_garage[garage], request, start, latest)
        else:
            cost = offer_cost(problem, request, start, km)
            found.append(Offer(request.id, len(found) + 1, garage, tech, start, start + request.duration, cost, km))
        following = starts.next()
        if following is not None:
            start, tech = following
            heappush(heap, (round(offer_cost(problem, request, start, km), 9), start, rank, tech, starts))
    return found


def unplaced_reason(problem: Problem, request: Request, free: FreeTime | None = None) -> str:
    """Why the request has no place, the first true reason found: no garage, no skill, no lift, no time it may
    start in (earliest after latest, or the customer arriving too late), no shift long enough, every lift taken
    when someone is free, or everyone busy. `free` is the plan it was looked for in (the problem's, by default)."""
    if problem.mode == "offers" and problem.policy.offers == 0:
        return "no offer asked for (policy.offers is 0)"
    candidates = problem.candidate_garages(request)
    if not candidates:
        # An empty list of its own, or no limit (max_travel_km null) with no garage at all: no distance to name.
        limit = problem.policy.max_travel_km
        if request.garages is not None:
            return "the request lists no garage"
        return "no garage in the problem" if limit is None else f"no garage within {limit:g} km"
    if not any(request.skill in t.skills for g, _ in candidates for t in problem.technicians_by_garage[g]):
        return f"no {request.skill} technician at the candidate garages"
    if request.lift and all(problem.garages[g].lifts == 0 for g, _ in candidates):
        return "no lift at the candidate garages"
    when = "before latest" if request.latest is not None else "in the planning horizon"
    if request.latest is not None and request.earliest > request.latest:
        return "earliest is after latest"
    lowers = {g: garage_lower(problem, request, km) for g, km in candidates}
    if request.latest is not None and min(lowers.values()) > request.latest:
        return "the customer cannot reach a candidate garage before latest"

    def room(plan: FreeTime, lift: bool) -> bool:
        return any(plan.first_start(t.id, request.duration, lift, lowers[g], request.latest) is not None
                   for g, _ in candidates for t in problem.technicians_by_garage[g] if request.skill in t.skills)

    if not room(FreeTime(replace(problem, appointments=[], _candidates=problem._candidates)), False):  # none booked
        arriving = " once the customer can be there" if problem.policy.travel_speed_kmh is not None \
            and request.location is not None else ""
        return f"no {request.skill} shift with {request.duration} free minutes {when}{arriving}"
    free = free or FreeTime(problem)
    if request.lift and room(free, False):
        return f"every lift is taken whenever a {request.skill} technician is free {when}"
    return f"no {request.skill} technician free {when}"


def unplaced(problem: Problem, request: Request, free: FreeTime | None = None) -> Unplaced:
    return Unplaced(request.id, unplaced_reason(problem, request, free))
