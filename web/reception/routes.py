from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from scheduler.errors import DomainError, Invalid, SlotTaken
from scheduler.models import Garage, PlanPreview, Symptom, Technician
from scheduler.services import (
    boards,
    booking,
    capacity,
    cases,
    direct_line,
    drive_in,
    jobs,
    notices,
    outbox,
    planning,
    policies,
    squeeze,
    technicians,
)
from scheduler.texts import N_
from scheduler.typed import clock_time
from web.actions import back, is_local_path, refusals_flashed
from web.api.cases import text_field
from web.api.garage import calendar_download
from web.auth import check_garage, roles_required
from web.clock import now
from web.customer_fields import symptom_choices
from web.extensions import db
from web.filters import local_when, status_label
from web.i18n import garage_name_by_id
from web.live import unchanged
from web.reception.forms import WalkInForm
from web.refusals import refusal_text
from web.transaction import keep_writes_of_refusal

bp = Blueprint("reception", __name__, url_prefix="/garages/<garage_id>")


def parse_day(garage: Garage) -> date:
    raw = request.args.get("day")
    if not raw:
        return garage.today(now())
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Invalid(N_("The day must look like 2026-11-24, not %(raw)s."), field="day", words={"raw": repr(raw)}) \
            from None
    today = garage.today(now())
    if abs((day - today).days) > 3660:  # no board is kept further away; also keeps day ± 1 in range
        raise Invalid(N_("The day must be within ten years of today, not %(raw)s."), field="day",
                      words={"raw": repr(raw)})
    return day


def load_garage(garage_id: str) -> Garage:
    check_garage(garage_id)
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        abort(404, description=_("No garage %(garage)s.", garage=repr(garage_id)))
    return garage


def inbox_state(garage: Garage) -> dict:
    """What the garage must answer now: direct-line requests, announced drive-ins, re-plans waiting for a decision."""
    moment = now()
    requests = direct_line.open_for_garage(db.session, garage, moment)
    answered = direct_line.answered_since(db.session, garage, moment - timedelta(hours=12), moment)
    drive_ins = drive_in.expected(db.session, garage, moment - drive_in.STILL_EXPECTED)
    told = notices.recent(db.session, garage, moment - timedelta(hours=24))
    replans = squeeze.waiting_replans(db.session, garage, moment)
    if unchanged([r.id for r in requests] + [(r.id, r.status_at(moment)) for r in answered] + [(d.id, d.expected_at < moment) for d in drive_ins]
                 + [("notice", n.id) for n in told]
                 + [("replan", w.preview.id, w.current, [a.id for a in w.replaced]) for w in replans], "inbox"):
        return {"fresh": False}  # a poll with nothing new: the suggestions below need not be computed
    return {
        "fresh": True, "garage": garage, "now": moment, "requests": requests, "answered": answered,
        "drive_ins": drive_ins, "notices": told, "replans": replans,
        "can_decide": current_user.role in ("reception", "admin"),
        "slots": {r.id: _answer_slots(r, garage, moment) for r in requests},
        "targets": {r.id: direct_line.target_of(db.session, r) for r in requests},
        "arrivals": _arrivals(requests, garage, moment),
        "drafts": session.get(DRAFTS, {}),
        "can_answer": current_user.role in ("reception", "workshop"),
        "home": _home_url(garage.id),
        "names": technician_names(),
        "garage_names": garage_name_by_id(),
    }


def _arrivals(requests, garage: Garage, moment: datetime) -> dict[int, int]:
    """Each caller's drive here in minutes, where it is longer than a rounded time typed could absorb
    (drive_in.SLACK): a time typed before they could be here booked the car for a moment its customer could not
    make (the free times offered already start no sooner). The drive, not the time they can be here: the panel is
    redrawn only when a request comes or goes, and a time read from now would go stale while it waits."""
    if not requests:
        return {}
    policy = policies.in_force(db.session, moment)
    there = {r.id: planning.can_be_there(r.case, garage, moment, policy) for r in requests}
    return {i: math.ceil((at - moment).total_seconds() / 60) for i, at in there.items()
            if at is not None and at > moment + drive_in.SLACK}


