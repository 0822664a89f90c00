"""Finding the caller and the open work: search, the phone, the queue (pages and API)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import CLOCK_NOW, Auth
from tests.web.pages import csrf_from
from tests.web.story import call, footprint, open_case
from tests.web.test_desk_pages import open_call


@pytest.mark.parametrize("typed", ["rd447bp", "RD 447 BP", " rd-447-bp ", "447-b"])
def test_a_plate_is_found_however_it_is_typed(client, auth, typed):
    auth.login("operator")
    case = open_case(auth, plate="RD-447-BP")
    found = client.get("/api/v1/cases", query_string={"q": typed})
    assert found.status_code == 200
    assert found.get_json()[0]["id"] == case["id"], "newest first"
    assert {c["vehicle"]["plate"] for c in found.get_json()} == {"RD-447-BP"}  # the demo's car has earlier cases


def test_case_number_phone_and_name_find_the_case_and_nothing_else_matches(client, auth):
    auth.login("operator")
    case = open_case(auth, plate="RD-447-BP")  # Marc Petit, +33 6 12 34 56 78
    for q in (str(case["id"]), f"#{case['id']}", "06 12 34 56 78", "0612345678", "+33612345678", "marc pet", "PETIT"):
        ids = [c["id"] for c in client.get("/api/v1/cases", query_string={"q": q}).get_json()]
        assert case["id"] in ids, q
    assert client.get("/api/v1/cases", query_string={"q": "zz-999-zz"}).get_json() == []
    assert client.get("/api/v1/cases", query_string={"q": "50%_"}).get_json() == [], "wildcards are plain text"
    for nothing in ({}, {"q": " "}):  # no search: the latest cases, this one first
        assert client.get("/api/v1/cases", query_string=nothing).get_json()[0]["id"] == case["id"], nothing
    for bad in ({"q": "x" * 121}, {"queue": "yes"}):
        response = client.get("/api/v1/cases", query_string=bad)
        assert (response.status_code, response.get_json()["error"]["code"]) == (400, "bad_request"), bad
    assert client.get("/api/v1/cases?q=RD447BP&format=csv").headers["Content-Type"].startswith("text/csv")


def test_a_name_is_found_whatever_its_accents_case_or_word_order(client, auth):
    """SQLite's lower() leaves "É" as it is: "émilie" and "Emilie" did not find Émilie Guérin, nor did "Guérin
    Émilie"; "%" or one emoji listed the latest 50 cases as if they matched."""
    auth.login("operator")
    call_ = call(plate="EG-101-EG")
    call_["customer"] = {"name": "Émilie  Guérin", "phone": "+33 6 70 80 90 10"}
    case = auth.post("/api/v1/cases", json=call_).get_json()
    for q in ("Émilie", "émilie", "EMILIE", "emilie guerin", "Guérin Émilie", "guer", "ÉMILIE GUÉRIN"):
        ids = [c["id"] for c in client.get("/api/v1/cases", query_string={"q": q}).get_json()]
        assert case["id"] in ids, q
    assert client.get("/api/v1/cases", query_string={"q": "emilie dupont"}).get_json() == [], "every word counts"
    for q in ("%", "_", "🚗"):
        assert client.get("/api/v1/cases", query_string={"q": q}).get_json() == [], q


def test_a_car_called_in_again_while_booked_on_another_case_is_flagged_on_its_new_case(client, auth):
    """Booked at one garage at 16:15, the same car was opened and booked again at another at 16:45 without a word."""
    auth.login("operator")
    first = open_case(auth, plate="GG-555-EE")
    best = client.get(f"/api/v1/cases/{first['id']}/offers").get_json()["offers"][0]
    assert auth.post(f"/api/v1/cases/{first['id']}/appointments",
                     json={k: best[k] for k in ("garage", "technician", "start")}).status_code == 201
    second = open_case(auth, plate="GG-555-EE")
    page = client.get(f"/desk/cases/{second['id']}").get_data(as_text=True)
    assert f"This car is already booked on case {first['id']}" in page
    assert f'href="/desk/cases/{first["id"]}"' in page
    assert "already booked on case" not in client.get(f"/desk/cases/{first['id']}").get_data(as_text=True)


def test_a_garage_finds_only_its_own_cases(client, auth):
    auth.login("operator")
    open_case(auth, plate="RD-447-BP")
    auth.login("reception-givors")
    assert client.get("/api/v1/cases", query_string={"q": "RD447BP"}).get_json() == []
    assert client.get("/api/v1/customers", query_string={"phone": "0612345678"}).get_json() == []
    auth.login("planner")
    assert client.get("/api/v1/cases", query_string={"q": "RD447BP"}).status_code == 403


