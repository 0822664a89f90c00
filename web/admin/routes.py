"""The admin desk: people, garages, technicians, catalogue, and the audit trail of every change.

Views are thin: parse the form, call the scheduler service the API calls too, render. A refusal comes
back as the same page with a message under each bad field; nothing of it was saved.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.errors import DomainError
from scheduler.models import ROLES, URGENCIES, Appointment, Garage, JobType, Technician, User
from scheduler.services import accounts, audit, capacity, catalogue, garages, technicians
from scheduler.typed import as_end, as_moment, as_number
from web.actions import back
from web.api.admin import trail_filters
from web.auth import roles_required
from web.clock import now
from web.extensions import db
from web.filters import absence_reason, day_names, role_label, skill_label, term
from web.i18n import catalog_french, french_kept
from web.refusals import field_texts, refusal_text

bp = Blueprint("admin", __name__, url_prefix="/admin")

TRAIL_PAGE = 100  # entries on a page of the audit trail
TRAIL_FILTERS = ("entity", "entity_id", "actor", "from", "to")


def trail_link_args() -> dict[str, str]:
    """The trail's filters as the address gave them, for its links: only those (a stray key such as `endpoint` or
    `_anchor` handed on to url_for would be read as its own argument)."""
    return {k: request.args[k] for k in TRAIL_FILTERS if request.args.get(k, "").strip()}


def refused(exc: DomainError) -> dict:
    """A service's refusal as {field: message} for the form (rolled back: nothing half-saved)."""
    db.session.rollback()
    return field_texts(exc) or {exc.details.get("field") or "form": refusal_text(exc)}


def _garages() -> list[Garage]:
    return list(db.session.scalars(select(Garage).order_by(Garage.id)))


def _choices() -> dict:
    return {"role_options": [(r, role_label(r)) for r in ROLES], "garage_options": [(g.id, g.name) for g in _garages()]}


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
    errors, status, typed = {}, 200, {}
    if request.method == "POST":
        data = {"name": request.form.get("name", "").strip(), "role": request.form.get("role", ""),
                "garage": request.form.get("garage", "") or None, "active": request.form.get("active") == "yes"}
        if request.form.get("password"):
            data["password"] = request.form["password"]
        try:
            accounts.change_user(db.session, current_user, person, data, now())
        except DomainError as exc:
            errors, status = refused(exc), 409 if exc.code == "last_admin" else 400
            person = accounts.get_user(db.session, current_user, user_id)
            typed = {k: v for k, v in data.items() if k != "password"}  # the form comes back as typed
        else:
            flash(_("%(user)s is saved.", user=person.username), "success")
            return redirect(url_for("admin.user", user_id=user_id))
    return render_template("admin/user.html", person=person, errors=errors, typed=typed, **_choices(),
                           history=audit.entries(db.session, "user", str(person.id), limit=50)), status


# -- the audit trail ---------------------------------------------------------------------------------------------

@bp.get("/audit")
@roles_required("admin")
def audit_trail():
    """The trail, a page at a time, narrowed by what changed, who changed it and when; a filter that names nothing
    is said and dropped, the others kept."""
    try:
        found = trail_filters(said={"from": _("From"), "to": _("To")})
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return redirect(url_for("admin.audit_trail", **{k: v for k, v in trail_link_args().items()
                                                        if k != exc.details.get("field")}))
    shown = audit.entries(db.session, limit=TRAIL_PAGE + 1, **found)
    query = trail_link_args()
    return render_template("admin/audit.html", entries=shown[:TRAIL_PAGE], query=query,
                           older=shown[TRAIL_PAGE - 1].id if len(shown) > TRAIL_PAGE else None,
                           entities=audit.ENTITIES, people=sorted(db.session.scalars(select(User.username))),
                           entity=found["entity"], paged="before" in found)


# -- garages and their technicians ------------------------------------------------------------------------------

def _garage(garage_id: str) -> Garage:
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        abort(404, description=_("No garage %(garage)s.", garage=repr(garage_id)))
    return garage


def _number(raw: str, kind=float):
    """A typed number, or the text itself so that the service names the field."""
    if kind is float:
        number = as_number(raw)
        return float(number) if isinstance(number, int) else number
    try:
        return kind(raw)
    except ValueError:
        return raw


