"""Free time per technician, so a request scans only what it can use.

A technician's free windows are their shifts minus their busy time, kept per shift (work must
fit inside a single shift), built the first time the technician is asked about. A garage's
lift-full spans are the instants at which its lift items already use every lift; a lift job
skips them as it looks for a start.

Memory matters here: a 3,000-garage network has over a million appointments, so busy time is
kept as flat lists of minutes until a technician's windows are built, and windows as three
lists of minutes (starts, ends, and the running maximum of ends, for bisecting).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate
from operator import le

from optimizer.problem import Problem

Span = tuple[int, int]
FOREVER: Span = (-(10**12), 10**12)
Windows = tuple[list[int], list[int], list[int]]  # starts, ends, running maximum of ends


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
    add, n = out.append, len(blocked)
    for a, b in windows:
        i = bisect_left(blocked, (a,))
        if i and blocked[i - 1][1] > a:
            i -= 1
        cur = a
        while i < n:
            s, e = blocked[i]
            if s >= b:
                break
            if s > cur:
                add((cur, s))
            if e > cur:  # noqa: PLR1730 (a max() call per span was a tenth of building windows)
                cur = e
            i += 1
        if cur < b:
            add((cur, b))
    return out


def saturated(spans: Iterable[Span], capacity: int) -> list[Span]:
    """The spans during which at least `capacity` of the given spans overlap."""
    if capacity <= 0:
        return [FOREVER]
    events: dict[int, int] = {}
    for s, e in spans:
        events[s] = events.get(s, 0) + 1
        events[e] = events.get(e, 0) - 1
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


def _pairs(flat: list[int]) -> Iterator[Span]:
    it = iter(flat)
    return zip(it, it)


def _as_windows(spans: list[Span]) -> Windows:
    starts = [a for a, _ in spans]
    ends = [b for _, b in spans]
    ordered = all(x <= y for x, y in zip(ends, ends[1:]))
    # Windows of one shift never overlap; only overlapping shifts make ends go back.
    return starts, ends, ends if ordered else list(accumulate(ends, max))


class FreeTime:
    """Where each technician can take new work, against a fixed plan."""

    def __init__(self, problem: Problem, exclude: Iterable[str] = ()):
        skip = set(exclude)
        self.problem = problem
        self.slot = problem.slot
        self._busy: dict[str, list[int]] = {}
        self._lift_items: dict[str, list[int]] = {}
        garage_of = {t.id: t.garage for t in problem.technicians.values()}
        busy, lifts = self._busy, self._lift_items
        for a in problem.appointments:
            if skip and a.id in skip:
                continue
            flat = busy.get(a.technician)
            if flat is None:
                flat = busy[a.technician] = []
            flat.append(a.start)
            flat.append(a.end)
            if a.lift:
                garage = garage_of[a.technician]
                flat = lifts.get(garage)
                if flat is None:
                    flat = lifts[garage] = []
                flat.append(a.start)
                flat.append(a.end)
        self._windows: dict[str, Windows] = {}
        self._full: dict[str, tuple[list[int], list[int]]] = {}

    def occupy(self, technician: str, start: int, end: int, lift: bool) -> None:
        """Add an item to the plan (the no-move baseline places requests one by one)."""
        garage = self.problem.technicians[technician].garage
        starts, ends, _ = self.windows_of(technician)
        self._windows[technician] = _as_windows(subtract(list(zip(starts, ends)), [(start, end)]))
        if lift:
            self._lift_items.setdefault(garage, []).extend((start, end))
            self._full.pop(garage, None)

    def lift_full(self, garage: str) -> tuple[list[int], list[int]]:
        """The starts and ends of the spans in which every lift of the garage is taken."""
        full = self._full.get(garage)
        if full is None:
            spans = saturated(_pairs(self._lift_items.get(garage, [])), self.problem.garages[garage].lifts)
            full = self._full[garage] = ([s for s, _ in spans], [e for _, e in spans])
        return full

    def windows_of(self, technician: str) -> Windows:
        cached = self._windows.get(technician)
        if cached is None:
            tech = self.problem.technicians[technician]
            flat = self._busy.pop(technician, [])
            starts, ends = flat[0::2], flat[1::2]
            if all(map(le, starts, ends)) and all(map(le, ends, starts[1:])):
                # In order and apart already (a plan usually is): what `subtract` needs, as
                # merging would give it (spans that only touch cut a window the same way).
                busy = list(zip(starts, ends))
            else:
                busy = merge(_pairs(flat))
            cached = self._windows[technician] = _as_windows(subtract(list(tech.shifts), busy))
        return cached

    def windows(self, technician: str, lift: bool = False) -> list[Span]:
        """Free windows (sorted), without the lift-full spans for a lift job."""
        starts, ends, _ = self.windows_of(technician)
        free = list(zip(starts, ends))
        if lift:
            full_s, full_e = self.lift_full(self.problem.technicians[technician].garage)
            free = subtract(free, list(zip(full_s, full_e)))
        return free

    def first_start(self, technician: str, duration: int, lift: bool,
                    lower: int, upper: int | None = None) -> int | None:
        """The first grid start >= lower (and <= upper) at which the whole duration fits."""
        starts, ends, reach = self.windows_of(technician)
        slot = self.slot
        i = bisect_left(reach, lower + duration)
        if lift:
            full_s, full_e = self.lift_full(self.problem.technicians[technician].garage)
        for i in range(i, len(starts)):
            a, b = starts[i], ends[i]
            if upper is not None and a > upper:
                return None
            s = -(-max(a, lower) // slot) * slot
            while s + duration <= b:
                if upper is not None and s > upper:
                    return None
                if lift and full_s:
                    j = bisect_right(full_e, s)  # the first full span ending after s
                    if j < len(full_s) and full_s[j] < s + duration:
                        s = -(-full_e[j] // slot) * slot
                        continue
                return s
        return None

    def starts(self, technician: str, duration: int, lift: bool,
               lower: int, upper: int | None = None) -> Iterator[int]:
        """Grid starts >= lower (and <= upper) at which the whole duration fits, in order."""
        s = self.first_start(technician, duration, lift, lower, upper)
        while s is not None:
            yield s
            s = self.first_start(technician, duration, lift, s + self.slot, upper)
