"""Override statistics for planners: where people beat the rules, grouped by team, never by person.

Every figure of the planner desk comes from here, for the page, the API and the CSV alike:
the overrides of a period (with filters), their totals, their grouping by garage, kind,
reason, team, urgency or week, the rule review, and satisfaction by stage and garage.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Invalid
from scheduler.models import KINDS, STAGES, URGENCIES, Case, Feedback, Override
from scheduler.models.override import RULE_CODES, VERDICTS, worse_returns
from scheduler.texts import N_

GROUPS = ("garage", "kind", "reason", "team", "urgency", "week")
MAX_YEARS = 10  # of weekly rows
NETWORK_ZONE = ZoneInfo("Europe/Paris")
REASON_LENGTH = 80


def check_period(start: datetime | None, end: datetime | None) -> None:
    """A period asked for ends after it starts: one ending first would be read as nothing in it."""
    if start and end and end <= start:
        raise Invalid(N_("to must be after from."), field="to")


@dataclass
class Filters:
    """A period [start, end) and what to keep; every field optional. Weeks are the network's local weeks."""

    start: datetime | None = None
    end: datetime | None = None
    garage: str | None = None
    kind: str | None = None
    urgency: str | None = None
    team: str | None = None
    reason: str | None = None
    verdict: str | None = None
    rule: str | None = None
    zone: ZoneInfo = field(default=NETWORK_ZONE, repr=False)

    def check(self) -> Filters:
        for name, allowed in (("kind", KINDS), ("urgency", URGENCIES), ("verdict", VERDICTS), ("rule", RULE_CODES)):
            value = getattr(self, name)
            if value is not None and value not in allowed:
                raise Invalid(N_("%(name)s must be one of %(allowed)s."), field=name,
                              words={"name": name, "allowed": ", ".join(allowed)})
        check_period(self.start, self.end)
        return self

    def query(self) -> dict:
        """The filters as URL parameters (dates in local days, `to` inclusive), for links and drill-downs."""
        out = {}
        if self.start:
            out["from"] = self.start.astimezone(self.zone).date().isoformat()
        if self.end:
            out["to"] = (self.end.astimezone(self.zone) - timedelta(minutes=1)).date().isoformat()
        for name in ("garage", "kind", "urgency", "team", "reason", "verdict", "rule"):
            if getattr(self, name):
                out[name] = getattr(self, name)
        return out

    def narrowed(self, group_by: str, key: str) -> dict:
        """The query of the overrides behind one group's figures."""
        out = self.query()
        if group_by == "week":
            monday = date.fromisoformat(key)
            out["from"] = max(monday, self.start.astimezone(self.zone).date() if self.start else monday).isoformat()
            sunday = monday + timedelta(days=6)
            last = (self.end.astimezone(self.zone) - timedelta(minutes=1)).date() if self.end else sunday
            out["to"] = min(sunday, last).isoformat()
        else:
            out[group_by] = key
        return out


def local_day_start(day: date, zone: ZoneInfo = NETWORK_ZONE) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


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
        return asdict(self)


@dataclass
class RuleGroup:
    rule: str
    overrides: int
    beat: int
    tie: int
    lost: int
    pending: int
    gain_minutes_total: int
    gain_minutes_median: float | None
    # How much later than otherwise possible the rule made the rule offers, where the optimizer said.
    late_minutes_total: int

    def to_dict(self) -> dict:
        return asdict(self)


def reason_key(o: Override) -> str:
    """The reason as a group: its first line, clipped, so a long message does not make a group of one."""
    text = (o.reason or "").strip().splitlines()[0] if (o.reason or "").strip() else ""
    return text if len(text) <= REASON_LENGTH else text[: REASON_LENGTH - 1].rstrip() + "…"


def list_overrides(session: Session, filters: Filters | None = None) -> list[Override]:
    """The overrides of the period that pass the filters, newest first, with their returns known."""
    f = (filters or Filters()).check()
    query = select(Override)
    if f.start:
        query = query.where(Override.created_at >= f.start)
    if f.end:
        query = query.where(Override.created_at < f.end)
    for name in ("garage", "kind", "urgency", "team"):
        value = getattr(f, name)
        if value:
            column = Override.garage_id if name == "garage" else getattr(Override, name)
            query = query.where(column == value)
    rows = list(session.scalars(query.order_by(Override.created_at.desc(), Override.id.desc())))
    worse = worse_returns(session, rows)
    for o in rows:
        o._came_back_worse = o.id in worse
    if f.reason:
        # the group's name (a long reason's first line, clipped) or the reason as the list shows it, whole
        rows = [o for o in rows if f.reason in (reason_key(o), (o.reason or "").strip())]
    if f.verdict:
        rows = [o for o in rows if o.verdict == f.verdict]
    if f.rule:
        rows = [o for o in rows if f.rule in {r["code"] for r in o.reasons}]
    return rows


def week_of(moment: datetime, zone: ZoneInfo = NETWORK_ZONE) -> str:
    """The Monday (local) of the moment's week, ISO: sorts as dates do."""
    local = moment.astimezone(zone).date()
    return (local - timedelta(days=local.weekday())).isoformat()


def weeks_between(start: datetime, end: datetime, zone: ZoneInfo = NETWORK_ZONE) -> list[str]:
    """Every week that [start, end) touches, in order, the current one included."""
    monday = date.fromisoformat(week_of(start, zone))
    last = date.fromisoformat(week_of(end - timedelta(minutes=1), zone))
    out = []
    while monday <= last:
        out.append(monday.isoformat())
        monday += timedelta(days=7)
    return out


