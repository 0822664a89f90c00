"""The demo network: deterministic by seed, idempotent, and shaped like a real network."""

from __future__ import annotations

import hashlib
import random
from datetime import timedelta

import pytest
from sqlalchemy import create_engine, func, inspect, select
from sqlalchemy.orm import Session

from scheduler.db import Base
from scheduler.models import (
    KINDS,
    Appointment,
    DirectLineRequest,
    Feedback,
    Garage,
    Override,
    Policy,
    Symptom,
    Technician,
    User,
)
from scheduler.services import capacity
from seed import demo
from tests.conftest import NOW, SMALL_SEED

# Enough to tell two networks apart: determinism does not need weeks of demand.
TINY_SEED = {"days_ahead": 0, "history_days": 6, "dense_history_days": 0}


def _seeded(path, seed=7, size=SMALL_SEED) -> Session:
    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    session = Session(engine)
    demo.seed(session, now=NOW, **{**size, "seed": seed})
    session.commit()
    return session


def _fingerprint(session: Session) -> str:
    """Every row of every table, but password hashes (salted, so never equal twice) and the network's stamp
    (a random token saying "changed", whose value means nothing)."""
    h = hashlib.sha256()
    for table in Base.metadata.sorted_tables:
        if table.name == "network_stamp":
            continue
        columns = [c for c in table.columns if c.name != "password_hash"]
        for row in session.execute(select(*columns).order_by(*table.primary_key.columns)):
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_the_same_seed_gives_the_same_network_and_another_seed_another(tmp_path):
    a, b, c = (_seeded(tmp_path / "a.sqlite", size=TINY_SEED), _seeded(tmp_path / "b.sqlite", size=TINY_SEED),
               _seeded(tmp_path / "c.sqlite", seed=8, size=TINY_SEED))
    assert _fingerprint(a) == _fingerprint(b)
    assert _fingerprint(a) != _fingerprint(c)


def test_seeding_twice_changes_nothing(tmp_path):
    session = _seeded(tmp_path / "a.sqlite", size=TINY_SEED)
    before = _fingerprint(session)
    assert demo.seed(session, now=NOW + timedelta(days=3), **TINY_SEED) is False
    session.commit()
    assert _fingerprint(session) == before


@pytest.fixture(scope="module")
def network(sqlite_template):
    """The small demo network every web test starts from (seeded once per run)."""
    return Session(create_engine(f"sqlite:///{sqlite_template}"))


def test_the_network_is_the_size_of_a_real_one(network):
    count = lambda model: network.scalar(select(func.count()).select_from(model))  # noqa: E731
    assert count(Garage) >= 12
    assert count(Technician) >= 80
    roles = set(network.scalars(select(User.role)))
    assert roles == {"operator", "reception", "workshop", "planner", "admin"}
    garages_with_staff = network.scalars(select(User.garage_id).where(User.role == "reception")).all()
    assert len(set(garages_with_staff)) >= 2


def test_catalogue_has_the_story_symptoms(network):
    symptoms = {s.code: s for s in network.scalars(select(Symptom))}
    assert symptoms["engine_fault_stop"].urgency == "P1"
    assert "nearest garage" in symptoms["engine_fault_stop"].label
    assert symptoms["brake_noise"].urgency == "P2"
    assert symptoms["annual_service"].urgency == "P3"


def test_technicians_have_lunch_breaks_and_some_absences(network):
    techs = list(network.scalars(select(Technician)))
    weekday = next(d for d in (NOW.date() + timedelta(days=i) for i in range(7)) if d.weekday() < 5)
    spans = [capacity.shifts(t, weekday) for t in techs if not any(a.first_day <= weekday <= a.last_day for a in t.absences)]
    assert all(len(s) == 2 and s[0][1] < s[1][0] for s in spans)  # morning, lunch, afternoon
    assert any(t.absences for t in techs)


def test_history_has_every_override_kind_with_rule_offer_and_outcome(network):
    overrides = list(network.scalars(select(Override)))
    assert {o.kind for o in overrides} >= set(KINDS) - {"urgency_lower"} or {o.kind for o in overrides} == set(KINDS)
    assert all(o.rule_start is not None for o in overrides)
    # what people achieved names its technician, as API.md's override.result does (every one was null)
    achieved = [o for o in overrides if o.result_start is not None]
    assert achieved and all(o.result_technician_id is not None for o in achieved)
    verdicts = {o.verdict for o in overrides}
    assert {"beat", "lost"} <= verdicts
    assert network.scalar(select(func.count(DirectLineRequest.id))) > 0
    # an accepted request leads to the booking it made, as a live acceptance does
    accepted = list(network.scalars(select(DirectLineRequest).where(DirectLineRequest.status == "accepted")))
    assert accepted and all(r.appointment is not None and r.appointment.case_id == r.case_id
                            and r.appointment.channel == "direct_line" and r.appointment.garage_id == r.garage_id
                            for r in accepted)
    assert network.scalar(select(func.count(Feedback.id))) > 0
    # each reason's figure means what the optimizer means by it: the notice, how many garages, the drive
    policy = network.scalar(select(Policy).where(Policy.active))
    reasons = [(o, r) for o in overrides for r in o.reasons]
    assert {r["minutes"] for _, r in reasons if r["code"] == "rule_garages"} == {policy.rule_garages}
    assert all(r["minutes"] == policy.notice(o.urgency) for o, r in reasons if r["code"] == "min_notice")