def _answer_slots(asked, garage: Garage, moment: datetime) -> dict:
    """What the garage can say yes to: today's free times first; else its next one; the rules' own slot last.

    Each slot (technician, start) is offered once: the rules' slot is often the next free one, and two lines of
    the same time read as two choices; it then carries both labels.
    """
    found = planning.garage_slots(db.session, asked.case, garage, moment, count=8)
    today = [s for s in found if garage.local(s.start).date() == garage.today(moment)]
    options = [{"technician": s.technician, "start": s.start, "today": True, "next": False, "rule": False}
               for s in today]
    if found and not today:
        options.append({"technician": found[0].technician, "start": found[0].start, "today": False, "next": True,
                        "rule": False})
    if asked.rule_start and asked.rule_garage_id == garage.id:
        rule = (asked.rule_technician_id, asked.rule_start)
        same = next((o for o in options if (o["technician"], o["start"]) == rule), None)
        if same is None:
            same = {"technician": rule[0], "start": rule[1], "today": False, "next": False}
            options.append(same)
        same["rule"] = True
    return {"options": options, "today": bool(today), "degraded": found.degraded}


# Answers a refusal sent back: the form shows again what the person typed.
DRAFTS = "direct_line_drafts"


def page_path() -> str:
    """The page the timeline sits on, for its row actions to come back to as it was (the board of its day, or the
    job list): also when a poll redrew the timeline, whose own address is /board/live (htmx names the page)."""
    shown = request.headers.get("HX-Current-URL")
    if shown:
        parts = urlsplit(shown)
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return request.full_path.rstrip("?")


def board_state(garage: Garage, day: date, here: str | None = None) -> dict:
    """The day's timeline and what waits at the counter; `fresh` says whether the page's copy is out of date."""
    moment = now()
    board = boards.garage_day(db.session, garage, day, moment)
    counter = cases.at_counter(db.session, garage, moment)
    version = [(a.id, a.version, a.status) for a in board.appointments] + [c.id for c in counter]
    version.append(moment.replace(second=0, microsecond=0).isoformat()[:15])  # the now line moves every 10 min
    return {"fresh": not unchanged(version, "timeline"), "board": board, "now": moment, "counter": counter, "here": here or page_path(),
            "today": garage.today(moment), "squeeze_day": squeeze.squeeze_day(garage, moment), "prev_day": day - timedelta(days=1), "next_day": day + timedelta(days=1)}


def inbox_facts(garage: Garage, moment: datetime) -> dict:
    """What the board's API carries besides the day: drive-ins expected, direct-line requests and re-plans waiting."""
    expected = drive_in.expected(db.session, garage, moment - drive_in.STILL_EXPECTED)
    # the page's "at the counter": customers here whose case is not booked yet (the JSON board lacked them)
    counter = [{"case": c.id, "urgency": c.urgency, "job_type": c.job_type_code, "plate": c.vehicle.plate,
                "customer": c.customer.name, "opened_at": c.opened_at.isoformat()}
               for c in cases.at_counter(db.session, garage, moment)]
    return {"drive_ins": [d.to_dict() for d in expected], "counter": counter,
            "requests": [r.to_dict(moment) for r in direct_line.open_for_garage(db.session, garage, moment)],
            "notices": [n.to_dict() for n in notices.recent(db.session, garage, moment - timedelta(hours=24))],
            "replans": [w.to_dict() for w in squeeze.waiting_replans(db.session, garage, moment)]}


@bp.get("/board")
@roles_required("reception", "admin", "operator", "planner")
def board(garage_id: str):
    garage = load_garage(garage_id)
    day = parse_day(garage)
    return render_template("reception/board.html", live=board_state(garage, day), inbox=inbox_state(garage),
                           form=walk_in_form(), garage=garage)


@bp.get("/board/live")
@roles_required("reception", "admin", "operator", "planner", "workshop")
def board_live(garage_id: str):
    """The timeline, polled by the board: 204 while nothing changed."""
    garage = load_garage(garage_id)
    live = board_state(garage, parse_day(garage))
    if not live["fresh"]:
        return "", 204
    return render_template("reception/_timeline.html", live=live, garage=garage)


@bp.get("/direct-line/inbox")
@roles_required("reception", "workshop", "admin", "operator", "planner")
def inbox(garage_id: str):
    """Polled every few seconds by the board and the job list; 204 while nothing changed."""
    inbox = inbox_state(load_garage(garage_id))
    if not inbox["fresh"]:
        return "", 204
    return render_template("reception/_inbox.html", inbox=inbox)


def _home_url(garage_id: str, **_) -> str:
    """Where an answer sends the user back when the inbox was swapped in by a poll: their own page."""
    endpoint = "workshop.jobs" if current_user.role == "workshop" else "reception.board"
    return url_for(endpoint, garage_id=garage_id)


