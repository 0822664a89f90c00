from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, logout_user

from scheduler.services import accounts
from web.actions import is_local_path
from web.auth import home_url
from web.auth.forms import LoginForm
from web.clock import now
from web.extensions import db
from web.security import limit_logins

bp = Blueprint("auth", __name__)


@bp.route("/")
def index():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    return redirect(url_for("auth.login"))


@bp.get("/favicon.ico")
def favicon():
    # Browsers and tools ask this address whatever the page links to; the one vendored icon answers it.
    return current_app.send_static_file("favicon.svg")


@bp.route("/login", methods=["GET", "POST"])
@limit_logins
def login():
    if current_user.is_authenticated:
        return redirect(home_url(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        user = accounts.authenticate(db.session, form.username.data, form.password.data)
        if user is None:
            flash(_("Wrong username or password."), "error")
            return render_template("auth/login.html", form=form), 401
        start_session(user)
        target = request.args.get("next", "")
        return redirect(target if is_local_path(target) else home_url(user))
    return render_template("auth/login.html", form=form), 400 if request.method == "POST" else 200


def start_session(user) -> None:
    from flask_login import login_user

    session.clear()
    user.session_token = accounts.open_session(db.session, user, now())
    login_user(user)


def end_session() -> None:
    if current_user.is_authenticated and current_user.session_token:
        accounts.revoke_session(db.session, current_user.session_token)
    logout_user()
    session.clear()


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    end_session()
    flash(_("You are logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>", methods=["POST"])
def set_language(code: str):
    from flask import current_app

    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    session["lang"] = code
    if current_user.is_authenticated:
        current_user.locale = code
    back = request.form.get("next", "")
    return redirect(back if is_local_path(back) else "/")


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """One's own password: required first when an admin chose it; the other sessions and API tokens end."""
    from scheduler.errors import DomainError
    from web.refusals import field_texts, refusal_text

    errors = {}
    if request.method == "POST":
        try:
            accounts.change_own_password(db.session, current_user, request.form.get("current_password"),
                                         request.form.get("new_password"), current_user.session_token, now())
        except DomainError as exc:
            db.session.rollback()
            errors = field_texts(exc) or {exc.details.get("field", "new_password"): refusal_text(exc)}
            return render_template("auth/password.html", errors=errors), exc.status
        flash(_("Your password is changed; your other sessions and API tokens are ended."), "success")
        return redirect(home_url(current_user))
    return render_template("auth/password.html", errors=errors)
