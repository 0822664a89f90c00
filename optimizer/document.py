"""Reading a problem document (format 1.1): every fault named with its field path.

Times given with seconds are rounded the safe way for what they bound (a shift shrinks, an
appointment grows, `now` and `earliest` move later), so nothing the optimizer chooses can
break the real bound.

The format leaves some sizes open; these bounds keep an absurd value a named fault instead of
an overflow deep in the solver (every figure is far beyond any real garage):

| field | bound |
|---|---|
| every time | 1970-01-01 to 2199-12-31 (UTC) |
| slot_minutes | 1 to 1,440 |
| garages[].lifts | 0 to 1,000 |
| requests[].duration_minutes | 1 to 10,080 (a week) |
| appointments[].flex_minutes | 0 to 10,080 |
| policy.max_travel_km | 0 to 1,000,000 |
| policy.travel_speed_kmh | 1 to 2,000 |
| policy.rule.garages | 1 to 1,000 |
| policy.rule.min_notice_minutes (each) | 0 to 527,040 (366 days) |
| policy.offers | 0 to 100 |
| policy.max_moves | 0 to 100,000 |
| policy.weights.wait.*, travel_km, shift_minute | 0 to 10,000 |
| policy.weights.move | 0 to 1,000,000 |
| policy.weights.unplaced | 0 to 10,000,000 |
| policy.time_limit_seconds | above 0, at most 86,400 (a day: a re-plan run overnight) |

Numbers must be finite: NaN and Infinity, which Python's JSON reader accepts, are faults.
A file is read a piece at a time (optimizer.stream), so a network of a million appointments
never sits in memory twice.
"""

from __future__ import annotations

import gc
import re
from datetime import datetime, timezone
from math import isfinite
from operator import attrgetter
from pathlib import Path
from sys import intern
from typing import Annotated, Any, Literal

import msgspec

from optimizer.clock import parse_instant
from optimizer.stream import NotJSON, Reading, read_object
from optimizer.problem import (
    ACTIVE_STATUSES,
    MODES,
    URGENCIES,
    Appointment,
    Garage,
    Location,
    Policy,
    Problem,
    ProblemError,
    Request,
    RulePolicy,
    Technician,
    Weights,
    request_times,
)

FIRST_INSTANT = datetime(1970, 1, 1, tzinfo=timezone.utc).timestamp()
END_OF_INSTANTS = datetime(2200, 1, 1, tzinfo=timezone.utc).timestamp()
MAX_SLOT = 1440
MAX_LIFTS = 1000
MAX_DURATION = 10080
MAX_FLEX = 10080
MAX_NOTICE = 527040

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

Minutes = tuple[int, int, float]  # (floor, ceil, exact) minutes since the epoch