def _chosen_start(garage: Garage) -> tuple[datetime | None, str]:
    """The start and technician from the answer form: a suggested slot, or a day (today unless another is
    picked: a garage that could take a P2 on Monday at 8:00 could only decline) and a time typed."""
    typed = request.form.get("time", "").strip()
    if typed:
        try:
            clock = clock_time(typed)
        except ValueError:
            raise Invalid(_("Type the time as HH:MM, e.g. 14:15."), field="time") from None
        try:
            day = date.fromisoformat(request.form["day"]) if request.form.get("day") else garage.today(now())
        except ValueError:
            raise Invalid(_("Pick the day in the calendar."), field="day") from None
        return datetime.combine(day, clock, garage.zone), request.form.get("technician", "")
    slot = _offered_slot()
    if slot is None:
        raise Invalid(_("Pick a suggested slot or type a time."), field="slot")
    return slot


def _offered_slot(refused: str | None = None) -> tuple[datetime, str] | None:
    """The slot a suggestion's button sends, "technician|start" (its start with a UTC offset), as (start,
    technician); None when the form sent none. `refused`: what a slot that does not read as one is told."""
    technician, _sep, start = request.form.get("slot", "").partition("|")
    if not start:
        return None
    try:
        moment = datetime.fromisoformat(start)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Invalid(refused or _("Pick a suggested slot or type a time."), field="slot")
    return moment, technician


@bp.post("/direct-line/<int:request_id>/answer")
@roles_required("reception", "workshop")
@refusals_flashed(_home_url)
def answer(garage_id: str, request_id: int):
    garage = load_garage(garage_id)
    asked = direct_line.get_request(db.session, current_user, request_id)
    if request.form.get("decision") == "accept":
        try:
            start, technician = _chosen_start(garage)
            direct_line.answer(db.session, current_user, asked, True, now(), start=start, technician_id=technician,
                               overbook=request.form.get("overbook") == "yes", reason=text_field(request.form, "reason"),
                               late_ok=request.form.get("late_ok") == "yes")
        except DomainError as refused:
            session[DRAFTS] = {str(request_id): {k: request.form.get(k, "") for k in
                                                 ("slot", "day", "time", "technician", "reason", "overbook")},
                               "late": str(request_id) if refused.code == "misses_target" else ""}
            raise
        session.pop(DRAFTS, None)
        flash(_("Accepted: %(when)s. The operator sees it now.",  # with its day when it is not today
                when=local_when(asked.appointment.start_at, garage, now())), "success")
    else:
        direct_line.answer(db.session, current_user, asked, False, now(),
                           reason=text_field(request.form, "reason"))
        flash(_("Declined. The operator sees your reason."), "success")
    return redirect(back(_home_url(garage_id)))


def walk_in_form() -> WalkInForm:
    form = WalkInForm()
    form.symptom.choices = symptom_choices(db.session.scalars(select(Symptom)), str(get_locale()) == "fr",
                                           _("— what the customer reports —"))
    return form


def _who(appointments) -> str:
    """Customers as reception finds them on the board: name, plate and booked time."""
    return ", ".join(f"{a.case.customer.name} ({a.case.vehicle.plate}, {a.garage.local(a.start_at):%H:%M})"
                     for a in appointments)


def _board_url(garage_id: str, **_) -> str:
    return url_for("reception.board", garage_id=garage_id)


def _board_on(garage: Garage, day: date) -> str:
    """The board of that day: today's address for today (or a day gone), else that day's (a later day's absence
    re-planned from its board, a car left after closing fitted into the next open day)."""
    if day <= garage.today(now()):
        return _board_url(garage.id)
    return url_for("reception.board", garage_id=garage.id, day=day.isoformat())


@bp.get("/vehicle")
@roles_required("reception")
def known_vehicle(garage_id: str):
    """Asked as the plate is typed at the counter: a car this garage knows fills its owner and model."""
    garage = load_garage(garage_id)
    found = cases.find_vehicle(db.session, current_user, request.args.get("plate", ""))
    vehicle, latest = found if found else (None, [])
    owner = vehicle.customer if vehicle and cases.may_see_owner(current_user, latest) else None
    moment = now()
    ahead = cases.bookings_ahead(db.session, vehicle, moment) if vehicle is not None else []
    elsewhere = any(a.garage_id != garage_id for a in ahead)
    here = next((a for a in ahead if a.garage_id == garage_id), None)
    waiting = cases.at_counter(db.session, garage, moment, vehicle) if vehicle is not None else []
    return render_template("reception/_known_vehicle.html", vehicle=vehicle, owner=owner, latest=latest,
                           elsewhere=elsewhere, here=here, waiting=waiting[0] if waiting else None, garage=garage,
                           today=garage.today(moment), moment=moment)


