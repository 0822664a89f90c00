"""The optimizer as a replay sees it: one network plan over a period, that takes work as it goes.

The one place a replay talks to the optimizer. The plan is built once for the whole period
(`make_problem`, every technician's shifts); each case then asks for its rule offer at its own
moment (the problem's `now` moves forward), and whatever is placed takes its capacity.

The rule offer is the engine's (`optimizer.rule`: notice by urgency, the customer's arrival at each
garage, the first `rule.garages` candidates, ties by garage then technician), without its late
reasons, which a replay does not need; tests/scheduler/test_replay_plan.py checks it equals
`rule_offer`. The search horizon is the replay's own (the desk searches `horizon_days` of shifts, so
the rules offer nothing beyond); the P1 reserve (minutes of free technician time per garage-day that only
P1 work may take) is read by `free_minutes`, for the desk's rule offer too.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from optimizer import Garage, Location, Policy, RulePolicy, Technician, make_problem, make_request
from optimizer.clock import ceil_minute
from optimizer.freetime import FreeTime, _as_windows, _pairs, merge, saturated, subtract
from optimizer.rule import earliest_at
from scheduler.services.policies import visible_from

# The policy's fields a rule offer reads (Rules.of): the only ones a replay plays. The others (the offers shown, the
# engine's weights, the squeeze's moves...) change no rule offer.
RULE_PATHS = ("rule.garages", "rule.min_notice_minutes.P1", "rule.min_notice_minutes.P2", "rule.min_notice_minutes.P3",
              "search_radius_km", "travel_speed_kmh", "horizon_days", "p1_reserve_minutes", "same_day_visible")


@dataclass(frozen=True)
class Rules:
    """What of a policy version the rule offer needs."""

    garages: int
    notice: tuple[tuple[str, int], ...]
    max_travel_km: float
    travel_speed_kmh: float | None
    horizon_days: int
    p1_reserve_minutes: int
    same_day_visible: bool = True

    @classmethod
    def of(cls, policy) -> Rules:
        return cls(garages=policy.rule_garages, notice=tuple((u, policy.notice(u)) for u in ("P1", "P2", "P3")),
                   max_travel_km=policy.search_radius_km, travel_speed_kmh=policy.travel_speed_kmh or None,
                   horizon_days=policy.horizon_days, p1_reserve_minutes=policy.p1_reserve_minutes or 0,
                   same_day_visible=policy.same_day_visible is not False)

    def engine_policy(self) -> Policy:
        return Policy(max_travel_km=self.max_travel_km, rule=RulePolicy(self.garages, dict(self.notice)),
                      travel_speed_kmh=self.travel_speed_kmh)


@dataclass(frozen=True)
class Placed:
    garage: str
    technician: str
    start: datetime
    end: datetime


def _at(minute: int) -> datetime:
    return datetime.fromtimestamp(minute * 60, timezone.utc)


class GrowingFreeTime(FreeTime):
    """FreeTime whose plan grows one item at a time, as a replay places thousands of cases in a row:
    only the windows an item reaches are cut, and a garage's lift-full spans grow by what the new lift
    item saturates (found among the lift items near it) instead of being worked out again from all of
    them. (The same answers as FreeTime: tests/scheduler/test_replay_plan.py compares them.)"""

    def __init__(self, problem, exclude=()):
        super().__init__(problem, exclude)
        self._lifts_by_start: dict[str, tuple[list[tuple[int, int]], int]] = {}  # sorted items, longest

    def occupy(self, technician: str, start: int, end: int, lift: bool) -> None:
        garage = self.problem.technicians[technician].garage
        starts, ends, reach = self.windows_of(technician)
        i, j = bisect_right(reach, start), bisect_left(starts, end)
        if i < j:
            cut = subtract(list(zip(starts[i:j], ends[i:j])), [(start, end)])
            new_starts = starts[:i] + [a for a, _ in cut] + starts[j:]
            new_ends = ends[:i] + [b for _, b in cut] + ends[j:]
            self._windows[technician] = (new_starts, new_ends, new_ends) if reach is ends else \
                _as_windows(list(zip(new_starts, new_ends)))
        if not lift:
            return
        self._lift_items.setdefault(garage, []).extend((start, end))
        if garage not in self._full:
            self._lifts_by_start.pop(garage, None)
            return
        known = self._lifts_by_start.get(garage)
        if known is None:  # the garage's lift items before this one, sorted once
            items = sorted(_pairs(self._lift_items[garage][:-2]))
            longest = max((e - s for s, e in items), default=0)
        else:
            items, longest = known
        insort(items, (start, end))
        longest = max(longest, end - start)
        self._lifts_by_start[garage] = (items, longest)
        lo, hi = bisect_left(items, (start - longest,)), bisect_left(items, (end,))
        near = [(max(s, start), min(e, end)) for s, e in items[lo:hi] if e > start]
        full = list(zip(*self._full[garage]))
        added = subtract(saturated(near, self.problem.garages[garage].lifts), full)
        if added:
            spans = merge(full + added)
            self._full[garage] = ([s for s, _ in spans], [e for _, e in spans])


def free_minutes(free: FreeTime, problem, garage: str, lo: int, hi: int) -> int:
    """The garage's free technician minutes in [lo, hi) (every technician's shifts less their work): what the
    policy's P1 reserve (p1_reserve_minutes per garage-day) keeps back from other work. The one reading of it,
    for a replay and for the desk's rule offer (planning)."""
    total = 0
    for tech in problem.technicians_by_garage[garage]:
        starts, ends, _ = free.windows_of(tech.id)
        total += sum(max(0, min(b, hi) - max(a, lo)) for a, b in zip(starts, ends, strict=True) if a < hi and b > lo)
    return total


