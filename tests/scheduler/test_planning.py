"""The story on the demo network: the rules offer a P1 case far out; the network has room today."""

from __future__ import annotations

from datetime import timedelta

from scheduler.models import Case, Customer, Garage, Symptom, Vehicle
from scheduler.services.planning import case_offers
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
        assert "minimum notice" in result.rule.late_because or "free earlier" in result.rule.late_because
        assert result.offers[0].start - now < timedelta(hours=12), "somewhere within reach has room today"
        assert len(result.offers) == 5
        assert not result.target.met_by(result.rule.start)
        db.session.rollback()
