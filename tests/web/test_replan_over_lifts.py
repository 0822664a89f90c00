"""A re-plan whose work cannot all be placed: what stays where it is booked keeps its time."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from scheduler.models import ACTIVE, Appointment, Garage
from tests.conftest import CLOCK_NOW
from web.extensions import db

GARAGE = "ecully"


def _tomorrow_s_work(app) -> list[int]:
    with app.app_context():
        garage = db.session.get(Garage, GARAGE)
        start, end = garage.day_bounds(garage.today(CLOCK_NOW) + timedelta(days=1))
        return list(db.session.scalars(select(Appointment.id).where(
            Appointment.garage_id == GARAGE, Appointment.status == "booked", Appointment.start_at >= start,
            Appointment.start_at < end).order_by(Appointment.id)))


def _double_booked(app) -> list[tuple[int, int]]:
    with app.app_context():
        jobs = list(db.session.scalars(select(Appointment).where(Appointment.garage_id == GARAGE,
                                                                 Appointment.status.in_(ACTIVE))))
        return [(a.id, b.id) for a in jobs for b in jobs if a.id < b.id and a.technician_id == b.technician_id
                and a.start_at < b.end_at and b.start_at < a.end_at and not (a.overbooked or b.overbooked)]


def test_work_a_re_plan_leaves_where_it_is_keeps_its_time_from_the_rest_of_the_plan(app, client, auth):
    """A probe cut a garage's lifts below the lift work booked, then re-planned a few jobs at a time: the re-plan
    left a job it could not place where it is booked, but gave its time to another job, and the confirm failed on
    the database's guard, answered 500 (8 confirms of 15)."""
    auth.login("admin")
    assert client.patch(f"/api/v1/garages/{GARAGE}", json={"lifts": 2}, headers=auth.headers()).status_code == 200
    booked = _tomorrow_s_work(app)
    auth.login(f"reception-{GARAGE}")
    rnd, answers = random.Random(1), []
    for _ in range(6):
        chosen = rnd.sample(booked, rnd.randint(2, 4))
        proposal = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": chosen, "reason": "lifts"})
        assert proposal.status_code == 200, proposal.get_json()
        with app.app_context():
            was = {i: (a.technician_id, a.start_at) for i in proposal.get_json()["unplaced"]
                   if (a := db.session.get(Appointment, i)) is not None}
        done = auth.post(f"/api/v1/squeeze/{proposal.get_json()['id']}/confirm", json={})
        answers.append(done.status_code)
        assert done.status_code in (200, 422), done.get_json()  # 422: nothing in it fits
        with app.app_context():
            moved = {m["appointment"] for m in proposal.get_json()["moves"]}
            for i, place in was.items():  # what it could not place is where it was, if nothing moved it
                a = db.session.get(Appointment, i)
                assert i in moved or (a.technician_id, a.start_at) == place
    assert 200 in answers
    assert _double_booked(app) == []


def test_a_refusal_raised_from_a_write_the_database_refused_is_a_409_not_a_500(app, client, auth, monkeypatch):
    """A confirm that met the database's guard raised its 409, but the error page read the logged-in user from a
    transaction the failed write had broken: 500."""
    from sqlalchemy.exc import IntegrityError

    from scheduler.errors import Conflict
    from scheduler.services import squeeze

    def clashing(session, moves, actor, now, preview):
        job = moves[0]["appointment"]
        other = session.scalar(select(Appointment).where(Appointment.technician_id == job.technician_id,
                                                         Appointment.id != job.id, Appointment.status == "booked"))
        job.start_at, job.end_at = other.start_at, other.end_at  # onto a job of the same technician
        try:
            session.flush()
        except IntegrityError:
            raise Conflict("The plan changed while it was being applied: nothing was changed; preview again.") \
                from None
        raise AssertionError("the database's guard lets a double booking through")

    booked = _tomorrow_s_work(app)
    auth.login(f"reception-{GARAGE}")
    proposal = auth.post(f"/api/v1/garages/{GARAGE}/replan", json={"appointments": booked[:3], "reason": "x"})
    assert proposal.get_json()["moves"], "the re-plan moves something"
    monkeypatch.setattr(squeeze, "_apply_moves", clashing)
    refused = auth.post(f"/api/v1/squeeze/{proposal.get_json()['id']}/confirm", json={})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "conflict", refused.get_json()
