"""The plan problem (format version 1): dataclasses and a parser that names every fault.

Times become whole minutes since the Unix epoch. A time given with seconds is rounded
the safe way for what it bounds (a shift shrinks, an appointment grows, `now` and
`earliest` move later), so nothing the optimizer chooses can break the real bound.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import cached_property
from pathlib import Path
from typing import Any

from optimizer.clock import ceil_minute, floor_minute, parse_instant
from optimizer.geo import haversine_km

MODES = ("offers", "squeeze", "replan")
URGENCIES = ("P1", "P2", "P3")
ACTIVE_STATUSES = ("booked", "checked_in", "in_progress")


class ProblemError(ValueError):
    """The problem document is wrong; `errors` names each fault (field path and why)."""

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float

    def km_to(self, other: Location) -> float:
        return haversine_km(self.lat, self.lon, other.lat, other.lon)


@dataclass(frozen=True)
class Garage:
    id: str
    location: Location
    lifts: int


@dataclass(frozen=True)
class Technician:
    id: str
    garage: str
    skills: frozenset[str]
    shifts: tuple[tuple[int, int], ...]  # sorted, half-open [start, end)


@dataclass(frozen=True)
class Appointment:
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


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Weights:
    wait: dict[str, float]
    travel_km: float
    move: float
    shift_minute: float
    unplaced: float


@dataclass(frozen=True)
class RulePolicy:
    garages: int
    min_notice_minutes: int


@dataclass(frozen=True)
class Policy:
    max_travel_km: float | None
    rule: RulePolicy
    offers: int
    max_moves: int
    weights: Weights
    time_limit_seconds: float


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
    _candidates: dict[str, list[tuple[str, float]]] = field(default_factory=dict, repr=False)

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
            limit = self.policy.max_travel_km
            assert request.location is not None
            scored = ((request.location.km_to(g.location), g.id) for g in self.garages.values())
            result = [(gid, km) for km, gid in sorted(scored) if limit is None or km <= limit]
        self._candidates[request.id] = result
        return result

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
        for tech in sorted(self.technicians.values(), key=lambda t: t.id):
            by_garage[tech.garage].append(tech)
        return by_garage

    def wait_weight(self, urgency: str) -> float:
        return self.policy.weights.wait[urgency]

    def unplaced_cost(self, request: Request) -> float:
        return self.policy.weights.unplaced * self.wait_weight(request.urgency)


DEFAULT_POLICY: dict[str, Any] = {
    "max_travel_km": 30,
    "rule": {"garages": 1, "min_notice_minutes": 1440},
    "offers": 5,
    "max_moves": 3,
    "weights": {
        "wait": {"P1": 100, "P2": 10, "P3": 1},
        "travel_km": 2,
        "move": 30,
        "shift_minute": 1,
        "unplaced": 100000,
    },
    "time_limit_seconds": 2.0,
}


class _Reader:
    """Reads fields by path, collecting every fault instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def fault(self, path: str, why: str) -> None:
        self.errors.append(f"{path}: {why}")

    def obj(self, value: Any, path: str) -> dict | None:
        if not isinstance(value, dict):
            self.fault(path, "must be an object")
            return None
        return value

    def items(self, parent: dict, key: str, path: str, required: bool = True) -> list:
        value = parent.get(key)
        if value is None:
            if required:
                self.fault(f"{path}.{key}", "is required (a list)")
            return []
        if not isinstance(value, list):
            self.fault(f"{path}.{key}", "must be a list")
            return []
        return value

    def text(self, parent: dict, key: str, path: str, default: str | None = None) -> str | None:
        value = parent.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and key == "id":
            return str(value)
        if not isinstance(value, str) or not value:
            self.fault(f"{path}.{key}", "is required (a non-empty string)" if value is None else "must be a non-empty string")
            return None
        return value

    def number(self, parent: dict, key: str, path: str, default: float | None = None,
               minimum: float | None = None, maximum: float | None = None,
               integer: bool = False, positive: bool = False) -> Any:
        value = parent.get(key, default)
        where = f"{path}.{key}"
        if value is None:
            self.fault(where, "is required")
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.fault(where, "must be a number")
            return None
        if integer and not float(value).is_integer():
            self.fault(where, "must be a whole number")
            return None
        if positive and value <= 0:
            self.fault(where, "must be greater than 0")
            return None
        if minimum is not None and value < minimum:
            self.fault(where, f"must be at least {minimum}")
            return None
        if maximum is not None and value > maximum:
            self.fault(where, f"must be at most {maximum}")
            return None
        return int(value) if integer else float(value)

    def flag(self, parent: dict, key: str, path: str, default: bool) -> bool:
        value = parent.get(key, default)
        if not isinstance(value, bool):
            self.fault(f"{path}.{key}", "must be true or false")
            return default
        return value

    def choice(self, parent: dict, key: str, path: str, options: tuple[str, ...],
               default: str | None = None) -> str | None:
        value = parent.get(key, default)
        if value not in options:
            self.fault(f"{path}.{key}", f"must be one of {', '.join(options)} (got {value!r})")
            return None
        return value

    def instant(self, parent: dict, key: str, path: str, required: bool = True) -> datetime | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fault(f"{path}.{key}", "is required (an ISO 8601 time with a UTC offset)")
            return None
        try:
            return parse_instant(value)[0]
        except ValueError as exc:
            self.fault(f"{path}.{key}", str(exc))
            return None

    def location(self, value: Any, path: str) -> Location | None:
        loc = self.obj(value, path)
        if loc is None:
            return None
        lat = self.number(loc, "lat", path, minimum=-90, maximum=90)
        lon = self.number(loc, "lon", path, minimum=-180, maximum=180)
        return None if lat is None or lon is None else Location(lat, lon)