@bp.post("/walk-in")
@roles_required("reception")
@refusals_flashed(_board_url)
def walk_in(garage_id: str):
    """A customer at the counter: open the case and ask the optimizer to fit it into today, in one action."""
    garage = load_garage(garage_id)
    form = walk_in_form()
    if not form.validate():
        for field, errors in form.errors.items():
            flash(_("%(label)s: %(text)s", label=getattr(form, field).label.text, text=errors[0]), "error")
        # The board again with what was typed, so nothing is typed twice at the counter.
        board = url_for("reception.board", garage_id=garage.id)  # not this POST's address: row actions come back
        return render_template("reception/board.html", live=board_state(garage, garage.today(now()), board),
                               inbox=inbox_state(garage), form=form, garage=garage), 400
    case = cases.open_case(db.session, current_user, form.as_walk_in(), now())
    preview = squeeze.preview_squeeze(db.session, current_user, case, garage, now())
    return redirect(url_for("reception.preview", garage_id=garage_id, preview_id=preview.id))


@bp.post("/cases/<int:case_id>/withdraw")
@roles_required("reception")
@refusals_flashed(_board_url)
def withdraw_case(garage_id: str, case_id: int):
    """The customer at the counter left: the walk-in closes and leaves the counter list."""
    load_garage(garage_id)
    case = cases.withdraw(db.session, current_user, cases.get_case(db.session, current_user, case_id),
                          text_field(request.form, "reason"), now())
    flash(_("Closed: %(plate)s left without a booking.", plate=case.vehicle.plate), "success")
    return redirect(_board_url(garage_id))


@bp.post("/replan")
@roles_required("reception")
@refusals_flashed(_board_url)
def replan(garage_id: str):
    """The board's booked work left without a technician on shift (an absence came after it), re-placed the same
    day: a preview to confirm, as a squeeze's is."""
    garage = load_garage(garage_id)
    ids = [int(i) for i in request.form.getlist("appointment") if i.isdecimal()]
    preview = technicians.replan(db.session, current_user, garage, ids, now(), text_field(request.form, "reason"))
    return redirect(url_for("reception.preview", garage_id=garage_id, preview_id=preview.id))


@bp.post("/cases/<int:case_id>/squeeze")
@roles_required("reception")
@refusals_flashed(_board_url)
def squeeze_case(garage_id: str, case_id: int):
    garage = load_garage(garage_id)
    case = cases.get_case(db.session, current_user, case_id)
    preview = squeeze.preview_squeeze(db.session, current_user, case, garage, now())
    return redirect(url_for("reception.preview", garage_id=garage_id, preview_id=preview.id))


@bp.get("/squeeze/<int:preview_id>")
@roles_required("reception", "admin")
def preview(garage_id: str, preview_id: int):
    garage = load_garage(garage_id)
    found = squeeze.get_preview(db.session, current_user, preview_id)
    if found.garage_id != garage.id:
        abort(404)
    seen = squeeze.diff(db.session, found)
    moment = now()
    day = squeeze.window_day(found)
    missing = (squeeze.no_fit(db.session, found.case, garage, moment, degraded=bool(found.plan.get("degraded")),
                              day=day) if found.case and not seen.fits else None)
    names = technician_names()  # a technician moved to another garage since still did or does this work
    from scheduler.services import policies

    cause, because = squeeze.cause_of(db.session, found)
    # who is here already and waits for the longer job whatever the re-plan does: named, so someone tells them
    held = jobs.held_behind(db.session, because, moment) if found.status == "open" else []
    # the same car booked on another case (a walk-in registered twice, or booked by the call centre): said where the
    # decision is taken, not only under the plate at registration
    elsewhere = [a for a in cases.bookings_ahead(db.session, found.case.vehicle, moment)
                 if a.case_id != found.case_id] if found.case and found.status == "open" else []
    qualified = garage.qualified(found.case.job_type.skill_code) if found.case else []
    # placing by hand is for that day: who is off then is no choice (picking them could only be refused)
    on_shift = [t for t in qualified if capacity.shifts(t, day)]
    page = render_template("reception/preview.html", garage=garage, seen=seen, preview=found, missing=missing,
                           elsewhere=elsewhere, day=day, today=garage.today(moment), qualified=qualified,
                           on_shift=on_shift,
                           names=names, now=moment, case=found.case, cause=cause, because=because, held=held,
                           placing_reason=session.get(PLACING_REASON, {}).get(str(preview_id), ""),
                           confirm_reason=session.get(CONFIRM_REASON, {}).get(str(preview_id), ""),
                           came_from=_came_from(),
                           max_moves=policies.in_force(db.session, moment).max_moves,
                           garage_names=garage_name_by_id())
    # Back after a confirm must ask again: a kept copy would still offer to confirm what is already decided.
    return page, {"Cache-Control": "no-store"}


