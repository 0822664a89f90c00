"""Who is asking: cookie sessions that logout revokes, bearer tokens, and access checks."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, request
from flask_login import LoginManager, current_user
from sqlalchemy import select

from scheduler.models import ApiToken, User, UserSession
from scheduler.models.user import digest
from web.extensions import db


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_session(token: str) -> User | None:
        user = _live_credential(UserSession, token)
        if user is not None:
            user.session_token = token
        return user

    @manager.request_loader
    def load_bearer(req) -> User | None:
        header = req.headers.get("Authorization", "")
        if not header.startswith("Bearer "):
            return None
        user = _live_credential(ApiToken, header[7:].strip())
        if user is not None:
            user.via_token = True
        return user

    @manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))


def _live_credential(model, token: str) -> User | None:
    """The active user behind an unrevoked session or API token."""
    row = db.session.scalar(select(model).where(model.token_hash == digest(token), model.revoked_at.is_(None)))
    return row.user if row is not None and row.user.active else None


def roles_required(*roles: str):
    """Logged in (else login page / 401) and of one of these roles (else 403)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from web.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, description=f"This needs the role {' or '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapper

    return decorate


def check_garage(garage_id: str) -> None:
    """A garage-bound user acts only on their own garage."""
    if not current_user.can_see_garage(garage_id):
        abort(403, description="This belongs to another garage.")


HOME_ENDPOINTS = {
    "operator": "operator.desk",
    "reception": "reception.board",
    "workshop": "workshop.jobs",
    "planner": "planner.overrides",
    "admin": "admin.index",
}


def home_url(user: User) -> str:
    from flask import url_for

    endpoint = HOME_ENDPOINTS[user.role]
    if user.role in ("reception", "workshop"):
        return url_for(endpoint, garage_id=user.garage_id)
    return url_for(endpoint)
