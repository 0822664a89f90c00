from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from scheduler.errors import Invalid
from scheduler.models.direct_line import REQUEST_STATUSES
from scheduler.services import cases, direct_line
from scheduler.texts import N_
from web.api import bp, json_body, require
from web.api.cases import id_field, text_field, time_field
from web.api.paging import paged
from web.clock import now
from web.extensions import db


@bp.post("/v1/cases/<int:case_id>/direct-line")
def direct_line_send(case_id: int):
    require("operator")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    sent = direct_line.send(db.session, current_user, case, id_field(data, "garage"), text_field(data, "message"),
                            now())
    return jsonify(sent.to_dict(now())), 201


@bp.get("/v1/direct-line")
def direct_line_list():
    require("operator", "reception", "workshop")
    status = request.args.get("status") or None
    if status is not None and status not in REQUEST_STATUSES:
        raise Invalid(N_("%(name)s must be one of %(allowed)s."),
                      words={"name": "status", "allowed": ", ".join(REQUEST_STATUSES)}, field="status")
    moment = now()
    return paged(lambda limit, offset: direct_line.visible(db.session, current_user, status, moment, limit, offset),
                 lambda r: r.to_dict(moment), 200)


@bp.get("/v1/direct-line/<int:request_id>")
def direct_line_read(request_id: int):
    require("operator", "reception", "workshop")
    return jsonify(direct_line.get_request(db.session, current_user, request_id).to_dict(now()))


@bp.post("/v1/direct-line/<int:request_id>/answer")
def direct_line_answer(request_id: int):
    require("reception", "workshop")
    asked = direct_line.get_request(db.session, current_user, request_id)  # another garage's: 403 before parsing
    data = json_body()
    accept = data.get("accept")
    if not isinstance(accept, bool):
        raise Invalid(N_("%(path)s must be true or false."), words={"path": "accept"}, field="accept")
    overbook = data.get("overbook", False)
    if not isinstance(overbook, bool):
        raise Invalid(N_("%(path)s must be true or false."), words={"path": "overbook"}, field="overbook")
    answered = direct_line.answer(
        db.session, current_user, asked, accept, now(),
        start=time_field(data, "start") if accept else None,
        technician_id=id_field(data, "technician") if accept else None, reason=text_field(data, "reason"),
        overbook=overbook)
    if accept:
        return jsonify({**answered.appointment.to_dict(), "request": answered.to_dict(now())})
    return jsonify(answered.to_dict(now()))
