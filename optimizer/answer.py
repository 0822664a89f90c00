"""The answer document (format version 1) as dataclasses, with JSON (de)serialisation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo
from typing import Any

from optimizer.clock import format_instant, parse_instant


@dataclass(frozen=True)
class Placement:
    request: str
    garage: str
    technician: str
    start: int
    end: int


@dataclass(frozen=True)
class Move:
    appointment: str
    technician: str
    start: int
    end: int


@dataclass(frozen=True)
class Unplaced:
    request: str
    reason: str
    # The reason as a fact: `no_garage`, `no_skill`, `no_lift`, `no_technician` (no room even with
    # every movable job gone), `lifts_full` (someone is free then, but work no move can change holds every
    # lift), `not_worth_placing` (room is left, but every place costs more than leaving it out), `other_requests`,
    # `move_limit`, `moves_not_found`; "" when not known.
    code: str = ""


@dataclass(frozen=True)
class Offer:
    request: str
    rank: int
    garage: str
    technician: str
    start: int
    end: int
    cost: float
    distance_km: float = 0.0


@dataclass(frozen=True)
class LateReason:
    """One fact of why the rule offer is not earlier; planners count them to see which rule costs what.

    code:
    - `min_notice`: the minimum notice (`minutes`); a home garage is free at `free_at` otherwise.
    - `rule_garages`: the rules look at the first `minutes` candidate garages only; `garage`,
      another candidate, is free at `free_at`.
    - `lifts_full`: every lift is taken; a technician is free at `free_at` otherwise.
    - `no_technician`: no qualified technician is free earlier.
    - `travel`: the customer cannot be at `garage` earlier: the start is their arrival, `minutes`
      of travel after now.
    - `none`: nothing: the rule offer is the first possible slot.
    """

    code: str
    free_at: int | None = None
    garage: str | None = None
    minutes: int | None = None


@dataclass(frozen=True)
class RuleOffer:
    request: str
    garage: str
    technician: str
    start: int
    end: int
    # Why the rules could not offer earlier: the counterfactual must be explainable, in words
    # (the JSON answer) and as facts (`reasons`).
    late_because: str = ""
    reasons: tuple[LateReason, ...] = ()


@dataclass
class Answer:
    status: str
    cost: float | None = None
    bound: float | None = None
    solve_seconds: float = 0.0
    placements: list[Placement] = field(default_factory=list)
    moves: list[Move] = field(default_factory=list)
    unplaced: list[Unplaced] = field(default_factory=list)
    offers: list[Offer] = field(default_factory=list)
    # Parallel to the problem's requests; None where the rules offer nothing.
    rule_offers: list[RuleOffer | None] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    fallback: bool = False
    rule_offers_stated: bool = True  # False for a document read back without them: `check` has none to judge

    def to_dict(self, zone: tzinfo | None, number_ids: dict[str, frozenset[str]] | None = None) -> dict[str, Any]:
        """The JSON document; times in `zone` (the problem's `now` offset), and an id the problem wrote as a
        whole number (`number_ids`) written as that number: the answer names things as the problem did."""

        def at(minute: int) -> str:
            return format_instant(minute, zone) if zone is not None else str(minute)

        numbers = number_ids or {}

        def named(kind: str, key: str) -> str | int:
            return int(key) if key in numbers.get(kind, ()) else key

        doc: dict[str, Any] = {"version": 1, "status": self.status}
        if self.status == "INVALID":
            # the answer's whole shape, empty, beside the faults: a reader of `placements` needs no special case
            doc.update(cost=None, bound=None, solve_seconds=0.0, placements=[], moves=[], unplaced=[], offers=[],
                       rule_offers=[], errors=list(self.errors))
            return doc
        doc.update(
            cost=None if self.cost is None else round(self.cost, 6),
            bound=None if self.bound is None else round(self.bound, 6),
            solve_seconds=round(self.solve_seconds, 4),
            placements=[
                {"request": named("requests", p.request), "garage": named("garages", p.garage),
                 "technician": named("technicians", p.technician),
                 "start": at(p.start), "end": at(p.end)} for p in self.placements
            ],
            moves=[
                {"appointment": named("appointments", m.appointment), "technician": named("technicians", m.technician),
                 "start": at(m.start), "end": at(m.end)} for m in self.moves
            ],
            unplaced=[{"request": named("requests", u.request), "reason": u.reason,
                       **({"code": u.code} if u.code else {})}
                      for u in self.unplaced],
            offers=[
                {"request": named("requests", o.request), "rank": o.rank, "garage": named("garages", o.garage),
                 "technician": named("technicians", o.technician),
                 "start": at(o.start), "end": at(o.end), "cost": round(o.cost, 6),
                 "distance_km": round(o.distance_km, 3)} for o in self.offers
            ],
            rule_offers=[
                None if ro is None else
                {"request": named("requests", ro.request), "garage": named("garages", ro.garage),
                 "technician": named("technicians", ro.technician),
                 "start": at(ro.start), "end": at(ro.end), "late_because": ro.late_because,
                 "reasons": [_reason_dict(reason, at, named) for reason in ro.reasons]}
                for ro in self.rule_offers
            ],
        )
        if self.fallback:
            doc["fallback"] = True
        if self.notes:
            doc["notes"] = list(self.notes)
        return doc


def _reason_dict(reason: LateReason, at, named) -> dict[str, Any]:
    doc: dict[str, Any] = {"code": reason.code}
    if reason.free_at is not None:
        doc["free_at"] = at(reason.free_at)
    if reason.garage is not None:
        doc["garage"] = named("garages", reason.garage)
    if reason.minutes is not None:
        doc["minutes"] = reason.minutes
    return doc


def answer_from_dict(doc: Any) -> Answer:
    """Read an answer document back (for `check`); raises ValueError naming a fault that stops reading it.
    A time off the whole minute is read (floored) and named in `errors`: the answer is infeasible."""
    if not isinstance(doc, dict):
        raise ValueError("answer: must be an object")

    off: list[str] = []  # times between minutes: no grid has them, and flooring them would hide it

    def minute(obj: dict, key: str, path: str) -> int:
        try:
            moment, value = parse_instant(obj[key])
            if moment.second or moment.microsecond:
                off.append(f"{path}.{key}: {obj[key]} is not on a whole minute, so not on the grid")
            return value
        except KeyError:
            raise ValueError(f"{path}.{key}: is required") from None
        except ValueError as exc:
            raise ValueError(f"{path}.{key}: {exc}") from None

    def rows(key: str) -> list[dict]:
        value = doc.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            raise ValueError(f"answer.{key}: must be a list of objects")
        return value

    try:
        placements = [
            Placement(str(p["request"]), str(p["garage"]), str(p["technician"]),
                      minute(p, "start", f"placements[{i}]"), minute(p, "end", f"placements[{i}]"))
            for i, p in enumerate(rows("placements"))
        ]
        moves = [
            Move(str(m["appointment"]), str(m["technician"]),
                 minute(m, "start", f"moves[{i}]"), minute(m, "end", f"moves[{i}]"))
            for i, m in enumerate(rows("moves"))
        ]
        unplaced = [Unplaced(str(u["request"]), str(u.get("reason", "")), str(u.get("code", "")))
                    for u in rows("unplaced")]
        offers = [
            Offer(str(o["request"]), int(o.get("rank", i + 1)), str(o["garage"]), str(o["technician"]),
                  minute(o, "start", f"offers[{i}]"), minute(o, "end", f"offers[{i}]"),
                  float(o.get("cost", 0.0)))
            for i, o in enumerate(rows("offers"))
        ]
        given = doc.get("rule_offers")
        if given is not None and (not isinstance(given, list)
                                  or not all(r is None or isinstance(r, dict) for r in given)):
            raise ValueError("answer.rule_offers: must be a list of objects or nulls")
        rule = None if given is None else [
            None if r is None else RuleOffer(str(r["request"]), str(r["garage"]), str(r["technician"]),
                                             minute(r, "start", f"rule_offers[{i}]"), minute(r, "end", f"rule_offers[{i}]"))
            for i, r in enumerate(given)
        ]
    except KeyError as exc:
        raise ValueError(f"answer: a row lacks {exc}") from None
    return Answer(
        status=str(doc.get("status", "")), cost=doc.get("cost"), bound=doc.get("bound"),
        placements=placements, moves=moves, unplaced=unplaced, offers=offers, errors=off,
        rule_offers=rule if rule is not None else [], rule_offers_stated=rule is not None,
    )
