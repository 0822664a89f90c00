"""The direct line: a case put straight to one garage's workshop, answered in minutes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

REQUEST_STATUSES = ("open", "accepted", "declined", "expired")


class DirectLineRequest(Base):
    __tablename__ = "direct_line_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"), index=True)
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    answer: Mapped[str | None] = mapped_column(Text)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))

    case: Mapped[Case] = relationship()
    garage: Mapped[Garage] = relationship()

    @property
    def response_seconds(self) -> int | None:
        if self.answered_at is None:
            return None
        return round((self.answered_at - self.created_at).total_seconds())

    def to_dict(self) -> dict:
        return {
            "id": self.id, "case": self.case_id, "garage": self.garage_id, "message": self.message,
            "status": self.status, "created_at": self.created_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "answer": self.answer, "appointment": self.appointment_id,
            "response_seconds": self.response_seconds,
        }


from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
