"""The served OpenAPI 3 document: every endpoint of the API, with the error format."""

from __future__ import annotations

from flask import jsonify

from web.api import bp


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {str(code): {"$ref": f"#/components/responses/E{code}"} for code in (400, 401, 403, 404, 409, 422)}


def _op(summary: str, roles: str, response: dict, body: dict | None = None, errors=(401,), params=()) -> dict:
    op = {"summary": summary, "description": f"Who: {roles}.", "responses": {"200": response}}
    for code in errors:
        op["responses"][str(code)] = ERRORS[str(code)]
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    if params:
        op["parameters"] = list(params)
    return op


CASE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}


def document() -> dict:
    obj = {"type": "object"}
    paths = {
        "/api/v1/session": {
            "post": _op("Log in: sets the session cookie, returns the CSRF token", "anyone",
                        _json(_ref("Session")), body={"type": "object", "required": ["username", "password"],
                                                      "properties": {"username": {"type": "string"},
                                                                     "password": {"type": "string"}}},
                        errors=(400, 401)),
            "get": _op("The current session", "any logged-in user", _json(_ref("Session"))),
            "delete": {"summary": "Log out and revoke this session server-side",
                       "responses": {"204": {"description": "Logged out"}, "401": ERRORS["401"]}},
        },
        "/api/v1/symptoms": {"get": _op("The symptom catalogue", "all", _json({"type": "array", "items": _ref("Symptom")}))},
        "/api/v1/garages": {"get": _op("The garages of the network", "all", _json({"type": "array", "items": _ref("Garage")}))},
        "/api/v1/cases": {"post": {**_op("Open a case; reception's cases are walk-ins at its garage", "operator, reception",
                                         _json(_ref("Case")), body=_ref("NewCase"), errors=(400, 401, 403)),
                                   "responses": {"201": _json(_ref("Case"), "Opened"), **{c: ERRORS[c] for c in ("400", "401", "403")}}}},
        "/api/v1/cases/{id}": {"get": _op("The case with its timeline, appointments and overrides", "all in scope",
                                          _json(_ref("Case")), errors=(401, 403, 404), params=[CASE_ID])},
        "/api/v1/cases/{id}/offers": {"get": _op("The standard rules' offer, the best offers across the network, the urgency target",
                                                 "operator, reception", _json(_ref("Offers")), errors=(401, 403, 404, 422),
                                                 params=[CASE_ID])},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Frontline API", "version": "1",
                 "description": "Book car-service appointments across a garage network. Times are ISO 8601 "
                                "with a UTC offset. Cookie-authenticated writes carry X-CSRFToken; bearer "
                                "tokens (flask --app web token create USER) need no cookie and no CSRF token."},
        "servers": [{"url": "/"}],
        "security": [{"cookie": []}, {"bearer": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {"cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                         "details": obj}}}},
                "Session": {"type": "object", "properties": {k: {"type": "string", "nullable": k == "garage"}
                                                             for k in ("user", "role", "garage", "team", "csrf_token")}},
                "Symptom": {"type": "object", "properties": {"code": {"type": "string"}, "label": {"type": "string"},
                                                             "urgency": {"type": "string", "enum": ["P1", "P2", "P3"]},
                                                             "job_type": {"type": "string"}}},
                "NewCase": {"type": "object", "required": ["customer", "vehicle", "symptom"], "properties": {
                    "customer": {"type": "object", "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}},
                    "vehicle": {"type": "object", "properties": {"plate": {"type": "string"}, "model": {"type": "string"}}},
                    "symptom": {"type": "string"}, "note": {"type": "string"},
                    "location": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}}}},
                "Case": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "urgency": {"type": "string"}, "job_type": {"type": "string"},
                    "symptom": {"type": "string"}, "customer": obj, "vehicle": obj, "garage": {"type": "string", "nullable": True},
                    "timeline": {"type": "array", "items": obj}, "appointments": {"type": "array", "items": obj},
                    "overrides": {"type": "array", "items": obj}}},
                "Offers": {"type": "object", "properties": {
                    "rule_offer": {**obj, "nullable": True}, "offers": {"type": "array", "items": obj},
                    "target": {"type": "object", "properties": {"urgency": {"type": "string"},
                                                                 "latest_start": {"type": "string", "nullable": True},
                                                                 "met": {"type": "boolean"}}}}},
                "Garage": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string"},
                    "location": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
                    "phone": {"type": "string"}}},
            },
            "responses": {
                f"E{code}": _json(_ref("Error"), text) for code, text in (
                    (400, "Malformed request"), (401, "Not logged in"), (403, "Not allowed (role or garage)"),
                    (404, "Not found"), (409, "Conflict: slot taken, already answered, stale version"),
                    (422, "Valid JSON that breaks a rule"))
            },
        },
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(document())
