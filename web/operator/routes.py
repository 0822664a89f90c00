from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from scheduler.errors import AlreadyBooked, Conflict, DomainError, Invalid, ReasonRequired, SlotTaken
from scheduler.models import DirectLineRequest, Garage, Symptom, Technician
from scheduler.services import (
    boards,
    booking,
    capacity,
    cases,
    direct_line,
    drive_in,
    open_work,
    places,
    planning,
    policies,
    stranded,
    urgency,
)
from scheduler.services.technicians import can_do
from scheduler.typed import clock_time
from web import shown
from web.actions import refusals_flashed
from web.api.cases import text_field, time_field
from web.auth import roles_required
from web.clock import now
from web.customer_fields import symptom_choices
from web.extensions import db
from web.filters import local_datetime, local_when
from web.live import unchanged
from web.operator.forms import CallForm
from web.refusals import refusal_text

bp = Blueprint("operator", __name__, url_prefix="/desk")


def _case_url(case_id: int, **_) -> str:
    return url_for("operator.case", case_id=case_id)


def _call_form() -> tuple[CallForm, dict]:
    form = CallForm(find=lambda text: places.find(db.session, text))
    garages = {g.id: g for g in db.session.scalars(select(Garage).order_by(Garage.city, Garage.name))}
    form.symptom.choices = symptom_choices(db.session.scalars(select(Symptom)), str(get_locale()) == "fr",
                                           _("— pick what the caller reports —"))
    return form, garages


def _places() -> list[str]:
    """What "Caller is near" suggests: the garages, then the area's towns with their postcodes."""
    return [p.name for p in places.garages(db.session)] + [c.label for c in places.communes()]


def queue_state() -> dict:
    """The open work, and whether the page's copy of it is out of date (the minutes left count too)."""
    moment = now()
    items = open_work.queue(db.session, current_user, moment)
    version = [(i.case.id, i.kind, i.garage_id, i.due) for i in items] + [moment.isoformat()[:16]]
    return {"fresh": not unchanged(version, "queue"), "work": items, "now": moment,
            "garages": {g.id: g for g in db.session.scalars(select(Garage))}}


# The most cases a search shows on the desk; beyond, the operator narrows it (a plate, a phone number).
FOUND_SHOWN = 50


def _desk_page(form: CallForm, garages: dict, asked: str = "", found=None, status: int = 200):
    """The desk as a whole, the same whether first drawn or drawn again around a refused call form."""
    moment = now()
    today = moment.astimezone(ZoneInfo(current_app.config["NETWORK_TIMEZONE"])).date()
    days = [today + timedelta(days=i) for i in range(7)]
    return render_template("operator/desk.html", cases=boards.recent_cases(db.session, 15), form=form,
                           garages=sorted(garages.values(), key=lambda g: g.name),
                           load=boards.network_load(db.session, days), days=days, places=_places(),
                           queue=queue_state(), asked=asked, found=found[:FOUND_SHOWN] if found else found,
                           more_found=found is not None and len(found) > FOUND_SHOWN,
                           stranded=stranded.bookings(db.session, moment), now=moment), status


@bp.get("/")
@roles_required("operator")
def desk():
    form, garages = _call_form()
    asked = request.args.get("q", "").strip()[:120]
    # one more than shown is read: a common name matched hundreds, and the page showed 50 as if they were all
    found = cases.search(db.session, current_user, asked, limit=FOUND_SHOWN + 1) if asked else None
    return _desk_page(form, garages, asked, found)


@bp.get("/queue")
@roles_required("operator")
def queue():
    """The open work, polled by the desk: 204 while nothing changed."""
    state = queue_state()
    if not state["fresh"]:
        return "", 204
    return render_template("operator/_queue.html", queue=state)


