"""A proposed change to a garage's plan, shown before anything moves: reception confirms or rejects it.

The preview keeps what the optimizer proposed and a fingerprint of the plan it was computed on; a
confirm applies it only if the plan is still that one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

PREVIEW_KINDS = ("squeeze", "replan")
PREVIEW_STATUSES = ("open", "confirmed", "rejected", "superseded")


class PlanPreview(Base):
    __tablename__ = "plan_preview"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # squeeze: fit a case in; replan: re-place booked work
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_file.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fingerprint: Mapped[str] = mapped_column(String(64))
    # What the optimizer proposed: {"placements": [...], "moves": [...], "unplaced": [...], "cost": ..,
    # "window": [start, end], "replaced": [appointment ids]}; times ISO, ids as stored.
    plan: Mapped[dict] = mapped_column(JSON)
    # The standard rules' offer for the case at preview time: the squeeze-in override is judged against it.
    rule: Mapped[dict | None] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(String(1000), default="")

    garage: Mapped[Garage] = relationship()
    case: Mapped[Case | None] = relationship()


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
