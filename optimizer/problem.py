"""The plan problem (format version 1.1): dataclasses and msgspec Structs; the trusted constructor.

Times are whole minutes since the Unix epoch. `parse_problem` (optimizer.document) builds a
Problem from a document and names every fault; `make_problem` builds the same Problem from
values an in-process caller already holds and trusts them: it checks nothing, so it is fast.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from math import ceil
from typing import Any

import msgspec

from optimizer.clock import ceil_minute, floor_minute
from optimizer.geo import EARTH_RADIUS_KM, haversine_km

MODES = ("offers", "squeeze", "replan")
URGENCIES = ("P1", "P2", "P3")
ACTIVE_STATUSES = ("booked", "checked_in", "in_progress")
# The format's notice for an urgency that a per-urgency `min_notice_minutes` does not name.
UNNAMED_NOTICE = 1440


class ProblemError(ValueError):
    """The problem document is wrong; `errors` names each fault (field path and why)."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float

    def km_to(self, other: Location) -> float:
        return haversine_km(self.lat, self.lon, other.lat, other.lon)


@dataclass(frozen=True, slots=True)
class Garage:
    id: str
    location: Location
    lifts: int


@dataclass(frozen=True, slots=True)
class Technician:
    id: str
    garage: str
    skills: frozenset[str]
    shifts: tuple[tuple[int, int], ...]  # sorted, half-open [start, end)


# A 3,000-garage network holds over a million of these. A msgspec Struct (mutable, like the
# slots dataclass it replaces; built and compared the same way) is built in C, and with gc=False
# the cyclic garbage collector never scans it: it holds only text, numbers and flags, so it can
# be in no cycle. Scanning a million dataclasses was a quarter of loading a network.
class Appointment(msgspec.Struct, gc=False):
    id: str
    technician: str
    start: int
    end: int
    skill: str
    lift: bool
    urgency: str
    status: str
    pinned: bool
    flex_minutes: int

    @property
    def duration(self) -> int:
        return self.end - self.start


@dataclass(frozen=True, slots=True)
class Request:
    id: str
    duration: int
    skill: str
    lift: bool
    urgency: str
    location: Location | None
    garages: tuple[str, ...] | None
    earliest: int  # first allowed start minute (>= now)
    latest: int | None
    origin: float  # max(now, earliest) exactly, in minutes: where waiting starts


def _default_wait() -> dict[str, float]:
    return {"P1": 100.0, "P2": 10.0, "P3": 1.0}


@dataclass(frozen=True)
class Weights:
    wait: dict[str, float] = field(default_factory=_default_wait)
    travel_km: float = 2.0
    move: float = 30.0
    shift_minute: float = 1.0
    unplaced: float = 100000.0


@dataclass(frozen=True)
class RulePolicy:
    """`min_notice_minutes` is kept per urgency; a single number given here means every urgency."""

    garages: int = 1
    min_notice_minutes: Mapping[str, int] = field(default_factory=lambda: dict.fromkeys(URGENCIES, UNNAMED_NOTICE))

    def __post_init__(self) -> None:
        given = self.min_notice_minutes
        if isinstance(given, Mapping):
            notice = {u: int(given.get(u, UNNAMED_NOTICE)) for u in URGENCIES}
        else:
            notice = dict.fromkeys(URGENCIES, int(given))
        object.__setattr__(self, "min_notice_minutes", notice)

    def notice(self, urgency: str) -> int:
        return self.min_notice_minutes.get(urgency, UNNAMED_NOTICE)


@dataclass(frozen=True)
class Policy:
    max_travel_km: float | None = 30.0
    rule: RulePolicy = field(default_factory=RulePolicy)
    offers: int = 5
    max_moves: int = 3
    weights: Weights = field(default_factory=Weights)
    time_limit_seconds: float = 2.0
    travel_speed_kmh: float | None = None  # None: customers are there at once (format 1.0)


