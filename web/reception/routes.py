from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from scheduler.errors import Invalid
from scheduler.models import Garage
from scheduler.services import boards, direct_line, drive_in, planning
from web.actions import back, refusals_flashed
from web.api.cases import text_field
from web.auth import check_garage, roles_required
from web.clock import now
from web.extensions import db
from web.live import unchanged

bp = Blueprint("reception", __name__, url_prefix="/garages/<garage_id>")


def parse_day(garage: Garage) -> date:
    raw = request.args.get("day")
    if not raw:
        return garage.today(now())
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"day must look like 2026-11-24, not {raw!r}.")
    today = garage.today(now())
    if abs((day - today).days) > 3660:  # no board is kept further away; also keeps day ± 1 in range
        abort(400, description=f"day must be within ten years of today, not {raw!r}.")
    return day


def load_garage(garage_id: str) -> Garage:
    check_garage(garage_id)
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        abort(404, description=f"No garage {garage_id!r}.")
    return garage


def inbox_state(garage: Garage) -> dict:
    """What the garage must answer now: direct-line requests and announced drive-ins."""
    moment = now()
    requests = direct_line.open_for_garage(db.session, garage, moment)
    answered = direct_line.answered_since(db.session, garage, moment - timedelta(hours=12), moment)
    drive_ins = drive_in.expected(db.session, garage, moment - timedelta(hours=2))
    if unchanged([r.id for r in requests] + [(r.id, r.status_at(moment)) for r in answered] + [d.id for d in drive_ins]):
        return {"fresh": False}  # a poll with nothing new: the suggestions below need not be computed
    return {
        "fresh": True, "garage": garage, "now": moment, "requests": requests, "answered": answered,
        "drive_ins": drive_ins,
        "slots": {r.id: planning.garage_slots(db.session, r.case, garage, moment) for r in requests},
        "can_answer": current_user.role in ("reception", "workshop"),
        "home": _home_url(garage.id),
        "names": {t.id: t.name for t in garage.technicians},
        "garage_names": dict(db.session.execute(select(Garage.id, Garage.name)).all()),
    }


@bp.get("/board")
@roles_required("reception", "admin", "operator", "planner")
def board(garage_id: str):
    garage = load_garage(garage_id)
    day = parse_day(garage)
    inbox = inbox_state(garage)
    body = render_template("reception/board.html", board=boards.garage_day(db.session, garage, day),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           today=garage.today(now()), inbox=inbox)
    return body


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
    """The start and technician from the answer form: a suggested slot, or a time typed for today."""
    typed = request.form.get("time", "").strip()
    if typed:
        try:
            clock = datetime.strptime(typed, "%H:%M").time()
        except ValueError:
            raise Invalid(_("Type the time as HH:MM, e.g. 14:15."), field="time") from None
        return datetime.combine(garage.today(now()), clock, garage.zone), request.form.get("technician", "")
    technician, _sep, start = request.form.get("slot", "").partition("|")
    try:
        return datetime.fromisoformat(start), technician
    except ValueError:
        raise Invalid(_("Pick a suggested slot or type a time."), field="slot") from None


@bp.post("/direct-line/<int:request_id>/answer")
@roles_required("reception", "workshop")
@refusals_flashed(_home_url)
def answer(garage_id: str, request_id: int):
    garage = load_garage(garage_id)
    asked = direct_line.get_request(db.session, current_user, request_id)
    if request.form.get("decision") == "accept":
        start, technician = _chosen_start(garage)
        direct_line.answer(db.session, current_user, asked, True, now(), start=start, technician_id=technician,
                           overbook=request.form.get("overbook") == "yes", reason=text_field(request.form, "reason"))
        flash(_("Accepted: %(when)s. The operator sees it now.",
                when=garage.local(asked.appointment.start_at).strftime("%H:%M")), "success")
    else:
        direct_line.answer(db.session, current_user, asked, False, now(),
                           reason=text_field(request.form, "reason"))
        flash(_("Declined. The operator sees your reason."), "success")
    return redirect(back(_home_url(garage_id)))
