"""Helpers for the call-centre tests: the story's caller, and counting what a refusal left behind."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select

from scheduler.models import Appointment, Case, CaseEvent, DirectLineRequest, Garage, Override
from web.extensions import db

LYON_07 = {"lat": 45.735, "lon": 4.835}


def call(plate: str = "GH-123-JK", symptom: str = "engine_fault_stop", location: dict | None = None) -> dict:
    return {"customer": {"name": "Marc Petit", "phone": "+33 6 12 34 56 78"},
            "vehicle": {"plate": plate, "model": "Peugeot 308"}, "symptom": symptom,
            "location": location or LYON_07, "note": "Back from holiday, engine fault warning"}


def open_case(auth, **kwargs) -> dict:
    response = auth.post("/api/v1/cases", json=call(**kwargs))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def footprint(app) -> tuple[int, ...]:
    """How many rows every write of the desk touches: a refusal must leave these unchanged."""
    with app.app_context():
        return tuple(db.session.scalar(select(func.count()).select_from(model))
                     for model in (Appointment, Override, CaseEvent, DirectLineRequest))


def fill_lifts(app, garage_id: str, start: datetime, minutes: int = 60, spare: str | None = None,
               exclude_case: int | None = None) -> None:
    """Every lift of the garage in use at `start`, by work people overbooked (which still takes a lift), on
    technicians other than `spare` (so that one is free and only the lifts are not) and for cases other than
    `exclude_case`."""
    with app.app_context():
        garage = db.session.get(Garage, garage_id)
        technicians = [t for t in garage.technicians if t.active and t.id != spare]
        others = select(Case).order_by(Case.id).limit(garage.lifts)
        cases = list(db.session.scalars(others.where(Case.id != exclude_case) if exclude_case else others))
        for i, case in enumerate(cases):
            db.session.add(Appointment(case=case, garage_id=garage_id, technician_id=technicians[i % len(technicians)].id,
                                       start_at=start, end_at=start + timedelta(minutes=minutes), lift=True,
                                       skill_code="maintenance", overbooked=True))
        db.session.commit()
