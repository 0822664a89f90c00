from __future__ import annotations

from flask import jsonify
from flask_babel import get_locale
from sqlalchemy import select

from scheduler.models import Garage, Symptom
from web.api import bp, require
from web.extensions import db


@bp.get("/v1/symptoms")
def symptoms():
    require()
    locale = str(get_locale() or "en")
    rows = db.session.scalars(select(Symptom).order_by(Symptom.urgency, Symptom.code))
    return jsonify([s.to_dict(locale) for s in rows])


@bp.get("/v1/garages")
def garages():
    require()
    return jsonify([g.to_dict() for g in db.session.scalars(select(Garage).order_by(Garage.id))])
