from __future__ import annotations

from datetime import datetime

from flask import jsonify
from flask_login import current_user

from scheduler.errors import Invalid, NotFound
from scheduler.services import booking, cases, drive_in, planning, urgency
from web.api import bp, json_body, require
from web.clock import now
from web.extensions import db


def text_field(data: dict, name: str, limit: int = 1000) -> str:
    value = data.get(name, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise Invalid(f"{name} must be text.", field=name)
    if len(value) > limit:
        raise Invalid(f"{name} is longer than {limit} characters.", field=name)
    return value.strip()


def time_field(data: dict, name: str, required: bool = True) -> datetime | None:
    value = data.get(name)
    if value is None and not required:
        return None
    try:
        moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.utcoffset() is None:
        raise Invalid(f"{name} must be an ISO 8601 time with a UTC offset, e.g. 2026-11-24T14:15:00+01:00.",
                      field=name)
    return moment


def id_field(data: dict, name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value:
        raise Invalid(f"{name} is required (its id, as text).", field=name)
    return value


@bp.post("/v1/cases")
def case_open():
    require("operator", "reception")
    case = cases.open_case(db.session, current_user, json_body(), now())
    body = cases.case_dict(db.session, case)
    db.session.commit()
    return jsonify(body), 201


@bp.get("/v1/vehicles/<plate>")
def vehicle_read(plate: str):
    require("operator", "reception")
    found = cases.find_vehicle(db.session, current_user, plate)
    if found is None:
        raise NotFound(f"No vehicle with plate {plate!r} yet: opening a case creates it.")
    return jsonify(cases.vehicle_dict(*found))


@bp.get("/v1/cases/<int:case_id>")
def case_read(case_id: int):
    require()
    return jsonify(cases.case_dict(db.session, cases.get_case(db.session, current_user, case_id)))


@bp.get("/v1/cases/<int:case_id>/offers")
def case_offers(case_id: int):
    require("operator", "reception")
    case = cases.get_case(db.session, current_user, case_id)
    found = planning.present_offers(db.session, case, now())
    db.session.commit()
    return jsonify(found.to_dict())


@bp.post("/v1/cases/<int:case_id>/appointments")
def case_book(case_id: int):
    require("operator", "reception")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    appointment = booking.book_for_case(db.session, current_user, case, id_field(data, "garage"),
                                        id_field(data, "technician"), time_field(data, "start"),
                                        text_field(data, "reason"), now())
    body = appointment.to_dict()
    db.session.commit()
    return jsonify(body), 201


@bp.post("/v1/cases/<int:case_id>/urgency")
def case_urgency(case_id: int):
    require("operator", "reception")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    urgency.change_urgency(db.session, current_user, case, data.get("urgency"), text_field(data, "reason"), now())
    body = cases.case_dict(db.session, case)
    db.session.commit()
    return jsonify(body)


@bp.post("/v1/cases/<int:case_id>/drive-in")
def case_drive_in(case_id: int):
    require("operator")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    garage = data.get("garage")
    if garage is not None and not isinstance(garage, str):
        raise Invalid("garage must be a garage id.", field="garage")
    announced = drive_in.announce(db.session, current_user, case, now(), garage,
                                  time_field(data, "expected_at", required=False), text_field(data, "note"))
    body = announced.to_dict()
    db.session.commit()
    return jsonify(body), 201
