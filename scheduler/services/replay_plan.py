"""The optimizer as a replay sees it: one network plan over a period, that takes work as it goes.

The one place a replay talks to the optimizer, so that moving to the new engine (make_problem,
rule_offers) is a change here only. The plan is built once for the whole period; each case then
asks for its rule offer at its own moment, and whatever is placed takes its capacity.

The rule offer is computed as PROBLEM_FORMAT.md (1.1) defines it, with the parts of the policy
that today's optimizer does not know yet: minimum notice by urgency, the customer's arrival at
each garage (travel speed), the search horizon, and the P1 reserve (minutes of free technician
time per garage-day that only P1 work may take).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bisect import bisect_left, bisect_right
from itertools import accumulate

from optimizer.clock import grid_ceil
from optimizer.freetime import FreeTime, merge, saturated, subtract
from optimizer.problem import Location, Request, parse_problem
from optimizer.rule import earliest_at


@dataclass(frozen=True)
class Rules:
    """What of a policy version the rule offer needs, for one urgency."""

    garages: int
    notice_minutes: int
    max_travel_km: float
    travel_speed_kmh: float | None
    horizon_days: int
    p1_reserve_minutes: int

    @classmethod
    def of(cls, policy, urgency: str) -> Rules:
        return cls(garages=policy.rule_garages, notice_minutes=policy.notice(urgency),
                   max_travel_km=policy.search_radius_km, travel_speed_kmh=policy.travel_speed_kmh or None,
                   horizon_days=policy.horizon_days, p1_reserve_minutes=policy.p1_reserve_minutes or 0)


@dataclass(frozen=True)
class Placed:
    garage: str
    technician: str
    start: datetime
    end: datetime


def _minute(moment: datetime) -> int:
    return math.ceil(moment.timestamp() / 60)


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


class GrowingFreeTime(FreeTime):
    """FreeTime whose plan only grows, one item at a time: the windows it has already worked out are cut
    where the new item lies, instead of being worked out again from every shift and booking. A replay
    places thousands of cases one after the other; this keeps each placement proportional to what it
    touches. (The same answers as FreeTime: tests/scheduler/test_replays.py compares them.)"""

    def occupy(self, technician: str, start: int, end: int, lift: bool) -> None:
        garage = self.problem.technicians[technician].garage
        self._busy[technician].append((start, end))
        for key in ((technician, False), (technician, True)):
            if key in self._windows:
                self._windows[key] = _cut(self._windows[key], [(start, end)])
        if not lift:
            return
        items = self._lift_items[garage]
        items.append((start, end))
        if garage not in self._full:
            return
        near = [(max(s, start), min(e, end)) for s, e in items if s < end and e > start]
        added = subtract(saturated(near, self.problem.garages[garage].lifts), self._full[garage])
        if added:
            self._full[garage] = merge(self._full[garage] + added)
            for tech in self.problem.technicians_by_garage[garage]:
                if (tech.id, True) in self._windows:
                    self._windows[(tech.id, True)] = _cut(self._windows[(tech.id, True)], added)


def _cut(cached: tuple[list, list], blocked: list[tuple[int, int]]) -> tuple[list, list]:
    """Windows (and their running maximum of ends) minus sorted, merged blocked spans; only the windows
    the spans reach are worked again."""
    windows, reach = cached
    i = bisect_right(reach, blocked[0][0])
    j = bisect_left(windows, (blocked[-1][1],))
    if i >= j:
        return cached
    windows = windows[:i] + subtract(windows[i:j], blocked) + windows[j:]
    return windows, list(accumulate((b for _, b in windows), max))


class NetworkPlan:
    """Shifts of every technician over the period, and the work booked on them so far."""

    def __init__(self, garages: list[dict], technicians: list[dict], zone: ZoneInfo, slot: int = 15):
        # An `offers` problem with no requests: parsed (validated) once for the whole period.
        self.problem = parse_problem({"version": 1, "mode": "offers", "now": datetime.now(timezone.utc),
                                      "slot_minutes": slot, "garages": garages, "technicians": technicians,
                                      "appointments": [], "requests": []})
        self.free = GrowingFreeTime(self.problem)
        self.zone = zone
        self.slot = slot
        self._free_minutes: dict[tuple[str, date], int] = {}
        self._settings = None

    def occupy(self, technician: str, start: datetime, end: datetime, lift: bool) -> None:
        if technician not in self.problem.technicians:
            return  # work of a technician gone since: it takes no one's time
        self.free.occupy(technician, math.floor(start.timestamp() / 60), _minute(end), lift)
        garage = self.problem.technicians[technician].garage
        for key in [k for k in self._free_minutes if k[0] == garage]:
            del self._free_minutes[key]

    def _day(self, minute: int) -> date:
        return _at(minute).astimezone(self.zone).date()

    def _next_day(self, minute: int) -> int:
        day = self._day(minute) + timedelta(days=1)
        return _minute(datetime.combine(day, datetime.min.time(), self.zone))

    def free_minutes(self, garage: str, day: date) -> int:
        """Free technician time at the garage that local day: what a P1 reserve keeps back."""
        key = (garage, day)
        if key not in self._free_minutes:
            lo = _minute(datetime.combine(day, datetime.min.time(), self.zone))
            hi = _minute(datetime.combine(day + timedelta(days=1), datetime.min.time(), self.zone))
            total = 0
            for tech in self.problem.technicians_by_garage[garage]:
                windows, _ = self.free.windows(tech.id, False)
                total += sum(max(0, min(b, hi) - max(a, lo)) for a, b in windows if a < hi and b > lo)
            self._free_minutes[key] = total
        return self._free_minutes[key]

    def rule_offer(self, key: str, now: datetime, duration: int, skill: str, lift: bool, urgency: str,
                   lat: float, lon: float, rules: Rules) -> Placed | None:
        """The rule offer of one request at `now` against the plan as it stands."""
        problem = self.problem
        now_min = _minute(now)
        upper = now_min + rules.horizon_days * 1440
        request = Request(id=f"{key}@{rules.max_travel_km}", duration=duration, skill=skill, lift=lift, urgency=urgency,
                          location=Location(lat, lon), garages=None, earliest=now_min, latest=upper,
                          origin=now.timestamp() / 60)
        if self._settings != rules.max_travel_km:  # candidate garages are read from the problem's policy
            problem.policy = _with_radius(problem.policy, rules.max_travel_km)
            self._settings = rules.max_travel_km
        home = problem.candidate_garages(request)[: rules.garages]
        best: tuple[int, int, str] | None = None
        for rank, (garage, km) in enumerate(home):
            arrival = math.ceil(km / rules.travel_speed_kmh * 60) if rules.travel_speed_kmh else 0
            lower = grid_ceil(max(now_min + rules.notice_minutes, now_min + arrival), self.slot)
            if best is not None:
                request = _until(request, best[0])
            found = self._first_at(problem, request, garage, lower, rules, urgency, duration)
            if found is not None and (best is None or (found[0], rank, found[1]) < best):
                best = (found[0], rank, found[1])
        if best is None:
            return None
        start, rank, tech = best
        return Placed(home[rank][0], tech, _at(start), _at(start + duration))

    def _first_at(self, problem, request: Request, garage: str, lower: int, rules: Rules, urgency: str,
                  duration: int) -> tuple[int, str] | None:
        while request.latest is None or lower <= request.latest:
            found = earliest_at(self.free, problem, request, [garage], lower)
            if found is None:
                return None
            start, _, tech = found
            reserve = rules.p1_reserve_minutes if urgency != "P1" else 0
            if not reserve or self.free_minutes(garage, self._day(start)) - duration >= reserve:
                return start, tech
            lower = self._next_day(start)  # the rest of that day is kept for P1 work
        return None


def _with_radius(policy, km: float):
    from dataclasses import replace

    return replace(policy, max_travel_km=km)


def _until(request: Request, latest: int) -> Request:
    from dataclasses import replace

    return replace(request, latest=min(latest, request.latest) if request.latest is not None else latest)