@bp.get("/vehicle")
@roles_required("operator")
def known_vehicle():
    """Asked as the plate is typed: who owns the car and its latest cases; fills the model if still empty."""
    found = cases.find_vehicle(db.session, current_user, request.args.get("plate", ""))
    if found is None:
        return render_template("operator/_known_vehicle.html", vehicle=None, owner=None, form=CallForm())
    vehicle, latest = found
    # the owner is who usually calls; what the operator typed is never overwritten (web/static/lookups.js)
    return render_template("operator/_known_vehicle.html", vehicle=vehicle, latest=latest, form=CallForm(),
                           owner=vehicle.customer if cases.may_see_owner(current_user, latest) else None,
                           picked=request.args.get("pick") == "1")  # a car chosen from the caller's: it replaces


@bp.get("/customer")
@roles_required("operator")
def known_customer():
    """Asked as the phone is typed (telephony gives it first): who calls from it, and their cars to pick from."""
    try:
        found = cases.customers_by_phone(db.session, current_user, request.args.get("phone", ""))
    except Invalid:
        found = []
    callers = [(c, cases.cars_of(db.session, c)) for c in found]
    # one caller fills the name and address on file (checked with them), none or several empty what an earlier
    # number filled; what was typed is never replaced (web/static/lookups.js decides, as for the plate)
    return render_template("operator/_known_customer.html", callers=callers, form=CallForm(),
                           one=callers[0][0] if len(callers) == 1 else None)


@bp.post("/cases")
@roles_required("operator")
@refusals_flashed(lambda **_: url_for("operator.desk"))
def open_case():
    form, garages = _call_form()
    if not form.validate():
        return _desk_page(form, garages, status=400)
    case = cases.open_case(db.session, current_user, form.as_call(), now())
    return redirect(url_for("operator.case", case_id=case.id))


def _case_view(case_id: int, typed: dict | None = None, typed_errors: dict | None = None,
               typed_around: list | None = None):
    """The case page; `typed` and `typed_errors` give back a refused "another time" form, each refusal under its field."""
    case = cases.get_case(db.session, current_user, case_id)
    moment = now()
    found = planning.case_offers(db.session, case, moment) if case.status in ("open", "booked") else None
    garages = {g.id: g for g in db.session.scalars(select(Garage))}
    nearby = planning.nearest_garages(db.session, case.lat, case.lon, moment)[:8] if case.lat is not None else []
    # a request to a closed garage waits unread while its answer time runs: say so beside its name
    opens = {g.id: at for g, _km in nearby if (at := planning.open_from(g, moment)) > moment}
    # when a customer setting off now is there: what a drive-in's reception is told to expect
    policy = policies.in_force(db.session, moment)
    there = {g.id: planning.open_from(g, planning.arrival(moment, km, policy)) for g, km in nearby}
    technicians = {t.id: t for t in db.session.scalars(select(Technician).where(
        Technician.id.in_([s.technician for s in ([found.rule] if found and found.rule else []) + (found.offers if found else [])])))}
    # the same car booked on another case: most often the same problem, called in twice (booked twice, 30 min apart)
    elsewhere = [a for a in cases.bookings_ahead(db.session, case.vehicle, moment) if a.case_id != case.id]
    current = booking.active_booking(case)
    live = live_state(case)
    return render_template("operator/case.html", case=case, found=found, garages=garages, nearby=nearby, opens=opens,
                           elsewhere=elsewhere,
                           # its booking forms hand the offers shown back to the booking (web/shown.py)
                           sealed=shown.seal(found, case.id, current_user.id, moment) if found else "",
                           there=there, technicians=technicians, live=live, current=current,
                           stranded=current is not None and current.id in live["stranded"],
                           typed=typed or {}, typed_errors=typed_errors or {},
                           typed_around=[(datetime.fromisoformat(o["start"]), o) for o in typed_around or []])


@bp.get("/cases/<int:case_id>")
@roles_required("operator")
def case(case_id: int):
    return _case_view(case_id)


