"""A booked piece of work. The database itself refuses two active ones on one technician at once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

STATUSES = ("booked", "checked_in", "in_progress", "done", "cancelled", "no_show")
ACTIVE = ("booked", "checked_in", "in_progress")
CHANNELS = ("call_centre", "direct_line", "walk_in")


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="positive_duration"),
        Index("ix_appointment_tech_time", "technician_id", "start_at"),
        Index("ix_appointment_garage_time", "garage_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"))
    technician_id: Mapped[str] = mapped_column(ForeignKey("technician.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    channel: Mapped[str] = mapped_column(String(20), default="call_centre")
    pinned: Mapped[bool] = mapped_column(default=False)
    # An overbooking a person chose (an override of kind "overbook"): exempt from the guard.
    overbooked: Mapped[bool] = mapped_column(default=False)
    flex_minutes: Mapped[int] = mapped_column(default=60)
    lift: Mapped[bool] = mapped_column(default=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skill.code"))
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship(back_populates="appointments")
    garage: Mapped[Garage] = relationship()
    technician: Mapped[Technician] = relationship()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def to_dict(self) -> dict:
        return {
            "id": self.id, "case": self.case_id, "garage": self.garage_id, "technician": self.technician_id,
            "start": self.start_at.isoformat(), "end": self.end_at.isoformat(), "status": self.status,
            "channel": self.channel, "pinned": self.pinned, "flex_minutes": self.flex_minutes,
            "local_start": self.garage.local(self.start_at).isoformat() if self.garage else None,
        }


_ACTIVE_SQL = "status IN ('booked', 'checked_in', 'in_progress') AND NOT overbooked"

# PostgreSQL: an exclusion constraint over (technician, time range), the reference pattern.
NO_DOUBLE_BOOKING_PG = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE appointment ADD CONSTRAINT appointment_no_double_booking EXCLUDE USING gist "
    "(technician_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
    f"WHERE ({_ACTIVE_SQL})",
]

# SQLite: triggers run inside the writing transaction, and SQLite has one writer at a time,
# so the check and the write cannot interleave with another booking.
_SQLITE_GUARD = """
CREATE TRIGGER appointment_no_double_booking_{op} BEFORE {event} ON appointment
WHEN NEW.status IN ('booked', 'checked_in', 'in_progress') AND NOT NEW.overbooked
BEGIN
    SELECT RAISE(ABORT, 'appointment_no_double_booking')
    WHERE EXISTS (
        SELECT 1 FROM appointment other
        WHERE other.technician_id = NEW.technician_id
          AND other.id IS NOT NEW.id
          AND other.status IN ('booked', 'checked_in', 'in_progress') AND NOT other.overbooked
          AND other.start_at < NEW.end_at AND NEW.start_at < other.end_at
    );
END
"""
NO_DOUBLE_BOOKING_SQLITE = [
    _SQLITE_GUARD.format(op="insert", event="INSERT"),
    _SQLITE_GUARD.format(op="update", event="UPDATE"),
]

for _statement in NO_DOUBLE_BOOKING_PG:
    event.listen(Appointment.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in NO_DOUBLE_BOOKING_SQLITE:
    event.listen(Appointment.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))

from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
from scheduler.models.technician import Technician  # noqa: E402
