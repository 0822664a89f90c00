"""The garage desk's API: the board, squeeze-ins and re-plans, the job flow, the customers' outbox."""

from __future__ import annotations

from flask import Response, jsonify, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import MESSAGE_STATUSES, Garage
from scheduler.services import boards, cases, jobs, outbox, squeeze
from scheduler.texts import N_
from web.api import bp, json_body, optional_json_body, paging, require
from web.api.cases import id_field, text_field
from web.api.openapi import ERRORS, _json, _op, _ref, _write, add_paths, add_schemas
from web.api.paging import paged
from web.clock import now
from web.extensions import db
from web.late_reasons import worded
from web.transaction import keep_writes_of_refusal


def _garage(garage_id: str) -> Garage:
    garage = db.session.get(Garage, garage_id) if isinstance(garage_id, str) else None
    if garage is None:
        raise NotFound(N_("No garage %(key)s."), words={"key": repr(garage_id)})
    if not current_user.can_see_garage(garage.id):
        raise Forbidden(N_("This belongs to another garage."))
    return garage


@bp.get("/v1/garages/<garage_id>/board")
def garage_board(garage_id: str):
    require("reception", "workshop", "operator", "planner", "admin")
    from web.reception.routes import inbox_facts, parse_day

    garage = _garage(garage_id)
    moment = now()
    body = boards.board_dict(boards.garage_day(db.session, garage, parse_day(garage), moment))
    return jsonify({**body, **inbox_facts(garage, moment)})


def preview_body(preview) -> dict:
    """A preview as the API answers it: its rule offer worded in the reader's language."""
    return worded(squeeze.diff(db.session, preview).to_dict())


@bp.post("/v1/cases/<int:case_id>/squeeze")
def case_squeeze(case_id: int):
    require("reception")
    data = json_body()
    case = cases.get_case(db.session, current_user, case_id)
    garage_id = id_field(data, "garage")
    if db.session.get(Garage, garage_id) is None:  # a field of the body, not the address: 400 naming it
        raise Invalid(N_("No garage %(key)s: see GET /api/v1/garages."), words={"key": repr(garage_id)},
                      field="garage")
    preview = squeeze.preview_squeeze(db.session, current_user, case, _garage(garage_id), now())
    # API.md: "a preview (nothing changes yet)", with no 201 as its creations have: a question answered, 200
    return jsonify(preview_body(preview))


@bp.get("/v1/squeeze/<int:preview_id>")
def squeeze_read(preview_id: int):
    require("reception", "admin")
    preview = squeeze.get_preview(db.session, current_user, preview_id)
    return jsonify(preview_body(preview))


@bp.post("/v1/squeeze/<int:preview_id>/confirm")
def squeeze_confirm(preview_id: int):
    require("reception", "admin")
    data = optional_json_body()
    preview = squeeze.get_preview(db.session, current_user, preview_id)
    outcome = squeeze.confirm(db.session, current_user, preview, now(), text_field(data, "reason"))
    if not outcome.applied:
        keep_writes_of_refusal()  # the old preview is superseded and a fresh one proposed: both are true
        fresh = preview_body(outcome.preview)
        return jsonify({"error": {"code": "plan_changed", "details": {"preview": fresh},
                                  "message": _("The plan changed since this preview: nothing was applied. Here is "
                                               "a fresh one.")}}), 409
    return jsonify({"preview": outcome.preview.id,
                    "appointment": outcome.appointment.to_dict() if outcome.appointment else None,
                    "moved": [a.to_dict() for a in outcome.moved]})


@bp.post("/v1/squeeze/<int:preview_id>/reject")
def squeeze_reject(preview_id: int):
    require("reception", "admin")
    preview = squeeze.reject(db.session, current_user, squeeze.get_preview(db.session, current_user, preview_id), now())
    return jsonify(preview_body(preview))