def _garage_form() -> tuple[dict, dict]:
    """The settings form as the API's body, and as typed (to fill the form again after a refusal)."""
    typed = {k: request.form.get(k, "").strip() for k in (
        "id", "name", "address", "city", "lat", "lon", "phone", "lifts", "hours", "closed")}
    data = {k: typed[k] for k in ("name", "address", "city", "phone")}
    data["lifts"] = _number(typed["lifts"], int)
    data["location"] = {"lat": _number(typed["lat"]), "lon": _number(typed["lon"])}
    data["opening_hours"] = garages.parse_hours(typed["hours"])
    data["closed_days"] = garages.parse_closed(typed["closed"])
    return data, typed


def _settings(garage: Garage) -> dict:
    return {"name": garage.name, "address": garage.address, "city": garage.city, "lat": garage.lat,
            "lon": garage.lon, "phone": garage.phone, "lifts": garage.lifts,
            "hours": garages.hours_text(garage, day_names(), _("lunch")),
            "closed": garages.closed_text(garage)}


@bp.route("/garages/new", methods=["GET", "POST"])
@roles_required("admin")
def garage_new():
    errors, typed = {}, {"hours": "\n".join(f"{d} 08:00-18:00 {_('lunch')} 12:00-13:30" for d in day_names()[:5]),
                         "lifts": "4"}
    if request.method == "POST":
        data, typed = _garage_form()
        try:
            made = garages.add(db.session, current_user, {**data, "id": typed["id"]}, now())
        except DomainError as exc:
            errors = refused(exc)
        else:
            flash(_("%(garage)s is added: now add its technicians.", garage=made.name), "success")
            return redirect(url_for("admin.garage", garage_id=made.id))
    return render_template("admin/garage_new.html", errors=errors, settings=typed), 400 if errors else 200


@bp.post("/garages/<garage_id>")
@roles_required("admin")
def garage_change(garage_id: str):
    place = garages.get(db.session, current_user, garage_id)
    data, typed = _garage_form()
    try:
        hit = garages.change(db.session, current_user, place, data, now())
    except DomainError as exc:
        errors = refused(exc)
        return _garage_page(_garage(garage_id), settings_errors=errors, settings=typed, status=400)
    flash(_("%(garage)s is saved.", garage=place.name), "success")
    if hit.appointments:
        flash(ngettext("This hits %(num)s booked appointment: re-plan it below.",
                       "This hits %(num)s booked appointments: re-plan them below.", len(hit.appointments)), "error")
    return redirect(url_for("admin.garage", garage_id=garage_id,
                            affected=",".join(str(a.id) for a in hit.appointments) or None))


def _affected(people: list[Technician], garage: Garage | None = None) -> list:
    """Right after a change, exactly what it hit (the ids its redirect carries); otherwise whatever work of these
    technicians is still left with no one on shift (an absence, a closed day, shorter hours), and on a garage's
    page its lift work beyond its lifts: the warning must not vanish at the next visit."""
    def rows(ids) -> list:
        return list(db.session.scalars(select(Appointment).where(Appointment.id.in_(ids))
                                       .order_by(Appointment.start_at))) if ids else []

    moment = now()
    hit = rows({int(i) for i in request.args.get("affected", "").split(",") if i.isdecimal() and len(i) <= 9})
    if hit:
        return hit
    left = set().union(*(technicians.off_shift(db.session, t, moment) for t in people))
    if garage is not None:
        left |= capacity.beyond_lifts(db.session, garage, moment)
    return rows(left)


def _garage_page(garage: Garage, errors: dict | None = None, form: dict | None = None, status: int = 200,
                 settings_errors: dict | None = None, settings: dict | None = None):
    return render_template("admin/garage.html", garage=garage, errors=errors or {}, form=form or {},
                           settings_errors=settings_errors or {}, settings=settings or _settings(garage),
                           affected=_affected(garage.technicians, garage),
                           default_week="\n".join(f"{d} 08:00-12:00, 13:30-17:30" for d in day_names()[:5]),
                           skills=technicians.all_skills(db.session),
                           history=audit.entries(db.session, "garage", garage.id, limit=30)), status


@bp.get("/garages/<garage_id>")
@roles_required("admin")
def garage(garage_id: str):
    return _garage_page(_garage(garage_id))


@bp.post("/garages/<garage_id>/technicians")
@roles_required("admin")
def technician_add(garage_id: str):
    place = _garage(garage_id)
    form = {"name": request.form.get("name", ""), "skills": request.form.getlist("skills"),
            "week": request.form.get("week", "")}
    try:
        found = technicians.add(db.session, current_user, place, {
            "name": form["name"], "skills": form["skills"], "shifts": technicians.parse_week(form["week"])}, now())
    except DomainError as exc:
        return _garage_page(_garage(garage_id), refused(exc), form, 400)
    flash(_("%(name)s is added to %(garage)s.", name=found.name, garage=place.name), "success")
    return redirect(url_for("admin.technician", technician_id=found.id))


