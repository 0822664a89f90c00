from __future__ import annotations

from datetime import timezone
from zoneinfo import ZoneInfo

from flask import current_app, jsonify
from flask_login import current_user

from optimizer.clock import format_instant
from scheduler.db import utcnow
from scheduler.services import cases, planning
from web.api import bp, json_body, require
from web.extensions import db


def _at(minute: int) -> str:
    return format_instant(minute, timezone.utc)


@bp.post("/v1/cases")
def case_open():
    require("operator", "reception")
    case = cases.open_case(db.session, current_user, json_body())
    body = cases.case_dict(db.session, case)
    db.session.commit()
    return jsonify(body), 201


@bp.get("/v1/cases/<int:case_id>")
def case_read(case_id: int):
    require()
    return jsonify(cases.case_dict(db.session, cases.get_case(db.session, current_user, case_id)))


@bp.get("/v1/cases/<int:case_id>/offers")
def case_offers(case_id: int):
    require("operator", "reception")
    case = cases.get_case(db.session, current_user, case_id)
    now = utcnow()
    found = planning.case_offers(db.session, case, now)
    zone = ZoneInfo(current_app.config["NETWORK_TIMEZONE"])
    latest = cases.target_latest_start(case.urgency, now, zone)
    ro = found.rule_offer
    offers = [{"garage": o.garage, "technician": o.technician, "start": _at(o.start), "end": _at(o.end),
               "wait_minutes": max(0, round(o.start - now.timestamp() / 60)), "distance_km": round(o.distance_km, 2),
               "cost": round(o.cost, 3)} for o in found.offers]
    met = bool(found.offers) and (latest is None or found.offers[0].start * 60 < latest.timestamp())
    return jsonify({
        "rule_offer": None if ro is None else {"garage": ro.garage, "technician": ro.technician,
                                               "start": _at(ro.start), "end": _at(ro.end),
                                               "late_because": ro.late_because},
        "offers": offers,
        "target": {"urgency": case.urgency, "latest_start": latest.isoformat() if latest else None, "met": met},
    })