def live_state(case) -> dict:
    from web.timeline import Names

    moment = now()
    # newest first; one that went unanswered is no call to act once the operator has asked again (the case showed
    # "no answer in time: try another garage" in red beside the later answer): the timeline keeps it
    requests = [r for i, r in enumerate(direct_line.for_case(db.session, case))
                if i == 0 or r.status_at(moment) != "expired" or r.withdrawn]
    events = list(reversed(cases.timeline(db.session, case, moment)))
    # a request that expires before its garage opens: nobody will answer it (direct_line.expiry)
    closed = {r.id: at for r in requests if r.status_at(moment) == "open"
              and (at := direct_line.unread_until(r, moment)) is not None}
    drive_ins = drive_in.for_case(db.session, case)
    appointments = [a for a in case.appointments if a.status != "cancelled"]
    # an absence, a closed day or a skill taken away since it was booked: no one can do it (the call centre's to
    # rebook, stranded.bookings)
    no_one = {a.id for a in appointments if a.status == "booked" and not can_do(a.technician, a)}
    state = {"requests": requests, "appointments": appointments, "stranded": no_one,
             "drive_ins": drive_ins, "events": events, "names": Names(db.session, events), "now": moment,
             "closed": closed}
    state["fresh"] = not unchanged([(r.id, r.status_at(moment), r.id in closed) for r in requests] +
                                   [(d.id, d.status) for d in drive_ins] +
                                   [(a.id, a.status, a.id in no_one) for a in appointments] + [len(events)], "case")
    late, too_soon = {}, {}
    for r in requests if state["fresh"] else ():
        if r.status != "accepted" or r.appointment is None:
            continue
        # an acceptance is judged by its date: one that misses the urgency target (as it stood when asked) is no "yes"
        target = direct_line.target_of(db.session, r)
        if not target.met_by(r.appointment.start_at):
            late[r.id] = target
        # a yes before the customer can get there (reception's own board knows; the operator must too)
        if r.answered_at is not None:
            there = planning.can_be_there(case, r.garage, r.answered_at, policies.in_force(db.session, r.answered_at))
            if there is not None and r.appointment.start_at < there:
                too_soon[r.id] = there
    state.update(late=late, late_appointments={r.appointment_id for r in requests if r.id in late}, too_soon=too_soon)
    return state


@bp.get("/cases/<int:case_id>/live")
@roles_required("operator")
def case_live(case_id: int):
    """The part of the case page that changes while the operator waits: polled, 204 when unchanged."""
    case = cases.get_case(db.session, current_user, case_id)
    state = live_state(case)
    if not state["fresh"]:
        return "", 204
    current = booking.active_booking(case)
    body = render_template("operator/_live.html", case=case, live=state, current=current)
    if request.args.get("booked", str(current.id if current else 0)) != str(current.id if current else 0):
        # booked (or moved) since the page was drawn: its Book buttons are stale, so the whole page is drawn again
        return body, 200, {"HX-Refresh": "true"}
    return body


def _typed_start(garage_id: str, form) -> datetime:
    """The day and time the caller asked for, in the garage's own time zone."""
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        raise Invalid(_("Pick a garage."), field="garage")
    try:
        day = date.fromisoformat(form.get("day", ""))
        clock = clock_time(form.get("time", ""))
    except ValueError:
        raise Invalid(_("Give the day and the time, e.g. 2026-11-27 and 14:15."), field="time") from None
    return datetime.combine(day, clock, garage.zone)


def _is_typed(form) -> bool:
    """Whether a person typed the time (else it is an offer the page showed)."""
    return form.get("source") == "typed" if form.get("source") else "start" not in form


def _asked_start(form) -> tuple[datetime, bool]:
    """The start the form asks for, and whether a person typed it."""
    typed = _is_typed(form)
    if typed and form.get("pick"):  # one of the free times a refusal listed under the typed time
        return time_field({"start": form["pick"].partition("|")[2]}, "start"), True
    return (_typed_start(form.get("garage", ""), form) if typed else time_field(form, "start")), typed


def _asked_technician(form) -> str:
    """The technician of a free time picked from a refusal's list, or the form's (empty: anyone free then)."""
    return form["pick"].partition("|")[0] if _is_typed(form) and form.get("pick") else form.get("technician", "")