def _technician_page(person, errors: dict | None = None, status: int = 200, week: str | None = None,
                     failed: str | None = None, typed: dict | None = None):
    """`typed`: a refused edit's fields as sent, shown instead of the saved ones (the admin corrects one field,
    not all of them again)."""
    moment = now()
    affected = _affected([person])
    zone = person.garage.zone
    absences = [a for a in sorted(person.absences, key=lambda a: a.first_day) if a.span(zone)[1] > moment]
    return render_template(
        "admin/technician.html", person=person, errors=errors or {}, failed=failed, now=moment, affected=affected,
        absences=absences, skills=technicians.all_skills(db.session), garage_options=_choices()["garage_options"],
        week=technicians.week_text(person.shift_patterns, day_names()) if week is None else week,
        today=person.garage.today(moment).isoformat(), unbookable=technicians.cannot_be_booked(person),
        day_names=day_names(), typed=typed or {"name": person.name, "garage": person.garage_id,
                                               "skills": person.skill_codes, "active": person.active},
        history=audit.entries(db.session, "technician", person.id, limit=30)), status


@bp.route("/technicians/<technician_id>", methods=["GET", "POST"])
@roles_required("admin")
def technician(technician_id: str):
    person = technicians.get(db.session, current_user, technician_id)
    if request.method == "GET":
        return _technician_page(person)
    week = request.form.get("week", "")
    data = {"name": request.form.get("name", ""), "garage": request.form.get("garage", ""),
            "skills": request.form.getlist("skills"), "shifts": technicians.parse_week(week),
            "active": request.form.get("active") == "yes"}
    try:
        hit = technicians.change(db.session, current_user, person, data, now())
    except DomainError as exc:
        errors = refused(exc)
        return _technician_page(technicians.get(db.session, current_user, technician_id), errors, 400, week, "edit",
                                {k: data[k] for k in ("name", "garage", "skills", "active")})
    flash(_("%(name)s is saved.", name=person.name), "success")
    return _after_change(person, hit)


def _after_change(person, hit: technicians.Hit):
    if hit.appointments:
        flash(ngettext("This hits %(num)s booked appointment: re-plan it below.",
                       "This hits %(num)s booked appointments: re-plan them below.", len(hit.appointments)), "error")
    return redirect(url_for("admin.technician", technician_id=person.id,
                            affected=",".join(str(a.id) for a in hit.appointments) or None))


@bp.post("/technicians/<technician_id>/absences")
@roles_required("admin")
def absence_add(technician_id: str):
    person = technicians.get(db.session, current_user, technician_id)
    data = {k: request.form.get(k, "").strip() for k in ("start", "end", "reason")}
    local = person.garage.local(now())  # from the moment of the click, not of the page (left open overnight)
    if request.form.get("sick_today") == "yes":
        data["start"], data["end"] = f"{local:%Y-%m-%dT%H:%M}", local.date().isoformat()
    else:  # "24/11/2026 14h" to "16h" too; no start: from now on
        data["start"] = as_moment(data["start"]) if data["start"] else f"{local:%Y-%m-%dT%H:%M}"
        data["end"] = as_end(data["end"], data["start"])
    try:
        absence, hit = technicians.add_absence(db.session, current_user, person, data, now())
    except DomainError as exc:
        return _technician_page(technicians.get(db.session, current_user, technician_id), refused(exc), 400,
                                failed="absence")
    flash(_("Absence recorded: %(name)s, %(reason)s.", name=person.name, reason=absence_reason(absence.reason)),
          "success")
    return _after_change(person, hit)


@bp.post("/absences/<int:absence_id>/remove")
@roles_required("admin")
def absence_remove(absence_id: int):
    absence = technicians.remove_absence(db.session, current_user, absence_id, now())
    flash(_("Absence removed."), "success")
    return redirect(url_for("admin.technician", technician_id=absence.technician_id))


