"""The reproduced integrity defects of issue #8, each closed at the root and checked through the API."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from scheduler.models import Appointment, Technician
from tests.conftest import CLOCK_NOW
from tests.web.story import fill_lifts, footprint, open_case
from web.extensions import db


def offers_of(client, case_id: int) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}/offers")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def put_to(auth, case_id: int, garage: str) -> dict:
    sent = auth.post(f"/api/v1/cases/{case_id}/direct-line", json={"garage": garage, "message": "Today?"})
    assert sent.status_code == 201, sent.get_json()
    return sent.get_json()


def test_overbook_ticked_on_a_free_technician_is_a_plain_booking_that_still_blocks_the_slot(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    request = put_to(auth, case["id"], best["garage"])
    auth.login(f"workshop-{best['garage']}")
    accepted = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={
        "accept": True, "start": best["start"], "technician": best["technician"], "overbook": True})
    assert accepted.status_code == 200, accepted.get_json()
    with app.app_context():
        assert db.session.get(Appointment, accepted.get_json()["id"]).overbooked is False, \
            "nothing overlaps: ticking the box does not make it an overbooking"

    auth.login("operator")
    other = open_case(auth, plate="ZZ-111-ZZ")
    before = footprint(app)
    taken = auth.post(f"/api/v1/cases/{other['id']}/appointments",
                      json={**{k: best[k] for k in ("garage", "technician", "start")}, "reason": "the caller insists"})
    assert (taken.status_code, taken.get_json()["error"]["code"]) == (409, "slot_taken")
    assert footprint(app) == before


def test_accepting_on_the_direct_line_checks_the_lifts(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="brakes_failing")  # brake repair needs a lift
    best = offers_of(client, case["id"])["offers"][0]
    request = put_to(auth, case["id"], best["garage"])
    fill_lifts(app, best["garage"], datetime.fromisoformat(best["start"]))
    auth.login(f"workshop-{best['garage']}")
    before = footprint(app)
    accept = {"accept": True, "start": best["start"], "technician": best["technician"]}
    full = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json=accept)
    assert (full.status_code, full.get_json()["error"]["code"]) == (409, "slot_taken")
    assert full.get_json()["error"]["details"]["lifts_full"] is True
    assert footprint(app) == before
    squeezed = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={**accept, "overbook": True, "reason": "the car can wait on the forecourt lift"})
    assert squeezed.status_code == 200, squeezed.get_json()
    with app.app_context():
        assert db.session.get(Appointment, squeezed.get_json()["id"]).overbooked is True


def test_reception_reads_a_cars_owner_only_when_the_car_came_to_its_garage(client, auth):
    auth.login("operator")
    open_case(auth, plate="OW-123-NR")  # not bound to any garage yet
    auth.login("reception-lyon-03")
    seen = client.get("/api/v1/vehicles/OW-123-NR").get_json()
    assert seen["plate"] == "OW-123-NR" and seen["customer"] is None, "a plate is not a directory of customers"
    walk_in = auth.post("/api/v1/cases", json={
        "customer": {"name": "Lina Haddad", "phone": "+33 6 99 88 77 66"},
        "vehicle": {"plate": "OW-123-NR", "model": "Peugeot 308"}, "symptom": "puncture"})
    assert walk_in.status_code == 201
    assert walk_in.get_json()["customer"] == {"name": "Lina Haddad", "phone": "+33 6 99 88 77 66", "language": "fr"}, \
        "what reception typed is kept"
    again = client.get("/api/v1/vehicles/OW-123-NR").get_json()
    assert again["customer"] is not None, "now the car has been to this garage"


@pytest.mark.parametrize("path, body", [
    ("/api/v1/session", {"username": "oper\x00ator", "password": "x"}),
    ("/api/v1/cases", {"customer": {"name": "A\x00B", "phone": "06 12 34 56 78"}, "vehicle": {"plate": "XY-12", "model": "Y"},
                       "symptom": "puncture"}),
])
def test_nul_bytes_are_refused_with_a_400(client, auth, path, body):
    auth.login("operator")
    response = auth.post(path, json=body)
    assert response.status_code == 400
    assert "NUL" in response.get_json()["error"]["message"]


@pytest.mark.parametrize("path, body", [
    ("/api/v1/session", '{"username": "\\ud800", "password": "x"}'),
    ("/api/v1/cases", ('{"customer": {"name": "\\ud800", "phone": "06 12 34 56 78"}, "vehicle": {"plate": "P2", "model": "M"}, '
                       '"symptom": "oil_change"}')),
    ("/api/v1/cases", ('{"customer": {"name": "A", "phone": "06 12 34 56 78"}, "vehicle": {"plate": "P2", "model": "M"}, '
                       '"symptom": "oil_change", "note": "ok \\udfff then"}')),
    ("/api/v1/cases", '{"customer": {"name": "A", "phone": "06 12 34 56 78"}, "\\ud83d": 1, "vehicle": {"plate": "P2"}}'),
])
def test_a_lone_surrogate_in_any_text_is_a_400_that_says_so_and_writes_nothing(app, client, auth, path, body):
    """"\\ud800" is valid JSON but no Unicode text: no database stores it, so it is refused at the door, as NUL is
    (it was a 500 from the database's driver); a real emoji written as its surrogate pair is text, and is kept."""
    auth.login("operator")
    before = footprint(app)
    response = auth.post(path, data=body, content_type="application/json")
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["code"] == "bad_request"
    assert "surrogate" in response.get_json()["error"]["message"]
    assert footprint(app) == before
    paired = auth.post("/api/v1/cases", data='{"customer": {"name": "Zo\\u00eb \\ud83d\\udc4b", "phone": "0611223344"}, '
                       '"vehicle": {"plate": "EM-123-OJ", "model": "Clio"}, "symptom": "oil_change", '
                       '"location": {"lat": 45.75, "lon": 4.85}}',
                       content_type="application/json")
    assert paired.status_code == 201, paired.get_json()
    assert paired.get_json()["customer"]["name"] == "Zoë 👋"


def test_nul_bytes_in_a_form_or_a_query_are_refused(client, auth):
    assert client.post("/login", data={"username": "a\x00b", "password": "x"}).status_code == 400
    auth.login("operator")
    assert client.get("/api/v1/direct-line?status=open%00").status_code == 400


def test_deeply_nested_json_is_a_400_not_a_crash(client, auth):
    auth.login("operator")
    for depth in (40, 100_000):
        body = "[" * depth + "]" * depth
        response = client.post("/api/v1/cases", data=body, content_type="application/json",
                               headers=auth.headers())
        assert response.status_code == 400, depth
        assert "nested" in response.get_json()["error"]["message"]


def test_a_body_over_the_size_limit_is_a_413(client, auth):
    auth.login("operator")
    response = client.post("/api/v1/cases", data=json.dumps({"note": "x" * (2 * 1024 * 1024)}),
                           content_type="application/json", headers=auth.headers())
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "too_large"


def test_reads_never_write(app, client, auth):
    """Every page and read a desk polls, with a direct-line request past its time: nothing changes."""
    auth.login("operator")
    case = open_case(auth)
    request = put_to(auth, case["id"], "lyon-07")
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(hours=1)  # the request expired meanwhile
    before = footprint(app)
    reads = [f"/desk/cases/{case['id']}", f"/desk/cases/{case['id']}/live", f"/api/v1/cases/{case['id']}",
             f"/api/v1/cases/{case['id']}/offers", "/api/v1/direct-line", f"/api/v1/direct-line/{request['id']}",
             "/desk/"]
    for path in reads:
        assert client.get(path).status_code == 200, path
    assert client.get(f"/api/v1/direct-line/{request['id']}").get_json()["status"] == "expired", \
        "the clock decides the expiry; no read stores it"
    timeline = client.get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
    assert timeline[-1]["kind"] == "direct_line_expired" and "No answer from Lyon 7e Gerland" in timeline[-1]["text"]
    auth.login("workshop-lyon-07")
    for path in ("/garages/lyon-07/jobs", "/garages/lyon-07/direct-line/inbox", "/api/v1/direct-line?status=expired"):
        assert client.get(path).status_code == 200, path
    assert footprint(app) == before


def test_a_request_that_fails_half_way_leaves_nothing_written(app, client, auth, monkeypatch):
    from scheduler.services import overrides

    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    found = offers_of(client, case["id"])
    slot = found["offers"][-1]

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(overrides, "settle_pending", broken)  # after the appointment row was flushed
    before = footprint(app)
    failed = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: slot[k] for k in ("garage", "technician", "start")})
    assert failed.status_code == 500 and "nothing was saved" in failed.get_json()["error"]["message"]
    assert footprint(app) == before


