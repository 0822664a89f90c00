"""The standard rules, versioned: every override is judged against the version in force.

A version is never edited: a change is a new row. The version in force at a moment is the
newest one created at or before it, so the rule offer of any moment can be recomputed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from scheduler.db import Base, UTCDateTime, append_only, utcnow

DEFAULT_WEIGHTS = {"wait": {"P1": 100, "P2": 10, "P3": 1}, "travel_km": 2, "move": 30,
                   "shift_minute": 1, "unplaced": 100000}
# The rules at launch: a day's notice whatever the urgency (the story's "first free slot: 16 days").
DEFAULT_NOTICE = {"P1": 1440, "P2": 1440, "P3": 1440}


class Policy(Base):
    __tablename__ = "policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    search_radius_km: Mapped[float] = mapped_column(default=30.0)
    horizon_days: Mapped[int] = mapped_column(default=28)
    rule_garages: Mapped[int] = mapped_column(default=1)
    # Minimum notice of the rule offer by urgency, in minutes: {"P1": 0, "P2": 240, "P3": 1440}.
    notice_minutes: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_NOTICE))
    p1_reserve_minutes: Mapped[int] = mapped_column(default=0)  # per garage-day, kept free for P1
    same_day_visible: Mapped[bool] = mapped_column(default=True)  # to the call centre (policies.visible_from)
    max_moves: Mapped[int] = mapped_column(default=3)
    offers: Mapped[int] = mapped_column(default=5)
    allow_overbook: Mapped[bool] = mapped_column(default=False)
    direct_line_expiry_minutes: Mapped[int] = mapped_column(default=15)
    slot_minutes: Mapped[int] = mapped_column(default=15)
    time_limit_seconds: Mapped[float] = mapped_column(default=1.0)
    # Customers drive to the garage: no offer starts before they can be there (format 1.1).
    travel_speed_kmh: Mapped[float] = mapped_column(default=30.0)
    weights: Mapped[dict] = mapped_column(JSON, default=lambda: dict(DEFAULT_WEIGHTS))

    def notice(self, urgency: str) -> int:
        return int((self.notice_minutes or DEFAULT_NOTICE).get(urgency, 1440))

    def as_problem_policy(self) -> dict:
        """The `policy` block of an optimizer problem (PROBLEM_FORMAT.md, version 1.1)."""
        return {
            "max_travel_km": self.search_radius_km,
            "rule": {"garages": self.rule_garages,
                     "min_notice_minutes": {u: self.notice(u) for u in ("P1", "P2", "P3")}},
            "offers": self.offers,
            "max_moves": self.max_moves,
            "weights": self.weights or DEFAULT_WEIGHTS,
            "time_limit_seconds": self.time_limit_seconds,
            "travel_speed_kmh": self.travel_speed_kmh,
        }


# Versions are never edited: a change is a new version (the database refuses UPDATE, DELETE, TRUNCATE).
append_only(Policy.__table__)