class Instants:
    """Reads times as minutes, remembering each text: a plan repeats a few thousand times a million times."""

    def __init__(self) -> None:
        self.known: dict[Any, Minutes | str] = {}

    def minutes(self, value: Any) -> Minutes:
        """(floor, ceil, exact) minutes of an ISO 8601 time or aware datetime; ValueError says why not."""
        try:
            known = self.known.get(value)
        except TypeError:  # unhashable: not a time anyway
            known = None
        if known is None:
            known = self._read(value)
            try:
                self.known[value] = known
            except TypeError:
                pass
        if type(known) is str:
            raise ValueError(known)
        return known  # type: ignore[return-value]

    @staticmethod
    def _read(value: Any) -> Minutes | str:
        try:
            moment, _ = parse_instant(value)
        except ValueError as exc:
            return str(exc)
        seconds = moment.timestamp()
        if not FIRST_INSTANT <= seconds < END_OF_INSTANTS:
            return f"{value!r} is out of range (1970-01-01 to 2199-12-31)"
        return int(seconds // 60), -int(-seconds // 60), seconds / 60


# The fields that hold an id or name one: a number there is read as the id with those digits.
_IDS = frozenset(("id", "garage", "technician"))


def _id_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class _Reader:
    """Reads fields by path, collecting every fault instead of stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        self.instants = Instants()
        # the ids written as whole numbers, by kind ("garages", "technicians"...): the answer writes them so
        self.number_ids: dict[str, set[str]] = {}

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
        """A non-empty string; an id (or a reference to one) may also be an integer, read as its digits."""
        value = parent.get(key, default)
        if isinstance(value, int) and not isinstance(value, bool) and key in _IDS:
            if key == "id":  # the path names its kind: "technicians[3]"
                self.number_ids.setdefault(path.split("[", 1)[0], set()).add(str(value))
            return str(value)  # an id written as a number is that id, wherever it is named
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
        if isinstance(value, float) and not isfinite(value):
            self.fault(where, "must be a finite number")
            return None
        if integer and isinstance(value, float) and not value.is_integer():
            self.fault(where, "must be a whole number")
            return None
        if positive and value <= 0:
            self.fault(where, "must be greater than 0")
            return None
        if minimum is not None and value < minimum:
            self.fault(where, f"must be at least {minimum:g}")
            return None
        if maximum is not None and value > maximum:
            self.fault(where, f"must be at most {maximum:g}")
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
        if not isinstance(value, str) or value not in options:
            self.fault(f"{path}.{key}", f"must be one of {', '.join(options)} (got {value!r})")
            return None
        return options[options.index(value)]

    def instant(self, parent: dict, key: str, path: str, required: bool = True) -> Minutes | None:
        value = parent.get(key)
        if value is None:
            if required:
                self.fault(f"{path}.{key}", "is required (an ISO 8601 time with a UTC offset)")
            return None
        try:
            return self.instants.minutes(value)
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


# The one policy field whose null says something: no limit on the distance (every garage is a candidate).
NULL_IS_A_VALUE = frozenset({"max_travel_km"})


def _merged(defaults: dict, given: Any) -> Any:
    """The policy given over the defaults; a field given as null keeps its default, as if left out."""
    if not isinstance(given, dict):
        return given
    out = dict(defaults)
    for key, value in given.items():
        if value is None and key in defaults and key not in NULL_IS_A_VALUE:
            continue
        out[key] = _merged(defaults[key], value) if isinstance(defaults.get(key), dict) else value
    return out


def _notice(r: _Reader, rule: dict) -> dict[str, int] | int | None:
    given = rule.get("min_notice_minutes")
    path = "policy.rule"
    if not isinstance(given, dict):
        return r.number(rule, "min_notice_minutes", path, integer=True, minimum=0, maximum=MAX_NOTICE)
    # A key that names no urgency is an extra field, which the format allows and ignores.
    notice = {u: r.number(given, u, f"{path}.min_notice_minutes", integer=True, minimum=0, maximum=MAX_NOTICE)
              for u in URGENCIES if u in given}
    return None if None in notice.values() else notice


def _parse_policy(r: _Reader, raw: Any) -> Policy | None:
    if raw is None:
        raw = {}
    data = _merged(DEFAULT_POLICY, raw)
    if r.obj(data, "policy") is None:
        return None
    max_km = data.get("max_travel_km")
    if max_km is not None:
        max_km = r.number(data, "max_travel_km", "policy", minimum=0, maximum=1e6)
    speed = data.get("travel_speed_kmh")
    if speed is not None:
        speed = r.number(data, "travel_speed_kmh", "policy", positive=True, minimum=1, maximum=2000)
    rule = r.obj(data["rule"], "policy.rule") or {}
    weights = r.obj(data["weights"], "policy.weights") or {}
    wait = r.obj(weights.get("wait"), "policy.weights.wait") or {}
    wait_weights = {u: r.number(wait, u, "policy.weights.wait", minimum=0, maximum=1e4) for u in URGENCIES}
    errors = len(r.errors)
    fields = dict(
        max_travel_km=max_km,
        rule_garages=r.number(rule, "garages", "policy.rule", integer=True, minimum=1, maximum=1000),
        notice=_notice(r, rule),
        # 0 is a count the format allows ("up to offers offers"): every request is then unplaced in offers mode.
        offers=r.number(data, "offers", "policy", integer=True, minimum=0, maximum=100),
        max_moves=r.number(data, "max_moves", "policy", integer=True, minimum=0, maximum=100000),
        travel_km=r.number(weights, "travel_km", "policy.weights", minimum=0, maximum=1e4),
        move=r.number(weights, "move", "policy.weights", minimum=0, maximum=1e6),
        shift_minute=r.number(weights, "shift_minute", "policy.weights", minimum=0, maximum=1e4),
        unplaced=r.number(weights, "unplaced", "policy.weights", minimum=0, maximum=1e7),
        time_limit_seconds=r.number(data, "time_limit_seconds", "policy", positive=True, maximum=86400),
    )
    if len(r.errors) > errors or None in wait_weights.values():
        return None
    return Policy(
        max_travel_km=fields["max_travel_km"],
        rule=RulePolicy(garages=fields["rule_garages"], min_notice_minutes=fields["notice"]),
        offers=fields["offers"], max_moves=fields["max_moves"],
        weights=Weights(wait=wait_weights, travel_km=fields["travel_km"], move=fields["move"],  # type: ignore[arg-type]
                        shift_minute=fields["shift_minute"], unplaced=fields["unplaced"]),
        time_limit_seconds=fields["time_limit_seconds"], travel_speed_kmh=speed,
    )


def policy_from_dict(raw: Any) -> Policy:
    """The format's `policy` block as a Policy, defaults filled in as the parser does; ProblemError names each fault."""
    r = _Reader()
    policy = _parse_policy(r, raw)
    if r.errors or policy is None:
        raise ProblemError(r.errors or ["policy: incomplete"])
    return policy


# -- the elements of the long lists -----------------------------------------------------------------
# Each is read on its own, without looking at the others: a file is read a piece at a time and
# its sections may come in any order. References between elements are checked once all is read.

def read_technician(r: _Reader, raw: Any, i: int) -> Technician | None:
    # The common case, checked in one go: a network has tens of thousands, each with tens of shifts.
    if type(raw) is dict:
        get = raw.get
        tid, garage, skills, shift_list = get("id"), get("garage"), get("skills", []), get("shifts")
        if (type(tid) is str and tid and type(garage) is str and garage and type(skills) is list
                and all(type(s) is str for s in skills) and (shift_list is None or type(shift_list) is list)):
            known = r.instants.known
            shifts = []
            for sraw in shift_list or ():
                if type(sraw) is not dict:
                    break
                try:
                    s, e = known[sraw.get("start")], known[sraw.get("end")]
                except (KeyError, TypeError):  # a time not seen yet, or not a time
                    break
                if type(s) is not tuple or type(e) is not tuple or e[2] <= s[2]:
                    break
                if e[0] > s[1]:
                    shifts.append((s[1], e[0]))
            else:
                return Technician(tid, intern(garage), frozenset(intern(s) for s in skills), tuple(sorted(shifts)))
    return _read_technician_slowly(r, raw, i)


def _read_technician_slowly(r: _Reader, raw: Any, i: int) -> Technician | None:
    """The same reading, field by field, naming each fault."""
    path = f"technicians[{i}]"
    if r.obj(raw, path) is None:
        return None
    tid = r.text(raw, "id", path)
    garage = r.text(raw, "garage", path)
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
        if e[2] <= s[2]:
            r.fault(spath, "end must be after start")
            continue
        if e[0] > s[1]:
            shifts.append((s[1], e[0]))
    if tid is None or garage is None:
        return None
    return Technician(tid, intern(garage), frozenset(intern(s) for s in skills), tuple(sorted(shifts)))


_URGENCY = {u: u for u in URGENCIES}
_STATUS = {s: s for s in ACTIVE_STATUSES}


def read_appointment(r: _Reader, raw: Any, i: int) -> Appointment | None:
    # The common case, checked in one go: a network has over a million of these.
    if type(raw) is dict:
        get = raw.get
        try:
            start, end = r.instants.known[get("start")], r.instants.known[get("end")]
        except (KeyError, TypeError):  # a time not seen yet, or not a time: read it the slow way
            start = end = None
        aid, tech, skill = get("id"), get("technician"), get("skill", "")
        lift, pinned, flex = get("lift", False), get("pinned", False), get("flex_minutes", 0)
        urgency, status = get("urgency", "P3"), get("status", "booked")
        if (type(start) is tuple and type(end) is tuple and end[2] > start[2]
                and type(aid) is str and aid and type(tech) is str and tech and type(skill) is str and skill
                and type(lift) is bool and type(pinned) is bool and type(flex) is int and 0 <= flex <= MAX_FLEX
                and type(urgency) is str and urgency in _URGENCY and type(status) is str and status in _STATUS):
            return Appointment(aid, intern(tech), start[0], end[1], intern(skill), lift,
                               _URGENCY[urgency], _STATUS[status], pinned, flex)
    return _read_appointment_slowly(r, raw, i)


def _read_appointment_slowly(r: _Reader, raw: Any, i: int) -> Appointment | None:
    """The same reading, field by field, naming each fault."""
    path = f"appointments[{i}]"
    if r.obj(raw, path) is None:
        return None
    aid = r.text(raw, "id", path)
    tech = r.text(raw, "technician", path)
    s, e = r.instant(raw, "start", path), r.instant(raw, "end", path)
    if s is not None and e is not None and e[2] <= s[2]:
        r.fault(path, "end must be after start")
        s = None
    appt = dict(
        skill=r.text(raw, "skill", path, default=""),
        lift=r.flag(raw, "lift", path, False),
        urgency=r.choice(raw, "urgency", path, URGENCIES, default="P3"),
        status=r.choice(raw, "status", path, ACTIVE_STATUSES, default="booked"),
        pinned=r.flag(raw, "pinned", path, False),
        flex_minutes=r.number(raw, "flex_minutes", path, default=0, integer=True, minimum=0, maximum=MAX_FLEX),
    )
    if aid is None or tech is None or s is None or e is None or None in appt.values():
        return None
    return Appointment(aid, intern(tech), s[0], e[1], **appt)


# -- the whole document ----------------------------------------------------------------------------

def parse_problem(doc: Any) -> Problem:
    """Build a Problem from a decoded JSON document, or raise ProblemError naming every fault.

    Instants may be ISO 8601 text or aware datetimes (an in-process caller's own values).
    """
    r = _Reader()
    if r.obj(doc, "problem") is None:
        raise ProblemError(r.errors)
    technicians = [read_technician(r, raw, i) for i, raw in enumerate(r.items(doc, "technicians", "problem"))]
    appointments = [read_appointment(r, raw, i)
                    for i, raw in enumerate(r.items(doc, "appointments", "problem", required=False))]
    return _assemble(r, doc, technicians, appointments)


def _named(doc: dict, key: str) -> set:
    """The ids the document's list `key` gives its elements, faulty elements included."""
    items = doc.get(key)
    return {raw["id"] for raw in items if isinstance(raw, dict) and isinstance(raw.get("id"), str)} \
        if isinstance(items, list) else set()


def _assemble(r: _Reader, doc: dict, technician_list: list[Technician | None],
              appointment_list: list[Appointment | None]) -> Problem:
    """The rest of the document, and every reference between its parts.

    The lists hold None where an element was faulty, so that a position is still its index.
    """
    if doc.get("version", 1) not in (1, 1.1) or isinstance(doc.get("version"), bool):
        r.fault("version", f"must be 1 (got {doc.get('version')!r})")
    mode = r.choice(doc, "mode", "problem", MODES)
    now = r.instant(doc, "now", "problem")
    slot = r.number(doc, "slot_minutes", "problem", default=15, integer=True, positive=True, maximum=MAX_SLOT)
    policy = _parse_policy(r, doc.get("policy"))
    garages = _read_garages(r, doc)

    # what the document names, faulty or not: a garage whose lifts are -1 is faulty, not unknown to its technicians
    # (each of them, and each of their appointments, was said to name an unknown one)
    named_garages, named_technicians = _named(doc, "garages"), _named(doc, "technicians")
    technicians: dict[str, Technician] = {}
    for i, tech in enumerate(technician_list):
        if tech is None:
            continue
        if tech.garage not in garages and tech.garage not in named_garages:
            r.fault(f"technicians[{i}].garage", f"unknown garage {tech.garage!r}")
        if tech.id in technicians:
            r.fault(f"technicians[{i}].id", f"duplicate technician id {tech.id!r}")
        elif tech.garage in garages:
            technicians[tech.id] = tech

    if all(appointment_list) and set(map(_TECHNICIAN, appointment_list)) <= technicians.keys():
        appointments = appointment_list  # none faulty (None) and every technician known: the list as it is
    else:
        appointments = []
        for i, a in enumerate(appointment_list):
            if a is None:
                continue
            if a.technician not in technicians:
                if a.technician not in named_technicians:
                    r.fault(f"appointments[{i}].technician", f"unknown technician {a.technician!r}")
                continue
            appointments.append(a)
    _no_duplicate_appointments(r, appointment_list)

    requests = _read_requests(r, doc, garages, now)
    if r.errors or now is None or policy is None or mode is None or slot is None:
        raise ProblemError(r.errors or ["problem: incomplete"])
    return Problem(
        mode=mode, now=now[1], now_exact=now[2], zone=_zone(doc["now"]), slot=slot, garages=garages,
        technicians=technicians, appointments=appointments, requests=requests, policy=policy,
        number_ids={kind: frozenset(ids) for kind, ids in r.number_ids.items()},
    )


_ID, _TECHNICIAN = attrgetter("id"), attrgetter("technician")


def _zone(now: Any):
    return parse_instant(now)[0].tzinfo


def _read_garages(r: _Reader, doc: dict) -> dict[str, Garage]:
    garages: dict[str, Garage] = {}
    for i, raw in enumerate(r.items(doc, "garages", "problem")):
        path = f"garages[{i}]"
        if r.obj(raw, path) is None:
            continue
        gid = r.text(raw, "id", path)
        loc = r.location(raw.get("location"), f"{path}.location")
        lifts = r.number(raw, "lifts", path, default=0, integer=True, minimum=0, maximum=MAX_LIFTS)
        if gid is None:
            continue
        if gid in garages:
            r.fault(f"{path}.id", f"duplicate garage id {gid!r}")
        elif loc is not None and lifts is not None:
            garages[gid] = Garage(intern(gid), loc, lifts)
    return garages


def _no_duplicate_appointments(r: _Reader, appointments: list[Appointment | None]) -> None:
    # Sorting the ids costs far less memory than a set of a million of them.
    ids = sorted(map(_ID, filter(None, appointments)))
    twice = {a for a, b in zip(ids, ids[1:]) if a == b}
    if not twice:
        return
    seen: set[str] = set()
    for i, a in enumerate(appointments):
        if a is not None and a.id in twice:
            if a.id in seen:
                r.fault(f"appointments[{i}].id", f"duplicate appointment id {a.id!r}")
            seen.add(a.id)


def _read_requests(r: _Reader, doc: dict, garages: dict[str, Garage], now: Minutes | None) -> list[Request]:
    requests: list[Request] = []
    seen: set[str] = set()
    named = _named(doc, "garages")  # a faulty garage is named, not unknown (see _assemble)
    for i, raw in enumerate(r.items(doc, "requests", "problem", required=False)):
        path = f"requests[{i}]"
        if r.obj(raw, path) is None:
            continue
        rid = r.text(raw, "id", path)
        duration = r.number(raw, "duration_minutes", path, integer=True, positive=True, maximum=MAX_DURATION)
        skill = r.text(raw, "skill", path)
        lift = r.flag(raw, "lift", path, False)
        urgency = r.choice(raw, "urgency", path, URGENCIES)
        loc = r.location(raw["location"], f"{path}.location") if raw.get("location") is not None else None
        cands = raw.get("garages")
        if isinstance(cands, list):
            cands = [_id_text(g) for g in cands]
        if cands is not None:
            if not isinstance(cands, list) or not all(isinstance(g, str) for g in cands):
                r.fault(f"{path}.garages", "must be a list of garage ids or null")
                cands = None
            else:
                for g in cands:
                    if g not in garages and g not in named:
                        r.fault(f"{path}.garages", f"unknown garage {g!r}")
                if len(set(cands)) != len(cands):
                    r.fault(f"{path}.garages", "lists a garage twice")
                cands = tuple(dict.fromkeys(g for g in cands if g in garages))
        elif loc is None and raw.get("location") is None:  # absent or null: a bad one was named above
            r.fault(f"{path}.location", "is required when garages is null or absent")
        earliest = r.instant(raw, "earliest", path, required=False)
        latest = r.instant(raw, "latest", path, required=False)
        if rid is not None and rid in seen:
            r.fault(f"{path}.id", f"duplicate request id {rid!r}")
            continue
        if None in (rid, duration, skill, urgency) or now is None:
            continue
        if cands is None and loc is None:
            continue
        seen.add(rid)
        requests.append(Request(
            id=rid, duration=duration, skill=skill, lift=lift, urgency=urgency, location=loc, garages=cands,
            **request_times(now[2], earliest[2] if earliest else None, latest[0] if latest else None),
        ))
    return requests


_SPACE = r"[ \t\n\r]*"
_TEXT = r'"([^"\\\x00-\x1f]*)"'  # a JSON string without escapes: its text is its value
_FLAG = "(true|false)"
# An appointment spelled in the format's order, as this project and json.dumps write it.
APPOINTMENT = re.compile(r"\{" + ",".join(f'{_SPACE}"{key}"{_SPACE}:{_SPACE}{value}{_SPACE}' for key, value in (
    ("id", _TEXT), ("technician", _TEXT), ("start", _TEXT), ("end", _TEXT), ("skill", _TEXT), ("lift", _FLAG),
    ("urgency", _TEXT), ("status", _TEXT), ("pinned", _FLAG), ("flex_minutes", "(0|[1-9][0-9]{0,8})"))) + r"\}")


_NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]