@pytest.mark.parametrize("fault", ["raises", "too_slow"])
def test_when_the_optimizer_fails_pages_answer_with_the_rules(app, client, auth, monkeypatch, fault):
    import time

    from scheduler.models import Policy
    from scheduler.services import planning

    with app.app_context():
        limit = max(p.time_limit_seconds for p in db.session.scalars(select(Policy)))

    def failing(*args, **kwargs):
        if fault == "raises":
            raise RuntimeError("solver crashed")
        time.sleep(limit + 2)  # past the policy's time limit: the page must not wait for it
        return []

    auth.login("operator")
    case = open_case(auth)
    monkeypatch.setattr(planning, "solve", failing)  # the front door of every offers question
    found = offers_of(client, case["id"])
    assert found["degraded"] == ("engine_failed" if fault == "raises" else "engine_timeout")
    rule = found["rule_offer"]
    assert rule is not None, "the rules still answer"
    assert [(o["garage"], o["start"]) for o in found["offers"]] == [(rule["garage"], rule["start"])], \
        "the offers fall back to the rule offer alone"
    page = client.get(f"/desk/cases/{case['id']}")
    assert page.status_code == 200 and "standard rules' offer only" in page.get_data(as_text=True)
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={**{k: rule[k] for k in ("garage", "technician", "start")}, "reason": "engine down"})
    assert booked.status_code == 201, booked.get_json()
    auth.login("reception-lyon-07")
    assert client.get("/garages/lyon-07/board").status_code == 200


