from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, render_template, request

from scheduler.db import utcnow
from scheduler.models import Garage
from scheduler.services import boards
from web.auth import check_garage, roles_required
from web.extensions import db

bp = Blueprint("reception", __name__, url_prefix="/garages/<garage_id>")


def parse_day(garage: Garage) -> date:
    raw = request.args.get("day")
    if not raw:
        return garage.today(utcnow())
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"day must look like 2026-11-24, not {raw!r}.")


def load_garage(garage_id: str) -> Garage:
    check_garage(garage_id)
    garage = db.session.get(Garage, garage_id)
    if garage is None:
        abort(404, description=f"No garage {garage_id!r}.")
    return garage


@bp.get("/board")
@roles_required("reception", "admin", "operator", "planner")
def board(garage_id: str):
    garage = load_garage(garage_id)
    day = parse_day(garage)
    return render_template("reception/board.html", board=boards.garage_day(db.session, garage, day),
                           prev_day=day - timedelta(days=1), next_day=day + timedelta(days=1),
                           today=garage.today(utcnow()))