class _RawAppointment(msgspec.Struct, gc=False):
    """An appointment as msgspec reads it: what it takes is what read_appointment takes at once.

    Anything else (a missing or null field, an id given as a number, a whole number written
    60.0) makes msgspec refuse the window, which is then read the usual way, naming each fault.
    """

    id: _NonEmpty
    technician: _NonEmpty
    start: str
    end: str
    skill: _NonEmpty
    lift: bool = False
    urgency: Literal["P1", "P2", "P3"] = "P3"
    status: Literal["booked", "checked_in", "in_progress"] = "booked"
    pinned: bool = False
    flex_minutes: Annotated[int, msgspec.Meta(ge=0, le=MAX_FLEX)] = 0


_read_appointments = msgspec.json.Decoder(list[_RawAppointment]).decode
_REFUSED = msgspec.DecodeError  # a ValidationError is one too


def _as_dict(raw: Any) -> dict:
    return {"id": raw.id, "technician": raw.technician, "start": raw.start, "end": raw.end, "skill": raw.skill,
            "lift": raw.lift, "urgency": raw.urgency, "status": raw.status, "pinned": raw.pinned,
            "flex_minutes": raw.flex_minutes}


class _Technicians(Reading):
    def __init__(self, r: _Reader):
        self.r, self.found = r, []

    def element(self, value: Any) -> None:
        self.found.append(read_technician(self.r, value, len(self.found)))