@bp.post("/squeeze/<int:preview_id>/confirm")
@roles_required("reception", "admin")
@refusals_flashed(_board_url)
def confirm(garage_id: str, preview_id: int):
    load_garage(garage_id)
    found = squeeze.get_preview(db.session, current_user, preview_id)
    squeeze.check_decider(current_user, found)
    if found.garage_id != garage_id:
        abort(404)  # as the preview's own page: another garage's preview is not under this address
    outcome = squeeze.confirm(db.session, current_user, found, now(), text_field(request.form, "reason"))
    if not outcome.applied:
        keep_writes_of_refusal()
        # the reason typed for the stale one is the fresh one's too (kept in the session, as a placing's)
        session[CONFIRM_REASON] = {str(outcome.preview.id): request.form.get("reason", "")[:1000]}
        flash(_("The plan changed since this preview: nothing was applied. Here is a fresh one."), "error")
        return redirect(url_for("reception.preview", garage_id=garage_id, preview_id=outcome.preview.id,
                                next=back("") or None))
    session.pop(CONFIRM_REASON, None)
    board = _board_url(garage_id)
    if outcome.appointment is not None:
        garage = outcome.appointment.garage
        # with its day when it is not today (after closing, tomorrow's), on the board of that day
        when = local_when(outcome.appointment.start_at, garage, now())
        technician = outcome.appointment.technician.name
        board = _board_on(garage, outcome.appointment.day)
        flash(ngettext("Fitted in: %(when)s with %(technician)s; %(num)s appointment moved.",
                       "Fitted in: %(when)s with %(technician)s; %(num)s appointments moved.",
                       len(outcome.moved), when=when, technician=technician) if outcome.moved else
              _("Fitted in: %(when)s with %(technician)s; nothing else moved.", when=when, technician=technician),
              "success")
    else:
        # where the jobs it re-placed, or left, are
        board = _board_on(outcome.preview.garage, squeeze.window_day(outcome.preview))
        flash(ngettext("Re-planned: %(num)s appointment moved.", "Re-planned: %(num)s appointments moved.",
                       len(outcome.moved)), "success")
        left = outcome.preview.plan.get("unplaced") or []
        if left:
            flash(ngettext("%(num)s job found no place and stays as booked: call its customer (listed on the board).",
                           "%(num)s jobs found no place and stay as booked: call their customers (listed on the board).",
                           len(left)), "error")
    emailed = outcome.told - len(outcome.phoned)
    if emailed:  # queued, not yet sent: the outbox says when each one goes
        flash(ngettext("A message of the new time is on its way to %(num)s customer (Messages to customers).",
                       "A message of the new time is on its way to %(num)s customers (Messages to customers).",
                       emailed), "info")
    if outcome.phoned:  # "told" includes them: the outbox lists them, but the flash is read first
        flash(_("No e-mail address: call %(who)s.",
                who=", ".join(f"{a.case.customer.name} {a.case.customer.phone}" for a in outcome.phoned)), "warning")
    if outcome.told < len(outcome.moved):  # only another technician, same time: nothing to tell those customers
        flash(ngettext("%(num)s of them keeps its time with another technician: its customer is not told.",
                       "%(num)s of them keep their time with another technician: their customers are not told.",
                       len(outcome.moved) - outcome.told), "info")
    return redirect(back(board))


@bp.post("/squeeze/<int:preview_id>/reject")
@roles_required("reception", "admin")
@refusals_flashed(_board_url)
def reject(garage_id: str, preview_id: int):
    load_garage(garage_id)
    found = squeeze.get_preview(db.session, current_user, preview_id)
    squeeze.check_decider(current_user, found)
    if found.garage_id != garage_id:
        abort(404)
    squeeze.reject(db.session, current_user, found, now())
    flash(_("Preview rejected: nothing changed."), "info")
    return redirect(back(_board_on(found.garage, squeeze.window_day(found)) if found.kind == "replan"
                         else _board_url(garage_id)))


def _came_from() -> str:
    """The page a preview was asked from, when not the board (an admin's garage or technician page): where its
    confirm or reject goes back to."""
    asked = request.args.get("next", "")
    return asked if is_local_path(asked) else ""


