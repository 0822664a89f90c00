"""Free time per technician, indexed once, so a request scans only what it can use.

A technician's free windows are their shifts minus their busy time, kept per shift
(work must fit inside a single shift). A garage's lift-full spans are the instants at
which its lift items already use every lift; a lift job's windows subtract them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from itertools import accumulate

from optimizer.clock import grid_ceil
from optimizer.problem import Problem

Span = tuple[int, int]
FOREVER: Span = (-(10**12), 10**12)


def merge(spans: Iterable[Span]) -> list[Span]:
    out: list[Span] = []
    for s, e in sorted(spans):
        if out and s <= out[-1][1]:
            if e > out[-1][1]:
                out[-1] = (out[-1][0], e)
        else:
            out.append((s, e))
    return out


def subtract(windows: list[Span], blocked: list[Span]) -> list[Span]:
    """Windows minus merged, sorted blocked spans; each window is cut on its own."""
    out: list[Span] = []
    for a, b in windows:
        i = bisect_left(blocked, (a,))
        if i and blocked[i - 1][1] > a:
            i -= 1
        cur = a
        while i < len(blocked) and blocked[i][0] < b:
            s, e = blocked[i]
            if s > cur:
                out.append((cur, s))
            cur = max(cur, e)
            i += 1
        if cur < b:
            out.append((cur, b))
    return out


def saturated(spans: Iterable[Span], capacity: int) -> list[Span]:
    """The spans during which at least `capacity` of the given spans overlap."""
    if capacity <= 0:
        return [FOREVER]
    events: dict[int, int] = defaultdict(int)
    for s, e in spans:
        events[s] += 1
        events[e] -= 1
    out: list[Span] = []
    level, opened = 0, None
    for t in sorted(events):
        level += events[t]
        if level >= capacity and opened is None:
            opened = t
        elif level < capacity and opened is not None:
            out.append((opened, t))
            opened = None
    return merge(out)


class FreeTime:
    """Where each technician can take new work, against a fixed plan."""

    def __init__(self, problem: Problem, exclude: Iterable[str] = ()):
        skip = set(exclude)
        self.problem = problem
        self.slot = problem.slot
        self._busy: dict[str, list[Span]] = defaultdict(list)
        self._lift_items: dict[str, list[Span]] = defaultdict(list)
        for a in problem.appointments:
            if a.id in skip:
                continue
            self._busy[a.technician].append((a.start, a.end))
            if a.lift:
                self._lift_items[problem.garage_of(a)].append((a.start, a.end))
        self._windows: dict[tuple[str, bool], tuple[list[Span], list[int]]] = {}
        self._full: dict[str, list[Span]] = {}

    def occupy(self, technician: str, start: int, end: int, lift: bool) -> None:
        """Add an item to the plan (the no-move baseline places requests one by one)."""
        garage = self.problem.technicians[technician].garage
        self._busy[technician].append((start, end))
        self._windows.pop((technician, False), None)
        self._windows.pop((technician, True), None)
        if lift:
            self._lift_items[garage].append((start, end))
            self._full.pop(garage, None)
            for tech in self.problem.technicians_by_garage[garage]:
                self._windows.pop((tech.id, True), None)

    def lift_full(self, garage: str) -> list[Span]:
        full = self._full.get(garage)
        if full is None:
            full = saturated(self._lift_items[garage], self.problem.garages[garage].lifts)
            self._full[garage] = full
        return full

    def windows(self, technician: str, lift: bool) -> tuple[list[Span], list[int]]:
        """Free windows (sorted) and the running maximum of their ends, for bisecting."""
        key = (technician, lift)
        cached = self._windows.get(key)
        if cached is None:
            tech = self.problem.technicians[technician]
            busy = merge(self._busy[technician])
            free = subtract(list(tech.shifts), busy)
            if lift:
                free = subtract(free, self.lift_full(tech.garage))
            cached = (free, list(accumulate((b for _, b in free), max)))
            self._windows[key] = cached
        return cached

    def starts(self, technician: str, duration: int, lift: bool,
               lower: int, upper: int | None = None) -> Iterator[int]:
        """Grid starts >= lower (and <= upper) at which the whole duration fits, in order."""
        free, reach = self.windows(technician, lift)
        i = bisect_left(reach, lower + duration)
        last = None
        for a, b in free[i:]:
            s = grid_ceil(max(a, lower), self.slot)
            if last is not None and s <= last:
                s = last + self.slot  # only when shifts overlap: never yield a start twice
            while s + duration <= b:
                if upper is not None and s > upper:
                    return
                yield s
                last = s
                s += self.slot

    def first_start(self, technician: str, duration: int, lift: bool,
                    lower: int, upper: int | None = None) -> int | None:
        return next(self.starts(technician, duration, lift, lower, upper), None)
