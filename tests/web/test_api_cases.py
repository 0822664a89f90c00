"""Opening a case, reading it back, and its offers, through the API."""

from __future__ import annotations

import pytest

CALL = {"customer": {"name": "Marc Petit", "phone": "+33 6 12 34 56 78"},
        "vehicle": {"plate": "gh-123-jk", "model": "Peugeot 308"},
        "symptom": "engine_fault_stop", "location": {"lat": 45.735, "lon": 4.835},
        "note": "Back from holiday, engine fault warning"}


def test_an_operator_opens_a_case_and_gets_the_rule_offer_and_offers(client, auth):
    auth.login("operator")
    made = auth.post("/api/v1/cases", json=CALL)
    assert made.status_code == 201, made.get_json()
    case = made.get_json()
    assert (case["urgency"], case["job_type"]) == ("P1", "fault_diagnosis")
    assert case["vehicle"]["plate"] == "GH-123-JK"
    assert [e["kind"] for e in case["timeline"]] == ["call"]
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert read["customer"]["name"] == "Marc Petit"
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    assert offers["target"]["urgency"] == "P1" and offers["target"]["latest_start"]
    assert 1 <= len(offers["offers"]) <= 5
    assert [o["cost"] for o in offers["offers"]] == sorted(o["cost"] for o in offers["offers"])
    assert {"garage", "technician", "start", "end", "wait_minutes", "distance_km", "cost"} <= set(offers["offers"][0])
    if offers["rule_offer"] is not None:
        assert offers["rule_offer"]["start"] >= offers["offers"][0]["start"]


def test_no_offers_say_why(client, auth):
    """A caller far beyond every garage's reach got 200 with an empty list and nothing else: the case page says why,
    and so does the API now. With offers, there is nothing to explain."""
    auth.login("operator")
    far = auth.post("/api/v1/cases", json={**CALL, "location": {"lat": 43.3, "lon": 5.37}}).get_json()  # Marseille
    empty = client.get(f"/api/v1/cases/{far['id']}/offers").get_json()
    assert empty["offers"] == [] and empty["none_because"]["code"] == "no_room_within_reach"
    assert "No garage within reach" in empty["none_because"]["message"]
    near = auth.post("/api/v1/cases", json={**CALL, "vehicle": {"plate": "GH-124-JK", "model": "Clio"}}).get_json()
    assert "none_because" not in client.get(f"/api/v1/cases/{near['id']}/offers").get_json()


def test_a_closed_case_gets_no_offers_it_could_not_book(client, auth):
    """A routine case whose booking was cancelled is closed: offers came back with 200, and each booking of one was
    then refused with 409."""
    auth.login("operator")
    case = auth.post("/api/v1/cases", json={**CALL, "symptom": "oil_change"}).get_json()
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: best[k] for k in ("garage", "technician", "start")}).get_json()
    auth.login(f"reception-{best['garage']}")
    assert auth.post(f"/api/v1/appointments/{booked['id']}/cancel", json={}).status_code == 200
    auth.login("operator")
    closed = client.get(f"/api/v1/cases/{case['id']}/offers")
    assert closed.status_code == 409 and "open a new case" in closed.get_json()["error"]["message"]


def test_reception_opens_a_walk_in_at_its_own_garage(client, auth):
    auth.login("reception-venissieux")
    call = {k: v for k, v in CALL.items() if k != "location"}
    case = auth.post("/api/v1/cases", json=call).get_json()
    assert (case["garage"], case["timeline"][0]["kind"]) == ("venissieux", "walk_in")
    auth.login("reception-lyon-07")
    refused = client.get(f"/api/v1/cases/{case['id']}")
    assert refused.status_code == 403


def test_the_case_list_without_a_search_is_the_latest_cases_in_scope(client, auth):
    auth.login("reception-venissieux")
    walk_in = auth.post("/api/v1/cases", json={k: v for k, v in CALL.items() if k != "location"}).get_json()
    listed = client.get("/api/v1/cases")
    assert listed.status_code == 200
    cases = listed.get_json()
    assert cases[0]["id"] == walk_in["id"] and {c["garage"] for c in cases} == {"venissieux"}
    assert walk_in["id"] in {c["id"] for c in client.get("/api/v1/cases?q=").get_json()}
    csv = client.get("/api/v1/cases?format=csv")
    assert csv.status_code == 200 and csv.mimetype == "text/csv" and str(walk_in["id"]) in csv.get_data(as_text=True)
    auth.login("operator")
    network = client.get("/api/v1/cases").get_json()
    assert network[0]["id"] == walk_in["id"] and len({c["garage"] for c in network}) > 1


def test_the_case_list_comes_a_page_at_a_time_and_says_where_the_next_one_is(client, auth):
    """A list cut at 50 said nothing: a search or an export missed cases without anyone knowing."""
    auth.login("operator")
    first = client.get("/api/v1/cases?limit=3")
    assert len(first.get_json()) == 3
    following = first.headers["Link"]
    assert following.endswith('>; rel="next"') and "offset=3" in following and "limit=3" in following
    second = client.get(following[1:following.index(">")])
    assert len(second.get_json()) == 3
    every = [c["id"] for c in client.get("/api/v1/cases?limit=6").get_json()]
    assert [c["id"] for c in first.get_json() + second.get_json()] == every, "the pages follow one another"
    # a search pages alike; its last page has no next
    mine = [auth.post("/api/v1/cases", json={**CALL, "customer": {"name": "Zoé Quintard", "phone": "+33 6 98 76 54 32"},
                                             "vehicle": {"plate": f"QT-00{i}-ZZ", "model": "Clio"}}).get_json()["id"]
            for i in range(3)]
    found = client.get("/api/v1/cases?q=quintard&limit=2")
    assert [c["id"] for c in found.get_json()] == mine[::-1][:2] and "offset=2" in found.headers["Link"]
    last = client.get("/api/v1/cases?q=quintard&limit=2&offset=2")
    assert [c["id"] for c in last.get_json()] == [mine[0]] and "Link" not in last.headers
    csv = client.get("/api/v1/cases?limit=3&format=csv")
    assert csv.mimetype == "text/csv" and "format=csv" in csv.headers["Link"] and "offset=3" in csv.headers["Link"]
    for bad in ("limit=0", "limit=501", "limit=ten", "offset=-1", "limit=1e3"):
        refused = client.get(f"/api/v1/cases?{bad}")
        assert refused.status_code == 400 and refused.get_json()["error"]["details"]["field"] == bad.split("=")[0]