def test_every_case_booked_under_way_or_done_has_its_booking_and_one_without_is_withdrawn(network):
    """45 demo cases read "booked" or "done" with no booking behind them (no room was found for them, or a car
    came back worse): the planner's replay counted one as placed by people."""
    from sqlalchemy import exists

    from scheduler.models import Case, CaseEvent

    unbooked = exists().where(Appointment.case_id == Case.id)
    statuses = dict(network.execute(select(Case.status, func.count()).where(~unbooked).group_by(Case.status)).all())
    assert set(statuses) <= {"open", "cancelled"}, statuses
    withdrawn = network.scalar(select(func.count(Case.id)).where(
        ~unbooked, Case.status == "cancelled", exists().where(CaseEvent.case_id == Case.id, CaseEvent.kind == "withdrawn")))
    assert withdrawn == statuses.get("cancelled", 0) > 0, "each is closed as the desk closes one, with its reason"


def test_a_direct_line_request_that_went_unanswered_carries_no_answer(network):
    """Seeded requests read "expired" with a garage's answer given before they expired: unanswered and answered at
    once, and the app reads an expired request with an answer time as one withdrawn."""
    requests = network.scalars(select(DirectLineRequest).where(DirectLineRequest.status.in_(("expired", "declined"))))
    by_status: dict[str, list] = {}
    for r in requests:
        by_status.setdefault(r.status, []).append(r)
    assert by_status, "the history has requests that came to nothing"
    assert all(r.answered_at is None and r.answer is None and not r.withdrawn for r in by_status.get("expired", []))
    assert all(r.answered_at is not None and r.answer for r in by_status.get("declined", []))


def test_the_calls_for_work_booked_ahead_are_spread_over_the_days_before_not_all_this_morning(network):
    """Every call for work more than a week ahead was dated in the ten hours before the seed's `now`: 6,800 routine
    calls on the demo's last morning, which a planner's replay of that day played as one morning's demand."""
    from scheduler.models import Case

    ahead = network.execute(select(Case.opened_at, Appointment.start_at).join(Appointment, Appointment.case_id == Case.id)
                            .where(Appointment.start_at > NOW)).all()
    assert ahead and max(opened for opened, _start in ahead) <= NOW, "no call after the seed's now"
    this_morning = sum(1 for opened, _start in ahead if opened > NOW - timedelta(hours=10))
    assert this_morning < len(ahead) / 4, (this_morning, len(ahead))
    assert len({opened.date() for opened, _start in ahead}) >= 7, "calls on many days"
    assert all(start - opened <= timedelta(days=28) for opened, start in ahead), "none longer ahead than the horizon"
    # weeks ahead (the full demo network books four): called while the call centre answers, not at 3 in the morning
    builder = demo._Builder.__new__(demo._Builder)
    builder.now, builder.calls = NOW, random.Random(1)
    starts = [NOW + timedelta(days=8, minutes=90 * i) for i in range(300)]  # 8 to 27 days ahead
    calls = [(start, builder._called_ahead(start)) for start in starts]
    assert all(NOW - timedelta(days=14) <= called < NOW and start - called <= timedelta(days=28)
               for start, called in calls)
    local = [called.astimezone(demo.ZONE) for _start, called in calls]
    assert all(8 <= c.hour < 19 and c.weekday() < 6 for c in local), [c for c in local if not 8 <= c.hour < 19][:3]
    assert len({c.date() for c in local}) >= 10


def test_the_days_of_dense_demand_have_their_overrides_and_urgent_calls_too(network):
    """The last two weeks of the demo held routine calls only: no override, no P1, and a planner's replay of last week
    had nothing urgent to play."""
    from scheduler.models import Case

    recent = NOW - timedelta(days=SMALL_SEED["dense_history_days"])
    overrides = list(network.scalars(select(Override).where(Override.created_at >= recent)))
    assert overrides and all(o.created_at < NOW for o in overrides)
    assert network.scalar(select(func.count(Case.id)).where(Case.opened_at >= recent, Case.opened_at < NOW,
                                                            Case.urgency == "P1")) > 0


def test_no_work_began_or_ended_after_now(network):
    """A probe: seeded at 08:00, jobs had begun at 08:05 and ended at 08:15; the board drew them in the future."""
    late = network.scalars(select(Appointment).where(
        (Appointment.started_at > NOW) | (Appointment.finished_at > NOW))).all()
    assert late == [], [(a.id, a.started_at, a.finished_at) for a in late]


def test_saturated_garages_are_fuller_than_free_ones(network):
    def booked_minutes(garage_id):
        rows = network.execute(select(Appointment.start_at, Appointment.end_at).where(
            Appointment.garage_id == garage_id, Appointment.start_at >= NOW,
            Appointment.start_at < NOW + timedelta(days=5), Appointment.status == "booked"))
        return sum((e - s).total_seconds() for s, e in rows) / 60

    per_tech = lambda g: booked_minutes(g) / network.scalar(  # noqa: E731
        select(func.count(Technician.id)).where(Technician.garage_id == g))
    assert per_tech("lyon-07") > 1.3 * per_tech("givors")


def test_the_seed_command_reports_progress_and_the_logins(tmp_path):
    from web import create_app

    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 's.sqlite'}"})
    result = app.test_cli_runner().invoke(args=["seed", "--seed", "3", "--days-ahead", "0", "--history-days", "1"])
    assert result.exit_code == 0, result.output
    assert "Demo network seeded." in result.output
    assert "reception-lyon-07" in result.output and "frontline-demo" in result.output
    again = app.test_cli_runner().invoke(args=["seed"])
    assert "nothing changed" in again.output
    with app.app_context():
        from web.extensions import db

        assert "alembic_version" in inspect(db.engine).get_table_names()