def technician_names() -> dict[str, str]:
    """Every technician's name by id, whatever their garage or status now: work keeps the name of who had it."""
    return dict(db.session.execute(select(Technician.id, Technician.name)).all())


def technician_name(technician_id: str) -> str:
    found = db.session.get(Technician, technician_id)
    return found.name if found else technician_id


def _placing_again(garage_id: str, case_id: int, **_) -> str:
    """A refused placement by hand goes back to the preview it was typed on, with what was typed, not to the board."""
    preview_id = request.form.get("preview", "")
    if not (preview_id.isascii() and preview_id.isdigit()):
        return url_for("reception.board", garage_id=garage_id)
    typed = {k: request.form.get(k, "")[:1000] for k in ("time", "technician", "overbook")}
    # the reason is a customer's story: kept in the session, not in the address (nor so in logs and history)
    session[PLACING_REASON] = {preview_id: request.form.get("reason", "")[:1000]}
    return url_for("reception.preview", garage_id=garage_id, preview_id=int(preview_id),
                   **{k: v for k, v in typed.items() if v}) + "#hand-h"


PLACING_REASON = "placing_reason"
CONFIRM_REASON = "confirm_reason"


@bp.post("/cases/<int:case_id>/place")
@roles_required("reception")
@refusals_flashed(_placing_again)
def place(garage_id: str, case_id: int):
    """Reception places the job by hand: a time today and a technician, pinned, with a reason."""
    garage = load_garage(garage_id)
    case = cases.get_case(db.session, current_user, case_id)
    start, technician = _typed_time(garage)
    try:
        appointment, _made = booking.book_for_case(
            db.session, current_user, case, garage.id, technician, start, text_field(request.form, "reason"), now(),
            typed=True, overbook=request.form.get("overbook") == "yes",
            departure="walk_in" if case.channel == "walk_in" else "squeeze_in")
    except SlotTaken as exc:
        # the refusal says "free times around it are listed": list them here, the page has no room for them
        db.session.rollback()
        # with their day when it is not today: a full day's nearest free times are on other days
        free = [f"{local_when(datetime.fromisoformat(o['start']), garage, now())} ({technician_name(o['technician'])})"
                for o in exc.details.get("offers", [])[:4]]
        flash(refusal_text(exc) + (" " + _("Free then: %(times)s.", times=", ".join(free)) if free else ""), "error")
        return redirect(back(_placing_again(garage_id, case_id)))
    session.pop(PLACING_REASON, None)
    flash(_("Placed by hand: %(when)s with %(technician)s.", when=local_when(appointment.start_at, garage, now()),
            technician=appointment.technician.name), "success")
    return redirect(_board_on(garage, appointment.day))


def _typed_time(garage: Garage) -> tuple[datetime, str]:
    """The typed time of the preview's day (today; after closing, the next open day) and technician, or the slot a
    no-fit preview proposed here on a later day (`slot`)."""
    slot = _offered_slot()
    if slot is not None:
        return slot
    try:
        clock = clock_time(request.form.get("time", ""))
    except ValueError:
        raise Invalid(_("Type the time as HH:MM, e.g. 14:15."), field="time") from None
    day = squeeze.squeeze_day(garage, now())
    shown = request.form.get("preview", "")
    found = db.session.get(PlanPreview, int(shown)) if shown.isdecimal() and 0 < int(shown) < 2 ** 31 else None
    if found is not None and found.garage_id == garage.id:
        day = squeeze.window_day(found)  # the day the page said, though the clock passed closing time since
    return datetime.combine(day, clock, garage.zone), request.form.get("technician", "")


