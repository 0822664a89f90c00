"""A what-if replay: the recorded demand of a period played again under a changed policy.

A replay runs as a job, inline or on a queue of workers; its passes (the current rules, the
changed policy) are independent and may run on different machines. Each pass reports its own
progress and per-case waits; the replay's figures are made from them when the last pass ends.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

REPLAY_STATUSES = ("queued", "running", "done", "failed")
PASSES = ("rules", "changed")


class Replay(Base):
    __tablename__ = "replay"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    # {from, to, policy: {changed fields}} as the planner asked
    params: Mapped[dict] = mapped_column(JSON)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    runner: Mapped[str] = mapped_column(String(10), default="inline")  # inline | rq
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parts: Mapped[list[ReplayPart]] = relationship(back_populates="replay", order_by="ReplayPart.name",
                                                   cascade="all, delete-orphan")
    created_by: Mapped[User | None] = relationship()

    @property
    def progress(self) -> float:
        if self.status == "done":
            return 1.0
        if not self.parts:
            return 0.0
        return round(sum(p.progress for p in self.parts) / len(self.parts), 3)

    def to_dict(self) -> dict:
        return {"id": self.id, "status": self.status, "progress": self.progress, "params": self.params,
                "result": self.result, "error": self.error or None, "runner": self.runner,
                "created_by": self.created_by.username if self.created_by else None,
                "created_at": self.created_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None}


class ReplayPart(Base):
    """One pass of a replay: every case of the period placed by one policy, in arrival order."""

    __tablename__ = "replay_part"
    __table_args__ = (UniqueConstraint("replay_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    replay_id: Mapped[int] = mapped_column(ForeignKey("replay.id"), index=True)
    name: Mapped[str] = mapped_column(String(10))  # rules | changed
    status: Mapped[str] = mapped_column(String(10), default="queued")
    progress: Mapped[float] = mapped_column(default=0.0)
    # {case id: start ISO or null}: the rule offer each case got in this pass
    starts: Mapped[dict | None] = mapped_column(JSON)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    replay: Mapped[Replay] = relationship(back_populates="parts")


from scheduler.models.user import User  # noqa: E402