def test_the_phone_finds_the_customer_and_their_cars(client, auth):
    auth.login("operator")
    open_case(auth, plate="ZX-101-QQ")
    open_case(auth, plate="RD-447-BP")  # someone else's car: the caller called about it
    (customer,) = client.get("/api/v1/customers", query_string={"phone": "06.12.34.56.78"}).get_json()
    assert customer["name"] == "Marc Petit" and customer["phone"] == "+33 6 12 34 56 78"
    assert sorted(v["plate"] for v in customer["vehicles"]) == ["RD-447-BP", "ZX-101-QQ"]
    assert client.get("/api/v1/customers", query_string={"phone": "0799999999"}).get_json() == []
    for bad in ({}, {"phone": "call me"}, {"phone": "0" * 31}):
        assert client.get("/api/v1/customers", query_string=bad).status_code == 400
    assert client.get("/api/v1/customers", query_string={"phone": "06 1"}).get_json() == []  # typing, not a number


def test_the_shortest_number_a_case_takes_is_found_again(client, auth):
    auth.login("operator")
    opened = auth.post("/api/v1/cases", json={"customer": {"name": "Hugo Bref", "phone": "47 12 34"},
                                              "vehicle": {"plate": "SH-612-OR", "model": "Twingo"},
                                              "symptom": "annual_service", "location": {"lat": 45.75, "lon": 4.85}})
    assert opened.status_code == 201
    (customer,) = client.get("/api/v1/customers", query_string={"phone": "471234"}).get_json()
    assert customer["name"] == "Hugo Bref"
    found = client.get("/api/v1/cases", query_string={"q": "47-12-34"}).get_json()
    assert [c["id"] for c in found] == [opened.get_json()["id"]]


def test_the_queue_lists_open_work_most_urgent_first_and_a_garage_answer_changes_it(app, client, auth):
    auth.login("operator")
    routine = open_case(auth, plate="AA-111-AA", symptom="annual_service")  # P3: not open work
    urgent = open_case(auth, plate="BB-222-BB")  # P1 not booked
    asked = open_case(auth, plate="CC-333-CC")  # P1 put on the direct line
    assert auth.post(f"/api/v1/cases/{asked['id']}/direct-line",
                     json={"garage": "lyon-07", "message": "Today?"}).status_code == 201
    queue = client.get("/api/v1/cases?queue=1").get_json()
    kinds = {c["id"]: c["queue"]["kind"] for c in queue}
    assert routine["id"] not in kinds
    assert kinds[urgent["id"]] == "unbooked" and kinds[asked["id"]] == "waiting"
    waiting = next(c for c in queue if c["id"] == asked["id"])["queue"]
    assert waiting["garage"] == "lyon-07" and 0 < waiting["seconds_left"] <= 15 * 60
    assert [c["urgency"] for c in queue] == sorted(c["urgency"] for c in queue)

    for username, sees in (("reception-lyon-07", True), ("workshop-givors", False)):
        garage = Auth(app.test_client())
        garage.login(username)
        theirs = [c["id"] for c in garage.client.get("/api/v1/cases?queue=1").get_json()]
        assert (asked["id"] in theirs) is sees and urgent["id"] not in theirs, username

    page = client.get("/desk/").get_data(as_text=True)
    poll = re.search(r'hx-get="(/desk/queue\?v=[^"]+)"', page).group(1).replace("&amp;", "&")
    assert client.get(poll).status_code == 204, "nothing changed: the panel is left alone"
    assert "Waiting for Lyon 7e Gerland" in page and "CC-333-CC" in page

    garage = Auth(app.test_client())
    garage.login("workshop-lyon-07")
    request_id = garage.client.get("/api/v1/direct-line?status=open").get_json()[0]["id"]
    before = footprint(app)
    assert garage.post(f"/api/v1/direct-line/{request_id}/answer", json={"accept": False}).status_code == 422
    assert footprint(app) == before, "a refused answer writes nothing"
    assert garage.post(f"/api/v1/direct-line/{request_id}/answer",
                       json={"accept": False, "reason": "No electrician today"}).status_code == 200
    changed = client.get(poll)
    assert changed.status_code == 200
    assert "Lyon 7e Gerland declined" in changed.get_data(as_text=True) and "No electrician today" in changed.get_data(as_text=True)
    later = client.get("/api/v1/cases?queue=1").get_json()
    assert {c["id"]: c["queue"]["kind"] for c in later}[asked["id"]] == "declined"


