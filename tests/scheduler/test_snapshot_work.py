"""A widening search reads the booked work window by window: it must see exactly what one read would."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from scheduler.models import Garage
from scheduler.services.planning import snapshot
from tests.conftest import CLOCK_NOW
from web.extensions import db


def test_work_read_window_by_window_is_the_work_read_at_once(app):
    with app.app_context():
        garages = list(db.session.scalars(select(Garage.id).order_by(Garage.id)))
        snap = snapshot(db.session, CLOCK_NOW)
        widening = snap.work()
        home, others = garages[0], garages[1:]
        for days in (1, 2, 4, 8, 3):  # the last one narrower: read again, not filtered
            until = {home: snap.horizon_end, **{g: CLOCK_NOW + timedelta(days=days) for g in others}}
            at_once = snap.work().until(until)
            assert at_once, "the seeded network has booked work"
            assert sorted(widening.until(until), key=lambda a: a.id) == sorted(at_once, key=lambda a: a.id)
            assert len({a.id for a in at_once}) == len(at_once)


def test_work_read_for_one_skill_is_that_skill_s_work_and_every_lift_job_when_it_needs_one(app):
    with app.app_context():
        garages = list(db.session.scalars(select(Garage.id).order_by(Garage.id)))
        snap = snapshot(db.session, CLOCK_NOW)
        until = dict.fromkeys(garages, CLOCK_NOW + timedelta(days=5))
        everything = snap.work().until(until)
        skills = snap.network.skills
        for skill in sorted({s for found in skills.values() for s in found}):
            for lift in (False, True):
                wanted = [a for a in everything if skill in skills[a.technician] or (lift and a.lift)]
                got = snap.work(skill=skill, lift=lift).until(until)
                assert sorted(got, key=lambda a: a.id) == sorted(wanted, key=lambda a: a.id), (skill, lift)
