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


def test_script_in_every_free_text_field_is_shown_escaped_everywhere(backend, request):
    if backend != "sqlite":
        pytest.skip("escaping what is shown does not depend on the database; the SQLite run covers it")
    client, auth = (request.getfixturevalue(name) for name in ("client", "auth"))  # on the app of this backend
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
    walk = auth.post("/api/v1/cases", json={"customer": {"name": f"Mallory {SCRIPT}", "phone": "06 12 34 56 78"},
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


@pytest.mark.parametrize("plate", ["🚗🚗🚗", "-- --", "..", "!!!???", "X", "A_1"])
def test_a_plate_without_two_letters_or_digits_is_refused_under_its_field_never_a_500(client, auth, plate):
    """Its key (letters and digits) was empty, so the car typed before was not found and a second one broke the
    unique plate: a 500 at the counter the second time. Then it was taken, and no search found the car again (a
    probe's "!!!???" and "X"): it is no plate."""
    auth.login("reception-lyon-07")
    body = {"customer": {"name": "Zoé", "phone": "+33 6 11 22 33 45"}, "vehicle": {"plate": plate, "model": "Zoé"},
            "symptom": "annual_service"}
    for answer in (auth.post("/api/v1/cases", json=body) for _ in range(2)):
        assert answer.status_code == 400 and answer.get_json()["error"]["details"]["field"] == "vehicle.plate"
    page = auth.form("/garages/lyon-07/walk-in", {"plate": plate, "name": "Zoé", "phone": "+33 6 11 22 33 45",
                                                   "model": "Zoé", "email": "", "symptom": "annual_service"})
    assert page.status_code == 400 and "Not a registration plate" in page.get_data(as_text=True)


@pytest.mark.parametrize("body, field", [
    ({"customer": {"name": 5, "phone": "06 12 34 56 78"}}, "customer.name"),
    ({"customer": ["a"]}, "customer.name"),
    ({"location": {"lat": "north", "lon": 4.8}}, "location"),
    ({"location": {"lat": 1e308, "lon": 4.8}}, "location"),
    ({"symptom": {"code": "x"}}, "symptom"),
    ({"note": 12}, "note"),
])
def test_wrong_types_are_a_400_naming_the_field(app, client, auth, body, field):
    auth.login("operator")
    good = {"customer": {"name": "A", "phone": "06 12 34 56 78"}, "vehicle": {"plate": "WT-001-AA", "model": "Clio"},
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
    refused = client.get("/api/v1/garages/lyon-07/board?day=2026-13-01", headers={"Accept-Language": "fr"})
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == "day"
    assert "2026-13-01" in refused.get_json()["error"]["message"]


@pytest.mark.parametrize("body, field", [
    ({"from": "0001-01-01", "to": "0001-01-02"}, "from"),  # accepted once, then the replay failed in its thread
    ({"from": "2026-10-02garbage", "to": "2026-10-09"}, "from"),  # was read as the 2nd
    ({"from": "2026-10-02", "to": "2026-13-01"}, "to"),
    ({"from": 20261002, "to": "2026-10-09"}, "from"),
])
def test_a_replay_over_days_that_are_not_days_is_a_400_and_starts_nothing(app, auth, body, field):
    from sqlalchemy import func, select

    from scheduler.models import Replay
    from web.extensions import db

    auth.login("planner")
    refused = auth.post("/api/v1/replays", json=body)
    assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == field
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Replay)) == 0


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




def test_script_typed_anywhere_in_a_case_is_escaped_on_every_page_that_shows_it(app, client, auth):
    """Every free-text field along one case's life, typed with script and markup, and every page that shows
    them, read raw: a name, a model, a plate looked up, an e-mail, the note, a direct-line message and a garage's
    decline, an urgency reason, a booking reason, a finish note, a feedback comment, a policy note."""

    from scheduler.services.feedback import token_for

    auth.login("operator")
    made = auth.post("/api/v1/cases", json={
        "customer": {"name": f"Eve {SCRIPT}", "phone": "+33 6 11 22 33 45", "email": "eve<i>@example.fr"},
        "vehicle": {"plate": "XS-001-TG", "model": f"Clio {SCRIPT}"}, "symptom": "annual_service",
        "location": {"lat": 45.735, "lon": 4.835}, "note": SCRIPT})
    assert made.status_code == 201, made.get_json()
    case = made.get_json()["id"]
    asked = auth.post(f"/api/v1/cases/{case}/direct-line", json={"garage": "venissieux", "message": SCRIPT})
    assert asked.status_code == 201, asked.get_json()
    auth.login("reception-venissieux")
    declined = auth.post(f"/api/v1/direct-line/{asked.get_json()['id']}/answer",
                         json={"accept": False, "reason": SCRIPT})
    assert declined.status_code == 200, declined.get_json()
    assert_escaped(raw(client, "/garages/venissieux/board"), "the asked garage's board and inbox")
    auth.login("operator")
    assert auth.post(f"/api/v1/cases/{case}/urgency", json={"urgency": "P2", "reason": SCRIPT}).status_code == 200
    best = client.get(f"/api/v1/cases/{case}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case}/appointments", json={
        **{k: best[k] for k in ("garage", "technician", "start")}, "source": "typed", "reason": SCRIPT})
    assert booked.status_code == 201, booked.get_json()
    garage, appointment = best["garage"], booked.get_json()["id"]
    for path, where in ((f"/desk/cases/{case}", "the operator's case page"), ("/desk/", "the desk"),
                        ("/desk/vehicle?plate=XS-001-TG", "the plate look-up")):
        assert_escaped(raw(client, path), where)
    auth.login(f"reception-{garage}")
    for action in ("check-in",):
        assert auth.post(f"/api/v1/appointments/{appointment}/{action}").status_code == 200
    auth.login(f"workshop-{garage}")
    assert auth.post(f"/api/v1/appointments/{appointment}/start").status_code == 200
    assert auth.post(f"/api/v1/appointments/{appointment}/finish", json={"note": SCRIPT}).status_code == 200
    assert_escaped(raw(client, f"/garages/{garage}/jobs?day={best['start'][:10]}"), "the job list")
    auth.login(f"reception-{garage}")
    assert_escaped(raw(client, f"/garages/{garage}/board?day={best['start'][:10]}"), "the board")
    outbox = raw(client, f"/garages/{garage}/outbox")
    assert "eve<i>@" not in outbox and "eve&lt;i&gt;@example.fr" in outbox, "the outbox's addressee, escaped"
    assert_escaped(outbox, "the outbox")
    assert_escaped(raw(client, f"/garages/{garage}/vehicle?plate=XS-001-TG"), "the counter's plate look-up")
    gave = auth.post(f"/api/v1/cases/{case}/feedback", json={"stage": "reception", "score": 9, "comment": SCRIPT})
    assert gave.status_code == 201, gave.get_json()
    auth.login("planner")
    assert auth.post("/api/v1/policy", json={"p1_reserve_minutes": 45, "note": SCRIPT}).status_code == 201
    for path, where in ((f"/planner/cases/{case}", "the planner's case page"),
                        ("/planner/overrides?from=2026-01-01&to=2027-12-31", "the overrides' list"),
                        ("/planner/policy", "the policy's history")):
        assert_escaped(raw(client, path), where)
    assert "<script>alert" not in raw(client, "/planner/")
    anyone = app.test_client()
    assert_escaped(raw(anyone, f"/feedback/{token_for(case, app.config['SECRET_KEY'])}"), "the customer's feedback page")


@pytest.mark.parametrize("day", ["2026-03-29", "2026-10-25", "2027-03-28", "2027-10-31"])
def test_the_days_clocks_change_are_shown_whole(client, auth, day):
    """Spring forward (a 23-hour day) and fall back (25 hours, 02:00-03:00 twice): every desk draws them."""
    auth.login("reception-lyon-07")
    assert client.get(f"/garages/lyon-07/board?day={day}").status_code == 200
    board = client.get(f"/api/v1/garages/lyon-07/board?day={day}")
    assert board.status_code == 200 and board.get_json()["day"] == day
    auth.login("workshop-lyon-07")
    assert client.get(f"/garages/lyon-07/jobs?day={day}").status_code == 200


@pytest.mark.parametrize("day, time", [("2027-03-28", "02:30"), ("2027-10-31", "02:30"), ("2027-03-29", "02:30")])
def test_a_typed_time_in_a_dst_gap_or_overlap_is_refused_with_a_reason_and_writes_nothing(app, client, auth,
                                                                                           day, time):
    from tests.web.pages import csrf_from
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="DS-001-TT")
    page = client.get(f"/desk/cases/{case['id']}")
    before = footprint(app)
    response = client.post(f"/desk/cases/{case['id']}/book", data={
        "csrf_token": csrf_from(page.get_data(as_text=True)), "garage": "lyon-07", "technician": "lyon-07-t1",
        "day": day, "time": time, "reason": "typed by the caller"}, follow_redirects=True)
    assert response.status_code == 200 and "flash error" in response.get_data(as_text=True)
    assert footprint(app) == before


