"""The direct line: a case put straight to one garage's workshop, answered in minutes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, final_once_answered, utcnow

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
    # What the standard rules offered when the operator asked: the accepted answer's override
    # is judged against this, not against whatever the rules offer minutes later.
    rule_garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"))
    rule_technician_id: Mapped[str | None] = mapped_column(String(40))
    rule_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rule_note: Mapped[str] = mapped_column(Text, default="")
    rule_reasons: Mapped[list | None] = mapped_column(JSON)  # why the rule offer was late, as facts (None: not kept)

    case: Mapped[Case] = relationship()
    garage: Mapped[Garage] = relationship(foreign_keys=[garage_id])
    appointment: Mapped[Appointment | None] = relationship()

    def status_at(self, now: datetime) -> str:
        """The status now: an open request past its time has expired, whether or not that was stored yet."""
        if self.status == "open" and self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return self.status

    @property
    def withdrawn(self) -> bool:
        """Closed before its time because another garage took the case."""
        return self.status == "expired" and self.answered_at is not None

    @property
    def response_seconds(self) -> int | None:
        if self.answered_at is None or self.withdrawn:
            return None
        return round((self.answered_at - self.created_at).total_seconds())

    def to_dict(self, now: datetime) -> dict:
        return {
            "id": self.id, "case": self.case_id, "garage": self.garage_id, "message": self.message,
            "status": self.status_at(now), "created_at": self.created_at.isoformat(),
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "answer": self.answer or None, "appointment": self.appointment_id,
            "response_seconds": self.response_seconds,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
        }


# The request waits open (expiry and withdrawal close it); once answered, its answer stands as given.
final_once_answered(DirectLineRequest.__table__)

from scheduler.models.appointment import Appointment  # noqa: E402
from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
