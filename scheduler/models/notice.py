"""A notice to a garage: something that happened to its work elsewhere (a booking moved away), read in its inbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

NOTICE_KINDS = ("booking_moved",)


class GarageNotice(Base):
    """Facts, not prose: `data` holds ids and ISO times; the garage's page words it in the reader's language."""

    __tablename__ = "garage_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"), index=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    case: Mapped[Case] = relationship()

    def to_dict(self) -> dict:
        return {"id": self.id, "garage": self.garage_id, "case": self.case_id, "kind": self.kind, "data": self.data,
                "created_at": self.created_at.isoformat()}


from scheduler.models.case import Case  # noqa: E402