def test_an_unanswered_request_shows_as_expired_in_the_queue(app, client, auth):
    auth.login("operator")
    asked = open_case(auth, plate="CC-333-CC")
    auth.post(f"/api/v1/cases/{asked['id']}/direct-line", json={"garage": "lyon-07", "message": "Today?"})
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=5)
    later = open_case(auth, plate="DD-444-DD")  # a P1 called while the first one's request still ran
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=16)
    kinds = {c["id"]: c["queue"]["kind"] for c in client.get("/api/v1/cases?queue=1").get_json()}
    assert kinds[asked["id"]] == "expired"
    # called first, it stays before the other though its request expired after that one was called: it has waited
    # longest (it went below it, sorted by when its latest state began)
    order = [c["id"] for c in client.get("/api/v1/cases?queue=1").get_json() if c["id"] in (asked["id"], later["id"])]
    assert order == [asked["id"], later["id"]]


def test_the_desk_search_box_finds_a_plate_typed_loosely(client, auth):
    case_id, _page = open_call(client, auth, plate="RD-447-BP")
    found = client.get("/desk/", query_string={"q": "rd447bp"}).get_data(as_text=True)
    assert "Cases matching “rd447bp”" in found and f'href="/desk/cases/{case_id}"' in found
    none = client.get("/desk/", query_string={"q": "nobody-like-this"}).get_data(as_text=True)
    assert "No case found." in none
    assert "More cases match" not in found


