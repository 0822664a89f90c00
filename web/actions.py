"""Page actions: a refusal from a service comes back as a message on the page the user was on."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import flash, redirect, request

from scheduler.errors import DomainError, Forbidden
from web.extensions import db
from web.refusals import refusal_text


def is_local_path(target: str) -> bool:
    """A path on this site, so never an open redirect (browsers read "/\\host" as "//host")."""
    return target.startswith("/") and not target.startswith(("//", "/\\")) and not urlsplit(target).netloc


def back(default: str) -> str:
    target = request.form.get("next", "")
    return target if is_local_path(target) else default


def refusals_flashed(default_endpoint):
    """Wrap a POST view: a DomainError rolls back, is flashed, and sends the user back.

    Not a Forbidden: acting on another garage's things is refused with a 403, as every other access check is,
    rather than passed off as a business refusal on the user's own page."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            try:
                return view(*args, **kwargs)
            except Forbidden:
                raise
            except DomainError as exc:
                db.session.rollback()
                flash(refusal_text(exc), "error")
                return redirect(back(default_endpoint(**kwargs)))

        return wrapper

    return decorate
