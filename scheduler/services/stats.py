"""Override statistics for planners: where people beat the rules, grouped by team, never by person."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import DomainError
from scheduler.models import Override

GROUPS = ("garage", "kind", "reason", "team", "urgency", "week")


@dataclass
class OverrideGroup:
    key: str
    count: int
    beat: int
    tie: int
    lost: int
    pending: int
    gain_minutes_total: int
    gain_minutes_median: float | None
    knock_on_minutes_total: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def list_overrides(session: Session, start: datetime | None = None, end: datetime | None = None,
                   garage: str | None = None, kind: str | None = None) -> list[Override]:
    query = select(Override)
    if start:
        query = query.where(Override.created_at >= start)
    if end:
        query = query.where(Override.created_at < end)
    if garage:
        query = query.where(Override.garage_id == garage)
    if kind:
        query = query.where(Override.kind == kind)
    return list(session.scalars(query.order_by(Override.created_at.desc(), Override.id.desc())))


def _key(o: Override, group_by: str) -> str:
    if group_by == "week":
        year, week, _ = o.created_at.isocalendar()
        return f"{year}-W{week:02d}"
    value = {"garage": o.garage_id, "kind": o.kind, "reason": o.reason, "team": o.team,
             "urgency": o.urgency}[group_by]
    return value or "(none)"


def summarize(overrides: list[Override], group_by: str) -> list[OverrideGroup]:
    if group_by not in GROUPS:
        raise DomainError(f"group_by must be one of {', '.join(GROUPS)}.", field="group_by")
    groups: dict[str, list[Override]] = defaultdict(list)
    for o in overrides:
        groups[_key(o, group_by)].append(o)
    out = []
    for key, rows in groups.items():
        gains = [o.gain_minutes for o in rows if o.gain_minutes is not None and o.verdict != "pending"]
        verdicts = [o.verdict for o in rows]
        out.append(OverrideGroup(
            key=key, count=len(rows), beat=verdicts.count("beat"), tie=verdicts.count("tie"),
            lost=verdicts.count("lost"), pending=verdicts.count("pending"),
            gain_minutes_total=sum(gains), gain_minutes_median=statistics.median(gains) if gains else None,
            knock_on_minutes_total=sum(o.knock_on_minutes for o in rows),
        ))
    return sorted(out, key=lambda g: (-g.count, g.key))
