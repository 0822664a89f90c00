from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from scheduler.services import accounts
from web.api import bp, json_body, require
from web.extensions import db
from web.security import limit_logins


def _session_view():
    return {"user": current_user.username, "role": current_user.role, "garage": current_user.garage_id,
            "team": current_user.team, "must_change_password": current_user.must_change_password,
            "csrf_token": generate_csrf()}


@bp.post("/v1/session")
@limit_logins
def session_create():
    from web.auth.routes import start_session
    from web.errors import error_response

    data = json_body()
    username, password = data.get("username"), data.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username or not password:
        return error_response(400, "bad_request", _("Give username and password as strings."))
    user = accounts.authenticate(db.session, username, password)
    if user is None:
        return error_response(401, "bad_credentials", _("Wrong username or password."))
    start_session(user)
    return jsonify(_session_view())


@bp.get("/v1/session")
def session_read():
    require()
    return jsonify(_session_view())


@bp.delete("/v1/session")
def session_delete():
    from web.auth.routes import end_session

    require()
    end_session()
    return "", 204