@pytest.mark.parametrize("path", ["/api/v1/cases/2147483648", "/api/v1/cases/9223372036854775808",
                                  "/api/v1/appointments/2147483648/start", "/api/v1/drive-ins/2147483648/arrived",
                                  "/api/v1/squeeze/2147483648/confirm", "/api/v1/direct-line/2147483648/answer",
                                  "/api/v1/tokens/2147483648"])
def test_ids_beyond_the_integer_columns_are_404s_for_writes_too(client, auth, path):
    auth.login("reception-lyon-07")
    method = "DELETE" if "/tokens/" in path else "GET" if path.count("/") == 4 else "POST"
    response = client.open(path, method=method, headers=auth.headers(), json={})
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_digits_that_are_not_ascii_or_too_many_in_a_pages_form_are_no_500(client, auth):
    """"²" is a digit to Python's str.isdigit but not to int(); a dozen digits is beyond the id columns."""
    auth.login("reception-lyon-07")
    for value in ("²", "٣", "99999999999999"):
        replan = auth.form("/garages/lyon-07/replan", {"appointment": value})
        assert replan.status_code == 302, (value, replan.status_code)
        placed = auth.form("/garages/lyon-07/cases/1/place", {"preview": value, "time": "10:00", "reason": "x"})
        assert placed.status_code < 500, (value, placed.status_code)
    auth.login("admin")
    assert client.get("/admin/garages/lyon-07?affected=²,٣,99999999999999").status_code == 200


