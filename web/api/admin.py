"""The admin desk's API: users, technicians and their absences, garages, catalogue, and the audit trail."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from scheduler.errors import NotFound
from scheduler.models import Garage
from scheduler.services import accounts, audit, catalogue, garages, squeeze, technicians
from scheduler.services.stats import check_period
from scheduler.texts import N_
from web.api import bp, json_body, require
from web.api.cases import text_field
from web.api.garage import _garage
from web.api.openapi import _json, _op, _ref, _write, add_paths
from web.api.paging import link_next
from web.clock import now
from web.extensions import db
from web.i18n import french_kept
from web.inputs import moment_arg, whole_arg

# The most audit entries one page holds.
AUDIT_MOST = 1000


@bp.get("/v1/users")
def user_list():
    require("admin")
    return jsonify([accounts.user_dict(u) for u in accounts.users(db.session, current_user)])


@bp.post("/v1/users")
def user_create():
    require("admin")
    user = accounts.add_user(db.session, current_user, json_body(), now())
    return jsonify(accounts.user_dict(user)), 201


@bp.patch("/v1/users/<int:user_id>")
def user_change(user_id: int):
    require("admin")
    data = json_body()
    user = accounts.change_user(db.session, current_user, accounts.get_user(db.session, current_user, user_id),
                                data, now())
    return jsonify(accounts.user_dict(user))


@bp.post("/v1/account/password")
def own_password():
    require()
    data = json_body()
    accounts.change_own_password(db.session, current_user, data.get("current_password"), data.get("new_password"),
                                 current_user.bearer_token or current_user.session_token, now())
    return jsonify(accounts.user_dict(current_user))


@bp.get("/v1/audit")
def audit_list():
    require("admin")
    # Paged by `before` (the last entry shown), not by offset: entries written meanwhile shift no page.
    limit = whole_arg("limit", 200, least=1, most=AUDIT_MOST)
    found = audit.entries(db.session, limit=limit + 1, **trail_filters())
    response = jsonify([e.to_dict() for e in found[:limit]])
    if len(found) > limit:
        link_next(response, before=found[limit - 1].id)
    return response


def trail_filters(said: dict[str, str] | None = None) -> dict:
    """The audit trail's filters of the address, for the API and the admin's page alike."""
    said = said or {}
    found = audit.trail_query(db.session, request.args)
    for name, key, end in (("from", "start", False), ("to", "end", True)):
        if request.args.get(name, "").strip():
            found[key] = moment_arg(name, request.args[name].strip(), end=end, said=said.get(name))
    check_period(found.get("start"), found.get("end"))
    return found


# -- technicians, their absences, and re-planning the work a change hits ----------------------------------------

def _admin_garage(garage_id: str) -> Garage:
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        raise NotFound(N_("No garage %(key)s."), words={"key": repr(garage_id)})
    return garage


def _hit(hit: technicians.Hit) -> list[dict]:
    return [{**a.to_dict(), "movable": a.status == "booked"} for a in hit.appointments]


def _changed(name: str, body: dict, hit: technicians.Hit) -> dict:
    """What a change answers: the object itself at the top (as a PATCH does), and under its name with the
    booked work the change hits."""
    return {**body, name: body, "affected": _hit(hit)}


@bp.get("/v1/garages/<garage_id>/technicians")
def technician_list(garage_id: str):
    require("admin")
    garage = _admin_garage(garage_id)
    return jsonify([technicians.technician_dict(t, now()) for t in garage.technicians])


@bp.post("/v1/garages/<garage_id>/technicians")
def technician_add(garage_id: str):
    require("admin")
    found = technicians.add(db.session, current_user, _admin_garage(garage_id), json_body(), now())
    return jsonify(technicians.technician_dict(found, now())), 201


@bp.patch("/v1/technicians/<technician_id>")
def technician_change(technician_id: str):
    require("admin")
    found = technicians.get(db.session, current_user, technician_id)
    hit = technicians.change(db.session, current_user, found, json_body(), now())
    return jsonify(_changed("technician", technicians.technician_dict(found, now()), hit))


@bp.post("/v1/technicians/<technician_id>/absences")
def absence_add(technician_id: str):
    require("admin")
    found = technicians.get(db.session, current_user, technician_id)
    absence, hit = technicians.add_absence(db.session, current_user, found, json_body(), now())
    return jsonify(_changed("absence", technicians.absence_dict(absence, found.garage.zone), hit)), 201


@bp.delete("/v1/absences/<int:absence_id>")
def absence_remove(absence_id: int):
    require("admin")
    technicians.remove_absence(db.session, current_user, absence_id, now())
    return "", 204


@bp.post("/v1/garages/<garage_id>/replan")
def garage_replan(garage_id: str):
    require("reception", "admin")
    data = json_body()
    preview = technicians.replan(db.session, current_user, _garage(garage_id), data.get("appointments"), now(),
                                 text_field(data, "reason"))
    return jsonify(squeeze.diff(db.session, preview).to_dict())  # a preview, as a squeeze's is


# -- garages -------------------------------------------------------------------------------------------------------

@bp.post("/v1/garages")
def garage_add():
    require("admin")
    return jsonify(garages.garage_dict(garages.add(db.session, current_user, json_body(), now()))), 201


@bp.patch("/v1/garages/<garage_id>")
def garage_change(garage_id: str):
    require("admin")
    found = garages.get(db.session, current_user, garage_id)
    hit = garages.change(db.session, current_user, found, json_body(), now())
    return jsonify(_changed("garage", garages.garage_dict(found), hit))


# -- the catalogue --------------------------------------------------------------------------------------------------

@bp.get("/v1/skills")
def skill_list():
    require()
    return jsonify([catalogue.skill_dict(s) for s in catalogue.skills(db.session)])


@bp.get("/v1/job-types")
def job_type_list():
    require()
    return jsonify([catalogue.job_type_dict(j) for j in catalogue.job_types(db.session)])


@bp.post("/v1/skills", defaults={"kind": "skills"})
@bp.post("/v1/job-types", defaults={"kind": "job-types"})
@bp.post("/v1/symptoms", defaults={"kind": "symptoms"})
def catalogue_add(kind: str):
    require("admin")
    entity = _ENTITIES[kind]
    row = catalogue.add(db.session, current_user, entity, json_body(), now())
    return jsonify(catalogue.KINDS[entity][2](row)), 201


@bp.patch("/v1/skills/<code>", defaults={"kind": "skills"})
@bp.patch("/v1/job-types/<code>", defaults={"kind": "job-types"})
@bp.patch("/v1/symptoms/<code>", defaults={"kind": "symptoms"})
def catalogue_change(kind: str, code: str):
    require("admin")
    entity = _ENTITIES[kind]
    row = audit.find(db.session, current_user, catalogue.KINDS[entity][0], code, entity.replace("_", " "))
    data = json_body()
    if isinstance(data, dict):
        data = french_kept(row, data)
    return jsonify(catalogue.KINDS[entity][2](catalogue.change(db.session, current_user, entity, row, data, now())))


_ENTITIES = {"skills": "skill", "job-types": "job_type", "symptoms": "symptom"}


_USER = {"type": "object", "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "name": {"type": "string"},
    "role": {"type": "string", "enum": ["operator", "reception", "workshop", "planner", "admin"]},
    "garage": {"type": "string", "nullable": True}, "active": {"type": "boolean"},
    "must_change_password": {"type": "boolean"}, "created_at": {"type": "string", "format": "date-time"}}}
_AUDIT = {"type": "object", "properties": {
    "id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"},
    "actor": {"type": "string", "nullable": True}, "entity": {"type": "string"}, "entity_id": {"type": "string"},
    "action": {"type": "string"},
    "changes": {"type": "object", "description": "{field: [from, to]}; passwords appear as \"(secret)\"",
                "additionalProperties": {"type": "array", "items": {}, "minItems": 2, "maxItems": 2}}}}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _q(name: str, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": {"type": "string"}, "description": description}


_TECH = {"type": "object", "properties": {
    "id": {"type": "string"}, "garage": {"type": "string"}, "name": {"type": "string"}, "active": {"type": "boolean"},
    "skills": {"type": "array", "items": {"type": "string"}},
    "shifts": {"type": "array", "items": {"type": "object", "properties": {
        "weekday": {"type": "integer", "description": "0 = Monday"}, "start": {"type": "string", "example": "08:00"},
        "end": {"type": "string", "example": "12:00"}}}},
    "absences": {"type": "array", "items": {"type": "object", "description": "as an absence below"}}}}
_ABSENCE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "technician": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
    "end": {"type": "string", "format": "date-time"}, "part_day": {"type": "boolean"}, "reason": {"type": "string"}}}
_AFFECTED = {"type": "array", "description": "exactly the active appointments the change left with no one on shift "
             "(appointments with `movable`: booked, not started); re-plan them with POST "
             "/api/v1/garages/{id}/replan, nothing moves before", "items": _ref("Appointment")}
_GARAGE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_TECH_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}

_HOURS = {"type": "array", "items": {"type": "object", "properties": {
    "weekday": {"type": "integer", "description": "0 = Monday"}, "opens": {"type": "string", "example": "07:45"},
    "closes": {"type": "string", "example": "18:30"}, "lunch_start": {"type": "string", "nullable": True},
    "lunch_end": {"type": "string", "nullable": True}}}, "description": "a weekday not listed is closed"}
_CLOSED = {"type": "array", "items": {"type": "object", "properties": {
    "day": {"type": "string", "format": "date"}, "reason": {"type": "string"}}}}
_GARAGE_BODY = {"type": "object", "properties": {
    "name": {"type": "string"}, "address": {"type": "string"}, "city": {"type": "string"},
    "location": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
    "phone": {"type": "string"}, "lifts": {"type": "integer"}, "timezone": {"type": "string"},
    "opening_hours": _HOURS, "closed_days": _CLOSED}}
_GARAGE_FULL = {"allOf": [_ref("Garage"), {"type": "object", "properties": {"opening_hours": _HOURS,
                                                                         "closed_days": _CLOSED}}]}

_SKILL = {"type": "object", "properties": {
    "code": {"type": "string", "description": "never changes; technicians and job types refer to it"},
    "label": {"type": "string", "description": "English"},
    "label_fr": {"type": "string", "nullable": True, "description": "French, optional: read instead of the catalog's "
                                                                    "translation of the label"}}}
_JOB = {"type": "object", "properties": {
    "code": {"type": "string"}, "label": {"type": "string", "description": "English"},
    "label_fr": {"type": "string", "nullable": True, "description": "French, optional: read instead of the catalog's "
                                                                    "translation of the label"},
    "skill": {"type": "string"},
    "duration_minutes": {"type": "integer", "description": "a multiple of 15"}, "lift": {"type": "boolean"}}}
_SYMPTOM = {"type": "object", "properties": {
    "code": {"type": "string"}, "label": {"type": "string", "description": "English"},
    "label_fr": {"type": "string"}, "urgency": {"type": "string", "enum": ["P1", "P2", "P3"]},
    "job_type": {"type": "string"}}}
_CODE = {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}

add_paths({
    "/api/v1/skills": {
        "get": _op("The skills technicians can have, with their labels", "all",
                   _json({"type": "array", "items": _SKILL})),
        "post": _write("Add a skill (its code never changes); give it to technicians, then to job types", "admin", 201,
                       _json(_SKILL), {**_SKILL, "required": ["code", "label"]}, (400, 401, 403))},
    "/api/v1/skills/{code}": {"patch": _write(
        "Change a skill's labels", "admin", 200, _json(_SKILL), _SKILL, (400, 401, 403, 404), params=[_CODE])},
    "/api/v1/job-types": {
        "get": _op("The job types: skill, standard duration, lift", "all", _json({"type": "array", "items": _JOB})),
        "post": _write("Add a job type (its code never changes)", "admin", 201, _json(_JOB),
                       {**_JOB, "required": ["code", "label", "skill", "duration_minutes"]}, (400, 401, 403))},
    "/api/v1/job-types/{code}": {"patch": _write(
        "Change a job type's label, skill, duration or lift (work already booked keeps its time)", "admin", 200,
        _json(_JOB), _JOB, (400, 401, 403, 404), params=[_CODE])},
    "/api/v1/symptoms": {"post": _write(
        "Add a symptom: labels in English and French, suggested urgency and job type", "admin", 201,
        _json(_SYMPTOM), {**_SYMPTOM, "required": ["code", "label", "label_fr", "urgency", "job_type"]},
        (400, 401, 403))},
    "/api/v1/symptoms/{code}": {"patch": _write(
        "Change a symptom's labels, suggested urgency or job type", "admin", 200, _json(_SYMPTOM), _SYMPTOM,
        (400, 401, 403, 404), params=[_CODE])},
    "/api/v1/garages": {"post": _write(
        "Add a garage `{id, name, address, city, location, phone, lifts, opening_hours}` (the id never changes)",
        "admin", 201, _json(_GARAGE_FULL), {**_GARAGE_BODY, "required": ["id", "name", "address", "city",
                                                                         "location", "phone", "lifts"]},
        (400, 401, 403))},
    "/api/v1/garages/{id}": {"patch": _write(
        "Change name, address, location, phone, lifts, opening hours (the whole week) or closed days (the whole "
        "list); answers the booked work that shorter hours or a closed day leave with no one on shift. Statistics "
        "and overrides refer to the id, so a rename keeps them", "admin", 200,
        _json({"allOf": [_GARAGE_FULL, {"type": "object",
                                        "properties": {"garage": _GARAGE_FULL, "affected": _AFFECTED}}]}), _GARAGE_BODY,
        (400, 401, 403, 404), params=[_GARAGE_ID])},
    "/api/v1/garages/{id}/technicians": {
        "get": _op("The garage's technicians with skills, weekly shifts and absences to come", "admin",
                   _json({"type": "array", "items": _TECH}), errors=(401, 403, 404), params=[_GARAGE_ID]),
        "post": _write("Add a technician `{name, skills, shifts}`", "admin", 201, _json(_TECH),
                       {"type": "object", "required": ["name"]}, (400, 401, 403, 404), params=[_GARAGE_ID]),
    },
    "/api/v1/technicians/{id}": {"patch": _write(
        "Change name, garage (a move), skills, shifts (the whole week) or active; answers the work it hits",
        "admin", 200, _json({"allOf": [_TECH, {"type": "object",
                                               "properties": {"technician": _TECH, "affected": _AFFECTED}}]}),
        {"type": "object"}, (400, 401, 403, 404), params=[_TECH_ID])},
    "/api/v1/technicians/{id}/absences": {"post": _write(
        "Add an absence `{start, end, reason}`: days (2026-11-24, the end day included) or times (part of a "
        "day); answers the booked work it hits", "admin", 201,
        _json({"allOf": [_ABSENCE, {"type": "object", "properties": {"absence": _ABSENCE, "affected": _AFFECTED}}]}),
        {"type": "object", "required": ["start", "end"], "properties": {
            "start": {"type": "string"}, "end": {"type": "string"}, "reason": {"type": "string"}}},
        (400, 401, 403, 404), params=[_TECH_ID])},
    "/api/v1/absences/{id}": {"delete": {
        "summary": "Remove an absence (entered by mistake, back early)", "description": "Who: admin.",
        "parameters": [_ID], "responses": {"204": {"description": "Removed"},
                                           **{str(c): {"$ref": f"#/components/responses/E{c}"} for c in (401, 403, 404)}}}},
    "/api/v1/garages/{id}/replan": {"post": _write(
        "Preview a re-plan of these appointments `{appointments: [id], reason}` at the garage (each keeps its "
        "day); confirm it with POST /api/v1/squeeze/{id}/confirm", "reception of the garage, admin", 200,
        _json(_ref("Preview")), {"type": "object", "required": ["appointments"]}, (400, 401, 403, 404),
        params=[_GARAGE_ID])},
    "/api/v1/users": {
        "get": _op("The users, by role", "admin", _json({"type": "array", "items": _USER}), errors=(401, 403)),
        "post": _write("Add a user; the password given is a first one, to be changed at the first login "
                       "(400 names each bad field in details.fields; a username already taken, alone, is 409)",
                       "admin", 201, _json(_USER),
                       {"type": "object", "required": ["username", "role", "password"],
                        "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                                       "role": {"type": "string"}, "garage": {"type": "string"},
                                       "password": {"type": "string"},
                                       "active": {"type": "boolean", "default": True}}}, (400, 401, 403, 409)),
    },
    "/api/v1/users/{id}": {"patch": _write(
        "Change role, garage, name or active; `password` resets it (to be changed at the next login). "
        "Deactivating or a reset ends the user's sessions and API tokens at once; a role or garage change ends "
        "their sessions. 409 last_admin when it would leave no active admin", "admin", 200, _json(_USER),
        {"type": "object", "properties": {"role": {"type": "string"}, "garage": {"type": "string", "nullable": True},
                                          "name": {"type": "string"}, "active": {"type": "boolean"},
                                          "password": {"type": "string"}}},
        (400, 401, 403, 404, 409), params=[_ID])},
    "/api/v1/account/password": {"post": _write(
        "Change one's own password; one's other sessions and API tokens end", "any logged-in user", 200, _json(_USER),
        {"type": "object", "required": ["current_password", "new_password"],
         "properties": {"current_password": {"type": "string"}, "new_password": {"type": "string"}}},
        (400, 401))},
    "/api/v1/audit": {"get": _op(
        "The audit trail of admin changes, newest first: who, when, what, from → to", "admin",
        _json({"type": "array", "items": _AUDIT}), errors=(400, 401, 403),
        params=[_q("entity", "user, garage, technician, skill, job_type, symptom or policy"),
                _q("entity_id", "the changed thing's id"), _q("actor", "who changed it: a username"),
                _q("from", "from this day (YYYY-MM-DD, the network's) or time with a UTC offset"),
                _q("to", "to this day, included, or before this time"),
                _q("before", "older than this entry (its id): the next page"),
                _q("limit", "at most this many, 1 to 1000 (200 unless said); when more follow, a `Link` header "
                            "(RFC 8288, `rel=\"next\"`) gives the next page's address")])},
})
