"""Feedback belongs to the case and its stages, never to one employee's score."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

STAGES = ("booking", "wait", "reception", "repair")


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    score: Mapped[int]
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who typed it in for the customer (a colleague taking it by phone); None when the customer gave it by their link.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)

    case: Mapped[Case] = relationship()
    recorded_by: Mapped[User | None] = relationship()


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.user import User  # noqa: E402