@bp.get("/appointments/<int:appointment_id>/move")
@roles_required("reception")
@refusals_flashed(_board_url)
def move_page(garage_id: str, appointment_id: int):
    """Another time at this garage for a booked customer (they call, a technician is off): its next free times."""
    garage = load_garage(garage_id)
    appointment = jobs.get_appointment(db.session, current_user, appointment_id)
    holding = booking.active_booking(appointment.case)
    if appointment.status == "cancelled" and holding is not None:  # moved already (back after a move): say where
        flash(_("%(plate)s was moved: it is booked %(when)s.", plate=appointment.case.vehicle.plate,
                when=local_when(holding.start_at, holding.garage, now())), "info")
        return redirect(url_for("reception.board", garage_id=garage_id, day=holding.day.isoformat()))
    if appointment.status != "booked":
        flash(_("Only a booking not yet checked in can move: %(plate)s is %(status)s.",
                plate=appointment.case.vehicle.plate, status=status_label(appointment.status)), "error")
        return redirect(_board_url(garage_id))
    # the customer may ask for a day: its first free times (the nearest to its midnight), else the earliest
    wanted, around = request.args.get("day", ""), None
    if wanted:
        try:
            day = date.fromisoformat(wanted)
            if date(1970, 1, 1) < day < date(9999, 1, 1):
                around = datetime.combine(day, time(0), garage.zone)
        except ValueError:
            pass
        if around is None:
            flash(_("Pick a day, e.g. %(day)s.", day=garage.today(now()).isoformat()), "error")
    slots = [s for s in planning.garage_slots(db.session, appointment.case, garage, now(), count=12,
                                              around=around if around and around > now() else None)
             if s.start != appointment.start_at]
    return render_template("reception/move.html", garage=garage, appointment=appointment, slots=slots,
                           wanted=around.date().isoformat() if around else "",
                           names=technician_names(), moment=now(), told=outbox.how_told(appointment.case.customer),
                           target=planning.case_target(db.session, appointment.case, now()))


@bp.post("/appointments/<int:appointment_id>/move")
@roles_required("reception")
@refusals_flashed(lambda garage_id, appointment_id, **_: url_for(
    "reception.move_page", garage_id=garage_id, appointment_id=appointment_id))
def move(garage_id: str, appointment_id: int):
    garage = load_garage(garage_id)
    appointment = jobs.get_appointment(db.session, current_user, appointment_id)
    refused = _("Pick one of the free times.")
    slot = _offered_slot(refused)
    if slot is None:
        raise Invalid(refused, field="slot")
    moment, technician = slot
    moved, _made = booking.book_for_case(db.session, current_user, appointment.case, garage.id, technician, moment,
                                         text_field(request.form, "reason"), now(), replaces=appointment.id,
                                         repeat=False)
    flash(_("Moved: %(plate)s is now booked %(when)s with %(technician)s.", plate=moved.case.vehicle.plate,
            when=local_when(moved.start_at, garage, now()), technician=moved.technician.name), "success")
    customer = moved.case.customer
    if outbox.how_told(customer) == "phone":  # the message waits in the outbox for someone to call
        flash(_("No e-mail address: call %(who)s.", who=f"{customer.name} {customer.phone}"), "warning")
    return redirect(url_for("reception.board", garage_id=garage_id, day=moved.day.isoformat()))


