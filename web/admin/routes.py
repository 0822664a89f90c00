"""The admin desk: people, garages, technicians, catalogue, and the audit trail of every change.

Views are thin: parse the form, call the scheduler service the API calls too, render. A refusal comes
back as the same page with a message under each bad field; nothing of it was saved.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.errors import DomainError
from scheduler.models import ROLES, Garage, JobType, Technician, User
from scheduler.services import accounts, audit
from web.auth import roles_required
from web.clock import now
from web.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


def refused(exc: DomainError) -> dict:
    """A service's refusal as {field: message} for the form (rolled back: nothing half-saved)."""
    db.session.rollback()
    fields = exc.details.get("fields")
    if fields:
        return dict(fields)
    return {exc.details.get("field") or "form": exc.message}


def _garages() -> list[Garage]:
    return list(db.session.scalars(select(Garage).order_by(Garage.id)))


def _choices() -> dict:
    return {"role_options": [(r, r) for r in ROLES], "garage_options": [(g.id, g.name) for g in _garages()]}


@bp.get("/")
@roles_required("admin")
def index():
    garages = list(db.session.scalars(select(Garage).order_by(Garage.id).options(
        selectinload(Garage.technicians).selectinload(Technician.skills),
        selectinload(Garage.opening_hours))))
    users = list(db.session.scalars(select(User).order_by(User.role, User.username)))
    job_types = list(db.session.scalars(select(JobType).order_by(JobType.code)))
    return render_template("admin/index.html", garages=garages, users=users, job_types=job_types,
                           recent=audit.entries(db.session, limit=8))


# -- users ---------------------------------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"])
@roles_required("admin")
def users():
    errors, form = {}, {}
    if request.method == "POST":
        form = {k: request.form.get(k, "").strip() for k in ("username", "name", "role", "garage")}
        form["password"] = request.form.get("password", "")
        try:
            user = accounts.add_user(db.session, current_user, form, now())
        except DomainError as exc:
            errors = refused(exc)
        else:
            flash(_("%(user)s is added; they choose their own password at their first login.",
                    user=user.username), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/users.html", users=accounts.users(db.session, current_user), errors=errors,
                           form=form, **_choices()), 400 if errors else 200


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user(user_id: int):
    person = accounts.get_user(db.session, current_user, user_id)
    errors = {}
    if request.method == "POST":
        data = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", ""),
                "garage": request.form.get("garage", "") or None, "active": request.form.get("active") == "yes"}
        if request.form.get("password"):
            data["password"] = request.form["password"]
        try:
            accounts.change_user(db.session, current_user, person, data, now())
        except DomainError as exc:
            errors = refused(exc)
            person = accounts.get_user(db.session, current_user, user_id)
        else:
            flash(_("%(user)s is saved.", user=person.username), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user.html", person=person, errors=errors, **_choices(),
                           history=audit.entries(db.session, "user", str(person.id), limit=50)), \
        (409 if errors.get("role", "").startswith("This is the last") else 400) if errors else 200


# -- the audit trail ---------------------------------------------------------------------------------------------

@bp.get("/audit")
@roles_required("admin")
def audit_trail():
    entity = request.args.get("entity") or None
    return render_template("admin/audit.html", entries=audit.entries(db.session, entity, limit=500), entity=entity)
