"""An override: a human decision that departs from the rule offer, and how it turned out.

Gain and verdict are derived from stored facts (the rule offer at decision time and the
actual start), never typed in, the same way for every kind (API.md, DESIGN.md). A lowered
urgency's rule offer is the lowered urgency's, so it is judged against what the rules give at
that urgency; whether its car came back worse is a fact of its own (`came_back_worse`).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import JSON, ForeignKey, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

from scheduler.db import Base, UTCDateTime, append_only, utcnow

KINDS = ("urgency_raise", "urgency_lower", "direct_line", "squeeze_in", "walk_in", "drive_in", "manual_slot",
         "overbook", "rebook")
VERDICTS = ("beat", "tie", "lost", "pending")
# Why the rule offer was late, as the optimizer reports it (LateReason.code), and the two rules the desk applies
# on top (planning.case_offers): today kept from the call centre, and the P1 reserve of a garage-day.
RULE_CODES = ("min_notice", "rule_garages", "lifts_full", "no_technician", "travel", "outside_hours", "same_day",
              "p1_reserve", "none")
# A lowered urgency whose car comes back worse within this time of the decision is flagged for planners.
WATCH = timedelta(days=30)
URGENCY_ORDER = {"P1": 1, "P2": 2, "P3": 3}


# Older rows have only the optimizer's note: read the rule back from its wording.
_NOTE_CODES = [
    (re.compile(r"minimum notice", re.I), "min_notice"),
    (re.compile(r"only the first|garage\(s\) are looked at|home garage", re.I), "rule_garages"),
    (re.compile(r"lift", re.I), "lifts_full"),
    (re.compile(r"technician is free|offered nothing|no technician", re.I), "no_technician"),
    (re.compile(r"drive|travel|arriv", re.I), "travel"),
    (re.compile(r"opening|closed|outside", re.I), "outside_hours"),
    (re.compile(r"first possible slot", re.I), "none"),
]


def reasons_from_note(note: str) -> list[dict]:
    found = [code for pattern, code in _NOTE_CODES if note and pattern.search(note)]
    found = [c for c in found if c != "none"] or (["none"] if found or note else [])
    return [{"code": code, "free_at": None, "garage": None, "minutes": None} for code in dict.fromkeys(found)]


class Override(Base):
    __tablename__ = "override"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    team: Mapped[str] = mapped_column(String(80), index=True)  # statistics go by team, never by person
    urgency: Mapped[str] = mapped_column(String(2))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    policy_id: Mapped[int | None] = mapped_column(ForeignKey("policy.id"))
    garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"), index=True)  # where it happened

    # What the standard rules offered at that moment (the counterfactual); all null if nothing.
    rule_garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"))
    rule_technician_id: Mapped[str | None] = mapped_column(String(40))
    rule_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_note: Mapped[str] = mapped_column(Text, default="")
    # Why the rule offer was late: [{code, free_at, garage, minutes}], codes of RULE_CODES.
    rule_reasons: Mapped[list] = mapped_column(JSON, default=list)

    # Knock-on: [{appointment, from, to}] of the work moved to make room, and its total delay.
    moved: Mapped[list] = mapped_column(JSON, default=list)
    knock_on_minutes: Mapped[int] = mapped_column(default=0)

    case: Mapped[Case] = relationship()
    actor: Mapped[User | None] = relationship()
    # What the decision produced and how it turned out: appended as it becomes known, never rewritten.
    outcomes: Mapped[list[OverrideOutcome]] = relationship(back_populates="override", order_by="OverrideOutcome.id",
                                                           lazy="selectin", cascade="all")

    def __init__(self, **fields):
        """Outcome fields given with the decision (the seed, a test) become its first outcome row."""
        outcome = {k: fields.pop(k) for k in OUTCOME_FIELDS if k in fields}
        super().__init__(**fields)
        if any(v is not None for v in outcome.values()):
            self.outcomes.append(OverrideOutcome(recorded_at=self.created_at, **outcome))

    @property
    def outcome(self) -> OverrideOutcome | None:
        """The latest word on what happened (None while nothing is known)."""
        return self.outcomes[-1] if self.outcomes else None

    def _known(self, field: str):
        return getattr(self.outcome, field) if self.outcome is not None else None

    appointment_id = property(lambda self: self._known("appointment_id"))
    result_garage_id = property(lambda self: self._known("result_garage_id"))
    result_technician_id = property(lambda self: self._known("result_technician_id"))
    result_start = property(lambda self: self._known("result_start"))
    result_end = property(lambda self: self._known("result_end"))
    actual_start = property(lambda self: self._known("actual_start"))
    actual_end = property(lambda self: self._known("actual_end"))

    # Set by a reader that loaded the returns of many overrides at once (scheduler.services.stats).
    _came_back_worse = None

    @property
    def gain_minutes(self) -> int | None:
        """Rule offer start − actual start (API.md); None until both are known."""
        if self.rule_start is None or self.actual_start is None:
            return None
        return round((self.rule_start - self.actual_start).total_seconds() / 60)

    @property
    def reasons(self) -> list[dict]:
        """Why the rule offer was late: as recorded, else read from the note of an older row."""
        return list(self.rule_reasons or []) or reasons_from_note(self.rule_note or "")

    def came_back_worse(self) -> bool | None:
        """For a lowered urgency: did the car come back worse within WATCH (None for the other kinds)."""
        if self.kind != "urgency_lower":
            return None
        if self._came_back_worse is None:
            session = object_session(self)
            self._came_back_worse = session is not None and self.id in worse_returns(session, [self])
        return self._came_back_worse

    @property
    def verdict(self) -> str:
        # API.md: "a verdict is pending until the work has started"; then DESIGN.md's one definition, whatever
        # the kind: beat = started earlier than the rule offer, net of the delay imposed on moved work
        if self.actual_start is None:
            return "pending"
        if self.rule_start is None:
            return "beat"  # the rules offered nothing at all
        net = self.gain_minutes - self.knock_on_minutes  # exactly level is a tie
        return "tie" if net == 0 else "beat" if net > 0 else "lost"

    def rule_offer_dict(self) -> dict | None:
        if self.rule_start is None:
            return None
        return {"garage": self.rule_garage_id, "technician": self.rule_technician_id,
                "start": self.rule_start.isoformat(), "end": self.rule_end.isoformat() if self.rule_end else None}

    def result_dict(self) -> dict | None:
        if self.result_start is None and self.result_garage_id is None:
            return None
        return {"garage": self.result_garage_id, "technician": self.result_technician_id,
                "start": self.result_start.isoformat() if self.result_start else None,
                "end": self.result_end.isoformat() if self.result_end else None}

    def to_dict(self) -> dict:
        return {
            "id": self.id, "case": self.case_id, "kind": self.kind, "reason": self.reason, "team": self.team,
            "urgency": self.urgency, "created_at": self.created_at.isoformat(), "garage": self.garage_id,
            "rule_offer": self.rule_offer_dict(), "result": self.result_dict(),
            "actual_start": self.actual_start.isoformat() if self.actual_start else None,
            "gain_minutes": self.gain_minutes, "knock_on_minutes": self.knock_on_minutes,
            "verdict": self.verdict, "came_back_worse": self.came_back_worse(), "moved": self.moved,
            "rule_reasons": self.reasons,
        }


OUTCOME_FIELDS = ("appointment_id", "result_garage_id", "result_technician_id", "result_start", "result_end",
                  "actual_start", "actual_end")


class OverrideOutcome(Base):
    """What an override led to, as known at `recorded_at`: the booking it produced, then the work's real start
    and end. A later row supersedes an earlier one; none is ever changed (the database refuses it)."""

    __tablename__ = "override_outcome"

    id: Mapped[int] = mapped_column(primary_key=True)
    override_id: Mapped[int] = mapped_column(ForeignKey("override.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"), index=True)
    result_garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"))
    result_technician_id: Mapped[str | None] = mapped_column(String(40))
    result_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)

    override: Mapped[Override] = relationship(back_populates="outcomes")


append_only(Override.__table__)
append_only(OverrideOutcome.__table__)


def worse_returns(session, overrides: list[Override]) -> set[int]:
    """The ids of these lowered-urgency overrides whose car came back worse within WATCH: a later case for
    the same vehicle more urgent than the lowered urgency, or the same case raised again. Two queries."""
    lowered = [o for o in overrides if o.kind == "urgency_lower"]
    if not lowered:
        return set()
    cases = {o.case_id for o in lowered}
    own = dict(session.execute(select(Case.id, Case.vehicle_id).where(Case.id.in_(cases))).all())
    later = session.execute(select(Case.id, Case.vehicle_id, Case.opened_at, Case.urgency)
                            .where(Case.vehicle_id.in_(set(own.values())))).all()
    raises = session.execute(select(Override.case_id, Override.created_at).where(
        Override.case_id.in_(own), Override.kind == "urgency_raise")).all()
    worse = set()
    for o in lowered:
        until = o.created_at + WATCH
        rank = URGENCY_ORDER.get(o.urgency, 9)
        if any(v == own.get(o.case_id) and cid != o.case_id and o.created_at < at <= until
               and URGENCY_ORDER.get(u, 9) < rank for cid, v, at, u in later) \
                or any(cid == o.case_id and o.created_at < at <= until for cid, at in raises):
            worse.add(o.id)
    return worse


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.user import User  # noqa: E402