@bp.post("/garages/<garage_id>/replan")
@roles_required("admin")
def replan(garage_id: str):
    """The garage desk's re-plan preview for the work a change hit; confirmed (or not) on the desk's page."""
    place = _garage(garage_id)
    ids = [int(i) for i in request.form.getlist("appointment") if i.isdecimal()]
    try:
        preview = technicians.replan(db.session, current_user, place, ids, now(),
                                     request.form.get("reason", "")[:1000])
    except DomainError as exc:
        db.session.rollback()
        flash(refusal_text(exc), "error")
        return redirect(back(url_for("admin.garage", garage_id=place.id)))
    # decided on the garage desk's page, which then comes back here (the page the change was made on)
    return redirect(url_for("reception.preview", garage_id=place.id, preview_id=preview.id,
                            next=back(url_for("admin.garage", garage_id=place.id))))


# -- the catalogue -------------------------------------------------------------------------------------------------

def _skill_form() -> dict:
    return {k: request.form.get(k, "").strip() for k in ("code", "label", "label_fr")}


def _job_form() -> dict:
    data = {k: request.form.get(k, "").strip() for k in ("code", "label", "label_fr", "skill")}
    data["duration_minutes"] = _number(request.form.get("duration_minutes", "").strip(), int)
    data["lift"] = request.form.get("lift") == "yes"
    return data


def _symptom_form() -> dict:
    return {k: request.form.get(k, "").strip() for k in ("code", "label", "label_fr", "urgency", "job_type")}


def _catalogue_options() -> dict:
    return {"skills": [(s, skill_label(s)) for s in technicians.all_skills(db.session)],
            "urgencies": [(u, u) for u in URGENCIES],
            "job_types": [(j.code, term(j.label)) for j in catalogue.job_types(db.session)]}


def _catalogue_page(errors: dict | None = None, which: str | None = None, form: dict | None = None, status=200):
    return render_template("admin/catalogue.html", skills=catalogue.skills(db.session),
                           holders=catalogue.holders(db.session),
                           job_types=catalogue.job_types(db.session),
                           symptoms=catalogue.symptoms(db.session), options=_catalogue_options(),
                           errors=errors or {}, which=which, form=form or {},
                           history=sorted((e for entity in ("skill", "job_type", "symptom")
                                           for e in audit.entries(db.session, entity, limit=10)),
                                          key=lambda e: (e.at, e.id), reverse=True)), status


@bp.get("/catalogue")
@roles_required("admin")
def catalogue_page():
    return _catalogue_page()


# kind in the path: (entity, the form's reader)
CATALOGUE = {"skills": ("skill", _skill_form), "job-types": ("job_type", _job_form),
             "symptoms": ("symptom", _symptom_form)}


@bp.post("/catalogue/<any(skills, 'job-types', symptoms):kind>")
@roles_required("admin")
def catalogue_add(kind: str):
    entity, parse = CATALOGUE[kind]
    form = parse()
    try:
        catalogue.add(db.session, current_user, entity, form, now())
    except DomainError as exc:
        return _catalogue_page(refused(exc), entity, form, 400)
    french = str(get_locale() or "en") == "fr" and form.get("label_fr")
    flash(_("Added to the catalogue: %(label)s (%(code)s).", code=form["code"],
            label=form["label_fr"] if french else form.get("label") or form["code"]), "success")
    return redirect(url_for("admin.catalogue_page"))


def _item_label(kind: str, row) -> str:
    """A catalogue entry as the reader names it: a skill or job type as the pages read it, a symptom by its
    label in the reader's language."""
    if kind == "skills":
        return skill_label(row.code)
    if kind == "symptoms":
        return row.label_fr if str(get_locale() or "en") == "fr" else row.label
    return term(row.label)


@bp.route("/catalogue/<kind>/<code>", methods=["GET", "POST"])
@roles_required("admin")
def catalogue_item(kind: str, code: str):
    entity, parse = CATALOGUE.get(kind) or abort(404)
    model = catalogue.KINDS[entity][0]
    row = audit.find(db.session, current_user, model, code, entity.replace("_", " "))
    errors, form = {}, {}
    if request.method == "POST":
        form = parse()
        form.pop("code", None)
        try:
            catalogue.change(db.session, current_user, entity, row, french_kept(row, form), now())
        except DomainError as exc:
            errors = refused(exc)
            row = audit.find(db.session, current_user, model, code, entity)
        else:
            flash(_("Saved: %(label)s (%(code)s).", label=_item_label(kind, row), code=code), "success")
            return redirect(url_for("admin.catalogue_item", kind=kind, code=code))
    return render_template("admin/catalogue_item.html", kind=kind, row=row, errors=errors, form=form,
                           french=row.label_fr or catalog_french(row.label) or "",
                           options=_catalogue_options(),
                           history=audit.entries(db.session, entity, code, limit=30)), 400 if errors else 200
