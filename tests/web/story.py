"""Helpers for the call-centre tests: the story's caller, and counting what a refusal left behind."""

from __future__ import annotations

from sqlalchemy import func, select

from scheduler.models import Appointment, CaseEvent, DirectLineRequest, Override
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
