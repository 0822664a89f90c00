from __future__ import annotations

from flask import Blueprint, render_template

from scheduler.services import boards
from web.auth import roles_required
from web.clock import now
from web.extensions import db
from web.reception.routes import inbox_state, load_garage, parse_day

bp = Blueprint("workshop", __name__, url_prefix="/garages/<garage_id>")


@bp.get("/jobs")
@roles_required("workshop", "reception", "admin")
def jobs(garage_id: str):
    garage = load_garage(garage_id)
    day = parse_day(garage)
    body = render_template("workshop/jobs.html", board=boards.garage_day(db.session, garage, day),
                           now=now(), inbox=inbox_state(garage))
    return body
