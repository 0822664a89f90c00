"""A request placed by making room: the constructive start of the re-plan.

For a request that finds no free start, try each qualified technician's grid starts, earliest
first: the movable jobs in the way on that technician, and (for a lift job) enough movable
lift jobs to free a lift over the whole window, are moved, each to the nearest start within its
flex at which some qualified technician of its garage is free and a lift is too, or else where
a few jobs (`width`; and for a lift job one lift job) are in the way and can each go to a free
place: a chain, since on a full week a job's own flex seldom holds a free place but its
neighbours' do. The first start at which every such job finds a place wins. It is a start for
the search (CP-SAT improves it), not the search itself, but it places most requests that fit
once other work moves, in milliseconds.
"""

from __future__ import annotations

import heapq
import time
from bisect import bisect_left, insort
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import pairwise

from optimizer.answer import Move, Placement
from optimizer.clock import grid_ceil
from optimizer.offers import garage_lower
from optimizer.problem import Appointment, Problem, Request

# Each job's possible places (`Inserter._working`), by id: the same for the whole search, so shared by its passes.
Places = dict[str, list[tuple[int, int, list[str]]]]


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
        self.longest = 0  # the longest item ever on the board: how far back an overlap can begin
        requests = {r.id: r for r in problem.requests}
        for a in problem.appointments:
            mv = moves.get(a.id)
            tech, start, end = (mv.technician, mv.start, mv.end) if mv else (a.technician, a.start, a.end)
            self.add(Item(a.id, tech, start, end, a.lift, a))
        for pl in placements.values():
            self.add(Item("request:" + pl.request, pl.technician, pl.start, pl.end, requests[pl.request].lift, None))

    def add(self, item: Item) -> None:
        self.items[item.id] = item
        self.longest = max(self.longest, item.end - item.start)
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
        for i in range(bisect_left(rows, (start - self.longest,)), bisect_left(rows, (end,))):
            item = self.items[rows[i][1]]
            if item.end > start:
                out.append(item)
        return out

    def on_tech(self, tech: str, start: int, end: int) -> list[Item]:
        return self._overlapping(self.by_tech[tech], start, end)

    def free(self, tech: str, start: int, end: int) -> bool:
        """Whether nothing on the technician overlaps [start, end): `on_tech` without its list, nearest item
        first, since the searches ask it millions of times and an overlap is most often the item just before."""
        rows, items = self.by_tech[tech], self.items
        lo = start - self.longest
        i = bisect_left(rows, (end,)) - 1
        while i >= 0 and rows[i][0] >= lo:
            if items[rows[i][1]].end > start:
                return False
            i -= 1
        return True

    def lift_items(self, garage: str, start: int, end: int) -> list[Item]:
        return self._overlapping(self.lifts[garage], start, end)

    def lift_peak(self, garage: str, start: int, end: int, without: set[str] = frozenset(),
                  items: list[Item] | None = None) -> list[tuple[int, int, int]]:
        """(from, to, load) of the lift load over [start, end), ignoring `without`; `items`: the garage's lift
        items over the span, when the caller has them already."""
        events: dict[int, int] = defaultdict(int)
        for it in self.lift_items(garage, start, end) if items is None else items:
            if it.id not in without:
                events[max(it.start, start)] += 1
                events[min(it.end, end)] -= 1
        out, level = [], 0
        times = sorted(events)
        for t0, t1 in pairwise(times):
            level += events[t0]
            out.append((t0, t1, level))
        return out

    def lift_full(self, garage: str, start: int, end: int) -> bool:
        """Whether every lift of the garage is taken at some moment of [start, end)."""
        lifts = self.p.garages[garage].lifts
        items = self.lift_items(garage, start, end)
        # fewer lift jobs over the span than lifts cannot fill them: the searches' commonest answer, with no sweep
        return len(items) >= lifts and any(
            load >= lifts for _, _, load in self.lift_peak(garage, start, end, items=items))


def dearest_first(problem: Problem, requests) -> list[Request]:
    """Requests in the order they are placed: the dearest wait first, the longest first among equals."""
    return sorted(requests, key=lambda r: (-problem.wait_weight(r.urgency), -r.duration, r.id))


def _in_shift(problem: Problem, tech: str, start: int, end: int) -> bool:
    return any(s <= start and end <= e for s, e in problem.technicians[tech].shifts)