def test_sqlite_reads_do_not_wait_for_a_writer_and_a_blocked_writer_gets_a_503(app, backend):
    if backend != "sqlite":
        pytest.skip("SQLite's single write lock: PostgreSQL has no such lock")
    from tests.conftest import Auth, make_app

    app = make_app(app.config["SQLALCHEMY_DATABASE_URI"], SQLITE_BUSY_TIMEOUT_MS=200)
    client = app.test_client()
    auth = Auth(client)
    auth.login("operator")
    case = open_case(auth)
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    try:
        assert client.get(f"/api/v1/cases/{case['id']}/offers").status_code == 200, "a read takes no lock"
        assert client.get(f"/desk/cases/{case['id']}").status_code == 200
        blocked = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P2", "reason": "calmer"})
        assert blocked.status_code == 503 and blocked.headers["Retry-After"]
        assert blocked.get_json()["error"]["code"] == "unavailable"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P2", "reason": "calmer"}).status_code == 200
    with app.app_context():
        db.engine.dispose()


def test_a_returning_customer_is_one_customer_however_their_number_and_name_are_written(client, auth):
    auth.login("operator")

    def opened(name: str, phone: str, plate: str) -> dict:
        response = auth.post("/api/v1/cases", json={
            "customer": {"name": name, "phone": phone}, "vehicle": {"plate": plate, "model": "Clio"},
            "symptom": "oil_change", "location": {"lat": 45.75, "lon": 4.85}})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    opened("Jean Testeur", "+33 6 11 22 33 44", "GH-123-IJ")
    opened("Jean Testeur", "06 11 22 33 44", "GH-456-IJ")
    opened("jean testeur", "+33611223344", "GH-123-IJ")
    opened("Jean Testeur", "+33 (0)6 11 22 33 44", "GH-999-IJ")  # the trunk zero in brackets is not dialled
    opened("Jeanne Testeur", "06 11 22 33 44", "GH-789-IJ")  # the same line, another person
    opened("Jean Testeur", "+41 6 11 22 33 44", "CH-123-IJ")  # a Swiss number with the same last nine digits
    found = client.get("/api/v1/customers?phone=0611223344").get_json()
    assert sorted((c["name"], sorted(v["plate"] for v in c["vehicles"])) for c in found) == [
        ("Jean Testeur", ["CH-123-IJ"]), ("Jean Testeur", ["GH-123-IJ", "GH-456-IJ", "GH-999-IJ"]),
        ("Jeanne Testeur", ["GH-789-IJ"])], "the Swiss caller is someone else, found by the same last digits"


@pytest.mark.parametrize("phone", ["abc", "...", "+"])
def test_a_case_whose_phone_is_no_number_is_refused_naming_the_field(app, auth, phone):
    """A customer no one can call back, nor find by phone (the search refuses the same text), is not opened."""
    auth.login("operator")
    before = footprint(app)
    response = auth.post("/api/v1/cases", json={
        "customer": {"name": "Junk Phone", "phone": phone}, "vehicle": {"plate": "JU-123-NK", "model": "Clio"},
        "symptom": "oil_change", "location": {"lat": 45.75, "lon": 4.85}})
    assert response.status_code == 400, response.get_json()
    assert response.get_json()["error"]["details"]["field"] == "customer.phone"
    assert footprint(app) == before