@bp.post("/appointments/<int:appointment_id>/<action>")
@roles_required("reception", "workshop")
@refusals_flashed(lambda garage_id, **_: back(_home_url(garage_id)))
def act(garage_id: str, appointment_id: int, action: str):
    """One action from the board or the job list: check in, no-show, cancel, start, finish, more time, hand over."""
    load_garage(garage_id)
    appointment = jobs.get_appointment(db.session, current_user, appointment_id)
    if action == "more-time":
        try:
            minutes = int(request.form.get("minutes", ""))
        except ValueError:
            raise Invalid(_("Pick how much more time the job needs."), field="minutes") from None
        booked_end, asked = appointment.end_at, minutes
        extended, preview_made, held = jobs.more_time(db.session, current_user, appointment, minutes, now())
        # what the job really gained: started late, it ends its length after its start, plus the minutes asked
        # (told "60 more minutes" while reception's re-plan said 1 h 20 later); said as such, not as a sum that
        # reads like a typo ("38 more minutes" for +30)
        minutes = int((extended.end_at - booked_end).total_seconds() // 60)
        gained = _("%(minutes)s more minutes", minutes=minutes) if minutes == asked else _(
            "%(asked)s more minutes, after its late start: it ends %(minutes)s minutes after its booked end, at "
            "%(end)s", asked=asked, minutes=minutes, end=f"{extended.garage.local(extended.end_at):%H:%M}")
        shift_end = jobs.past_shift(extended)
        if shift_end is not None:
            flash(_("The job now ends at %(end)s, after %(name)s's shift (until %(shift_end)s): overtime to agree "
                    "on.", end=f"{extended.garage.local(extended.end_at):%H:%M}", name=extended.technician.name,
                    shift_end=f"{extended.garage.local(shift_end):%H:%M}"), "warning")
        # nobody can move them: say who now waits, so someone tells them; here (checked in, begun) or due already
        # (their time passed, not arrived: "Already here" said of them was not true)
        here = [a for a in held if a.status != "booked"]
        due = [a for a in held if a.status == "booked"]
        end = f"{extended.garage.local(extended.end_at):%H:%M}"
        if here:
            flash(ngettext("Already here, so nothing moves them: %(who)s now waits until %(end)s.",
                           "Already here, so nothing moves them: %(who)s now wait until %(end)s.", len(here),
                           who=_who(here), end=end), "warning")
        if due:
            flash(ngettext("Due already, so no re-plan moves them: %(who)s, once arrived, waits until %(end)s.",
                           "Due already, so no re-plan moves them: %(who)s, once arrived, wait until %(end)s.",
                           len(due), who=_who(due), end=end), "warning")
        if preview_made is not None and current_user.role == "reception":
            flash(_("The job now runs into later work: here is a re-plan of it to confirm or reject."), "info")
            return redirect(url_for("reception.preview", garage_id=garage_id, preview_id=preview_made.id))
        if preview_made is not None:  # deciding the re-plan is reception's: the workshop stays on its job list
            flash(_("%(gained)s. The job now runs into later work: reception has a re-plan of it to confirm; until "
                    "then the later jobs wait.", gained=gained), "info")
            return redirect(back(_home_url(garage_id)))
        if not held:
            flash(_("%(gained)s. Nothing else moves.", gained=gained), "success")
    elif action == "hand-over":
        jobs.hand_over(db.session, current_user, appointment, request.form.get("technician"), now())
        flash(_("%(plate)s is now %(technician)s's job.", plate=appointment.case.vehicle.plate,
                technician=appointment.technician.name), "success")
    else:
        jobs.act(db.session, current_user, appointment, action, now(), note=text_field(request.form, "note", 4000),
                 reason=text_field(request.form, "reason"))
        flash(_("Done: %(plate)s is %(status)s.", plate=appointment.case.vehicle.plate,
                status=status_label(appointment.status)), "success")
        if action == "start" and (others := jobs.running_beside(db.session, appointment)):
            flash(_("%(technician)s also has %(plates)s under way.", technician=appointment.technician.name,
                    plates=", ".join(a.case.vehicle.plate for a in others)), "warning")
    return redirect(back(_home_url(garage_id)))


@bp.post("/drive-ins/<int:drive_in_id>/arrived")
@roles_required("reception", "workshop")
@refusals_flashed(_board_url)
def arrived(garage_id: str, drive_in_id: int):
    load_garage(garage_id)
    came = jobs.arrived(db.session, current_user, drive_in_id, now())
    flash(_("%(plate)s is at the counter: fit it in.", plate=came.case.vehicle.plate), "success")
    return redirect(_board_url(garage_id) + "#counter")


@bp.get("/outbox")
@roles_required("reception", "admin")
def outbox_page(garage_id: str):
    from scheduler.services import outbox

    garage = load_garage(garage_id)
    status = request.args.get("status") or None
    messages = [m for m in outbox.visible(db.session, current_user, status) if m.garage_id == garage.id]
    return render_template("reception/outbox.html", garage=garage, messages=messages, status=status)


def _outbox_url(garage_id: str, **_) -> str:
    return url_for("reception.outbox_page", garage_id=garage_id)


def _message_here(garage_id: str, message_id: int):
    """The garage and a message of its outbox, for a user who may read it."""
    from scheduler.services import outbox

    garage = load_garage(garage_id)
    message = outbox.readable(db.session, current_user, message_id)
    if message.garage_id != garage_id:
        abort(404)  # another garage's message is not at this garage's address (its own staff got a 403 above)
    return garage, message


@bp.get("/outbox/<int:message_id>")
@roles_required("reception", "workshop", "admin")
def message_page(garage_id: str, message_id: int):
    """What the customer was told, word for word, in their language: reception answers their call with it."""
    garage, message = _message_here(garage_id, message_id)
    return render_template("reception/message.html", garage=garage, message=message)


@bp.get("/outbox/<int:message_id>/calendar.ics")
@roles_required("reception", "workshop", "admin")
def message_calendar(garage_id: str, message_id: int):
    """The calendar file as it was attached, not as the appointment is now."""
    return calendar_download(_message_here(garage_id, message_id)[1])


@bp.post("/outbox/<int:message_id>/phoned")
@roles_required("reception", "admin")
@refusals_flashed(_outbox_url)
def told_by_phone(garage_id: str, message_id: int):
    from scheduler.services import outbox

    _message_here(garage_id, message_id)
    message = outbox.told_by_phone(db.session, current_user, message_id, now())
    flash(_("%(name)s is marked as told by phone.", name=message.case.customer.name), "success")
    return redirect(back(_outbox_url(garage_id)))