@dataclass
class Problem:
    mode: str
    now: int  # first whole minute not before the real now
    now_exact: float
    zone: tzinfo
    slot: int
    garages: dict[str, Garage]
    technicians: dict[str, Technician]
    appointments: list[Appointment]
    requests: list[Request]
    policy: Policy
    version: int = 1
    # ids the document wrote as whole numbers (7, not "7"), by kind: "garages", "technicians", "appointments",
    # "requests"
    number_ids: dict[str, frozenset[str]] = field(default_factory=dict)
    _candidates: dict[str, list[tuple[str, float]]] = field(default_factory=dict, repr=False, compare=False)

    def garage_of(self, appointment: Appointment) -> str:
        return self.technicians[appointment.technician].garage

    def candidate_garages(self, request: Request) -> list[tuple[str, float]]:
        """(garage id, km) in the format's order: the request's list, else nearest first."""
        cached = self._candidates.get(request.id)
        if cached is not None:
            return cached
        if request.garages is not None:
            result = [
                (g, request.location.km_to(self.garages[g].location) if request.location else 0.0)
                for g in request.garages
            ]
        else:
            assert request.location is not None
            result = self._within_reach(request.location)
        self._candidates[request.id] = result
        return result

    def _within_reach(self, here: Location) -> list[tuple[str, float]]:
        limit = self.policy.max_travel_km
        if limit is None:
            nearby: Iterable[Garage] = self.garages.values()
        else:
            # A great-circle distance is at least the arc between the two latitudes, so only a
            # band of latitudes can be within reach (with a margin for rounding).
            band = limit / EARTH_RADIUS_KM * 57.29577951308232 + 1e-6
            lats, ordered = self._by_latitude
            nearby = ordered[bisect_left(lats, here.lat - band):bisect_right(lats, here.lat + band)]
        scored = sorted((here.km_to(g.location), self.id_order("garages", g.id), g.id) for g in nearby)
        return [(gid, km) for km, _, gid in scored if limit is None or km <= limit]

    @cached_property
    def _by_latitude(self) -> tuple[list[float], list[Garage]]:
        ordered = sorted(self.garages.values(), key=lambda g: g.location.lat)
        return [g.location.lat for g in ordered], ordered

    def arrival(self, request: Request, garage_id: str) -> int:
        """The first minute the customer can be at that garage (`now` without a travel speed)."""
        if self.policy.travel_speed_kmh is None or request.location is None:
            return self.now
        return self.arrival_after_km(request.location.km_to(self.garages[garage_id].location))

    def arrival_after_km(self, km: float) -> int:
        """`arrival` for a request with a location, from the distance already known."""
        speed = self.policy.travel_speed_kmh
        return self.now if speed is None else self.now + ceil(km / speed * 60)

    def is_movable(self, appointment: Appointment) -> bool:
        return (
            self.mode in ("squeeze", "replan")
            and appointment.status == "booked"
            and not appointment.pinned
            and appointment.start >= self.now_exact
        )

    @cached_property
    def technicians_by_garage(self) -> dict[str, list[Technician]]:
        by_garage: dict[str, list[Technician]] = {g: [] for g in self.garages}
        for tech in sorted(self.technicians.values(), key=lambda t: self.id_order("technicians", t.id)):
            by_garage[tech.garage].append(tech)
        return by_garage

    def id_order(self, kind: str, key: str) -> tuple[int, int, str]:
        """How ids sort where the format says "the smaller id": an id the document wrote as a number as that
        number (9 before 10), before the ids written as text, which sort as text ("t-10" before "t-9")."""
        return (0, int(key), key) if key in self.number_ids.get(kind, ()) else (1, 0, key)

    def wait_weight(self, urgency: str) -> float:
        return self.policy.weights.wait[urgency]

    def late_cost(self, request: Request, start: int) -> float:
        """What waiting from the request's first possible start until `start` costs: how much a search
        has to gain by bringing it earlier."""
        return self.wait_weight(request.urgency) * (start - request.earliest)

    def unplaced_cost(self, request: Request) -> float:
        return self.policy.weights.unplaced * self.wait_weight(request.urgency)


def request_times(now_exact: float, earliest_exact: float | None, latest_floor: int | None) -> dict[str, Any]:
    """A request's earliest, origin and latest minutes, the one way both constructors compute them."""
    origin = max(now_exact, earliest_exact if earliest_exact is not None else now_exact)
    return {"earliest": -int(-origin // 1), "origin": origin, "latest": latest_floor}


def make_request(id: str, duration: int, skill: str, lift: bool, urgency: str, location: Location | None,
                 garages: Iterable[str] | None, now: datetime, earliest: datetime | None = None,
                 latest: datetime | None = None) -> Request:
    """A request as `parse_problem` would read it, from trusted values; `now` is the problem's."""
    return Request(id=str(id), duration=int(duration), skill=skill, lift=bool(lift), urgency=urgency,
                   location=location, garages=None if garages is None else tuple(dict.fromkeys(garages)),
                   **request_times(now.timestamp() / 60, None if earliest is None else earliest.timestamp() / 60,
                                   None if latest is None else floor_minute(latest)))


def make_problem(mode: str, now: datetime, slot: int, garages: Iterable[Garage],
                 technicians: Iterable[Technician], appointments: Iterable[Appointment],
                 requests: Iterable[Request], policy: Policy | None = None) -> Problem:
    """The Problem of these values, checked for nothing: the caller (the scheduler) vouches for them.

    Shifts must be sorted and non-empty, references must resolve, `now` must be aware; what the
    parser would refuse gives undefined answers here.
    """
    return Problem(
        mode=mode, now=ceil_minute(now), now_exact=now.timestamp() / 60, zone=now.tzinfo,  # type: ignore[arg-type]
        slot=int(slot), garages={g.id: g for g in garages}, technicians={t.id: t for t in technicians},
        appointments=list(appointments), requests=list(requests), policy=policy or Policy(),
    )


def parse_problem(doc: Any) -> Problem:
    """Kept here for callers that import it from this module; see optimizer.document."""
    from optimizer.document import parse_problem as parse

    return parse(doc)


def load_problem(path: Any) -> Problem:
    """Kept here for callers that import it from this module; see optimizer.document."""
    from optimizer.document import load_problem as load

    return load(path)
