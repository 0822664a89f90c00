"""A case: one customer problem from first contact to completion, with its timeline."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from scheduler.db import Base, UTCDateTime, append_only, utcnow

CASE_STATUSES = ("open", "booked", "in_progress", "done", "cancelled")


def name_key(text: str) -> str:
    """A name as it is searched: without accents, in lower case, single-spaced ("Émilie  Guérin" is "emilie
    guerin"), so that "emilie", "Guerin" or "guérin émilie" find her. SQLite's lower() leaves "É" as it is."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


class Customer(Base):
    __tablename__ = "customer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    # kept by `_keyed`: what a search matches
    name_key: Mapped[str] = mapped_column(String(120), default="", server_default="")
    phone: Mapped[str] = mapped_column(String(30), index=True)
    email: Mapped[str | None] = mapped_column(String(200))
    locale: Mapped[str] = mapped_column(String(5), default="fr")  # the language Frontline writes to them in

    vehicles: Mapped[list[Vehicle]] = relationship(back_populates="customer")

    @validates("name")
    def _keyed(self, _key: str, name: str) -> str:
        self.name_key = name_key(name or "")[:120]
        return name


class Vehicle(Base):
    __tablename__ = "vehicle"

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(String(20), unique=True)
    model: Mapped[str] = mapped_column(String(80))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)

    customer: Mapped[Customer] = relationship(back_populates="vehicles")


class Case(Base):
    __tablename__ = "case_file"  # "case" is an SQL keyword

    id: Mapped[int] = mapped_column(primary_key=True)
    urgency: Mapped[str] = mapped_column(String(2))
    job_type_code: Mapped[str] = mapped_column(ForeignKey("job_type.code"))
    symptom_code: Mapped[str | None] = mapped_column(ForeignKey("symptom.code"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicle.id"), index=True)
    # The garage the case is bound to: a walk-in's garage, or the booked one.
    garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"), index=True)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    note: Mapped[str] = mapped_column(Text, default="")
    channel: Mapped[str] = mapped_column(String(20), default="call_centre")
    status: Mapped[str] = mapped_column(String(20), default="open")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    opened_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    customer: Mapped[Customer] = relationship()
    vehicle: Mapped[Vehicle] = relationship()
    job_type: Mapped[JobType] = relationship()
    symptom: Mapped[Symptom | None] = relationship()
    garage: Mapped[Garage | None] = relationship()
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="(CaseEvent.at, CaseEvent.id)",
                                                   cascade="all, delete-orphan")
    appointments: Mapped[list[Appointment]] = relationship(back_populates="case",
                                                           order_by="Appointment.start_at")

    @property
    def urgent_since(self) -> datetime:
        """When the case got the urgency it has: its call, or the last change of urgency. Its target counts from
        then (a P1 called on Saturday is due that working day, however late it is looked at)."""
        changes = [e.at for e in self.events if e.kind == "urgency"]
        return changes[-1] if changes else self.opened_at

    def log(self, kind: str, /, actor: User | None = None, at: datetime | None = None, **data) -> CaseEvent:
        """Add a fact to the timeline: its kind and data (ids, ISO times, codes), rendered in the reader's language."""
        event = CaseEvent(kind=kind, data=data, actor=actor, at=at or utcnow())
        self.events.append(event)
        return event


class CaseEvent(Base):
    """One fact of a case's timeline: call, rule offer, override, direct line, booking...

    Facts, not prose: `data` holds ids, codes and ISO times; the web layer words it in the reader's language.
    """

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()

    def to_dict(self) -> dict:
        return {"at": self.at.isoformat(), "kind": self.kind, "data": self.data}


append_only(CaseEvent.__table__)

from scheduler.models.appointment import Appointment  # noqa: E402
from scheduler.models.catalog import JobType, Symptom  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
from scheduler.models.user import User  # noqa: E402