@bp.post("/v1/appointments/<int:appointment_id>/<action>")
def appointment_action(appointment_id: int, action: str):
    require("reception", "workshop")
    data = optional_json_body()
    appointment = jobs.get_appointment(db.session, current_user, appointment_id)
    if action == "more-time":
        appointment, preview, held = jobs.more_time(db.session, current_user, appointment, data.get("minutes"), now())
        shift_end = jobs.past_shift(appointment)
        return jsonify({"appointment": appointment.to_dict(),
                        "preview": preview_body(preview) if preview else None,
                        "waiting": [a.to_dict() for a in held],
                        "past_shift_end": shift_end.isoformat() if shift_end else None})
    if action == "hand-over":
        return jsonify(jobs.hand_over(db.session, current_user, appointment, data.get("technician"), now()).to_dict())
    done = jobs.act(db.session, current_user, appointment, action, now(), note=text_field(data, "note", 4000),
                    reason=text_field(data, "reason"))
    return jsonify(done.to_dict())


@bp.get("/v1/appointments/<int:appointment_id>/calendar.ics")
def appointment_calendar(appointment_id: int):
    require()
    appointment = jobs.get_appointment(db.session, current_user, appointment_id)
    return Response(outbox.calendar(appointment, now()), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="appointment-{appointment.id}.ics"'})


@bp.post("/v1/drive-ins/<int:drive_in_id>/arrived")
def drive_in_arrived(drive_in_id: int):
    require("reception", "workshop")
    return jsonify(jobs.arrived(db.session, current_user, drive_in_id, now()).to_dict())


@bp.get("/v1/outbox")
def outbox_list():
    require("reception", "admin")
    status = request.args.get("status") or None
    if status is not None and status not in MESSAGE_STATUSES:
        raise Invalid(N_("%(name)s must be one of %(allowed)s."),
                      words={"name": "status", "allowed": ", ".join(MESSAGE_STATUSES)}, field="status")
    return paged(lambda limit, offset: outbox.visible(db.session, current_user, status, limit, offset),
                 lambda m: m.to_dict(), 200)


@bp.get("/v1/outbox/<int:message_id>")
def outbox_read(message_id: int):
    require("reception", "workshop", "admin")
    message = outbox.readable(db.session, current_user, message_id)
    calendar = url_for("api.outbox_calendar", message_id=message.id) if message.ics is not None else None
    return jsonify({**message.to_dict(), "locale": message.locale, "body": message.body, "calendar": calendar})


def calendar_download(message) -> Response:
    """The calendar file a message was sent with, as it was attached (not as the appointment is now): the API's
    and the outbox page's download alike."""
    if message.ics is None:
        raise NotFound(_("This message has no calendar file."))
    return Response(message.ics, mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="{outbox.attachment_name(message)}"'})


@bp.get("/v1/outbox/<int:message_id>/calendar.ics")
def outbox_calendar(message_id: int):
    require("reception", "workshop", "admin")
    return calendar_download(outbox.readable(db.session, current_user, message_id))


@bp.post("/v1/outbox/<int:message_id>/phoned")
def outbox_told_by_phone(message_id: int):
    require("reception", "admin")
    return jsonify(outbox.told_by_phone(db.session, current_user, message_id, now()).to_dict())


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_GARAGE = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
obj = {"type": "object"}
add_schemas({
    "Preview": {"type": "object", "properties": {
        "id": {"type": "integer"}, "kind": {"type": "string", "enum": ["squeeze", "replan"]},
        "garage": {"type": "string"}, "case": {"type": "integer", "nullable": True},
        "status": {"type": "string", "enum": ["open", "confirmed", "rejected", "superseded"]},
        "fits": {"type": "boolean"}, "placement": {**obj, "nullable": True},
        "moves": {"type": "array", "items": obj}, "unplaced": {"type": "array", "items": {"type": "integer"}},
        "cost": {"type": "number", "nullable": True}, "rule_offer": {**obj, "nullable": True},
        "saved_minutes": {"type": "integer", "nullable": True}, "delay_minutes": {"type": "integer"}}},
    "Board": {"type": "object", "properties": {
        "garage": {"type": "string"}, "day": {"type": "string", "format": "date"}, "load": {"type": "number"},
        "technicians": {"type": "array", "description": "{id, name, skills, here, shifts, appointments}; each "
                        "appointment also carries waits_for_overlap_minutes (behind work before it), off_shift and "
                        "ends_past_shift (so delayed, it ends after its technician's stretch of shifts)", "items": obj},
        "lifts": {"type": "array", "items": obj},
        "drive_ins": {"type": "array", "items": obj}, "requests": {"type": "array", "items": obj},
        "counter": {"type": "array", "description": "customers at the counter whose case is not booked yet: "
                    "{case, urgency, job_type, plate, customer, opened_at}", "items": obj},
        "notices": {"type": "array", "description": "the last day's notices to the garage, newest first: "
                    "{id, garage, case, kind: booking_moved, data: {appointment, technician, start, pinned, channel, "
                    "to_garage, to_start, reason, role}, created_at}", "items": obj},
        "replans": {"type": "array", "description": "re-plans waiting for reception's decision, oldest first: "
                    "{preview, kind: replan, created_at, created_by, cause: {kind: more_time, appointment, minutes} "
                    "or null, reason (typed) or null, appointments (the work to re-place, still booked), "
                    "current (false: the plan changed since, a confirm answers with a fresh preview)}",
                    "items": obj}}},
    "Message": {"type": "object", "properties": {
        "id": {"type": "integer"}, "case": {"type": "integer"}, "to": {"type": "string"},
        "subject": {"type": "string"}, "kind": {"type": "string"},
        "status": {"type": "string", "enum": list(MESSAGE_STATUSES)},
        "created_at": {"type": "string", "format": "date-time"},
        "sent_at": {"type": "string", "format": "date-time", "nullable": True}}},
})
add_paths({
    "/api/v1/garages/{id}/board": {"get": _op(
        "A garage's day: technicians with shifts and jobs, lifts in use, what runs late, drive-ins, direct-line "
        "requests and re-plans waiting", "reception, workshop of the garage; operator, planner, admin", _json(_ref("Board")),
        errors=(400, 401, 403, 404),
        params=[_GARAGE, {"name": "day", "in": "query", "schema": {"type": "string", "format": "date"}}])},
    "/api/v1/cases/{id}/squeeze": {"post": _write(
        "Preview fitting the case into the garage's day: the optimizer's placement and the moves (at most the "
        "policy's, only movable work), the wait saved against the rule offer and the delay imposed. Nothing "
        "changes until a confirm.", "reception of the garage", 200, _json(_ref("Preview"), "Previewed"),
        {"type": "object", "required": ["garage"], "properties": {"garage": {"type": "string"}}},
        (400, 401, 403, 404, 409), [_ID])},
    "/api/v1/squeeze/{id}": {"get": _op("A preview", "reception of the garage, admin", _json(_ref("Preview")),
                                        errors=(401, 403, 404), params=[_ID])},
    "/api/v1/squeeze/{id}/confirm": {"post": _write(
        "Apply the preview atomically: the case is booked (pinned) and the moves applied, the override squeeze_in "
        "(walk_in for a walk-in) records the rule offer, the placement and each move as knock-on; moved customers "
        "get a message. 409 plan_changed with a fresh preview in details when the plan changed: nothing applied. "
        "422 nothing_fits when the preview placed nothing.",
        "reception of the garage, admin", 200, _json(obj, "Applied"),
        {"type": "object", "properties": {"reason": {"type": "string"}}}, (400, 401, 403, 404, 409, 422), [_ID])},
    "/api/v1/squeeze/{id}/reject": {"post": _write("Reject the preview: nothing changes", "reception, admin", 200,
                                                   _json(_ref("Preview")), obj, (401, 403, 404, 409), [_ID])},
    "/api/v1/appointments/{id}/{action}": {"post": _write(
        "The job flow: check-in, start, finish ({note}), no-show, cancel ({reason}), more-time ({minutes}: extends "
        "the job and previews a re-plan of the work it runs into; answers {appointment, preview, waiting, past_shift_end}, waiting "
        "being the later work no re-plan may move, which now waits, past_shift_end when the technician's shift "
        "ends before the job now does, else null), hand-over ({technician}: a colleague of the garage with the skill, on "
        "shift and free for what is left of the job, takes it over at the same time; 409 when they have other work "
        "then, with the colleagues who are free in details.free). 409 from a status that does not allow it (or "
        "another's act changed it); 422 rule_broken against the day or hour: check-in or start of another day's "
        "booking, no-show before the customer is due.",
        "reception, workshop of the garage", 200, _json(_ref("Appointment")),
        {"type": "object", "properties": {"note": {"type": "string"}, "reason": {"type": "string"},
                                          "minutes": {"type": "integer"}, "technician": {"type": "string"}}},
        (400, 401, 403, 404, 409, 422),
        [_ID, {"name": "action", "in": "path", "required": True,
               "schema": {"type": "string", "enum": [*jobs.ACTIONS, "more-time", "hand-over"]}}])},
    "/api/v1/appointments/{id}/calendar.ics": {"get": {
        "summary": "The appointment as an iCalendar event (RFC 5545), what the customer receives",
        "description": "Who: all in scope.", "parameters": [_ID],
        "responses": {"200": {"description": "text/calendar", "content": {"text/calendar": {"schema": {"type": "string"}}}},
                      **{str(c): ERRORS[str(c)] for c in (401, 403, 404)}}}},
    "/api/v1/drive-ins/{id}/arrived": {"post": _write(
        "The announced customer is at the counter: the case becomes a walk-in here, ready to squeeze in",
        "reception, workshop of the garage", 200, _json(_ref("DriveIn")), obj, (401, 403, 404, 409), [_ID])},
    "/api/v1/outbox": {"get": _op(
        "Messages to customers, newest first: queued, sent or failed (with the error), reception's own garage. 200 "
        "unless `limit` says otherwise. " + paging.SAID,
        "reception (own garage), admin", _json({"type": "array", "items": _ref("Message")}), errors=(400, 401, 403),
        params=[{"name": "status", "in": "query", "schema": {"type": "string", "enum": list(MESSAGE_STATUSES)}},
                *paging.PARAMS])},
    "/api/v1/outbox/{id}": {"get": _op(
        "One message as it was sent: its full text (body) in the language it was sent in (locale), and the address "
        "of its calendar file (calendar, null when it has none)", "reception, workshop of the garage; admin",
        _json({"allOf": [_ref("Message"), {"type": "object", "properties": {
            "locale": {"type": "string"}, "body": {"type": "string"},
            "calendar": {"type": "string", "nullable": True}}}]}), errors=(401, 403, 404), params=[_ID])},
    "/api/v1/outbox/{id}/calendar.ics": {"get": {
        "summary": "The calendar file attached to the message, as it was sent (not as the appointment is now)",
        "description": "Who: reception, workshop of the garage; admin.", "parameters": [_ID],
        "responses": {"200": {"description": "text/calendar", "content": {"text/calendar": {"schema": {"type": "string"}}}},
                      **{str(c): ERRORS[str(c)] for c in (401, 403, 404)}}}},
    "/api/v1/outbox/{id}/phoned": {"post": _write(
        "A queued message to a customer with no e-mail address was told by phone: it becomes sent (sent_at now), "
        "and the case's timeline says so. 409 for an e-mail message or one not queued.",
        "reception (own garage), admin", 200, _json(_ref("Message")), obj, (401, 403, 404, 409), [_ID])},
})
