from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from scheduler.models import Garage, JobType, Technician, User
from web.auth import roles_required
from web.extensions import db

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@roles_required("admin")
def index():
    garages = list(db.session.scalars(select(Garage).order_by(Garage.id).options(
        selectinload(Garage.technicians).selectinload(Technician.skills),
        selectinload(Garage.opening_hours))))
    users = list(db.session.scalars(select(User).order_by(User.role, User.username)))
    job_types = list(db.session.scalars(select(JobType).order_by(JobType.code)))
    return render_template("admin/index.html", garages=garages, users=users, job_types=job_types)
