"""Who is asking: cookie sessions that logout revokes, bearer tokens, and access checks."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import wraps

from flask import Flask, abort, request, session
from flask_babel import gettext as _
from flask_login import LoginManager, current_user, logout_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from scheduler.models import ApiToken, User, UserSession
from scheduler.models.user import digest
from web.clock import now
from web.extensions import db


def bearer_of(header: str) -> str | None:
    """The token of an `Authorization: Bearer <token>` header ("" for none: a token asked for that is no token, a
    401, never the cookie's user); the scheme's name in any case, as HTTP has it. None: no bearer header."""
    scheme, _, token = header.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def init_login(app: Flask, manager: LoginManager) -> None:
    manager.init_app(app)
    manager.login_view = "auth.login"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_session(token: str) -> User | None:
        user = _live_credential(UserSession, token, born_after=now() - _lifetime("SESSION_MAX_MINUTES"))
        if user is not None:
            user.session_token = token
        return user

    @app.before_request
    def end_idle_sessions():
        """A session unused for longer than the idle time ends, without a write: the signed cookie carries
        when it was last used, so a copy of an old cookie is as idle as the old cookie."""
        if "_user_id" not in session:
            return
        moment = now().timestamp()
        seen = session.get("seen")
        if seen is not None and moment - seen > _lifetime("SESSION_IDLE_MINUTES").total_seconds():
            logout_user()
            session.clear()
        elif seen is None or moment - seen > 60:  # a minute's precision: no new cookie on every request
            session["seen"] = moment

    @manager.request_loader
    def load_bearer(req) -> User | None:
        token = bearer_of(req.headers.get("Authorization", ""))
        if token is None:
            return None
        user = _live_credential(ApiToken, token)
        if user is not None:
            user.via_token = True
            user.bearer_token = token
        return user

    @app.before_request
    def bearer_first():
        """A request that carries a bearer token is its holder's, whatever cookie comes with it: Flask-Login
        reads the cookie first, and a cookie with no login in it (the CSRF token of GET /api/v1/session, of
        the login page) failed its session protection and made the request anonymous before the token was
        looked at. A wrong token stays a 401, never the cookie's user."""
        if bearer_of(request.headers.get("Authorization", "")) is not None:
            from flask import g

            g._login_user = load_bearer(request) or manager.anonymous_user()

    @app.before_request
    def first_password_first():
        """A password an admin chose is changed before any page is shown. Not before an API call: the API's
        contract has a user created with a password usable at once (a 403 there means a role or a garage);
        the session read says `must_change_password`, and POST /api/v1/account/password changes it."""
        if request.endpoint in PASSWORD_FREE or request.path.startswith("/api/") or \
                not current_user.is_authenticated or not current_user.must_change_password:
            return None
        from flask import redirect, url_for

        return redirect(url_for("auth.password"))

    @manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))


# What a user who must change their password may still reach.
PASSWORD_FREE = frozenset({"static", "auth.favicon", "auth.password", "auth.logout", "auth.set_language", "auth.login",
                           "api.session_read", "api.session_delete", "api.session_create", "api.own_password"})

# How long a login lasts: ended after this long unused, and after this long in any case (a working day).
SESSION_IDLE = timedelta(hours=4)
SESSION_MAX = timedelta(hours=12)


def _lifetime(name: str) -> timedelta:
    from flask import current_app

    minutes = current_app.config.get(name)
    return timedelta(minutes=minutes) if minutes else SESSION_IDLE if "IDLE" in name else SESSION_MAX


def _live_credential(model, token: str, born_after: datetime | None = None) -> User | None:
    """The active user behind an unrevoked session or API token (a session no older than its lifetime).

    One query for both: every request asks it, and the user came in a second round trip."""
    query = select(model).options(joinedload(model.user)).where(model.token_hash == digest(token),
                                                                  model.revoked_at.is_(None))
    if born_after is not None:
        query = query.where(model.created_at > born_after)
    row = db.session.scalar(query)
    if row is None or not row.user.active:
        return None
    row.user.reads_in = row.user.locale
    return row.user


def roles_required(*roles: str):
    """Logged in (else login page / 401) and of one of these roles (else 403)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                from web.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403, description=roles_needed(roles))
            return view(*args, **kwargs)

        return wrapper

    return decorate


def check_garage(garage_id: str) -> None:
    """A garage-bound user acts only on their own garage."""
    if not current_user.can_see_garage(garage_id):
        abort(403, description=_("This belongs to another garage."))


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


def roles_needed(roles) -> str:
    from web.filters import role_label

    return _("This needs the role %(roles)s.", roles=_(" or ").join(role_label(r) for r in roles))