def _merged(defaults: dict, given: Any) -> Any:
    if not isinstance(given, dict):
        return given
    out = dict(defaults)
    for key, value in given.items():
        out[key] = _merged(defaults[key], value) if isinstance(defaults.get(key), dict) else value
    return out


def _parse_policy(r: _Reader, raw: Any) -> Policy | None:
    if raw is None:
        raw = {}
    data = _merged(DEFAULT_POLICY, raw)
    if r.obj(data, "policy") is None:
        return None
    max_km = data.get("max_travel_km")
    if max_km is not None:
        max_km = r.number(data, "max_travel_km", "policy", minimum=0)
    rule = r.obj(data["rule"], "policy.rule") or {}
    weights = r.obj(data["weights"], "policy.weights") or {}
    wait = r.obj(weights.get("wait"), "policy.weights.wait") or {}
    wait_weights = {u: r.number(wait, u, "policy.weights.wait", minimum=0) for u in URGENCIES}
    parsed = Policy(
        max_travel_km=max_km,
        rule=RulePolicy(
            garages=r.number(rule, "garages", "policy.rule", integer=True, minimum=1),
            min_notice_minutes=r.number(rule, "min_notice_minutes", "policy.rule", integer=True, minimum=0),
        ),
        offers=r.number(data, "offers", "policy", integer=True, minimum=1),
        max_moves=r.number(data, "max_moves", "policy", integer=True, minimum=0),
        weights=Weights(
            wait=wait_weights,  # type: ignore[arg-type]
            travel_km=r.number(weights, "travel_km", "policy.weights", minimum=0),
            move=r.number(weights, "move", "policy.weights", minimum=0),
            shift_minute=r.number(weights, "shift_minute", "policy.weights", minimum=0),
            unplaced=r.number(weights, "unplaced", "policy.weights", minimum=0),
        ),
        time_limit_seconds=r.number(data, "time_limit_seconds", "policy", positive=True),
    )
    return parsed


