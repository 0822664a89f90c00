"""The JSON API, version 1 (../shared/API.md): same rules and permissions as the pages."""

from __future__ import annotations

from flask import Blueprint, abort, request
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import ValidationError, validate_csrf
from werkzeug.exceptions import BadRequest

from scheduler.texts import N_
from web.auth import roles_needed
from web.inputs import BadText

bp = Blueprint("api", __name__, url_prefix="/api")

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# Flask-WTF's reasons, in English only: marked here so that the refusal reads in the reader's language.
CSRF_WHY = {"The CSRF token is missing": N_("The CSRF token is missing"),
            "The CSRF token has expired": N_("The CSRF token has expired"),
            "The CSRF tokens do not match": N_("The CSRF tokens do not match"),
            "The CSRF token is invalid": N_("The CSRF token is invalid"),
            "The CSRF session token is missing": N_("The CSRF session token is missing")}


@bp.before_request
def check_csrf_for_cookie_writes():
    """Cookie-authenticated writes carry X-CSRFToken; bearer-token requests need none."""
    if request.method not in WRITE_METHODS or request.endpoint == "api.session_create":
        return
    if current_user.is_authenticated and current_user.via_token:
        return
    if not current_user.is_authenticated:
        return  # the view answers 401
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.headers.get("X-CSRF-Token"))
    except ValidationError as exc:
        from web.errors import error_response

        why = str(exc).rstrip(".")
        return error_response(400, "csrf_failed",
                              _("%(why)s: send the csrf_token from GET /api/v1/session in the X-CSRFToken header.",
                                why=_(CSRF_WHY[why]) if why in CSRF_WHY else why))


def json_body() -> dict:
    """The request's JSON object, or a 400 that says what is wrong."""
    if not request.is_json:
        abort(400, description=_("Send a JSON object with Content-Type: application/json."))
    try:
        data = request.get_json()
    except BadRequest as exc:
        abort(400, description=_("Send a JSON object with Content-Type: application/json (%(why)s).",
                                 why=_why_not_json(exc)))
    if not isinstance(data, dict):
        abort(400, description=_("The body must be a JSON object."))
    return data


def optional_json_body() -> dict:
    """The request's JSON object, `{}` when there is no body; a body that is not a JSON object is a 400."""
    return json_body() if request.get_data(cache=True) else {}


def _why_not_json(exc: BaseException) -> str:
    """What our decoder said (NUL bytes, too deep) when Flask and Werkzeug wrapped it in their own 400."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, BadText):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    return _("the body is not valid JSON")


def require(*roles: str) -> None:
    if not current_user.is_authenticated:
        abort(401, description=_("Log in first: POST /api/v1/session, or send Authorization: Bearer <token>."))
    if roles and current_user.role not in roles:
        abort(403, description=roles_needed(roles))


from web.api import admin, cases, catalog, direct_line, garage, openapi, planner, session, tokens  # noqa: E402,F401
from web.api.as_csv import register as _csv_lists  # noqa: E402

_csv_lists(bp)