def test_rtl_and_emoji_in_messages_and_answers_come_back_as_typed(client, auth):
    from tests.web.story import open_case

    auth.login("operator")
    case = open_case(auth, plate="RT-002-LE")
    asked = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": RTL})
    assert asked.get_json()["message"] == RTL
    auth.login("reception-lyon-07")
    answer = auth.post(f"/api/v1/direct-line/{asked.get_json()['id']}/answer", json={"accept": False, "reason": RTL})
    assert answer.get_json()["answer"] == RTL
    assert RTL in client.get("/garages/lyon-07/board").get_data(as_text=True)
    auth.login("operator")
    assert RTL in client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)


@pytest.mark.parametrize("fields, field", [
    ({"max_moves": 10 ** 400}, "max_moves"), ({"weights": {"move": 10 ** 400}}, "weights.move"),
    ({"rule": {"min_notice_minutes": {"P1": -(10 ** 400)}}}, "rule.min_notice_minutes.P1"),
    ({"max_moves": "4"}, "max_moves"), ({"search_radius_km": "35"}, "search_radius_km"),
])
def test_a_policy_number_too_big_for_a_float_or_sent_as_text_is_a_400_in_a_change_and_in_a_replay(
        app, client, auth, fields, field):
    auth.login("planner")
    versions = len(client.get("/api/v1/policy/versions").get_json())
    changed = auth.post("/api/v1/policy", json=fields)
    assert changed.status_code == 400 and changed.get_json()["error"]["details"]["field"] == field
    assert len(client.get("/api/v1/policy/versions").get_json()) == versions
    replay = auth.post("/api/v1/replays", json={"from": "2026-11-16", "to": "2026-11-17", "policy": fields})
    assert replay.status_code == 400 and replay.get_json()["error"]["details"]["field"] == field


def test_a_garage_replan_of_an_id_beyond_the_integer_columns_is_a_400(client, auth):
    auth.login("reception-lyon-07")
    response = auth.post("/api/v1/garages/lyon-07/replan", json={"appointments": [10 ** 30, 2 ** 31]})
    assert response.status_code == 400 and response.get_json()["error"]["details"]["field"] == "appointments"
