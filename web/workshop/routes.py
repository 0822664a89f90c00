from __future__ import annotations

from flask import Blueprint, render_template

from web.auth import roles_required
from web.reception.routes import board_state, inbox_state, load_garage, parse_day

bp = Blueprint("workshop", __name__, url_prefix="/garages/<garage_id>")


@bp.get("/jobs")
@roles_required("workshop", "reception", "admin")
def jobs(garage_id: str):
    """The workshop's day: each technician's jobs on the timeline, start and finish them, ask for more time."""
    garage = load_garage(garage_id)
    return render_template("workshop/jobs.html", live=board_state(garage, parse_day(garage)),
                           inbox=inbox_state(garage), garage=garage)
