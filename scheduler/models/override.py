"""An override: a human decision that departs from the rule offer, and how it turned out.

Gain and verdict are derived from stored facts (the rule offer at decision time and the
actual start), never typed in.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

KINDS = ("urgency_raise", "urgency_lower", "direct_line", "squeeze_in", "walk_in", "drive_in", "manual_slot",
         "overbook", "rebook")
VERDICTS = ("beat", "tie", "lost", "pending")


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

    # What the human decision produced.
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    result_garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"))
    result_technician_id: Mapped[str | None] = mapped_column(String(40))
    result_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Knock-on: [{appointment, from, to}] of the work moved to make room, and its total delay.
    moved: Mapped[list] = mapped_column(JSON, default=list)
    knock_on_minutes: Mapped[int] = mapped_column(default=0)

    # The outcome, filled in when the work really starts and ends.
    actual_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_end: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()
    actor: Mapped[User | None] = relationship()

    @property
    def gain_minutes(self) -> int | None:
        if self.rule_start is None or self.actual_start is None:
            return None
        return round((self.rule_start - self.actual_start).total_seconds() / 60)

    @property
    def verdict(self) -> str:
        if self.actual_start is None:
            return "pending"
        if self.rule_start is None:
            return "beat"  # the rules offered nothing at all
        net = self.gain_minutes - self.knock_on_minutes
        return "beat" if net > 0 else "lost" if net < 0 else "tie"

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
            "verdict": self.verdict, "moved": self.moved,
        }


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.user import User  # noqa: E402