# A refusal of a typed time that names one of these is said under that field of the form: the start under its day.
TYPED_FIELDS = {"start": "day", "day": "day", "time": "time", "garage": "garage"}


def _typed_refused(case_id: int, form, exc: DomainError):
    """A typed time refused: the case page again, the form as it was sent, the refusal under its field (a busy time
    under the time, with the free times around it to pick; a missing reason under the reason); nothing saved. Any
    other refusal goes on up (flashed by refusals_flashed): the form was emptied and the free times never shown."""
    field = TYPED_FIELDS.get(exc.details.get("field"))
    if field is None and isinstance(exc, SlotTaken):
        field = "time"
    elif field is None and isinstance(exc, ReasonRequired):
        field = "reason"
    if field is None:
        raise exc
    db.session.rollback()
    asked = {k: form.get(k, "") for k in ("garage", "day", "time", "reason")}
    around = exc.details.get("offers") if isinstance(exc, SlotTaken) else None
    return _case_view(case_id, typed=asked, typed_errors={field: refusal_text(exc)}, typed_around=around), exc.status


def _replaces(form) -> int | None:
    raw = form.get("replaces", "").strip()
    if not raw:
        return None
    if not raw.isdecimal() or len(raw) > 12:
        raise Invalid(_("The booking to move is not a booking number."), field="replaces")
    return int(raw)


@bp.get("/cases/<int:case_id>/move")
@roles_required("operator")
@refusals_flashed(_case_url)
def move(case_id: int):
    """Moving a booked case is a decision: this page says what it undoes and asks why; leaving it changes nothing."""
    case = cases.get_case(db.session, current_user, case_id)
    current = booking.active_booking(case)
    if current is None:
        flash(_("The case has no booking to move: book it from the offers."), "error")
        return redirect(_case_url(case_id))
    typed = _is_typed(request.args)
    try:
        start, typed = _asked_start(request.args)
        garage = db.session.get(Garage, request.args.get("garage", ""))
        if garage is None:
            raise Invalid(_("Pick a garage."), field="garage")
        capacity.check_window(start, now(), garage.zone)  # said now, not after the reason is typed
    except DomainError as exc:
        if not typed:
            raise
        return _typed_refused(case_id, request.args, exc)
    asked_technician = _asked_technician(request.args)
    if (current.garage_id, current.start_at) == (garage.id, start) and asked_technician in ("", current.technician_id):
        # back to this page after the move was made: the booking is there already, nothing is left to decide
        flash(_("The booking is already at %(when)s at %(garage)s.", when=local_when(start, garage, now()),
                garage=garage.name), "info")
        return redirect(_case_url(case_id))
    accepted = next((r for r in direct_line.for_case(db.session, case)
                     if r.status == "accepted" and r.appointment_id == current.id), None)
    technician = db.session.get(Technician, asked_technician) if asked_technician else None
    page = render_template("operator/move.html", case=case, current=current, accepted=accepted, garage=garage,
                           start=start, typed=typed, technician=technician, asked=request.args,
                           target=planning.case_target(db.session, case, now()))
    # a decision page: Back after it was made asks the server again, not a kept copy
    return page, {"Cache-Control": "no-store"}


