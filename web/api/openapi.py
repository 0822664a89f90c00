"""The served OpenAPI 3 document: every endpoint of the API, with the error format."""

from __future__ import annotations

from flask import jsonify

from scheduler.services.capacity import BOOKING_WINDOW
from scheduler.services.outbox import LANGUAGES
from web.api import bp, paging


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


# Paths and schemas that other API modules add at import, so each module documents its own routes.
EXTRA_PATHS: dict[str, dict] = {}
EXTRA_SCHEMAS: dict[str, dict] = {}


def add_paths(paths: dict[str, dict]) -> None:
    for path, operations in paths.items():
        EXTRA_PATHS.setdefault(path, {}).update(operations)


def add_schemas(schemas: dict[str, dict]) -> None:
    EXTRA_SCHEMAS.update(schemas)


CASE_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
REQUEST_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"},
              "description": "The direct-line request's id"}


def _write(summary: str, roles: str, status: int, response: dict, body: dict, errors, params=()) -> dict:
    """A write: its success status (200 or 201) and the errors it can answer."""
    op = _op(summary, roles, response, body=body, errors=errors, params=params)
    if status != 200:
        op["responses"] = {str(status): op["responses"].pop("200"), **op["responses"]}
    return op


def _with_csv(paths: dict) -> dict:
    """Every list a GET answers also comes as CSV (API.md; web/api/as_csv.py): said in each list's 200."""
    for operations in paths.values():
        ok = operations.get("get", {}).get("responses", {}).get("200", {})
        content = ok.get("content", {})
        if content.get("application/json", {}).get("schema", {}).get("type") == "array":
            ok["content"] = {**content, "text/csv": {"schema": {"type": "string"}}}
            ok["description"] = (ok.get("description") or "OK") + \
                " (as CSV with ?format=csv or Accept: text/csv; add excel=fr for a French spreadsheet: ';' between" \
                " columns, ',' as the decimal mark, a UTF-8 byte order mark)"
    return paths


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
                                   "responses": {"201": _json(_ref("Case"), "Opened"), **{c: ERRORS[c] for c in ("400", "401", "403")}}},
                           "get": _op(
                               "Find cases, or list the open work. `q`: a case number, a plate (any spacing or case: "
                               "rd447bp finds RD-447-BP), a phone number (any prefix or spacing) or part of the "
                               "customer's name, newest first. `queue=1`: cases waiting for a garage's answer, after a "
                               "decline or an expiry, P1/P2 cases not booked, drive-ins announced but not arrived; most "
                               "urgent and oldest first, each with `queue: {kind, since, garage, due, seconds_left, "
                               "answer}`. Neither: the latest cases, newest first. A garage's staff see their own garage's cases. "
                               "Found or latest, 50 unless `limit` says otherwise. " + paging.SAID,
                               "operator (network), reception and workshop (own garage)",
                               _json({"type": "array", "items": _ref("Case")}), errors=(400, 401, 403),
                               params=[{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 120}},
                                       {"name": "queue", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
                                       *paging.PARAMS])},
        "/api/v1/stranded": {"get": _op(
            "Bookings still to come that no one can do where and when they are booked (an absence, a closed day, "
            "shorter hours, a move or a skill taken away left them so, and no re-plan has placed them): the call "
            "centre agrees a new time with each customer, unless a re-plan at the garage places it within its day "
            "first. Soonest first; each appointment with its case's urgency, since when no one can do it "
            "(`stranded_at`), customer and vehicle.", "operator, admin",
            _json({"type": "array", "items": {"allOf": [_ref("Appointment"), {"type": "object", "properties": {
                "urgency": {"type": "string", "enum": ["P1", "P2", "P3"]},
                "stranded_at": {"type": "string", "format": "date-time"},
                "customer": {"type": "object", "properties": {"name": {"type": "string"},
                                                              "phone": {"type": "string"}}},
                "vehicle": {"type": "object", "properties": {"plate": {"type": "string"},
                                                             "model": {"type": "string"}}}}}]}}),
            errors=(401, 403))},
        "/api/v1/customers": {"get": _op(
            "Customers calling from this number (any prefix or spacing) and their cars; reception sees only "
            "customers whose cars have been to its garage", "operator, reception",
            _json({"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "integer"}, "name": {"type": "string"}, "phone": {"type": "string"},
                "vehicles": {"type": "array", "items": {"type": "object", "properties": {
                    "plate": {"type": "string"}, "model": {"type": "string"}}}}}}}),
            errors=(400, 401, 403),
            params=[{"name": "phone", "in": "query", "required": True, "schema": {"type": "string", "maxLength": 30}}])},
        "/api/v1/vehicles/{plate}": {"get": _op(
            "A known vehicle by its plate (any case), its owner and the latest cases the caller may see",
            "operator, reception", _json(_ref("Vehicle")), errors=(401, 403, 404),
            params=[{"name": "plate", "in": "path", "required": True, "schema": {"type": "string"}}])},
        "/api/v1/cases/{id}": {"get": _op("The case with its timeline, appointments and overrides", "all in scope",
                                          _json(_ref("Case")), errors=(401, 403, 404), params=[CASE_ID])},
        "/api/v1/cases/{id}/offers": {"get": _op("The standard rules' offer, the best offers across the network, the urgency target "
                                                 "(409 for a case done or cancelled: it takes no booking)",
                                                 "operator, reception", _json(_ref("Offers")), errors=(401, 403, 404, 409, 422),
                                                 params=[CASE_ID])},
        "/api/v1/cases/{id}/appointments": {"post": _write(
            "Book a slot. An offered slot books at once; a slot the rules would not give (manual_slot), an "
            "overbooking where policy allows it, or a P1 beyond its target needs a reason (422 reason_required "
            "otherwise) and is logged as an override with the rule offer. 409 slot_taken carries fresh offers (and their "
            "offers_token) in "
            "details.offers (`source: typed`, a time a person asked for that is busy, says so with the free times "
            "around it). A booked case answers 409 already_booked unless `replaces` names its booking: the move "
            "needs a reason, is logged as a rebook override, the first garage is told in its inbox and the "
            "customer's message is queued (the same booking again is 409 already_booked too). Reception may "
            "overbook its own technicians with `overbook: true` and a reason (logged as an overbook override; "
            "the work it runs into is told). A start more "
            f"than {BOOKING_WINDOW.days} days ahead answers 422 too_far_ahead (details.field `start`, "
            "details.latest_start), whoever books and with any reason.",
            "operator, reception (at its own garage)", 201, _json(_ref("Appointment"), "Booked"), _ref("Booking"),
            (400, 401, 403, 404, 409, 422), [CASE_ID])},
        "/api/v1/cases/{id}/urgency": {"post": _write(
            "Raise or lower the urgency, with a reason: an override urgency_raise or urgency_lower is logged with "
            "the rule offer at that moment; offers recompute.", "operator, reception", 200, _json(_ref("Case")),
            {"type": "object", "required": ["urgency", "reason"],
             "properties": {"urgency": {"type": "string", "enum": ["P1", "P2", "P3"]}, "reason": {"type": "string"}}},
            (400, 401, 403, 404, 409, 422), [CASE_ID])},
        "/api/v1/cases/{id}/withdraw": {"post": _write(
            "Close a case not booked yet (`{reason}` optional): a walk-in whose customer left, or a caller who no "
            "longer needs a booking; the case is cancelled and leaves the counter or the open work. 409 for a booked "
            "or closed case, or one a garage is still asked about or expects.",
            "operator, reception (its own garage's walk-ins)", 200,
            _json(_ref("Case")), {"type": "object", "properties": {"reason": {"type": "string"}}},
            (400, 401, 403, 404, 409), [CASE_ID])},
        "/api/v1/cases/{id}/direct-line": {"post": _write(
            "Put the case straight to one garage; it expires unanswered after the policy's time "
            "(direct_line_expiry_minutes) after it is sent, at any hour: `expires_at`.",
            "operator", 201,
            _json(_ref("DirectLineRequest"), "Sent"),
            {"type": "object", "required": ["garage", "message"],
             "properties": {"garage": {"type": "string"}, "message": {"type": "string"}}},
            (400, 401, 403, 404, 409), [CASE_ID])},
        "/api/v1/cases/{id}/drive-in": {"post": _write(
            "Announce a drive-in: the garage (the nearest by default) expects the customer; an override drive_in "
            "is logged with the rule offer. expected_at defaults to when the customer can be there (the garage's "
            "opening if it is closed then); typed, it is refused (400, details.field expected_at) before the "
            "customer can drive there or while the garage is closed, unless `confirm: true` says the customer "
            "gave that time. A garage that declined the case on the direct line answers 409 until `confirm: "
            "true`.", "operator", 201, _json(_ref("DriveIn"), "Announced"),
            {"type": "object", "properties": {"garage": {"type": "string"}, "expected_at": {"type": "string",
                                                                                          "format": "date-time"},
                                              "note": {"type": "string"}, "confirm": {"type": "boolean"}}},
            (400, 401, 403, 404, 409), [CASE_ID])},
        "/api/v1/direct-line": {"get": _op(
            "Direct-line requests, newest first: a garage's for its reception and workshop, an operator's own. 200 "
            "unless `limit` says otherwise. " + paging.SAID,
            "reception, workshop, operator", _json({"type": "array", "items": _ref("DirectLineRequest")}),
            errors=(400, 401, 403),
            params=[{"name": "status", "in": "query", "schema": {"type": "string",
                                                                 "enum": ["open", "accepted", "declined", "expired"]}},
                    *paging.PARAMS])},
        "/api/v1/direct-line/{id}": {"get": _op("One direct-line request", "reception, workshop, operator",
                                                _json(_ref("DirectLineRequest")), errors=(401, 403, 404),
                                                params=[REQUEST_ID])},
        "/api/v1/direct-line/{id}/answer": {"post": _write(
            "Answer once: accept with a start and technician (books a pinned appointment, channel direct_line, and "
            "logs the direct_line override against the rule offer at the time of asking; overbook: true accepts "
            "even if that technician is busy), or decline with a reason. 409 already_answered when it is no longer "
            f"open (answered or expired); 422 too_far_ahead for a start more than {BOOKING_WINDOW.days} days "
            "ahead.", "reception, workshop of that garage", 200,
            _json({"oneOf": [_ref("Appointment"), _ref("DirectLineRequest")]}, "The booked appointment, or the declined request"),
            {"type": "object", "required": ["accept"], "properties": {
                "accept": {"type": "boolean"}, "start": {"type": "string", "format": "date-time"},
                "technician": {"type": "string"}, "overbook": {"type": "boolean"}, "reason": {"type": "string"}}},
            (400, 401, 403, 404, 409, 422), [REQUEST_ID])},
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Frontline API", "version": "1",
                 "description": "Book car-service appointments across a garage network. Times are ISO 8601 "
                                "with a UTC offset. Cookie-authenticated writes carry X-CSRFToken; bearer "
                                "tokens (flask --app web token create USER) need no cookie and no CSRF token."},
        "servers": [{"url": "/"}],
        "security": [{"cookie": []}, {"bearer": []}],
        "paths": _with_csv({path: {**paths.get(path, {}), **EXTRA_PATHS.get(path, {})}
                            for path in {**paths, **EXTRA_PATHS}}),
        "components": {
            "securitySchemes": {"cookie": {"type": "apiKey", "in": "cookie", "name": "session"},
                                "bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "properties": {"error": {"type": "object", "required": ["code", "message"],
                          "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                                         "details": obj}}}},
                "Session": {"type": "object", "properties": {
                    **{k: {"type": "string", "nullable": k == "garage"}
                       for k in ("user", "role", "garage", "team", "csrf_token")},
                    "must_change_password": {"type": "boolean"}}},
                "Symptom": {"type": "object", "properties": {"code": {"type": "string"}, "label": {"type": "string"},
                                                             "urgency": {"type": "string", "enum": ["P1", "P2", "P3"]},
                                                             "job_type": {"type": "string"}}},
                "NewCase": {"type": "object", "required": ["customer", "vehicle", "symptom"], "properties": {
                    "customer": {"type": "object", "properties": {
                        "name": {"type": "string"}, "phone": {"type": "string"},
                        "email": {"type": "string", "nullable": True, "description": "optional: where the "
                                  "confirmation goes; a known customer keeps the address on file when none is given"},
                        "language": {"type": "string", "enum": list(LANGUAGES), "nullable": True, "description": (
                            "optional: the language of the customer's messages; a known customer keeps theirs when "
                            "none is given, a new one gets French")}}},
                    "vehicle": {"type": "object", "properties": {"plate": {"type": "string"}, "model": {"type": "string"}}},
                    "symptom": {"type": "string"}, "note": {"type": "string"},
                    "location": {"type": "object", "description": "{lat, lon}, or {place}: a town, a postcode or a "
                                 "garage of the network's area (e.g. Vénissieux, 69200, lyon-07)",
                                 "properties": {"lat": {"type": "number"}, "lon": {"type": "number"},
                                                "place": {"type": "string"}}}}},
                "Vehicle": {"type": "object", "properties": {
                    "plate": {"type": "string"}, "model": {"type": "string"},
                    "customer": {"type": "object", "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}},
                    "cases": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"type": "integer"}, "opened_at": {"type": "string", "format": "date-time"},
                        "urgency": {"type": "string"}, "job_type": {"type": "string"}, "status": {"type": "string"},
                        "garage": {"type": "string", "nullable": True}}}}}},
                "Case": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "urgency": {"type": "string"}, "job_type": {"type": "string"},
                    "symptom": {"type": "string"}, "customer": obj, "vehicle": obj, "garage": {"type": "string", "nullable": True},
                    "timeline": {"type": "array", "items": obj}, "appointments": {"type": "array", "items": obj},
                    "overrides": {"type": "array", "items": obj}}},
                "Offers": {"type": "object", "properties": {
                    "rule_offer": {**obj, "nullable": True}, "offers": {"type": "array", "items": obj},
                    "none_because": {"type": "object", "description": "only when no offer is found: {code: "
                                     "no_room_within_reach, message}"},
                    "target": {"type": "object", "properties": {"urgency": {"type": "string"},
                                                                 "latest_start": {"type": "string", "nullable": True},
                                                                 "met": {"type": "boolean"}}},
                    "offers_token": {"type": "string", "description": "these offers, signed for the person shown "
                                     "them: sent back with the booking of one of them (`offers_token`), the booking "
                                     "is judged on what was shown and answers sooner; ten minutes old, it is set "
                                     "aside and the network searched again"}}},
                "Booking": {"type": "object", "required": ["garage", "technician", "start"], "properties": {
                    "garage": {"type": "string"}, "technician": {"type": "string"},
                    "start": {"type": "string", "format": "date-time"}, "reason": {"type": "string"},
                    "replaces": {"type": "integer", "description": "the id of the case's booking this one replaces"},
                    "source": {"type": "string", "enum": ["offer", "typed"],
                               "description": "an offer shown (default) or a time a person typed"},
                    "overbook": {"type": "boolean", "description": "reception only: the garage consents to a busy "
                                                                   "slot (a reason is required)"},
                    "offers_token": {"type": "string", "description": "the `offers_token` of the offers the slot "
                                     "was chosen from (GET …/offers, or a 409's details): optional"}}},
                "Appointment": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case": {"type": "integer"}, "garage": {"type": "string"},
                    "technician": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
                    "end": {"type": "string", "format": "date-time"},
                    "status": {"type": "string", "enum": ["booked", "checked_in", "in_progress", "done", "cancelled", "no_show"]},
                    "channel": {"type": "string", "enum": ["call_centre", "direct_line", "walk_in"]},
                    "pinned": {"type": "boolean"}}},
                "DirectLineRequest": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case": {"type": "integer"}, "garage": {"type": "string"},
                    "message": {"type": "string"},
                    "status": {"type": "string", "enum": ["open", "accepted", "declined", "expired"]},
                    "created_at": {"type": "string", "format": "date-time"},
                    "answered_at": {"type": "string", "format": "date-time", "nullable": True},
                    "answer": {"type": "string", "nullable": True},
                    "response_seconds": {"type": "integer", "nullable": True},
                    "expires_at": {"type": "string", "format": "date-time"}}},
                "DriveIn": {"type": "object", "properties": {
                    "id": {"type": "integer"}, "case": {"type": "integer"}, "garage": {"type": "string"},
                    "expected_at": {"type": "string", "format": "date-time"}, "note": {"type": "string"},
                    "status": {"type": "string"}}},
                "Garage": {"type": "object", "properties": {
                    "id": {"type": "string"}, "name": {"type": "string"}, "city": {"type": "string"},
                    "location": {"type": "object", "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}}},
                    "phone": {"type": "string"}}},
                **EXTRA_SCHEMAS,
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
