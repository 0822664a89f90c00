"""The optimizer failing or running past its time limit on every path that asks it: the page answers with
the rules' baseline and says so, and nothing is written from the failed solve.

The fault is injected at the optimizer's front door of each path (planning's and squeeze's `solve`).
A slow solve waits on an event the test releases afterwards, so no thread is left sleeping and no
time limit is waited out longer than the policy's own (set to its minimum here).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from scheduler.models import Appointment
from scheduler.services import planning, policies, squeeze
from tests.web.story import footprint, open_case
from web.extensions import db

FAULTS = ["raises", "too_slow"]


@pytest.fixture
def fault(request, app, monkeypatch):
    """Every solve the app asks for fails in the given way; the policy's time limit is its minimum."""
    from scheduler.models import User
    from tests.conftest import CLOCK_NOW

    with app.app_context():
        planner = db.session.scalar(select(User).where(User.username == "planner"))
        policies.change(db.session, planner, {"time_limit_seconds": 0.1}, CLOCK_NOW)
        db.session.commit()
    released = threading.Event()

    def broken(*args, **kwargs):
        if request.param == "raises":
            raise RuntimeError("the solver crashed")
        released.wait(30)  # well past the time limit: the request must not wait for it
        raise RuntimeError("too late anyway")

    monkeypatch.setattr(planning, "solve", broken)
    monkeypatch.setattr(squeeze, "solve", broken)
    yield "engine_failed" if request.param == "raises" else "engine_timeout"
    released.set()


def plan_of(app) -> list:
    """Where every appointment is: a failed solve moves nothing."""
    with app.app_context():
        return sorted(db.session.execute(select(Appointment.id, Appointment.technician_id, Appointment.start_at,
                                                Appointment.status)).all())


@pytest.mark.parametrize("fault", FAULTS, indirect=True)
def test_offers_the_case_page_and_booking_fall_back_to_the_rules(app, client, auth, fault):
    auth.login("operator")
    case = open_case(auth)
    before = plan_of(app)
    found = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert found["degraded"] == fault
    rule = found["rule_offer"]
    assert rule is not None and [(o["garage"], o["start"]) for o in found["offers"]] == \
        [(rule["garage"], rule["start"])]
    page = client.get(f"/desk/cases/{case['id']}")
    assert page.status_code == 200 and "standard rules' offer only" in page.get_data(as_text=True)
    assert plan_of(app) == before, "reading offers wrote nothing"
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={**{k: rule[k] for k in ("garage", "technician", "start")}, "reason": "engine down"})
    assert booked.status_code == 201, booked.get_json()


@pytest.mark.parametrize("fault", FAULTS, indirect=True)
def test_a_squeeze_preview_says_the_optimizer_did_not_answer_and_moves_nothing(app, client, auth, fault):
    auth.login("reception-lyon-07")
    case = open_case(auth)
    before, rows = plan_of(app), footprint(app)
    preview = auth.post(f"/api/v1/cases/{case['id']}/squeeze", json={"garage": "lyon-07"})
    assert preview.status_code == 200, preview.get_json()
    body = preview.get_json()
    assert body["degraded"] == fault and body["moves"] == [] and body["placement"] is None
    page = client.get(f"/garages/lyon-07/squeeze/{body['id']}")
    assert page.status_code == 200 and "The optimizer did not answer in time" in page.get_data(as_text=True)
    confirmed = auth.post(f"/api/v1/squeeze/{body['id']}/confirm", json={})
    assert confirmed.status_code in (409, 422), confirmed.get_json()
    assert plan_of(app) == before and footprint(app) == rows, "nothing applied from a failed solve"


@pytest.mark.parametrize("fault", FAULTS, indirect=True)
def test_the_direct_line_answer_says_the_optimizer_did_not_answer(app, client, auth, fault):
    auth.login("operator")
    case = open_case(auth)
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "Today?"})
    assert sent.status_code == 201, sent.get_json()
    before = plan_of(app)
    auth.login("reception-lyon-07")
    inbox = client.get("/garages/lyon-07/direct-line/inbox")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert "The optimizer did not answer in time" in html
    assert "no free time today" not in html, "a failed solve is not a full day"
    assert "the standard rules’ slot" in html or "Standard rules would give" in html
    assert plan_of(app) == before


def test_an_offer_shown_is_booked_without_a_reason_when_the_optimizer_fails_at_the_booking(app, client, auth,
                                                                                        monkeypatch):
    """The operator picks an offer the optimizer gave; as the booking is made the optimizer fails (a busy
    machine, its time limit passed): the booking is not refused for want of a reason because of the solver."""
    auth.login("operator")
    case = open_case(auth)
    found = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    rule = (found["rule_offer"]["garage"], found["rule_offer"]["start"])
    offer = next(o for o in found["offers"] if (o["garage"], o["start"]) != rule)

    def broken(*args, **kwargs):
        raise RuntimeError("the solver crashed")

    monkeypatch.setattr(planning, "solve", broken)
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: offer[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    assert (booked.get_json()["garage"], booked.get_json()["start"]) == (offer["garage"], offer["start"])