def parse_problem(doc: Any) -> Problem:
    """Build a Problem from a decoded JSON document, or raise ProblemError naming every fault."""
    r = _Reader()
    if r.obj(doc, "problem") is None:
        raise ProblemError(r.errors)
    if doc.get("version", 1) != 1:
        r.fault("version", f"must be 1 (got {doc.get('version')!r})")
    mode = r.choice(doc, "mode", "problem", MODES)
    now_dt = r.instant(doc, "now", "problem")
    slot = r.number(doc, "slot_minutes", "problem", default=15, integer=True, positive=True)
    policy = _parse_policy(r, doc.get("policy"))

    garages: dict[str, Garage] = {}
    for i, raw in enumerate(r.items(doc, "garages", "problem")):
        path = f"garages[{i}]"
        if r.obj(raw, path) is None:
            continue
        gid = r.text(raw, "id", path)
        loc = r.location(raw.get("location"), f"{path}.location")
        lifts = r.number(raw, "lifts", path, default=0, integer=True, minimum=0)
        if gid is None:
            continue
        if gid in garages:
            r.fault(f"{path}.id", f"duplicate garage id {gid!r}")
        elif loc is not None and lifts is not None:
            garages[gid] = Garage(gid, loc, lifts)

    technicians: dict[str, Technician] = {}
    for i, raw in enumerate(r.items(doc, "technicians", "problem")):
        path = f"technicians[{i}]"
        if r.obj(raw, path) is None:
            continue
        tid = r.text(raw, "id", path)
        garage = r.text(raw, "garage", path)
        if garage is not None and garage not in garages:
            r.fault(f"{path}.garage", f"unknown garage {garage!r}")
        skills = raw.get("skills", [])
        if not isinstance(skills, list) or not all(isinstance(s, str) for s in skills):
            r.fault(f"{path}.skills", "must be a list of strings")
            skills = []
        shifts = []
        for j, sraw in enumerate(r.items(raw, "shifts", path, required=False)):
            spath = f"{path}.shifts[{j}]"
            if r.obj(sraw, spath) is None:
                continue
            s, e = r.instant(sraw, "start", spath), r.instant(sraw, "end", spath)
            if s is None or e is None:
                continue
            if e <= s:
                r.fault(spath, "end must be after start")
                continue
            shift = (ceil_minute(s), floor_minute(e))
            if shift[1] > shift[0]:
                shifts.append(shift)
        if tid is None:
            continue
        if tid in technicians:
            r.fault(f"{path}.id", f"duplicate technician id {tid!r}")
        elif garage in garages:
            technicians[tid] = Technician(tid, garage, frozenset(skills), tuple(sorted(shifts)))

    appointments: list[Appointment] = []
    seen: set[str] = set()
    for i, raw in enumerate(r.items(doc, "appointments", "problem", required=False)):
        path = f"appointments[{i}]"
        if r.obj(raw, path) is None:
            continue
        aid = r.text(raw, "id", path)
        tech = r.text(raw, "technician", path)
        if tech is not None and tech not in technicians:
            r.fault(f"{path}.technician", f"unknown technician {tech!r}")
        s, e = r.instant(raw, "start", path), r.instant(raw, "end", path)
        if s is not None and e is not None and e <= s:
            r.fault(path, "end must be after start")
            s = None
        appt = dict(
            skill=r.text(raw, "skill", path, default=""),
            lift=r.flag(raw, "lift", path, False),
            urgency=r.choice(raw, "urgency", path, URGENCIES, default="P3"),
            status=r.choice(raw, "status", path, ACTIVE_STATUSES, default="booked"),
            pinned=r.flag(raw, "pinned", path, False),
            flex_minutes=r.number(raw, "flex_minutes", path, default=0, integer=True, minimum=0),
        )
        if aid is not None and aid in seen:
            r.fault(f"{path}.id", f"duplicate appointment id {aid!r}")
            continue
        if aid is None or tech not in technicians or s is None or e is None or None in appt.values():
            continue
        seen.add(aid)
        appointments.append(Appointment(aid, tech, floor_minute(s), ceil_minute(e), **appt))

    requests: list[Request] = []
    seen = set()
    for i, raw in enumerate(r.items(doc, "requests", "problem", required=False)):
        path = f"requests[{i}]"
        if r.obj(raw, path) is None:
            continue
        rid = r.text(raw, "id", path)
        duration = r.number(raw, "duration_minutes", path, integer=True, positive=True)
        skill = r.text(raw, "skill", path)
        lift = r.flag(raw, "lift", path, False)
        urgency = r.choice(raw, "urgency", path, URGENCIES)
        loc = r.location(raw["location"], f"{path}.location") if raw.get("location") is not None else None
        cands = raw.get("garages")
        if cands is not None:
            if not isinstance(cands, list) or not all(isinstance(g, str) for g in cands):
                r.fault(f"{path}.garages", "must be a list of garage ids or null")
                cands = None
            else:
                for g in cands:
                    if g not in garages:
                        r.fault(f"{path}.garages", f"unknown garage {g!r}")
                if len(set(cands)) != len(cands):
                    r.fault(f"{path}.garages", "lists a garage twice")
                cands = tuple(dict.fromkeys(g for g in cands if g in garages))
        elif loc is None and "location" not in raw:
            r.fault(f"{path}.location", "is required when garages is null or absent")
        earliest_dt = r.instant(raw, "earliest", path, required=False)
        latest_dt = r.instant(raw, "latest", path, required=False)
        if rid is not None and rid in seen:
            r.fault(f"{path}.id", f"duplicate request id {rid!r}")
            continue
        if None in (rid, duration, skill, urgency) or now_dt is None:
            continue
        if cands is None and loc is None:
            continue
        seen.add(rid)
        now_exact = now_dt.timestamp() / 60
        earliest_exact = max(now_exact, earliest_dt.timestamp() / 60 if earliest_dt else now_exact)
        requests.append(Request(
            id=rid, duration=duration, skill=skill, lift=lift, urgency=urgency, location=loc,
            garages=cands, earliest=-int(-earliest_exact // 1), origin=earliest_exact,
            latest=floor_minute(latest_dt) if latest_dt else None,
        ))

    if r.errors or now_dt is None or policy is None or mode is None or slot is None:
        raise ProblemError(r.errors or ["problem: incomplete"])
    return Problem(
        mode=mode, now=ceil_minute(now_dt), now_exact=now_dt.timestamp() / 60,
        zone=now_dt.tzinfo, slot=slot, garages=garages, technicians=technicians,  # type: ignore[arg-type]
        appointments=appointments, requests=requests, policy=policy,
    )


def load_problem(path: str | Path) -> Problem:
    """Read and parse a problem file; a file that is not JSON is a ProblemError too."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ProblemError([f"problem: cannot read {path}: {exc}"]) from None
    except json.JSONDecodeError as exc:
        raise ProblemError([f"problem: not valid JSON: {exc}"]) from None
    return parse_problem(doc)
