"""The story on the demo network: the rules offer a P1 case far out; the network has room today."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduler.models import Case, ClosedDay, Customer, Garage, OpeningHours, Symptom, Vehicle
from scheduler.services.planning import case_offers, open_from, target_for
from tests.conftest import NOW
from web.extensions import db


def test_engine_fault_near_a_saturated_garage(app):
    with app.app_context():
        lyon7 = db.session.get(Garage, "lyon-07")
        symptom = db.session.get(Symptom, "engine_fault_stop")
        customer = Customer(name="Driver back from holiday", phone="+33 6 00 00 00 00")
        case = Case(urgency=symptom.urgency, job_type_code=symptom.job_type_code, symptom=symptom,
                    customer=customer, vehicle=Vehicle(plate="ZZ-999-ZZ", model="Peugeot 308", customer=customer),
                    lat=lyon7.lat + 0.002, lon=lyon7.lon + 0.002)
        db.session.add(case)
        db.session.flush()
        # a working morning, so that today still has shifts ahead
        now = NOW
        while now.weekday() >= 5:
            now += timedelta(days=1)
        now = now.replace(hour=7, minute=0)
        result = case_offers(db.session, case, now)
        assert result.rule is not None and result.rule.garage == "lyon-07"
        assert result.rule.start - now > timedelta(days=5), "the home garage is saturated: the rules offer it days out"
        assert {r.code for r in result.rule.reasons} & {"min_notice", "rule_garages", "no_technician"}, \
            "the rule offer says which rule made it late"
        assert result.offers[0].start - now < timedelta(hours=12), "somewhere within reach has room today"
        assert len(result.offers) == 5
        assert not result.target.met_by(result.rule.start)
        db.session.rollback()


PARIS = ZoneInfo("Europe/Paris")


def garage_open(*weekdays: int, closes: time = time(18, 30), closed: tuple[str, ...] = (),
                lunch: tuple[time, time] | tuple[None, None] = (None, None)) -> Garage:
    return Garage(id="g", name="G", timezone="Europe/Paris",
                  opening_hours=[OpeningHours(weekday=d, opens=time(7, 45), closes=closes, lunch_starts=lunch[0],
                                              lunch_ends=lunch[1]) for d in weekdays],
                  closed_days=[ClosedDay(day=datetime.fromisoformat(d).date()) for d in closed])


@pytest.mark.parametrize("called, urgency, due_by, weekdays", [
    ("2026-11-24 10:00", "P1", "2026-11-25 00:00", range(5)),  # Tuesday morning: today
    ("2026-11-24 18:45", "P1", "2026-11-26 00:00", range(5)),  # after closing: tomorrow, not already late
    ("2026-11-27 19:00", "P1", "2026-12-01 00:00", range(5)),  # Friday evening: Monday
    ("2026-11-27 19:00", "P1", "2026-11-29 00:00", range(6)),  # ... or Saturday where the garage opens then
    ("2026-11-28 09:00", "P1", "2026-12-01 00:00", range(5)),  # Saturday, closed: Monday
    ("2026-11-26 10:00", "P2", "2026-12-01 00:00", range(5)),  # Thursday + 2 working days: Monday
])
def test_the_target_counts_the_nearest_garages_working_days(called, urgency, due_by, weekdays):
    now = datetime.fromisoformat(called).replace(tzinfo=PARIS)
    target = target_for(urgency, now, garage_open(*weekdays))
    assert target.latest_start == datetime.fromisoformat(due_by).replace(tzinfo=PARIS)
    assert target.due_day == target.latest_start.date() - timedelta(days=1)
    assert target.met_by(target.latest_start - timedelta(minutes=15))
    assert not target.met_by(target.latest_start)


@pytest.mark.parametrize("called, urgency, due_by", [
    # Christmas Eve evening, Christmas Day a closed Friday: the P1 is due Monday, not on a day nobody works
    ("2026-12-24 19:00", "P1", "2026-12-29 00:00"),
    ("2026-12-24 10:00", "P1", "2026-12-25 00:00"),  # Christmas Eve is open: today
    ("2026-12-24 10:00", "P2", "2026-12-30 00:00"),  # + 2 working days: Monday 28th and Tuesday 29th
    ("2026-12-24 12:30", "P1", "2026-12-25 00:00"),  # at lunch the day is still today's
])
def test_the_targets_working_days_skip_the_garages_closed_days(called, urgency, due_by):
    now = datetime.fromisoformat(called).replace(tzinfo=PARIS)
    garage = garage_open(*range(5), closed=("2026-12-25",), lunch=(time(12), time(14)))
    target = target_for(urgency, now, garage)
    assert target.latest_start == datetime.fromisoformat(due_by).replace(tzinfo=PARIS)
    assert target.due_day == target.latest_start.date() - timedelta(days=1)
    assert target.met_by(target.latest_start - timedelta(minutes=15))
    assert not target.met_by(target.latest_start)


def test_p3_has_no_target():
    target = target_for("P3", datetime(2026, 11, 24, 10, tzinfo=PARIS), garage_open(*range(5)))
    assert target.latest_start is None and target.met_by(datetime(2027, 1, 1, tzinfo=PARIS))


@pytest.mark.parametrize("moment, first_read", [
    ("2026-11-24 10:00", "2026-11-24 10:00"),  # open: now
    ("2026-11-24 06:30", "2026-11-24 07:45"),  # before opening: at opening
    ("2026-11-24 19:00", "2026-11-25 07:45"),  # after closing: the next morning
    ("2026-11-27 19:00", "2026-11-30 07:45"),  # Friday evening: Monday
    ("2026-12-24 12:30", "2026-12-24 14:00"),  # lunch: after lunch
    ("2026-12-24 19:00", "2026-12-28 07:45"),  # Christmas Eve evening: past the closed Friday and the weekend
])
def test_a_garage_is_open_from_now_or_its_next_opening(moment, first_read):
    now = datetime.fromisoformat(moment).replace(tzinfo=PARIS)
    garage = garage_open(*range(5), closed=("2026-12-25",), lunch=(time(12), time(14)))
    assert open_from(garage, now) == datetime.fromisoformat(first_read).replace(tzinfo=PARIS)


def test_the_windowed_fast_path_gives_exactly_what_the_validated_file_path_gives(app):
    """Offers and rule offers, field by field, on random cases of the demo network at random moments."""
    import json
    import random

    from sqlalchemy import select

    from optimizer import parse_problem, solve
    from scheduler.services.planning import offers_document
    from tests.conftest import CLOCK_NOW

    rnd = random.Random(11)
    with app.app_context():
        garages = list(db.session.scalars(select(Garage).order_by(Garage.id)))
        symptoms = list(db.session.scalars(select(Symptom).order_by(Symptom.code)))
        for i in range(24):
            near, symptom = rnd.choice(garages), rnd.choice(symptoms)
            customer = Customer(name=f"Caller {i}", phone="+33 6 00 00 00 00")
            case = Case(urgency=symptom.urgency, job_type_code=symptom.job_type_code, symptom=symptom,
                        customer=customer, vehicle=Vehicle(plate=f"EQ-{i:03d}-AA", model="Clio", customer=customer),
                        lat=near.lat + rnd.uniform(-0.05, 0.05), lon=near.lon + rnd.uniform(-0.05, 0.05))
            db.session.add(case)
            db.session.flush()
            now = CLOCK_NOW + timedelta(minutes=rnd.choice([0, 200, 1800, 3000]))
            fast = case_offers(db.session, case, now)
            reference = solve(parse_problem(json.loads(json.dumps(offers_document(db.session, case, now)))))
            assert fast.degraded is None
            assert [(o.garage, o.technician, o.start.timestamp() / 60, o.end.timestamp() / 60, round(o.cost, 6))
                    for o in fast.offers] == \
                [(o.garage, o.technician, o.start, o.end, round(o.cost, 6)) for o in reference.offers], \
                (symptom.code, near.id, now)
            ref_rule = reference.rule_offers[0]
            if ref_rule is None:
                assert fast.rule is None
            else:
                assert (fast.rule.garage, fast.rule.technician, fast.rule.start.timestamp() / 60,
                        fast.rule.late_because, fast.rule.reasons) == \
                    (ref_rule.garage, ref_rule.technician, ref_rule.start, ref_rule.late_because, ref_rule.reasons)
        db.session.rollback()
