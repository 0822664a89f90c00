from __future__ import annotations

from flask import Blueprint, render_template, request

from scheduler.services import stats
from web.auth import roles_required
from web.extensions import db

bp = Blueprint("planner", __name__, url_prefix="/planner")


@bp.get("/")
@roles_required("planner", "admin")
def overrides():
    group_by = request.args.get("group_by", "kind")
    if group_by not in stats.GROUPS:
        group_by = "kind"
    rows = stats.list_overrides(db.session)
    return render_template("planner/overrides.html", groups=stats.summarize(rows, group_by),
                           group_by=group_by, groupings=stats.GROUPS, recent=rows[:25], total=len(rows))