@bp.post("/cases/<int:case_id>/book")
@roles_required("operator")
@refusals_flashed(_case_url)
def book(case_id: int):
    case = cases.get_case(db.session, current_user, case_id)
    form = request.form
    typed, replaces = _is_typed(form), None
    try:
        start, typed = _asked_start(form)
        replaces = _replaces(form)
        appointment, _made = booking.book_for_case(db.session, current_user, case, form.get("garage", ""),
                                                   _asked_technician(form), start, text_field(form, "reason"),
                                                   now(), typed=typed, replaces=replaces,
                                                   shown=shown.unseal(form.get("offers_token"), case, current_user,
                                                                      now()))
    except AlreadyBooked as exc:
        db.session.rollback()
        if replaces is not None:  # a move to where the booking already is: nothing to move, and it says so
            flash(refusal_text(exc), "error")
            return redirect(_case_url(case_id))
        # a page from before the case was booked (a colleague, the garage): moving is asked, never done in one click
        flash(_("The case was booked meanwhile: moving it needs your confirmation."), "error")
        return redirect(url_for("operator.move", case_id=case_id, **{
            k: form[k] for k in ("garage", "technician", "start", "day", "time", "source", "reason") if form.get(k)}))
    except DomainError as exc:
        if not typed:
            raise
        return _typed_refused(case_id, form, exc)
    garage = appointment.garage
    when = local_datetime(appointment.start_at, garage)
    if replaces is not None:
        flash(_("Moved: %(when)s at %(garage)s. The first garage is told, and the customer's message is queued.",
                when=when, garage=garage.name), "success")
    else:
        flash(_("Booked: %(when)s at %(garage)s.", when=when, garage=garage.name), "success")
    return redirect(_case_url(case_id))


@bp.post("/cases/<int:case_id>/urgency")
@roles_required("operator")
@refusals_flashed(_case_url)
def change_urgency(case_id: int):
    case = cases.get_case(db.session, current_user, case_id)
    urgency.change_urgency(db.session, current_user, case, request.form.get("urgency"),
                           text_field(request.form, "reason"), now())
    flash(_("Urgency is now %(urgency)s: offers recomputed.", urgency=case.urgency), "success")
    return redirect(_case_url(case_id))


@bp.post("/cases/<int:case_id>/withdraw")
@roles_required("operator")
@refusals_flashed(_case_url)
def withdraw_case(case_id: int):
    """The caller no longer needs a booking: the case closes and leaves the open work."""
    case = cases.withdraw(db.session, current_user, cases.get_case(db.session, current_user, case_id),
                          text_field(request.form, "reason"), now())
    flash(_("Case %(case)s is closed without a booking.", case=case.id), "success")
    return redirect(url_for("operator.desk"))


@bp.post("/cases/<int:case_id>/direct-line")
@roles_required("operator")
@refusals_flashed(_case_url)
def send_direct_line(case_id: int):
    case = cases.get_case(db.session, current_user, case_id)
    moment = now()
    sent = direct_line.send(db.session, current_user, case, request.form.get("garage", ""),
                            text_field(request.form, "message"), moment)
    opens = direct_line.unread_until(sent, moment)
    if opens is not None:  # nobody there reads it before it expires: the operator should know now
        flash(_("Sent to %(garage)s, but it is closed until %(time)s and the request expires %(expires)s, before "
                "anyone there can answer: announce a drive-in or try a garage that is open.", garage=sent.garage.name,
                time=local_when(opens, sent.garage, moment), expires=local_when(sent.expires_at, sent.garage, moment)),
              "error")
    else:
        flash(_("Sent to %(garage)s. Their answer appears here.", garage=sent.garage.name), "success")
    return redirect(_case_url(case_id))


@bp.post("/cases/<int:case_id>/drive-in")
@roles_required("operator")
@refusals_flashed(_case_url)
def announce_drive_in(case_id: int):
    case = cases.get_case(db.session, current_user, case_id)
    try:
        announced = drive_in.announce(db.session, current_user, case, now(), request.form.get("garage") or None,
                                      note=text_field(request.form, "note"),
                                      confirmed=request.form.get("confirm") == "yes")
    except Conflict as refused:
        if not refused.details.get("confirm_required"):
            raise
        # the garage just said no to this case: sending the customer there anyway is asked, not done
        db.session.rollback()
        declined = db.session.get(DirectLineRequest, refused.details["declined"])
        return render_template("operator/confirm_drive_in.html", case=case, declined=declined,
                               note=request.form.get("note", "")), 409
    flash(_("%(garage)s expects the customer at %(time)s.", garage=announced.garage.name,
            time=local_when(announced.expected_at, announced.garage, now())), "success")
    return redirect(_case_url(case_id))
