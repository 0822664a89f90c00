"""The admin desk's API: users, technicians and their absences, garages, catalogue, and the audit trail."""

from __future__ import annotations

from flask import jsonify, request
from flask_login import current_user

from scheduler.services import accounts, audit
from web.api import bp, json_body, require
from web.api.openapi import _json, _op, _write, add_paths
from web.clock import now
from web.extensions import db


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
                                 current_user.session_token, now())
    return jsonify(accounts.user_dict(current_user))


@bp.get("/v1/audit")
def audit_list():
    require("admin")
    entity, entity_id = request.args.get("entity"), request.args.get("entity_id")
    return jsonify([e.to_dict() for e in audit.entries(db.session, entity, entity_id,
                                                         limit=min(request.args.get("limit", 200, type=int), 1000))])


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


add_paths({
    "/api/v1/users": {
        "get": _op("The users, by role", "admin", _json({"type": "array", "items": _USER}), errors=(401, 403)),
        "post": _write("Add a user; the password given is a first one, to be changed at the first login "
                       "(400 names each bad field in details.fields)", "admin", 201, _json(_USER),
                       {"type": "object", "required": ["username", "role", "password"],
                        "properties": {"username": {"type": "string"}, "name": {"type": "string"},
                                       "role": {"type": "string"}, "garage": {"type": "string"},
                                       "password": {"type": "string"}}}, (400, 401, 403)),
    },
    "/api/v1/users/{id}": {"patch": _write(
        "Change role, garage, name or active; `password` resets it (to be changed at the next login). "
        "Deactivating ends the user's sessions and API tokens at once; a role or garage change ends their "
        "sessions. 409 last_admin when it would leave no active admin", "admin", 200, _json(_USER),
        {"type": "object", "properties": {"role": {"type": "string"}, "garage": {"type": "string", "nullable": True},
                                          "name": {"type": "string"}, "active": {"type": "boolean"},
                                          "password": {"type": "string"}}},
        (400, 401, 403, 404, 409), params=[_ID])},
    "/api/v1/account/password": {"post": _write(
        "Change one's own password; one's other sessions end", "any logged-in user", 200, _json(_USER),
        {"type": "object", "required": ["current_password", "new_password"],
         "properties": {"current_password": {"type": "string"}, "new_password": {"type": "string"}}},
        (400, 401))},
    "/api/v1/audit": {"get": _op(
        "The audit trail of admin changes, newest first: who, when, what, from → to", "admin",
        _json({"type": "array", "items": _AUDIT}), errors=(401, 403),
        params=[_q("entity", "user, garage, technician, absence, job_type, symptom..."),
                _q("entity_id", "the changed thing's id"), _q("limit", "at most this many (≤ 1000)")])},
})
