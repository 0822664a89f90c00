"""The outbox: what Frontline tells customers, kept until it is delivered (and after, as a record)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

MESSAGE_KINDS = ("booked", "moved", "cancelled", "delayed")
MESSAGE_STATUSES = ("queued", "sent", "failed")


def is_email_address(recipient: str) -> bool:
    """Whether a message's recipient is an e-mail address (sent by SMTP) rather than a phone number (reception
    calls the customer: there is no SMS gateway)."""
    return "@" in recipient


class Message(Base):
    __tablename__ = "message"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    appointment_id: Mapped[int | None] = mapped_column(ForeignKey("appointment.id"))
    garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"), index=True)  # whose outbox shows it
    kind: Mapped[str] = mapped_column(String(20))
    recipient: Mapped[str] = mapped_column(String(200))  # an e-mail address, or a phone number
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    ics: Mapped[str | None] = mapped_column(Text)  # the appointment as an iCalendar event (RFC 5545)
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship()

    @property
    def by_email(self) -> bool:
        return is_email_address(self.recipient)

    def to_dict(self) -> dict:
        return {"id": self.id, "case": self.case_id, "appointment": self.appointment_id, "garage": self.garage_id,
                "to": self.recipient, "subject": self.subject, "kind": self.kind, "status": self.status,
                "attempts": self.attempts, "last_error": self.last_error or None,
                "created_at": self.created_at.isoformat(), "sent_at": self.sent_at.isoformat() if self.sent_at else None}


from scheduler.models.case import Case  # noqa: E402
