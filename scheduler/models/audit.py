"""The admin audit trail: who changed what in the network, when, from what to what. Append-only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, append_only, utcnow


class AuditEntry(Base):
    """One change: `changes` holds facts {field: [from, to]} (JSON values), worded when read."""

    __tablename__ = "audit_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    entity: Mapped[str] = mapped_column(String(40))  # user, garage, technician, absence, job_type, symptom...
    entity_id: Mapped[str] = mapped_column(String(60))
    action: Mapped[str] = mapped_column(String(30))  # created, changed, deactivated, password_reset...
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship()

    def to_dict(self) -> dict:
        return {"id": self.id, "at": self.at.isoformat(), "actor": self.actor.username if self.actor else None,
                "entity": self.entity, "entity_id": self.entity_id, "action": self.action,
                "changes": self.changes}


append_only(AuditEntry.__table__)

from scheduler.models.user import User  # noqa: E402
