from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base


class Garage(Base):
    __tablename__ = "garage"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # e.g. "lyon-07": readable in URLs and logs
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(80))
    lat: Mapped[float]
    lon: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Paris")
    lifts: Mapped[int] = mapped_column(default=2)
    phone: Mapped[str] = mapped_column(String(30))

    technicians: Mapped[list[Technician]] = relationship(back_populates="garage", order_by="Technician.id")
    opening_hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="garage", order_by="OpeningHours.weekday", cascade="all, delete-orphan")
    closed_days: Mapped[list[ClosedDay]] = relationship(
        back_populates="garage", order_by="ClosedDay.day", cascade="all, delete-orphan")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)

    def qualified(self, skill: str) -> list[Technician]:
        """Who may do a job of that skill here: the active technicians who have it, by id."""
        return [t for t in self.technicians if t.active and skill in t.skill_codes]

    def today(self, now: datetime) -> date:
        return self.local(now).date()

    def day_bounds(self, day: date) -> tuple[datetime, datetime]:
        """The UTC instants of local midnight to midnight: 23 or 25 hours on DST days."""
        start = datetime.combine(day, time(0), self.zone).astimezone(timezone.utc)
        end = datetime.combine(day + timedelta(days=1), time(0), self.zone).astimezone(timezone.utc)
        return start, end

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "city": self.city, "address": self.address,
                "location": {"lat": self.lat, "lon": self.lon}, "phone": self.phone,
                "timezone": self.timezone, "lifts": self.lifts}


class OpeningHours(Base):
    __tablename__ = "opening_hours"
    __table_args__ = (UniqueConstraint("garage_id", "weekday"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"))
    weekday: Mapped[int]  # 0 = Monday, as date.weekday()
    opens: Mapped[time]
    closes: Mapped[time]
    # A lunch closure inside the day, or none.
    lunch_starts: Mapped[time | None]
    lunch_ends: Mapped[time | None]

    garage: Mapped[Garage] = relationship(back_populates="opening_hours")

    def spans(self) -> list[tuple[time, time]]:
        """The open spans of the day in local time: one, or two around lunch."""
        if self.lunch_starts is None or self.lunch_ends is None:
            return [(self.opens, self.closes)]
        return [(self.opens, self.lunch_starts), (self.lunch_ends, self.closes)]


class ClosedDay(Base):
    """A day the garage is closed although its weekday is open: a public holiday, an inventory day."""

    __tablename__ = "closed_day"
    __table_args__ = (UniqueConstraint("garage_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"))
    day: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(80), default="public holiday")

    garage: Mapped[Garage] = relationship(back_populates="closed_days")


from scheduler.models.technician import Technician  # noqa: E402
