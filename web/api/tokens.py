"""API tokens: list, issue and revoke (the secret is shown once; only its hash is stored)."""

from __future__ import annotations

from flask import jsonify
from flask_login import current_user

from scheduler.services import accounts
from web.api import bp, require
from web.api.openapi import _json, _op, _write, add_paths
from web.clock import now
from web.extensions import db


def _dict(row) -> dict:
    return {"id": row.id, "user": row.user.username, "created_at": row.created_at.isoformat(),
            "revoked_at": row.revoked_at.isoformat() if row.revoked_at else None}


@bp.get("/v1/tokens")
def token_list():
    require()
    return jsonify([_dict(t) for t in accounts.tokens(db.session, current_user)])


@bp.post("/v1/tokens")
def token_issue():
    require()
    row, secret = accounts.issue_token(db.session, current_user, now())
    return jsonify({**_dict(row), "token": secret}), 201


@bp.delete("/v1/tokens/<int:token_id>")
def token_revoke(token_id: int):
    require()
    accounts.revoke_token(db.session, current_user, token_id, now())
    return "", 204


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
_TOKEN = {"type": "object", "properties": {"id": {"type": "integer"}, "user": {"type": "string"},
                                           "created_at": {"type": "string", "format": "date-time"},
                                           "revoked_at": {"type": "string", "format": "date-time", "nullable": True}}}
add_paths({
    "/api/v1/tokens": {
        "get": _op("API tokens: one's own (an admin sees every one)", "any logged-in user",
                   _json({"type": "array", "items": _TOKEN})),
        "post": _write("Issue a bearer token for oneself; the secret (`token`) is shown in this answer only",
                       "any logged-in user", 201,
                       _json({**_TOKEN, "properties": {**_TOKEN["properties"], "token": {"type": "string"}}}),
                       {"type": "object"}, (401,)),
    },
    "/api/v1/tokens/{id}": {"delete": {
        "summary": "Revoke a token: requests carrying it get 401 at once", "description": "Who: its owner, an admin.",
        "parameters": [_ID], "responses": {"204": {"description": "Revoked"},
                                           **{str(c): {"$ref": f"#/components/responses/E{c}"} for c in (401, 404)}}}},
})
