"""A drive-in: the operator tells the nearest garage that a customer is on the way."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

DRIVE_IN_STATUSES = ("expected", "arrived", "cancelled")


class DriveIn(Base):
    __tablename__ = "drive_in"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"), index=True)
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="expected", index=True)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announced_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    case: Mapped[Case] = relationship()
    garage: Mapped[Garage] = relationship()

    def to_dict(self) -> dict:
        return {"id": self.id, "case": self.case_id, "garage": self.garage_id,
                "expected_at": self.expected_at.isoformat(), "note": self.note, "status": self.status,
                "announced_at": self.announced_at.isoformat()}


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