@pytest.mark.parametrize("change, field", [
    ({"symptom": "unicorn"}, "symptom"),
    ({"customer": {"name": "X"}}, "customer.phone"),
    # two digits were kept, and no search by phone found them again (a search looks from six digits on)
    ({"customer": {"name": "X", "phone": "12"}}, "customer.phone"),
    ({"customer": {"name": "X", "phone": "+33 (0)"}}, "customer.phone"),
    ({"vehicle": "AB-123-CD"}, "vehicle.plate"),
    ({"location": {"lat": "north", "lon": 4.8}}, "location"),
    ({"location": {"lat": 123, "lon": 4.8}}, "location"),
    ({"note": 42}, "note"), ({"customer": {**CALL["customer"], "email": 7}}, "customer.email"),
])
def test_bad_cases_get_a_400_naming_the_field_and_nothing_is_saved(app, client, auth, change, field):
    from sqlalchemy import func, select

    from scheduler.models import Case, Vehicle
    from web.extensions import db

    def counts():
        with app.app_context():
            return db.session.scalar(select(func.count(Case.id))), db.session.scalar(select(func.count(Vehicle.id)))

    auth.login("operator")
    before = counts()
    response = auth.post("/api/v1/cases", json={**CALL, **change})
    assert response.status_code == 400
    assert response.get_json()["error"]["details"]["field"] == field
    if field in ("note", "customer.email"):  # optional, given wrong: not said to be required (a probe's note of 42)
        assert "when given" in response.get_json()["error"]["message"]
    assert counts() == before
    assert client.get("/api/v1/cases/999999").status_code == 404


@pytest.mark.parametrize("path", ["/api/v1/cases/99999999999999999999", "/api/v1/cases/2147483648/offers",
                                  "/api/v1/direct-line/99999999999999999999"])
def test_an_id_too_long_for_the_database_is_a_404_not_a_500(client, auth, path):
    auth.login("operator")
    response = client.get(path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"


def test_roles_that_cannot_open_cases(client, auth):
    auth.login("planner")
    assert auth.post("/api/v1/cases", json=CALL).status_code == 403
    auth.login("workshop-lyon-07")
    assert auth.post("/api/v1/cases", json=CALL).status_code == 403
    assert client.post("/api/v1/cases", json=CALL).status_code == 400  # cookie write without CSRF header


def test_openapi_documents_every_api_route(app, client):
    """Every route under /api/v1 is in the served document, with its method."""
    import re

    paths = client.get("/api/openapi.json").get_json()["paths"]
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        # <int:case_id> is documented as {id}, <plate> as {plate}
        path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: "{id}" if m[1].endswith("_id") else f"{{{m[1]}}}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert method.lower() in paths.get(path, {}), f"{method} {path} is not in /api/openapi.json"


def test_a_known_plate_finds_the_vehicle_its_owner_and_latest_cases(client, auth):
    auth.login("operator")
    opened = auth.post("/api/v1/cases", json=CALL).get_json()
    found = client.get(f"/api/v1/vehicles/{CALL['vehicle']['plate'].lower()}")
    assert found.status_code == 200
    vehicle = found.get_json()
    assert (vehicle["plate"], vehicle["model"]) == (CALL["vehicle"]["plate"].upper(), CALL["vehicle"]["model"])
    assert vehicle["customer"] == CALL["customer"]
    assert [c["id"] for c in vehicle["cases"]] == [opened["id"]]
    missing = client.get("/api/v1/vehicles/NEVER-SEEN")
    assert (missing.status_code, missing.get_json()["error"]["code"]) == (404, "not_found")
    auth.login("reception-givors")
    assert client.get(f"/api/v1/vehicles/{CALL['vehicle']['plate']}").get_json()["cases"] == [], \
        "reception sees the car, not the call centre's cases elsewhere"
    auth.login("planner")
    assert client.get(f"/api/v1/vehicles/{CALL['vehicle']['plate']}").status_code == 403


def test_the_model_said_on_the_call_wins_over_the_one_on_record_and_the_timeline_keeps_both(client, auth):
    auth.login("operator")
    auth.post("/api/v1/cases", json=CALL)
    again = auth.post("/api/v1/cases", json={**CALL, "vehicle": {**CALL["vehicle"], "model": "Tesla Model 3"}})
    assert again.status_code == 201, again.get_json()
    case = client.get(f"/api/v1/cases/{again.get_json()['id']}").get_json()
    assert case["vehicle"]["model"] == "Tesla Model 3"
    call = next(e for e in case["timeline"] if e["kind"] == "call")
    assert "Tesla Model 3" in call["text"] and f"(on record: {CALL['vehicle']['model']})" in call["text"]
    found = client.get(f"/api/v1/vehicles/{CALL['vehicle']['plate']}").get_json()
    assert found["model"] == "Tesla Model 3"