def test_a_search_that_matches_more_than_the_desk_shows_says_so(client, auth):
    """A common name matched hundreds of cases and the desk showed 50 as if they were all."""
    auth.login("operator")
    common = client.get("/api/v1/cases", query_string={"q": "ar", "limit": 51}).get_json()
    assert len(common) == 51, "the demo network has more than 50 cases of customers named *ar*"
    page = client.get("/desk/", query_string={"q": "ar"}, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert page.count('href="/desk/cases/') >= 50 and f'href="/desk/cases/{common[50]["id"]}"' not in page
    assert "Plus de dossiers correspondent" in page and "les 50 plus récents sont affichés" in page


def test_typing_the_phone_lists_the_callers_cars_and_fills_the_name(client, auth):
    open_call(client, auth, plate="ZX-101-QQ")  # Marc Petit, +33 6 12 34 56 78
    desk = client.get("/desk/").get_data(as_text=True)
    assert 'hx-get="/desk/customer"' in re.search(r'<input[^>]*name="phone"[^>]*>', desk).group(0)
    known = client.get("/desk/customer", query_string={"phone": "06 12 34 56 78", "name": ""}).get_data(as_text=True)
    assert "Known caller" in known and "Marc Petit" in known and "ZX-101-QQ · Peugeot 308" in known
    assert re.search(r'<input[^>]*id="name"[^>]*value="Marc Petit"[^>]*>', known) and 'hx-swap-oob="true"' in known
    assert 'data-looked-up="phone"' in re.search(r'<input[^>]*id="name"[^>]*>', known).group(0), "the phone's fill"
    # a number that finds no one empties what an earlier number filled, and only that (web/static/lookups.js)
    nobody = client.get("/desk/customer", query_string={"phone": "not a phone"}).get_data(as_text=True)
    assert "Known caller" not in nobody
    name = re.search(r'<input[^>]*id="name"[^>]*>', nobody).group(0)
    assert 'data-clears="phone"' in name and 'value=""' in name
    picked = client.get("/desk/vehicle", query_string={"plate": "ZX-101-QQ", "pick": "1", "name": "Marc",
                                                      "phone": "0612345678"}).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="plate"[^>]*value="ZX-101-QQ"', picked)
    model = re.search(r'<input[^>]*id="model"[^>]*>', picked).group(0)
    assert 'value="Peugeot 308"' in model and 'data-replace="yes"' in model
    assert "data-replace" not in re.search(r'<input[^>]*id="name"[^>]*>', picked).group(0), "the caller's, kept"
    by_plate = client.get("/desk/vehicle", query_string={"plate": "zx101qq"}).get_data(as_text=True)
    assert re.search(r'<input[^>]*id="phone"[^>]*value="\+33 6 12 34 56 78"', by_plate), "a known plate fills the phone"


@pytest.mark.parametrize("near, nearest", [
    ("Vénissieux", "venissieux"), ("venissieux", "venissieux"), ("69200", "venissieux"), ("Vénissieux (69200)", "venissieux"),
    ("lyon 9eme", "lyon-09"), ("69009", "lyon-09"), ("Givors", "givors"), ("lyon-07", "lyon-07"),
    ("Villefranche-sur-Saône", "villefranche"), ("Lyon 3e Part-Dieu", "lyon-03"), ("st priest", "saint-priest"),
    # a point, for a caller outside the area's towns (a motorway, a hamlet): as a map gives it, or in French
    ("45.5890, 4.7700", "givors"), ("45,7330 ; 4,8340", "lyon-07"), ("45.7330,4.8340", "lyon-07"),
])
def test_caller_is_near_takes_a_town_a_postcode_or_a_garage(client, auth, near, nearest):
    case_id, page = open_call(client, auth, near=near)
    assert f'<option value="{nearest}">' in re.search(r'<form[^>]*/drive-in".*?</form>', page, re.DOTALL).group(0)
    first = re.search(r'/drive-in".*?<select name="garage"><option value="([^"]+)"', page, re.DOTALL).group(1)
    assert first == nearest, (near, first)


@pytest.mark.parametrize("typed, found", [
    # a probe's refusals: a postcode with its town, read out in two, an arrondissement, a part of town, "s/"
    ("69003 Lyon", "69003"), ("Villeurbanne 69100", "69100"), ("69 007", "69007"), ("69 200", "69200"),
    ("Lyon 7ème arrondissement", "69007"), ("Lyon 7e arr.", "69007"), ("Part-Dieu", "lyon-03"),
    ("Gratte-Ciel", "villeurbanne"), ("Vaise", "lyon-09"), ("Gerland", "lyon-07"),
    ("Villefranche s/ Saône", "villefranche"),
    # a postcode and a town that disagree, or a name that is several places: asked, never guessed
    ("Bron 69100", None), ("Lyon", None), ("Mâcon", None),
    # two numbers without decimals are not a point ("69 007" above is a postcode), nor is one off the globe
    ("45, 4", None), ("95.1, 4.8", None),
])
def test_the_caller_is_near_reads_a_place_as_people_say_it(app, typed, found):
    from scheduler.services import places
    from web.extensions import db

    with app.app_context():
        place = places.find(db.session, typed)
    assert (None if place is None else place.garage or place.postcode) == found


def test_a_place_outside_the_area_is_refused_on_the_form_and_in_the_api(app, client, auth):
    auth.login("operator")
    desk = client.get("/desk/").get_data(as_text=True)
    assert '<datalist id="places">' in desk and "Vénissieux (69200)" in desk
    before = footprint(app)
    for near in ("Paris", "75001", "Lyon", ""):
        refused = client.post("/desk/cases", data={
            "csrf_token": csrf_from(desk), "name": "Marc Petit", "phone": "0612345678", "plate": "ZX-101-QQ",
            "model": "Peugeot 308", "symptom": "engine_fault_stop", "near": near})
        assert refused.status_code == 400, near
        assert "Network load, next 7 days" in refused.get_data(as_text=True), "the desk stays whole around the form"
        if near == "Lyon":  # nine arrondissements: the operator is asked which
            assert "Lyon is more than one place: which one? Lyon 1er, Lyon 2e" in refused.get_data(as_text=True)
        elif near:
            assert "Not a town, postcode or garage of the network" in refused.get_data(as_text=True), near
    api = auth.post("/api/v1/cases", json={**call(), "location": {"place": "Paris"}})
    assert (api.status_code, api.get_json()["error"]["code"]) == (400, "bad_request")
    lyon = auth.post("/api/v1/cases", json={**call(), "location": {"place": "lyon"}}).get_json()["error"]
    assert "more than one place" in lyon["message"] and "Lyon 1er" in lyon["message"]
    assert footprint(app) == before
    made = auth.post("/api/v1/cases", json={**call(), "location": {"place": "69200"}})
    assert made.status_code == 201 and made.get_json()["location"]["lat"] == pytest.approx(45.6975)


def test_a_walk_in_whose_car_is_booked_at_another_garage_is_flagged_at_the_counter(app, client, auth):
    from sqlalchemy import select

    from scheduler.models import Appointment, Case
    from web.extensions import db

    with app.app_context():
        rows = db.session.execute(select(Case.vehicle_id, Appointment.garage_id).join(Appointment).where(
            Appointment.status == "booked", Appointment.start_at > CLOCK_NOW)).all()
        garages_of: dict[int, set] = {}
        for vehicle_id, garage_id in rows:
            garages_of.setdefault(vehicle_id, set()).add(garage_id)
        elsewhere = next(v for v, gs in garages_of.items() if "lyon-07" not in gs)
        here = next(v for v, gs in garages_of.items() if gs == {"lyon-07"})
        plate_elsewhere, plate_here = (db.session.get(Case, db.session.scalar(
            select(Case.id).where(Case.vehicle_id == v).limit(1))).vehicle.plate for v in (elsewhere, here))
    auth.login("reception-lyon-07")
    flagged = client.get("/garages/lyon-07/vehicle", query_string={"plate": plate_elsewhere}).get_data(as_text=True)
    assert "booked at another garage of the network" in flagged
    own = client.get("/garages/lyon-07/vehicle", query_string={"plate": plate_here}).get_data(as_text=True)
    assert "Known vehicle" in own and "another garage" not in own, "its booking here is this garage's own"
    # ... and said: the customer at the counter is most likely that booking's, to check in, not a second one
    assert "This car is booked here" in own
    assert "This car is booked here" not in flagged


def test_a_car_already_waiting_at_the_counter_is_flagged_before_it_is_registered_again(client, auth):
    auth.login("reception-lyon-07")
    waiting = open_case(auth, plate="QW-321-ER")  # reception's case: a walk-in at its garage
    assert waiting["status"] == "open"
    again = client.get("/garages/lyon-07/vehicle", query_string={"plate": "qw 321 er"}).get_data(as_text=True)
    assert "already at the counter since" in again
    assert "already at the counter" not in client.get(
        "/garages/lyon-07/vehicle", query_string={"plate": "GH-123-JK"}).get_data(as_text=True)
    # once it has left, the car is a car like any other
    assert auth.post(f"/api/v1/cases/{waiting['id']}/withdraw", json={}).status_code == 200
    assert "already at the counter" not in client.get(
        "/garages/lyon-07/vehicle", query_string={"plate": "QW-321-ER"}).get_data(as_text=True)


def test_a_case_the_caller_no_longer_needs_leaves_the_open_work(app, client, auth):
    auth.login("operator")
    needless, asked = open_case(auth), open_case(auth, plate="GH-124-JK")
    queue = [c["id"] for c in auth.client.get("/api/v1/cases?queue=1", headers=auth.headers()).get_json()]
    assert needless["id"] in queue, "an unbooked P1 is open work"
    page = client.get(f"/desk/cases/{needless['id']}").get_data(as_text=True)
    assert 'id="withdraw"' in page
    closed = auth.form(f"/desk/cases/{needless['id']}/withdraw", {"reason": "repaired elsewhere"})
    assert closed.status_code == 302
    queue = [c["id"] for c in auth.client.get("/api/v1/cases?queue=1", headers=auth.headers()).get_json()]
    assert needless["id"] not in queue and asked["id"] in queue
    timeline = client.get(f"/desk/cases/{needless['id']}").get_data(as_text=True)
    assert "Closed without a booking: repaired elsewhere" in timeline and 'id="withdraw"' not in timeline
    assert "Case closed: no booking needed." in timeline and "Not booked yet." not in timeline
    french = client.get(f"/desk/cases/{needless['id']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert '<span class="status cancelled">clos</span>' in french, "a case is closed; a booking is cancelled"
    assert "Change urgency" not in timeline, "a closed case's urgency no longer changes anything"
    # a garage still asked about a case would answer for nothing: that request goes first
    sent = auth.post(f"/api/v1/cases/{asked['id']}/direct-line", json={"garage": "lyon-07", "message": "today?"})
    assert sent.status_code == 201, sent.get_json()
    refused = auth.post(f"/api/v1/cases/{asked['id']}/withdraw", json={})
    assert refused.status_code == 409 and "still asked" in refused.get_json()["error"]["message"]


def test_a_booked_case_is_not_closed_by_the_call_centre_and_the_refusal_says_who_cancels_it(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    made = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                     json={k: best[k] for k in ("garage", "technician", "start")})
    assert made.status_code == 201
    refused = auth.post(f"/api/v1/cases/{case['id']}/withdraw", json={"reason": "no longer needed"})
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert "reception cancels the booking" in error["message"] and error["details"]["appointment"] == \
        made.get_json()["id"]
    auth.login(f"reception-{best['garage']}")
    cancelled = auth.post(f"/api/v1/appointments/{made.get_json()['id']}/cancel", json={})
    assert cancelled.status_code == 200, cancelled.get_json()
    auth.login("operator")
    closed = auth.post(f"/api/v1/cases/{case['id']}/withdraw", json={"reason": "no longer needed"})
    assert closed.status_code == 200 and closed.get_json()["status"] == "cancelled", closed.get_json()
