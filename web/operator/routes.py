from __future__ import annotations

from datetime import timedelta

from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template
from sqlalchemy import select

from scheduler.db import utcnow
from scheduler.models import Garage
from scheduler.services import boards
from web.auth import roles_required
from web.extensions import db

bp = Blueprint("operator", __name__, url_prefix="/desk")


@bp.get("/")
@roles_required("operator")
def desk():
    today = utcnow().astimezone(ZoneInfo(current_app.config["NETWORK_TIMEZONE"])).date()
    days = [today + timedelta(days=i) for i in range(7)]
    load = boards.network_load(db.session, days)
    garages = list(db.session.scalars(select(Garage).order_by(Garage.name)))
    return render_template("operator/desk.html", cases=boards.recent_cases(db.session, 15),
                           garages=garages, load=load, days=days)

