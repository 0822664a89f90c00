from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Column, Date, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime

technician_skill = Table(
    "technician_skill",
    Base.metadata,
    Column("technician_id", ForeignKey("technician.id"), primary_key=True),
    Column("skill_code", ForeignKey("skill.code"), primary_key=True),
)


class Skill(Base):
    __tablename__ = "skill"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    # An admin's new skill has no entry in the translation catalog: its French words come with it.
    label_fr: Mapped[str | None] = mapped_column(String(80))


class Technician(Base):
    __tablename__ = "technician"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)

    garage: Mapped[Garage] = relationship(back_populates="technicians")
    skills: Mapped[list[Skill]] = relationship(secondary=technician_skill, order_by="Skill.code")
    shift_patterns: Mapped[list[ShiftPattern]] = relationship(
        back_populates="technician", cascade="all, delete-orphan",
        order_by="(ShiftPattern.weekday, ShiftPattern.starts)")
    absences: Mapped[list[Absence]] = relationship(back_populates="technician", cascade="all, delete-orphan")

    @property
    def skill_codes(self) -> list[str]:
        return [s.code for s in self.skills]


class ShiftPattern(Base):
    """A weekly working span in local time: a morning and an afternoon make a lunch break."""

    __tablename__ = "shift_pattern"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technician.id"), index=True)
    weekday: Mapped[int]
    starts: Mapped[time]
    ends: Mapped[time]

    technician: Mapped[Technician] = relationship(back_populates="shift_patterns")


class Absence(Base):
    """Whole local days (first_day to last_day), or, when `start_at` is set, exactly [start_at, end_at).

    A part-day absence still names the local days it touches, so a day's question never reads the others.
    """

    __tablename__ = "absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technician.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(80), default="leave")
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def span(self, zone) -> tuple[datetime, datetime]:
        """The absence as a half-open span of instants."""
        if self.start_at is not None and self.end_at is not None:
            return self.start_at, self.end_at
        return (datetime.combine(self.first_day, time(0), zone),
                datetime.combine(self.last_day + timedelta(days=1), time(0), zone))

    technician: Mapped[Technician] = relationship(back_populates="absences")


from scheduler.models.garage import Garage  # noqa: E402
