"""Nasty inputs by hand: script and HTML in every free-text field (escaped wherever shown), RTL and emoji
kept as typed, wrong types, times that do not exist or exist twice, ids that do not, past and reversed times."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from tests.conftest import CLOCK_NOW
from tests.web.story import footprint

SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)>'
RTL = "مرحبا 👋🏽 Zoë"
PARIS = ZoneInfo("Europe/Paris")


def raw(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def assert_escaped(page: str, where: str) -> None:
    assert SCRIPT not in page and "<script>alert" not in page and "<img src=x" not in page, where
    assert "&lt;script&gt;alert" in page, f"{where} shows the text, escaped"


def test_script_in_every_free_text_field_is_shown_escaped_everywhere(app, client, auth):
    auth.login("operator")
    made = auth.post("/api/v1/cases", json={
        "customer": {"name": f"Eve {SCRIPT}", "phone": "+33 6 11 22 33 44"},
        "vehicle": {"plate": "XS-001-SS", "model": f"Clio {SCRIPT}"},
        "symptom": "engine_fault_stop", "location": {"lat": 45.735, "lon": 4.835}, "note": SCRIPT})
    assert made.status_code == 201
    case = made.get_json()
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": SCRIPT})
    assert sent.status_code == 201
    assert auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P2", "reason": SCRIPT}).status_code == 200
    assert_escaped(raw(client, f"/desk/cases/{case['id']}"), "the operator's case page")
    assert_escaped(raw(client, "/desk/"), "the desk's latest cases")
    auth.login("workshop-lyon-07")
    assert_escaped(raw(client, "/garages/lyon-07/jobs"), "the workshop's inbox")
    auth.login("reception-lyon-07")
    walk = auth.post("/api/v1/cases", json={"customer": {"name": f"Mallory {SCRIPT}", "phone": "1"},
                                            "vehicle": {"plate": "XS-002-SS", "model": SCRIPT}, "symptom": "puncture"})
    assert walk.status_code == 201
    preview = auth.post(f"/api/v1/cases/{walk.get_json()['id']}/squeeze", json={"garage": "lyon-07"}).get_json()
    assert_escaped(raw(client, f"/garages/lyon-07/squeeze/{preview['id']}"), "the squeeze preview")
    if preview["fits"]:
        assert auth.post(f"/api/v1/squeeze/{preview['id']}/confirm", json={"reason": SCRIPT}).status_code == 200
        assert_escaped(raw(client, "/garages/lyon-07/board"), "the board")
        assert_escaped(raw(client, "/garages/lyon-07/outbox"), "the outbox")


def test_rtl_and_emoji_text_is_kept_as_typed(client, auth):
    auth.login("operator")
    made = auth.post("/api/v1/cases", json={
        "customer": {"name": RTL, "phone": "+33 6 11 22 33 44"}, "vehicle": {"plate": "RT-001-LE", "model": "Zoé"},
        "symptom": "annual_service", "location": {"lat": 45.735, "lon": 4.835}, "note": RTL})
    read = client.get(f"/api/v1/cases/{made.get_json()['id']}").get_json()
    assert read["customer"]["name"] == RTL and read["note"] == RTL
    assert RTL in client.get(f"/desk/cases/{read['id']}").get_data(as_text=True)


@pytest.mark.parametrize("body, field", [
    ({"customer": {"name": 5, "phone": "1"}}, "customer.name"),
    ({"customer": ["a"]}, "customer.name"),
    ({"location": {"lat": "north", "lon": 4.8}}, "location"),
    ({"location": {"lat": 1e308, "lon": 4.8}}, "location"),
    ({"symptom": {"code": "x"}}, "symptom"),
    ({"note": 12}, "note"),
])
def test_wrong_types_are_a_400_naming_the_field(app, client, auth, body, field):
    auth.login("operator")
    good = {"customer": {"name": "A", "phone": "1"}, "vehicle": {"plate": "WT-001-AA", "model": "Clio"},
            "symptom": "puncture", "location": {"lat": 45.7, "lon": 4.8}}
    before = footprint(app)
    response = auth.post("/api/v1/cases", json={**good, **body})
    assert response.status_code == 400 and response.get_json()["error"]["details"]["field"] == field
    assert footprint(app) == before


def _offer(client, auth, symptom: str = "annual_service") -> tuple[dict, dict]:
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="TM-001-EE", symptom=symptom)
    return case, client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]


@pytest.mark.parametrize("start, status", [
    ("2026-03-29T02:30:00+01:00", 422),  # in Paris's spring-forward gap: a time that did not exist there
    ("2026-10-25T02:30:00+02:00", 422),  # the autumn overlap, first pass: in the past, and off any shift
    ("2001-01-01T09:00:00+01:00", 422),  # long past
    ("2026-11-24T09:00:00", 400),  # no offset: ambiguous
    ("9999-12-31T23:59:00+14:00", 400),
    ("not a time", 400),
    (12, 400),
])
def test_times_that_do_not_exist_or_are_past_are_refused_and_write_nothing(app, client, auth, start, status):
    case, best = _offer(client, auth)
    before = footprint(app)
    response = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                         json={"garage": best["garage"], "technician": best["technician"], "start": start})
    assert response.status_code == status, response.get_json()
    assert footprint(app) == before


@pytest.mark.parametrize("path", [
    "/api/v1/cases/999999", "/api/v1/cases/99999999999999999999", "/api/v1/direct-line/2147483648",
    "/api/v1/squeeze/999999", "/api/v1/appointments/99999999999/calendar.ics", "/api/v1/garages/atlantis/board",
    "/desk/cases/-1",
])
def test_ids_that_do_not_exist_are_a_404(client, auth, path):
    auth.login("reception-lyon-07" if "garages" in path or "squeeze" in path else "operator")
    assert client.get(path).status_code == 404


def test_an_absence_that_ends_before_it_starts_or_a_day_switch_past_the_calendar_is_a_400(client, auth):
    auth.login("reception-lyon-07")
    assert client.get("/garages/lyon-07/board?day=2026-02-30").status_code == 400
    assert client.get("/api/v1/garages/lyon-07/board?day=0000-01-01").status_code == 400


def test_more_time_and_notes_are_bounded(app, client, auth):
    from sqlalchemy import select

    from scheduler.models import Appointment
    from web.extensions import db

    with app.app_context():
        job = db.session.scalar(select(Appointment.id).where(Appointment.garage_id == "lyon-07",
                                                             Appointment.status == "booked",
                                                             Appointment.start_at > CLOCK_NOW).limit(1))
    auth.login("workshop-lyon-07")
    assert auth.post(f"/api/v1/appointments/{job}/start").status_code == 200
    for minutes in (-5, 10**9, "60", True, None):
        assert auth.post(f"/api/v1/appointments/{job}/more-time", json={"minutes": minutes}).status_code == 400
    long_note = auth.post(f"/api/v1/appointments/{job}/finish", json={"note": "x" * 5000})
    assert long_note.status_code == 400 and long_note.get_json()["error"]["details"]["field"] == "note"
    assert auth.post(f"/api/v1/appointments/{job}/finish", json=["not", "an", "object"]).status_code == 400