def _key(o: Override, group_by: str, zone: ZoneInfo) -> str:
    if group_by == "week":
        return week_of(o.created_at, zone)
    if group_by == "reason":
        return reason_key(o) or "(none)"
    value = {"garage": o.garage_id, "kind": o.kind, "team": o.team, "urgency": o.urgency}[group_by]
    return value or "(none)"


def group(key: str, rows: list[Override]) -> OverrideGroup:
    verdicts = [o.verdict for o in rows]
    gains = [o.gain_minutes for o in rows if o.gain_minutes is not None and o.verdict != "pending"]
    return OverrideGroup(
        key=key, count=len(rows), beat=verdicts.count("beat"), tie=verdicts.count("tie"),
        lost=verdicts.count("lost"), pending=verdicts.count("pending"),
        gain_minutes_total=sum(gains), gain_minutes_median=float(statistics.median(gains)) if gains else None,
        knock_on_minutes_total=sum(o.knock_on_minutes or 0 for o in rows),
    )


def totals(overrides: list[Override]) -> OverrideGroup:
    return group("all", overrides)


def _years_after(moment: datetime, years: int) -> datetime:
    """The same day and time `years` later (29 February: the 1st of March)."""
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:
        return moment.replace(year=moment.year + years, month=3, day=1)


def summarize(overrides: list[Override], group_by: str, filters: Filters | None = None) -> list[OverrideGroup]:
    """One group per key; weeks in date order with the empty ones of the period, others biggest first."""
    if group_by not in GROUPS:
        raise Invalid(N_("group_by must be one of %(groups)s."), field="group_by", words={"groups": ", ".join(GROUPS)})
    zone = filters.zone if filters else NETWORK_ZONE
    groups: dict[str, list[Override]] = defaultdict(list)
    for o in overrides:
        groups[_key(o, group_by, zone)].append(o)
    if group_by == "week":
        moments = [o.created_at for o in overrides]
        start = filters.start if filters and filters.start else (min(moments) if moments else None)
        end = filters.end if filters and filters.end else (max(moments) + timedelta(minutes=1) if moments else None)
        if start and end and end > _years_after(start, MAX_YEARS):
            # every week of the period is a row, the empty ones too: 8,000 years were 417,369 rows (75 MB)
            raise Invalid(N_("A breakdown by week covers at most %(years)s years: narrow the period."), field="from",
                          words={"years": MAX_YEARS})
        keys = weeks_between(start, end, zone) if start and end else []
        return [group(k, groups.get(k, [])) for k in sorted(set(keys) | set(groups))]
    return sorted((group(k, rows) for k, rows in groups.items()), key=lambda g: (-g.count, g.key))


def late_minutes(override: Override, reason: dict) -> int:
    """How much later the rule offer was than the time this rule alone kept it from (its `free_at`): the delay
    the rule caused. A reason's `minutes` is the rule's own figure (the notice, how many garages are looked at,
    the drive), not a delay."""
    free_at = reason.get("free_at")
    if not free_at or override.rule_start is None:
        return 0
    return max(0, round((override.rule_start - datetime.fromisoformat(free_at)).total_seconds() / 60))


def rule_review(overrides: list[Override]) -> list[RuleGroup]:
    """Which rule made the rule offer late, how often people beat it and by how much: the rule to change
    first comes first (most minutes gained against it, then most overrides). An override late for two
    reasons counts under each."""
    by_rule: dict[str, list[tuple[Override, dict]]] = defaultdict(list)
    for o in overrides:
        for reason in o.reasons or [{"code": "none"}]:
            by_rule[reason.get("code") or "none"].append((o, reason))
    out = []
    for code, pairs in by_rule.items():
        rows = list({o.id: o for o, _ in pairs}.values())
        g = group(code, rows)
        out.append(RuleGroup(rule=code, overrides=g.count, beat=g.beat, tie=g.tie, lost=g.lost, pending=g.pending,
                             gain_minutes_total=g.gain_minutes_total, gain_minutes_median=g.gain_minutes_median,
                             late_minutes_total=sum(late_minutes(o, r) for o, r in pairs)))
    return sorted(out, key=lambda r: (r.rule == "none", -r.gain_minutes_total, -r.overrides, r.rule))


@dataclass
class Satisfaction:
    key: str  # a stage, or a garage id
    answers: int
    average: float | None
    by_stage: dict[str, float | None]

    def to_dict(self) -> dict:
        return asdict(self)


def satisfaction(session: Session, filters: Filters | None = None) -> tuple[list[Satisfaction], list[Satisfaction]]:
    """Feedback scores (0–10) per stage, and per garage with its stages: the chain, never a person."""
    f = filters or Filters()
    query = select(Feedback.stage, Feedback.score, Case.garage_id).join(Case, Case.id == Feedback.case_id)
    if f.start:
        query = query.where(Feedback.created_at >= f.start)
    if f.end:
        query = query.where(Feedback.created_at < f.end)
    if f.garage:
        query = query.where(Case.garage_id == f.garage)
    rows = session.execute(query).all()

    def mean(scores: list[int]) -> float | None:
        # whole scores: their mean is exact in decimals, and 8.625 is 8.63 as people round it (round() said 8.62)
        if not scores:
            return None
        return float((Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    stages = [Satisfaction(s, len(sc := [r.score for r in rows if r.stage == s]), mean(sc), {}) for s in STAGES]
    garages = []
    for gid in sorted({r.garage_id or "(none)" for r in rows}):
        mine = [r for r in rows if (r.garage_id or "(none)") == gid]
        garages.append(Satisfaction(gid, len(mine), mean([r.score for r in mine]),
                                    {s: mean([r.score for r in mine if r.stage == s]) for s in STAGES}))
    return stages, garages