class _Appointments(Reading):
    pattern = APPOINTMENT

    def __init__(self, r: _Reader):
        self.r, self.found = r, []
        self.known = r.instants.known

    def element(self, value: Any) -> None:
        self.found.append(read_appointment(self.r, value, len(self.found)))

    boundary = re.compile(r"\}(?=[ \t\n\r]*,)")

    def batch(self, text: str) -> bool:
        """read_appointment for a run of whole elements, decoded by msgspec: a fifth of the time."""
        try:
            raws = _read_appointments("[" + text + "]")
        except _REFUSED:
            return False
        found = self.found
        add, known = found.append, self.known.get
        for a in raws:
            s, e = known(a.start), known(a.end)
            if type(s) is tuple and type(e) is tuple and e[2] > s[2]:
                add(Appointment(a.id, intern(a.technician), s[0], e[1], intern(a.skill), a.lift,
                                a.urgency, a.status, a.pinned, a.flex_minutes))
            else:  # a new time, or a fault to name
                add(read_appointment(self.r, _as_dict(a), len(found)))
        return True

    def matched(self, match: re.Match) -> bool:
        """read_appointment for the usual spelling, without decoding it as JSON first: half the time."""
        aid, tech, start, end, skill, lift, urgency, status, pinned, flex = match.groups()
        s, e = self.known.get(start), self.known.get(end)
        if (type(s) is tuple and type(e) is tuple and e[2] > s[2] and aid and tech and skill
                and urgency in _URGENCY and status in _STATUS and int(flex) <= MAX_FLEX):
            self.found.append(Appointment(aid, intern(tech), s[0], e[1], intern(skill), lift == "true",
                                          _URGENCY[urgency], _STATUS[status], pinned == "true", int(flex)))
            return True
        return False  # a new time, or a fault to name: decoded and read the usual way


