"""A request placed by making room: the constructive start of the re-plan.

For a request that finds no free start, try each qualified technician's grid starts, earliest
first: the movable jobs in the way on that technician, and (for a lift job) enough movable
lift jobs to free a lift over the whole window, are moved, each to the nearest start within its
flex at which some qualified technician of its garage is free and a lift is too. The first start
at which every such job finds a place wins. One level deep, no chains: it is a start for the
search (CP-SAT improves it), not the search itself, but it places most requests that fit once
other work moves, in milliseconds.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from optimizer.answer import Move, Placement
from optimizer.clock import grid_ceil
from optimizer.offers import garage_lower
from optimizer.problem import Appointment, Problem, Request

LONGEST = 7 * 1440  # no job is longer than the format allows (a week): bounds the look-back


@dataclass
class Item:
    id: str  # an appointment's id, or "request:<id>"
    technician: str
    start: int
    end: int
    lift: bool
    appointment: Appointment | None  # None for a placed request


class Board:
    """Every item of a plan by technician and, for lift items, by garage, sorted by start."""

    def __init__(self, problem: Problem, placements: dict[str, Placement], moves: dict[str, Move]):
        self.p = problem
        self.items: dict[str, Item] = {}
        self.by_tech: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.lifts: dict[str, list[tuple[int, str]]] = defaultdict(list)
        requests = {r.id: r for r in problem.requests}
        for a in problem.appointments:
            mv = moves.get(a.id)
            tech, start, end = (mv.technician, mv.start, mv.end) if mv else (a.technician, a.start, a.end)
            self.add(Item(a.id, tech, start, end, a.lift, a))
        for pl in placements.values():
            self.add(Item("request:" + pl.request, pl.technician, pl.start, pl.end, requests[pl.request].lift, None))

    def add(self, item: Item) -> None:
        self.items[item.id] = item
        insort(self.by_tech[item.technician], (item.start, item.id))
        if item.lift:
            insort(self.lifts[self.p.technicians[item.technician].garage], (item.start, item.id))

    def remove(self, item_id: str) -> Item:
        item = self.items.pop(item_id)
        self.by_tech[item.technician].remove((item.start, item.id))
        if item.lift:
            self.lifts[self.p.technicians[item.technician].garage].remove((item.start, item.id))
        return item

    def _overlapping(self, rows: list[tuple[int, str]], start: int, end: int) -> list[Item]:
        out = []
        for i in range(bisect_left(rows, (start - LONGEST,)), bisect_left(rows, (end,))):
            item = self.items[rows[i][1]]
            if item.end > start:
                out.append(item)
        return out

    def on_tech(self, tech: str, start: int, end: int) -> list[Item]:
        return self._overlapping(self.by_tech[tech], start, end)

    def lift_items(self, garage: str, start: int, end: int) -> list[Item]:
        return self._overlapping(self.lifts[garage], start, end)

    def lift_peak(self, garage: str, start: int, end: int, without: set[str] = frozenset()) -> list[tuple[int, int, int]]:
        """(from, to, load) of the lift load over [start, end), ignoring `without`."""
        events: dict[int, int] = defaultdict(int)
        for it in self.lift_items(garage, start, end):
            if it.id not in without:
                events[max(it.start, start)] += 1
                events[min(it.end, end)] -= 1
        out, level = [], 0
        times = sorted(events)
        for t0, t1 in zip(times, times[1:]):
            level += events[t0]
            out.append((t0, t1, level))
        return out


def _in_shift(problem: Problem, tech: str, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in problem.technicians[tech].shifts)


class Inserter:
    def __init__(self, problem: Problem, placements: dict[str, Placement], moves: dict[str, Move]):
        self.p = problem
        self.placements = dict(placements)
        self.moves = dict(moves)
        self.board = Board(problem, self.placements, self.moves)

    def movable(self, item: Item) -> bool:
        return item.appointment is not None and self.p.is_movable(item.appointment)

    def place(self, request: Request, deadline: float, before: float | None = None) -> bool:
        """Place the request at its cheapest start that works, moving what is in the way; with `before`,
        only at a start that ranks before it (a start plus travel, in minutes of waiting)."""
        p = self.p
        # Each shift's starts, merged lazily in rank order: a long shift on a fine grid (a year at
        # 1 minute is half a million starts per technician) must not be listed before the deadline
        # is first looked at.
        options = []
        for garage, km in p.candidate_garages(request):
            lower = garage_lower(p, request, km)
            travel = self._travel(request, km)
            for tech in p.technicians_by_garage[garage]:
                if request.skill not in tech.skills:
                    continue
                for s, e in tech.shifts:
                    options.append(self._starts(request, garage, tech.id, travel, max(s, lower), e))
        for rank, start, tech, garage in heapq.merge(*options):
            if before is not None and rank >= before:
                return False
            if time.perf_counter() > deadline:
                return False
            if self._try(request, tech, garage, start):
                return True
        return False

    def _starts(self, request: Request, garage: str, tech: str, travel: float, lower: int,
                end: int) -> Iterator[tuple[float, int, str, str]]:
        start = grid_ceil(lower, self.p.slot)
        while start + request.duration <= end and (request.latest is None or start <= request.latest):
            yield start + travel, start, tech, garage
            start += self.p.slot

    def _travel(self, request: Request, km: float) -> float:
        """The travel cost in minutes of waiting, so options sort by cost."""
        return self.p.policy.weights.travel_km * km / max(self.p.wait_weight(request.urgency), 1e-9)

    def rank(self, request: Request, placement: Placement) -> float:
        """A placement's start plus its travel, in minutes of waiting: how `place` orders its options."""
        km = dict(self.p.candidate_garages(request)).get(placement.garage, 0.0)
        return placement.start + self._travel(request, km)

    def _try(self, request: Request, tech: str, garage: str, start: int) -> bool:
        end = start + request.duration
        board = self.board
        ejected = board.on_tech(tech, start, end)
        if any(not self.movable(it) for it in ejected):
            return False
        out = {it.id for it in ejected}
        lifts = self.p.garages[garage].lifts
        if request.lift:
            if lifts == 0:
                return False
            for t0, t1, load in board.lift_peak(garage, start, end, out):
                while load >= lifts:
                    # the movable lift job over this span that can go furthest either way
                    spare = [it for it in board.lift_items(garage, t0, t1)
                             if it.id not in out and self.movable(it)]
                    if not spare:
                        return False
                    pick = max(spare, key=lambda it: it.appointment.flex_minutes)
                    out.add(pick.id)
                    ejected.append(pick)
                    load -= 1
        if len(set(self.moves) | out) > self.p.policy.max_moves:
            return False
        # Take the ejected jobs off and the request on, then find each job a new place.
        for it in ejected:
            board.remove(it.id)
        key = "request:" + request.id
        board.add(Item(key, tech, start, end, request.lift, None))
        placed: list[Item] = []
        for it in sorted(ejected, key=lambda x: -(x.end - x.start)):
            spot = self._relocate(it)
            if spot is None:
                for done in placed:
                    board.remove(done.id)
                board.remove(key)
                for back in ejected:
                    board.add(back)
                return False
            board.add(spot)
            placed.append(spot)
        self.placements[request.id] = Placement(request.id, garage, tech, start, end)
        for spot in placed:
            a = spot.appointment
            if spot.technician == a.technician and spot.start == a.start:
                self.moves.pop(a.id, None)
            else:
                self.moves[a.id] = Move(a.id, spot.technician, spot.start, spot.end)
        return True

    def _relocate(self, item: Item) -> Item | None:
        """The nearest place for a job within its flex: a qualified technician free, a lift free."""
        p, board, a = self.p, self.board, item.appointment
        garage = p.garage_of(a)
        duration = a.end - a.start
        lo = max(a.start - a.flex_minutes, p.now)
        hi = a.start + a.flex_minutes
        # Grid starts only, even for a job that sits off the grid: a move there to another technician is
        # still a move, and a moved job starts on the grid (format, feasibility 3).
        starts = sorted({grid_ceil(lo, p.slot) + k * p.slot for k in range((hi - lo) // p.slot + 1)},
                        key=lambda s: abs(s - a.start))
        for s in starts:
            if s < lo or s > hi:
                continue
            e = s + duration
            if a.lift and any(load >= p.garages[garage].lifts for _, _, load in board.lift_peak(garage, s, e)):
                continue
            for tech in p.technicians_by_garage[garage]:
                if a.skill in tech.skills and _in_shift(p, tech.id, s, e) and not board.on_tech(tech.id, s, e):
                    return Item(a.id, tech.id, s, e, a.lift, a)
        return None


def pull_earlier(problem: Problem, placements: dict[str, Placement], moves: dict[str, Move], deadline: float,
                 evaluate) -> tuple[dict[str, Placement], dict[str, Move], float] | None:
    """The placed requests, costliest wait first, each taken off and put back at an earlier start by moving
    what is in the way there (as the constructive start does for a request with no place at all).

    A search that is given a whole plan improves it a neighbourhood at a time and can take minutes to find
    that one late P1 fits this afternoon once three jobs shift by an hour; this finds it in milliseconds.
    `evaluate(placements, moves)` gives a plan's cost (None when infeasible); a change is kept only when
    the whole plan is cheaper. Returns the better plan, or None when nothing was pulled earlier.
    """
    requests = {r.id: r for r in problem.requests}
    current = evaluate(placements, moves)
    if current is None:
        return None
    improved = False

    def late(pl: Placement) -> float:
        return problem.late_cost(requests[pl.request], pl.start)

    for pl in sorted(placements.values(), key=late, reverse=True):
        if time.perf_counter() > deadline or late(pl) <= 0:
            break
        without = {k: v for k, v in placements.items() if k != pl.request}
        inserter = Inserter(problem, without, moves)
        request = requests[pl.request]
        if not inserter.place(request, deadline, before=inserter.rank(request, pl)):
            continue
        cost = evaluate(inserter.placements, inserter.moves)
        if cost is not None and cost < current - 1e-9:
            placements, moves, current, improved = inserter.placements, inserter.moves, cost, True
    return (placements, moves, current) if improved else None
