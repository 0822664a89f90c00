"""Errors: JSON in the API's format under /api/, a plain page elsewhere. Never a traceback."""

from __future__ import annotations

from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from scheduler.errors import DomainError, SlotTaken
from scheduler.services.capacity import refused_by_guard
from web import shown
from web.clock import now
from web.extensions import db
from web.refusals import field_texts, refusal_text

CODES = {400: "bad_request", 401: "not_logged_in", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "rule_broken", 429: "too_many_requests", 500: "internal_error", 503: "unavailable"}
RETRY_AFTER_SECONDS = 5
# The page's title, and what a status says when the code that raised it said nothing more (werkzeug's English).
TITLES = {400: _l("Bad request"), 401: _l("Not logged in"), 403: _l("Not allowed"), 404: _l("Not found"),
          405: _l("Method not allowed"), 409: _l("Conflict"), 413: _l("Too large"), 415: _l("Unsupported format"),
          422: _l("Refused by a rule"), 429: _l("Too many attempts"), 500: _l("Internal error"),
          503: _l("Unavailable")}
DESCRIPTIONS = {
    400: _l("The request could not be understood."), 401: _l("Log in first."),
    403: _l("You are not allowed to see this."),
    404: _l("There is nothing at this address: check it, or go back to your home page."),
    405: _l("This address does not take that method."), 413: _l("What was sent is too large."),
    415: _l("This format is not accepted."), 429: _l("Too many attempts: wait a moment and try again."),
    500: _l("Something went wrong on our side; nothing was saved."),
}


def error_response(status: int, code: str, message: str, details: dict | None = None, headers: dict | None = None):
    if request.path.startswith("/api/"):
        body = {"error": {"code": code, "message": message, "details": details or {}}}
        if status == 401:  # HTTP's 401 names how to authenticate: a bearer token (or the session's cookie)
            headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="frontline"'}
        return jsonify(body), status, headers or {}
    return render_template("error.html", status=status, code=code, message=message,
                           title=TITLES.get(status, code.replace("_", " ")), details=details or {}), status, headers or {}


def database_error(exc: SQLAlchemyError):
    """A write the database refused (capacity: 409), or a database that cannot answer now (503)."""
    if isinstance(exc, IntegrityError) and refused_by_guard(exc):
        taken = SlotTaken(_("That slot was just taken: reload to see what is free."))
        return error_response(taken.status, taken.code, taken.message)
    if isinstance(exc, StaleDataError):  # a row changed by someone else between this request's read and its write
        return error_response(409, "conflict", _("Someone changed this meanwhile; nothing was saved. Reload and try "
                                                 "again."))
    if isinstance(exc, (OperationalError, InterfaceError)) and "append_only" not in str(exc):
        return unavailable()
    from flask import current_app

    current_app.logger.error("database error: %s", exc)
    return error_response(500, "internal_error", str(DESCRIPTIONS[500]))


def unavailable():
    """503 that needs neither the database nor the logged-in user: the database may be what is down."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    locale = request.accept_languages.best_match(current_app.config["LANGUAGES"]) \
        or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):  # the user's own language setting is in the database
        message = _("The database is busy or unreachable; nothing was saved. Try again in a few seconds.")
        if request.path.startswith("/api/"):
            return jsonify({"error": {"code": "unavailable", "message": message, "details": {}}}), 503, headers
        return render_template("unavailable.html", status=503, title=_("Unavailable"), message=message,
                               retry=_("Try again"), locale=locale), 503, headers


def _user_id() -> int | None:
    return current_user.id if current_user and current_user.is_authenticated else None


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        if not db.session.is_active:  # a write the database refused (a refusal raised from it): nothing is readable
            _safe_rollback()  # until the transaction is rolled back, not even the logged-in user (a 500)
        # sealed before the rollback, which would have the logged-in user read again
        sealed = shown.seal_refusal(exc, _user_id(), now()) if request.path.startswith("/api/") else None
        db.session.rollback()
        details = {**exc.details, "offers_token": sealed} if sealed else exc.details
        if details.get("fields"):  # each field's refusal in the reader's language, like the headline
            details = {**details, "fields": field_texts(exc)}
        return error_response(exc.status, exc.code, refusal_text(exc), details)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        db.session.rollback()
        return error_response(400, "csrf_failed", _("The form expired or came from elsewhere. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        db.session.rollback()
        status = exc.code or 500
        headers = {"Allow": ", ".join(exc.valid_methods)} if getattr(exc, "valid_methods", None) else None
        said = exc.description if exc.description != type(exc).description else None  # werkzeug's own words
        message = said or str(DESCRIPTIONS.get(status, exc.description or exc.name))
        return error_response(status, CODES.get(status, "error"), message, headers=headers)

    @app.errorhandler(SQLAlchemyError)
    def sql_error(exc: SQLAlchemyError):
        _safe_rollback()
        return database_error(exc)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        _safe_rollback()
        app.logger.exception("unexpected error")
        return error_response(500, "internal_error", str(DESCRIPTIONS[500]))


def _safe_rollback() -> None:
    try:
        db.session.rollback()
    except SQLAlchemyError:
        db.session.remove()  # the connection itself is gone: start afresh next time