class NetworkPlan:
    """Shifts of every technician over the period, and the work booked on them so far."""

    def __init__(self, garages: list[Garage], technicians: list[Technician], zone: ZoneInfo, slot: int = 15):
        self.problem = make_problem("offers", datetime.now(timezone.utc), slot, garages, technicians, [], [])
        self.free = GrowingFreeTime(self.problem)
        self.zone, self.slot = zone, slot
        self._free_minutes: dict[tuple[str, date], int] = {}
        self._policies: dict[Rules, Policy] = {}

    @staticmethod
    def garage(id: str, lat: float, lon: float, lifts: int) -> Garage:
        return Garage(id, Location(lat, lon), lifts)

    @staticmethod
    def technician(id: str, garage: str, skills, shifts: list[tuple[datetime, datetime]]) -> Technician:
        spans = sorted((ceil_minute(s), math.floor(e.timestamp() / 60)) for s, e in shifts)
        return Technician(id, garage, frozenset(skills), tuple((s, e) for s, e in spans if e > s))

    def occupy(self, technician: str, start: datetime, end: datetime, lift: bool) -> None:
        if technician not in self.problem.technicians:
            return  # work of a technician gone since: it takes no one's time
        self.free.occupy(technician, math.floor(start.timestamp() / 60), ceil_minute(end), lift)
        garage = self.problem.technicians[technician].garage
        for key in [k for k in self._free_minutes if k[0] == garage]:
            del self._free_minutes[key]

    def is_free(self, technician: str, start: datetime, end: datetime, lift: bool) -> bool:
        """Whether the technician, and for lift work a lift, is free over the whole span."""
        if technician not in self.problem.technicians:
            return False
        s, e = math.floor(start.timestamp() / 60), ceil_minute(end)
        starts, ends, _ = self.free.windows_of(technician)
        i = bisect_right(starts, s) - 1
        if i < 0 or ends[i] < e:
            return False
        if lift:
            full_s, full_e = self.free.lift_full(self.problem.technicians[technician].garage)
            j = bisect_right(full_e, s)  # the first span with every lift taken that ends after s
            return j == len(full_s) or full_s[j] >= e
        return True

    def first_free(self, technician: str, start: datetime, length: timedelta, lift: bool) -> datetime | None:
        """The technician's first free start at or after `start` for work that long (None: none in the plan)."""
        if technician not in self.problem.technicians:
            return None
        found = self.free.first_start(technician, math.ceil(length.total_seconds() / 60), lift,
                                      math.floor(start.timestamp() / 60))
        return None if found is None else _at(found)

    def _day(self, minute: int) -> date:
        return _at(minute).astimezone(self.zone).date()

    def _midnight(self, day: date) -> int:
        return ceil_minute(datetime.combine(day, time(0), self.zone))

    def free_minutes(self, garage: str, day: date) -> int:
        """Free technician time at the garage that local day from the question's moment on (what is gone cannot
        take a P1): what a P1 reserve keeps back."""
        lo, hi = self._midnight(day), self._midnight(day + timedelta(days=1))
        if self.problem.now > lo:  # today: from now, not kept (the moment moves with every case)
            return free_minutes(self.free, self.problem, garage, self.problem.now, hi)
        key = (garage, day)
        if key not in self._free_minutes:
            self._free_minutes[key] = free_minutes(self.free, self.problem, garage, lo, hi)
        return self._free_minutes[key]

    def rule_offer(self, key: str, now: datetime, duration: int, skill: str, lift: bool, urgency: str,
                   lat: float, lon: float, rules: Rules, at_counter: bool = False) -> Placed | None:
        """The rule offer of one request at `now` against the plan as it stands (`at_counter`: a walk-in, whom
        the call centre's rule on today does not concern)."""
        problem = self.problem
        policy = self._policies.get(rules)
        if policy is None:
            policy = self._policies[rules] = rules.engine_policy()
        problem.now, problem.now_exact, problem.policy = ceil_minute(now), now.timestamp() / 60, policy
        # candidate garages are cached by request id: the id carries the radius they were found within
        request = make_request(f"{key}@{rules.max_travel_km}", duration, skill, lift, urgency, Location(lat, lon),
                               None, now, now if at_counter else visible_from(rules.same_day_visible, urgency, now,
                                                                             self.zone),
                               latest=now + timedelta(days=rules.horizon_days))
        home = problem.candidate_garages(request)[: rules.garages]
        lower = max(problem.now + policy.rule.notice(urgency), request.earliest)
        reserve = rules.p1_reserve_minutes if urgency != "P1" else 0
        while request.latest is None or lower <= request.latest:
            found = earliest_at(self.free, problem, request, home, lower)
            if found is None:
                return None
            start, index, tech = found
            if not reserve or self.free_minutes(home[index][0], self._day(start)) - duration >= reserve:
                return Placed(home[index][0], tech, _at(start), _at(start + duration))
            lower = self._midnight(self._day(start) + timedelta(days=1))  # the rest of that day is kept for P1
        return None
