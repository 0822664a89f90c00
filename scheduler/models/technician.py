from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Column, Date, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base

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

    def shifts_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The day's working spans as aware datetimes in the garage's timezone; absences remove them."""
        if any(a.first_day <= day <= a.last_day for a in self.absences):
            return []
        zone = self.garage.zone
        return [
            (datetime.combine(day, p.starts, zone), datetime.combine(day, p.ends, zone))
            for p in self.shift_patterns if p.weekday == day.weekday()
        ]


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
    __tablename__ = "absence"

    id: Mapped[int] = mapped_column(primary_key=True)
    technician_id: Mapped[str] = mapped_column(ForeignKey("technician.id"), index=True)
    first_day: Mapped[date] = mapped_column(Date)
    last_day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(80), default="leave")

    technician: Mapped[Technician] = relationship(back_populates="absences")


from scheduler.models.garage import Garage  # noqa: E402
