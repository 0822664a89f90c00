"""What the front line looks at: a garage's day, the network's load, the latest cases."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from scheduler.models import ACTIVE, Appointment, Case, Garage, Technician


@dataclass
class TechnicianDay:
    technician: Technician
    shifts: list[tuple[datetime, datetime]]
    appointments: list[Appointment] = field(default_factory=list)

    @property
    def shift_minutes(self) -> int:
        return sum(int((e - s).total_seconds() // 60) for s, e in self.shifts)

    @property
    def booked_minutes(self) -> int:
        return sum(int((a.end_at - a.start_at).total_seconds() // 60) for a in self.appointments if a.active)


@dataclass
class GarageDay:
    garage: Garage
    day: date
    rows: list[TechnicianDay]

    @property
    def load(self) -> float:
        capacity = sum(r.shift_minutes for r in self.rows)
        return sum(r.booked_minutes for r in self.rows) / capacity if capacity else 0.0

    @property
    def appointments(self) -> list[Appointment]:
        return sorted((a for r in self.rows for a in r.appointments), key=lambda a: (a.start_at, a.technician_id))


def garage_day(session: Session, garage: Garage, day: date) -> GarageDay:
    start, end = garage.day_bounds(day)
    technicians = list(session.scalars(
        select(Technician).where(Technician.garage_id == garage.id, Technician.active.is_(True))
        .options(selectinload(Technician.skills), selectinload(Technician.shift_patterns),
                 selectinload(Technician.absences)).order_by(Technician.name)))
    rows = {t.id: TechnicianDay(t, t.shifts_on(day)) for t in technicians}
    appointments = session.scalars(
        select(Appointment).where(Appointment.garage_id == garage.id, Appointment.start_at < end,
                                  Appointment.end_at > start, Appointment.status != "cancelled")
        .options(selectinload(Appointment.case).selectinload(Case.vehicle),
                 selectinload(Appointment.case).selectinload(Case.job_type))
        .order_by(Appointment.start_at))
    for a in appointments:
        if a.technician_id in rows:
            rows[a.technician_id].appointments.append(a)
    return GarageDay(garage, day, list(rows.values()))


def network_load(session: Session, days: list[date]) -> dict[str, dict[date, float]]:
    """Booked share of shift time per garage and local day."""
    garages = list(session.scalars(select(Garage).order_by(Garage.id)
                                   .options(selectinload(Garage.technicians).selectinload(Technician.shift_patterns),
                                            selectinload(Garage.technicians).selectinload(Technician.absences))))
    out: dict[str, dict[date, float]] = {}
    if not garages or not days:
        return out
    first, _ = garages[0].day_bounds(min(days))
    _, last = garages[0].day_bounds(max(days))
    booked: dict[tuple[str, date], int] = defaultdict(int)
    rows = session.execute(select(Appointment.garage_id, Appointment.start_at, Appointment.end_at)
                           .where(Appointment.status.in_(ACTIVE), Appointment.start_at >= first,
                                  Appointment.start_at < last))
    zones = {g.id: g for g in garages}
    for garage_id, s, e in rows:
        booked[(garage_id, zones[garage_id].local(s).date())] += int((e - s).total_seconds() // 60)
    for g in garages:
        out[g.id] = {}
        for day in days:
            capacity = sum(int((e - s).total_seconds() // 60) for t in g.technicians if t.active
                           for s, e in t.shifts_on(day))
            out[g.id][day] = booked[(g.id, day)] / capacity if capacity else 0.0
    return out


def recent_cases(session: Session, limit: int = 20, garage_id: str | None = None) -> list[Case]:
    query = select(Case).options(selectinload(Case.customer), selectinload(Case.vehicle),
                                 selectinload(Case.symptom), selectinload(Case.garage))
    if garage_id:
        query = query.where(Case.garage_id == garage_id)
    return list(session.scalars(query.order_by(Case.opened_at.desc(), Case.id.desc()).limit(limit)))

