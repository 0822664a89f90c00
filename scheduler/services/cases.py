"""Opening a case from a call (operator) or a walk-in (reception), and reading it back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db import utcnow
from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import Case, CaseEvent, Customer, Override, Symptom, User, Vehicle
from scheduler.texts import N_


def _text(data: dict, path: str, limit: int = 120, required: bool = True) -> str:
    node: object = data
    for key in path.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if not required and (node is None or (isinstance(node, str) and not node.strip())):
        return ""
    if not isinstance(node, str) or not node.strip():
        raise Invalid(N_("%(field)s is required (text)."), words={"field": path}, field=path)
    if len(node) > limit:
        raise Invalid(N_("%(field)s is longer than %(limit)s characters."), words={"field": path, "limit": limit},
                      field=path)
    return node.strip()


def open_case(session: Session, actor: User, data: dict, now: datetime | None = None) -> Case:
    now = now or utcnow()
    symptom = session.get(Symptom, _text(data, "symptom", 40))
    if symptom is None:
        raise Invalid(N_("Unknown symptom %(symptom)s: see GET /api/v1/symptoms."),
                      words={"symptom": repr(data.get("symptom"))}, field="symptom")
    name, phone = _text(data, "customer.name"), _text(data, "customer.phone", 30)
    email = _text(data, "customer.email", 200, required=False)
    if email and ("@" not in email or any(c.isspace() for c in email)):
        raise Invalid(N_("customer.email is not an e-mail address."), field="customer.email")
    plate, model = _text(data, "vehicle.plate", 20).upper(), _text(data, "vehicle.model", 80)
    location = data.get("location")
    walk_in = actor.role == "reception"
    if walk_in and location is None:
        location = {"lat": actor.garage.lat, "lon": actor.garage.lon}
    if not isinstance(location, dict) or not all(
            isinstance(location.get(k), (int, float)) and not isinstance(location.get(k), bool) for k in ("lat", "lon")):
        raise Invalid(N_("location must be {lat, lon} in degrees."), field="location")
    if not (-90 <= location["lat"] <= 90 and -180 <= location["lon"] <= 180):
        raise Invalid(N_("location is out of range."), field="location")
    # The case's customer is who the user typed (the person calling or at the counter): a known car may be
    # someone else's, and what was typed is never discarded.
    customer = session.scalar(select(Customer).where(Customer.phone == phone, Customer.name == name))
    customer = customer or Customer(name=name, phone=phone)
    if email:
        customer.email = email
    vehicle = session.scalar(select(Vehicle).where(Vehicle.plate == plate))
    if vehicle is None:
        vehicle = Vehicle(plate=plate, model=model, customer=customer)
    case = Case(urgency=symptom.urgency, job_type_code=symptom.job_type_code, symptom=symptom,
                customer=customer, vehicle=vehicle, lat=float(location["lat"]), lon=float(location["lon"]),
                note=_text(data, "note", 2000, required=False), channel="walk_in" if walk_in else "call_centre",
                garage_id=actor.garage_id if walk_in else None, opened_at=now, opened_by_id=actor.id)
    session.add(case)
    case.log("walk_in" if walk_in else "call", actor, now, symptom=symptom.code, plate=vehicle.plate,
             model=vehicle.model)
    session.flush()
    return case


def find_vehicle(session: Session, actor: User, plate: str) -> tuple[Vehicle, list[Case]] | None:
    """A known vehicle by its plate, with its latest cases the actor may see: the caller has been here before."""
    plate = plate.strip().upper() if isinstance(plate, str) else ""
    vehicle = session.scalar(select(Vehicle).where(Vehicle.plate == plate)) if plate else None
    if vehicle is None:
        return None
    latest = session.scalars(select(Case).where(Case.vehicle_id == vehicle.id)
                             .order_by(Case.opened_at.desc(), Case.id.desc()).limit(20))
    return vehicle, [c for c in latest if actor.can_see_garage(c.garage_id)][:5]


def may_see_owner(actor: User, latest: list[Case]) -> bool:
    """A garage sees a car's owner only when the car has been to that garage: a plate is not a directory."""
    return actor.role not in ("reception", "workshop") or bool(latest)


def vehicle_dict(vehicle: Vehicle, latest: list[Case], actor: User) -> dict:
    owner = vehicle.customer if may_see_owner(actor, latest) else None
    return {"plate": vehicle.plate, "model": vehicle.model,
            "customer": {"name": owner.name, "phone": owner.phone} if owner else None,
            "cases": [{"id": c.id, "opened_at": c.opened_at.isoformat(), "urgency": c.urgency,
                       "job_type": c.job_type_code, "status": c.status, "garage": c.garage_id} for c in latest]}


def get_case(session: Session, actor: User, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(N_("No case %(id)s."), words={"id": case_id})
    if not actor.can_see_garage(case.garage_id):
        raise Forbidden(N_("This case belongs to another garage."))
    return case


def timeline(session: Session, case: Case, now: datetime) -> list[CaseEvent]:
    """The case's facts in time order, with the expiries the clock has decided but no write has stored yet."""
    from scheduler.services.direct_line import expiry_fact, for_case

    entries = list(case.events)
    entries += [CaseEvent(at=r.expires_at, kind="direct_line_expired", data=expiry_fact(r))
                for r in for_case(session, case) if r.status == "open" and r.status_at(now) == "expired"]
    return sorted(entries, key=lambda e: e.at)


def case_dict(session: Session, case: Case, now: datetime, describe: Callable[[CaseEvent], str]) -> dict:
    """The case as the API shows it; `describe` words each timeline fact in the reader's language."""
    overrides = session.scalars(select(Override).where(Override.case_id == case.id).order_by(Override.created_at))
    return {
        "id": case.id, "urgency": case.urgency, "job_type": case.job_type_code, "symptom": case.symptom_code,
        "customer": {"name": case.customer.name, "phone": case.customer.phone},
        "vehicle": {"plate": case.vehicle.plate, "model": case.vehicle.model},
        "garage": case.garage_id, "status": case.status, "channel": case.channel, "note": case.note,
        "location": {"lat": case.lat, "lon": case.lon}, "opened_at": case.opened_at.isoformat(),
        "timeline": [{**e.to_dict(), "text": describe(e)} for e in timeline(session, case, now)],
        "appointments": [a.to_dict() for a in case.appointments],
        "overrides": [o.to_dict() for o in overrides],
    }