class Inserter:
    def __init__(self, problem: Problem, placements: dict[str, Placement], moves: dict[str, Move],
                 places: Places | None = None, thorough: bool = True, width: int = 2, step: int | None = None,
                 clock: Callable[[], float] = time.perf_counter):
        self.p = problem
        # what its deadlines are read on: wall time, or the thread's own CPU time for a greedy answer that must not
        # depend on how busy the machine is (optimizer.squeeze's fallback)
        self.clock = clock
        self.thorough = thorough
        # The starts it tries, every `step` minutes (a multiple of the slot, so on the grid): a coarser step is a
        # quicker first plan on a fine grid (`places` must then be kept for that step alone).
        self.step = step or problem.slot
        # How many jobs may be in a chain's way. Two found a P1's place today on garage-weeks where one left it
        # for tomorrow, but spend moves faster: the re-plan rebuilds with both and keeps the cheaper.
        self.width = width
        self._places = {} if places is None else places  # a job's possible places (`_working`), shareable
        self.placements = dict(placements)
        self.moves = dict(moves)
        self.board = Board(problem, self.placements, self.moves)
        self._requests = {r.id: r for r in problem.requests}

    def movable(self, item: Item) -> bool:
        return item.appointment is not None and self.p.is_movable(item.appointment)

    def place(self, request: Request, deadline: float, before: float | None = None, bump: bool = False,
              judge: Callable[[Inserter], bool] | None = None) -> bool:
        """Place the request at its cheapest start that works, moving what is in the way; with `before`,
        only at a start that ranks before it (a start plus travel, in minutes of waiting).

        With `bump`, requests placed in the way that wait no more dearly than this one are taken off
        and placed again after it (wherever each then fits best, moving work, but bumping nothing):
        two P1s placed in the wrong order, or a P3 on the only afternoon a P1 fits. With `judge`, a
        start that works is kept only when `judge(self)` says so (the whole plan is cheaper, say);
        otherwise it is undone and the next start tried."""
        # Chains cost two moves and, on a full week, most of the search's time: unless `thorough`, a request of
        # the cheapest kind (a P3 waits a day for what a move and its shift cost) gets them only when nothing
        # else places it.
        if self.thorough or self.p.wait_weight(request.urgency) > min(self.p.policy.weights.wait.values()):
            return self._place(request, deadline, before, bump, judge, True)
        return self._place(request, deadline, before, bump, judge, False) or (
            self.clock() < deadline and self._place(request, deadline, before, bump, judge, True))

    def _place(self, request: Request, deadline: float, before: float | None, bump: bool,
               judge: Callable[[Inserter], bool] | None, chain: bool) -> bool:
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
            if self.clock() > deadline:
                return False
            if self._try(request, tech, garage, start, bump, deadline, judge, chain):
                return True
        return False

    def _starts(self, request: Request, garage: str, tech: str, travel: float, lower: int,
                end: int) -> Iterator[tuple[float, int, str, str]]:
        start = grid_ceil(lower, self.step)
        while start + request.duration <= end and (request.latest is None or start <= request.latest):
            yield start + travel, start, tech, garage
            start += self.step

    def _travel(self, request: Request, km: float) -> float:
        """The travel cost in minutes of waiting, so options sort by cost."""
        return self.p.policy.weights.travel_km * km / max(self.p.wait_weight(request.urgency), 1e-9)

    def rank(self, request: Request, placement: Placement) -> float:
        """A placement's start plus its travel, in minutes of waiting: how `place` orders its options."""
        km = dict(self.p.candidate_garages(request)).get(placement.garage, 0.0)
        return placement.start + self._travel(request, km)

    def _try(self, request: Request, tech: str, garage: str, start: int, bump: bool, deadline: float,
             judge: Callable[[Inserter], bool] | None, chain: bool) -> bool:
        end = start + request.duration
        board = self.board
        ejected = board.on_tech(tech, start, end)
        bumped = [self._requests[it.id[len("request:"):]] for it in ejected if it.appointment is None]
        if bumped and not (bump and all(self.p.wait_weight(q.urgency) <= self.p.wait_weight(request.urgency)
                                        for q in bumped)):
            return False
        ejected = [it for it in ejected if it.appointment is not None]
        if any(not self.movable(it) for it in ejected):
            return False
        out = {it.id for it in ejected}
        gone = out | {"request:" + q.id for q in bumped}  # what leaves the lifts too
        lifts = self.p.garages[garage].lifts
        if request.lift:
            if lifts == 0:
                return False
            for t0, t1, load in board.lift_peak(garage, start, end, gone):
                while load >= lifts:
                    # the movable lift job over this span that can go furthest either way
                    spare = [it for it in board.lift_items(garage, t0, t1)
                             if it.id not in gone and self.movable(it)]
                    if not spare:
                        return False
                    pick = max(spare, key=lambda it: it.appointment.flex_minutes)
                    out.add(pick.id)
                    gone.add(pick.id)
                    ejected.append(pick)
                    load -= 1
        if len(set(self.moves) | out) > self.p.policy.max_moves:
            return False
        saved = self._save()
        for q in bumped:
            board.remove("request:" + q.id)
            del self.placements[q.id]
        # Take the ejected jobs off and the request on, then find each job a new place.
        for it in ejected:
            board.remove(it.id)
        board.add(Item("request:" + request.id, tech, start, end, request.lift, None))
        placed: list[Item] = []
        for it in sorted(ejected, key=lambda x: -(x.end - x.start)):
            spots = self._relocate(it, chain, deadline)
            if spots is None:
                self._load(saved)
                return False
            placed.extend(spots)
        self.placements[request.id] = Placement(request.id, garage, tech, start, end)
        for spot in placed:  # in order: a job a chain moved twice ends where it went last
            a = spot.appointment
            if spot.technician == a.technician and spot.start == a.start:
                self.moves.pop(a.id, None)
            else:
                self.moves[a.id] = Move(a.id, spot.technician, spot.start, spot.end)
        if len(self.moves) > self.p.policy.max_moves:
            self._load(saved)
            return False
        for q in dearest_first(self.p, bumped):
            if not self.place(q, deadline):
                self._load(saved)
                return False
        if judge is not None and not judge(self):
            self._load(saved)
            return False
        return True

    def tidy(self) -> int:
        """Put back where they were booked the moved jobs whose place has come free again (other moves
        made room, a request left): each is a move's cost saved and one more move the limit allows.
        Returns how many went back."""
        board, back = self.board, 0
        for job_id in sorted(self.moves):
            a = board.items[job_id].appointment
            board.remove(job_id)
            if board.free(a.technician, a.start, a.end) and not (
                    a.lift and board.lift_full(self.p.garage_of(a), a.start, a.end)):
                board.add(Item(a.id, a.technician, a.start, a.end, a.lift, a))
                del self.moves[job_id]
                back += 1
            else:
                mv = self.moves[job_id]
                board.add(Item(a.id, mv.technician, mv.start, mv.end, a.lift, a))
        return back

    def _save(self):
        """A copy of the plan and its board, for `_load` to restore once (every caller returns after it)."""
        board = self.board
        return (dict(self.placements), dict(self.moves), dict(board.items),
                defaultdict(list, {k: list(v) for k, v in board.by_tech.items()}),
                defaultdict(list, {k: list(v) for k, v in board.lifts.items()}))

    def _load(self, saved) -> None:
        self.placements, self.moves, self.board.items, self.board.by_tech, self.board.lifts = saved

    def _working(self, a: Appointment) -> list[tuple[int, int, list[str]]]:
        """Where a job may go, nearest first: each start within its flex and the qualified technicians
        working over it (the same for the whole search: only who is free there changes)."""
        p = self.p
        duration = a.end - a.start
        lo = max(a.start - a.flex_minutes, p.now)
        hi = a.start + a.flex_minutes
        # Grid starts only, even for a job that sits off the grid: a move there to another technician is
        # still a move, and a moved job starts on the grid (format, feasibility 3).
        step = self.step
        starts = [s for s in sorted({grid_ceil(lo, step) + k * step for k in range((hi - lo) // step + 1)},
                                    key=lambda s: abs(s - a.start)) if lo <= s <= hi]
        qualified = [t.id for t in p.technicians_by_garage[p.garage_of(a)] if a.skill in t.skills]
        return [(s, s + duration, [t for t in qualified if _in_shift(p, t, s, s + duration)]) for s in starts]

    def _relocate(self, item: Item, chain: bool, deadline: float) -> list[Item] | None:
        """The nearest place for a job within its flex: a qualified technician free, a lift free; failing
        that (with `chain`), a place where up to `width` movable jobs on the technician, and for a lift job
        one movable lift job, are in the way and can each go to a free place of their own. The places are put
        on the board and returned (the job's, then the others'); None leaves the board as it was."""
        p, board, a = self.p, self.board, item.appointment
        garage = p.garage_of(a)
        if a.lift and p.garages[garage].lifts == 0:
            return None  # where it is was never checked against the lifts; a new place would be
        working = self._places.get(a.id)
        if working is None:
            working = self._places[a.id] = self._working(a)
        for s, e, techs in working:
            # a free technician first: on a full week few are, and the lift count costs more to read
            tech = next((t for t in techs if board.free(t, s, e)), None)
            if tech is None or (a.lift and board.lift_full(garage, s, e)):
                continue
            spot = Item(a.id, tech, s, e, a.lift, a)
            board.add(spot)
            return [spot]
        if not chain:
            return None
        for s, e, techs in working:
            if self.clock() > deadline:  # each start may try every technician's chain: a long flex is many
                return None
            for tech in techs:
                out = board.on_tech(tech, s, e)
                if len(out) > self.width or any(not self.movable(b) for b in out):
                    continue
                if a.lift:
                    spare = self._spare_lift(garage, s, e, {b.id for b in out if b.lift})
                    if spare is None:
                        continue
                    out = out + spare
                for b in out:
                    board.remove(b.id)
                spot = Item(a.id, tech, s, e, a.lift, a)
                board.add(spot)
                found: list[Item] = [spot]
                for b in out:
                    more = self._relocate(b, False, deadline)
                    if more is None:
                        break
                    found.extend(more)
                else:
                    return found
                for done in found:
                    board.remove(done.id)
                for b in out:
                    board.add(b)
        return None

    def _spare_lift(self, garage: str, start: int, end: int, gone: set[str]) -> list[Item] | None:
        """What must leave for a lift to be free over [start, end) once `gone` has: nothing ([]), one
        movable lift job over every full moment (the one with most flex, so most room to go), or None.
        The garage has lifts: a lift job is never given a new place where there are none."""
        lifts = self.p.garages[garage].lifts
        full = [(t0, t1, load) for t0, t1, load in self.board.lift_peak(garage, start, end, gone) if load >= lifts]
        if not full:
            return []
        if any(load > lifts for _, _, load in full):
            return None
        spare = [it for it in self.board.lift_items(garage, full[0][0], full[-1][1])
                 if it.id not in gone and self.movable(it) and all(it.start < t1 and it.end > t0 for t0, t1, _ in full)]
        if not spare:
            return None
        return [max(spare, key=lambda it: (it.appointment.flex_minutes, it.id))]


def pull_earlier(problem: Problem, placements: dict[str, Placement], moves: dict[str, Move], deadline: float,
                 evaluate, places: Places | None = None) -> tuple[dict[str, Placement], dict[str, Move], float] | None:
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
    places = {} if places is None else places
    tidied = Inserter(problem, placements, moves, places)
    if tidied.tidy():
        cost = evaluate(tidied.placements, tidied.moves)
        if cost is not None and cost < current - 1e-9:
            placements, moves, current, improved = tidied.placements, tidied.moves, cost, True

    def late(pl: Placement) -> float:
        return problem.late_cost(requests[pl.request], pl.start)

    for pl in sorted(placements.values(), key=late, reverse=True):
        if time.perf_counter() > deadline or late(pl) <= 0:
            break
        without = {k: v for k, v in placements.items() if k != pl.request}
        inserter = Inserter(problem, without, moves, places)
        request = requests[pl.request]
        found: list[float] = []

        def cheaper(attempt: Inserter, current: float = current, found: list[float] = found) -> bool:
            cost = evaluate(attempt.placements, attempt.moves)
            if cost is None or cost >= current - 1e-9:
                return False
            found.append(cost)
            return True

        if inserter.place(request, deadline, before=inserter.rank(request, pl), bump=True, judge=cheaper):
            placements, moves, current, improved = inserter.placements, inserter.moves, found[-1], True
    return (placements, moves, current) if improved else None