def load_problem(path: str | Path) -> Problem:
    """Read and parse a problem file; a file that is not JSON is a ProblemError too.

    The long lists are read an element at a time, straight into the problem's dataclasses. A
    top-level key given twice is a fault here (a JSON reader would silently keep the last).
    """
    r = _Reader()
    readings = {"technicians": _Technicians(r), "appointments": _Appointments(r)}
    readers = {"technicians": read_technician, "appointments": read_appointment}
    # Millions of new objects, none of them cyclic: the collector would only re-scan them.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with open(path, "rb") as file:
            doc, streamed, twice = read_object(file, readings)
    except OSError as exc:
        raise ProblemError([f"problem: cannot read {path}: {exc}"]) from None
    except UnicodeDecodeError as exc:
        raise ProblemError([f"problem: not valid JSON: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except NotJSON as exc:
        raise ProblemError([f"problem: not valid JSON: {exc}"]) from None
    except ValueError as exc:
        if "integer string conversion" not in str(exc):
            raise
        # Python reads at most 4,300 digits of a whole number: a longer one is no count of anything here
        raise ProblemError(["problem: not valid JSON: a whole number of more than 4,300 digits"]) from None
    except RecursionError:
        raise ProblemError(["problem: not valid JSON: nested too deeply"]) from None
    finally:
        if collecting:
            gc.enable()
    if not isinstance(doc, dict):
        return parse_problem(doc)
    for key in twice:
        r.fault(f"problem.{key}", "is given twice")
    lists = {key: reading.found for key, reading in readings.items()}
    for key, read in readers.items():
        if key not in streamed:  # absent or not a list: read as the parser does, naming the fault
            items = r.items(doc, key, "problem", required=key == "technicians")
            lists[key] = [read(r, raw, i) for i, raw in enumerate(items)]
    return _assemble(r, doc, lists["technicians"], lists["appointments"])
