"""Booking from the call-centre desk: offers book in one call; departures need a reason and are logged."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from scheduler.models import Message
from tests.conftest import CLOCK_NOW
from tests.web.story import fill_lifts, footprint, open_case
from web.extensions import db


def offers_of(client, case_id: int) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}/offers")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def book(auth, case_id: int, slot: dict, reason: str | None = None):
    body = {k: slot[k] for k in ("garage", "technician", "start")}
    if reason is not None:
        body["reason"] = reason
    return auth.post(f"/api/v1/cases/{case_id}/appointments", json=body)


def test_the_best_offer_books_in_one_call_without_an_override(client, auth):
    auth.login("operator")
    case = open_case(auth)
    offers = offers_of(client, case["id"])
    assert offers["target"]["met"], "somewhere within reach can start this P1 today"
    best = offers["offers"][0]
    made = book(auth, case["id"], best)
    assert made.status_code == 201, made.get_json()
    appointment = made.get_json()
    assert {k: appointment[k] for k in ("garage", "technician", "start", "status", "channel", "pinned")} == \
        {**{k: best[k] for k in ("garage", "technician")}, "start": appointment["start"], "status": "booked",
         "channel": "call_centre", "pinned": False}
    assert datetime.fromisoformat(appointment["start"]) == datetime.fromisoformat(best["start"])
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert (read["status"], read["garage"], read["overrides"]) == ("booked", best["garage"], [])
    assert [e["kind"] for e in read["timeline"]] == ["call", "rule_offer", "offers", "booking"]


def test_a_p1_beyond_its_target_needs_a_reason_then_records_the_counterfactual(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    offers = offers_of(client, case["id"])
    rule = offers["rule_offer"]
    assert datetime.fromisoformat(rule["start"]) >= datetime.fromisoformat(offers["target"]["latest_start"])
    before = footprint(app)
    refused = book(auth, case["id"], rule)
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["code"] == "reason_required" and "P1 target" in error["message"]
    assert error["details"]["rule_offer"]["start"] == rule["start"]
    assert error["details"]["target"]["met"] is False, "the slot refused misses the target, whatever else is offered"
    assert footprint(app) == before, "a refusal writes nothing"

    made = book(auth, case["id"], rule, reason="Customer cannot come before")
    assert made.status_code == 201
    (override,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert (override["kind"], override["reason"], override["team"]) == ("manual_slot", "Customer cannot come before",
                                                                         "call centre")
    assert override["rule_offer"]["start"] == rule["start"] and override["rule_offer"]["garage"] == rule["garage"]
    assert override["result"]["start"] == made.get_json()["start"]
    assert (override["verdict"], override["gain_minutes"]) == ("pending", None)
    assert made.get_json()["pinned"] is True, "a slot a person chose is not the optimizer's to move"


def free_slot_not_offered(app, case_id: int, garage_id: str, offered: set) -> dict:
    """A free start at that garage that the offers did not give: what a customer might ask for."""
    from scheduler.models import Case, Garage
    from scheduler.services import planning

    with app.app_context():
        case, garage = db.session.get(Case, case_id), db.session.get(Garage, garage_id)
        for slot in planning.garage_slots(db.session, case, garage, CLOCK_NOW, count=12):
            if (slot.garage, slot.start) not in offered:
                return {"garage": slot.garage, "technician": slot.technician, "start": slot.start.isoformat()}
    raise AssertionError(f"{garage_id} has no free start beyond the offers")


def test_a_slot_the_rules_would_not_give_is_a_manual_slot(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")  # P3: any time suits the customer
    offers = offers_of(client, case["id"])
    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in [offers["rule_offer"], *offers["offers"]]}
    slot = free_slot_not_offered(app, case["id"], offers["offers"][0]["garage"], offered)
    before = footprint(app)
    refused = book(auth, case["id"], slot)
    assert refused.status_code == 422
    assert refused.get_json()["error"]["code"] == "reason_required"
    assert refused.get_json()["error"]["details"]["kind"] == "manual_slot"
    assert footprint(app) == before, "a refusal writes nothing"
    made = book(auth, case["id"], slot, reason="Customer asked for this time")
    assert made.status_code == 201
    assert [o["kind"] for o in client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]] == ["manual_slot"]


@pytest.mark.parametrize("overbooking_allowed", [False, True])
def test_the_second_operator_on_a_slot_is_told_it_was_just_taken_with_fresh_offers(app, client, auth,
                                                                                   overbooking_allowed):
    # API.md: a taken slot is 409 slot_taken with fresh offers, whatever the policy says of overbooking (which, with
    # a reason, is a departure the operator chooses, not the answer to a race)
    auth.login("planner")
    assert auth.post("/api/v1/policy", json={"allow_overbook": overbooking_allowed}).status_code in (201, 400)
    auth.login("operator")
    first = open_case(auth, plate="AA-111-AA")
    second = open_case(auth, plate="BB-222-BB")
    best = offers_of(client, first["id"])["offers"][0]
    offers_of(client, second["id"])
    assert book(auth, first["id"], best).status_code == 201
    auth.login("operator2")
    before = footprint(app)
    refused = book(auth, second["id"], best)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "slot_taken" and "just taken" in error["message"]
    fresh = error["details"]["offers"]
    assert fresh and all((o["technician"], o["start"]) != (best["technician"], best["start"]) for o in fresh)
    assert footprint(app) == before
    assert client.get(f"/api/v1/cases/{second['id']}").get_json()["appointments"] == []
    assert book(auth, second["id"], fresh[0]).status_code == 201, "the fresh offer books"


def test_a_booked_case_is_never_silently_rebooked_and_a_double_submit_books_once(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    offers = offers_of(client, case["id"])["offers"]
    first = book(auth, case["id"], offers[0])
    assert first.status_code == 201
    booked = first.get_json()
    before = footprint(app)
    for _ in range(3):  # the same booking again through the API: 409 already_booked (its contract), nothing new
        again = book(auth, case["id"], offers[0])
        assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_booked")
        assert again.get_json()["error"]["details"]["appointment"]["id"] == booked["id"]
    later = datetime.fromisoformat(offers[0]["start"]) + timedelta(minutes=30)
    app.config["CLOCK"] = lambda: later  # a client's retry once the appointment has begun: still already booked
    auth.login("operator")
    again = book(auth, case["id"], offers[0])
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_booked"), again.get_json()
    app.config["CLOCK"] = lambda: CLOCK_NOW
    auth.login("operator")
    other = book(auth, case["id"], offers[1])
    assert (other.status_code, other.get_json()["error"]["code"]) == (409, "already_booked")
    assert other.get_json()["error"]["details"]["appointment"]["id"] == booked["id"]
    move = {k: offers[1][k] for k in ("garage", "technician", "start")}
    unexplained = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={**move, "replaces": booked["id"]})
    assert (unexplained.status_code, unexplained.get_json()["error"]["code"]) == (422, "reason_required")
    assert unexplained.get_json()["error"]["details"]["kind"] == "rebook"
    stale = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                      json={**move, "replaces": booked["id"] + 100000, "reason": "customer asked"})
    assert stale.status_code == 409
    assert footprint(app) == before
    moved = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                      json={**move, "replaces": booked["id"], "reason": "the customer can only come later"})
    assert moved.status_code == 201, moved.get_json()
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert sorted(a["status"] for a in read["appointments"]) == ["booked", "cancelled"]
    assert [o["kind"] for o in read["overrides"]] == ["rebook"]


@pytest.mark.parametrize("change, status, code", [
    ({"start": "tomorrow at nine"}, 400, "bad_request"),
    ({"start": "2026-11-24T09:00:00"}, 400, "bad_request"),
    ({"technician": "nobody"}, 400, "bad_request"),
    ({"garage": "atlantis"}, 400, "bad_request"),
    ({"start": "2001-01-01T09:00:00+01:00"}, 422, "rule_broken"),
])
def test_bad_bookings_say_what_is_wrong_and_write_nothing(app, client, auth, change, status, code):
    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    before = footprint(app)
    response = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={**best, **change})
    assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert footprint(app) == before


def test_who_may_book(client, auth):
    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    slot = {k: best[k] for k in ("garage", "technician", "start")}
    for username, status in (("workshop-lyon-07", 403), ("planner", 403), ("reception-lyon-07", 403)):
        auth.login(username)
        assert auth.post(f"/api/v1/cases/{case['id']}/appointments", json=slot).status_code == status
    auth.login("operator")
    assert auth.post("/api/v1/cases/999999/appointments", json=slot).status_code == 404
    assert client.delete("/api/v1/session", headers=auth.headers()).status_code == 204
    assert client.post(f"/api/v1/cases/{case['id']}/appointments", json=slot).status_code == 401


def test_reception_books_a_walk_in_at_its_own_garage_only(client, auth):
    auth.login("reception-givors")
    call = {"customer": {"name": "Ana", "phone": "+33 6 99 00 00 01"}, "vehicle": {"plate": "CC-333-CC", "model": "Clio"},
            "symptom": "engine_fault_stop"}
    case = auth.post("/api/v1/cases", json=call).get_json()
    offers = offers_of(client, case["id"])["offers"]
    here = next(o for o in offers if o["garage"] == "givors")
    elsewhere = next((o for o in offers if o["garage"] != "givors"), None)
    if elsewhere is not None:
        refused = book(auth, case["id"], elsewhere)
        assert refused.status_code == 403 and "own garage" in refused.get_json()["error"]["message"]
    made = book(auth, case["id"], here)
    assert made.status_code == 201 and made.get_json()["channel"] == "walk_in"


def two_walk_ins_at_givors(client, auth) -> tuple[dict, dict, dict]:
    """Reception at Givors opens two P1 walk-ins; returns the first, its earliest offer at Givors, the second."""
    auth.login("reception-givors")
    call = {"customer": {"name": "Ana", "phone": "+33 6 99 00 00 01"}, "vehicle": {"plate": "CC-333-CC", "model": "Clio"},
            "symptom": "engine_fault_stop"}
    case = auth.post("/api/v1/cases", json=call).get_json()
    here = next(o for o in offers_of(client, case["id"])["offers"] if o["garage"] == "givors")
    other = auth.post("/api/v1/cases", json={**call, "vehicle": {"plate": "DD-444-DD", "model": "Zoe"}}).get_json()
    return case, here, other


def test_reception_overbooks_its_own_technician_through_the_api_as_on_its_page(app, client, auth):
    """The page's "overbook" tick has its API twin: reception consents, gives a reason, the override is logged with
    the work it runs into as its cost. Without the consent a busy slot is 409; the call centre cannot
    consent for a garage."""
    # a car booked a quarter of an hour after the slot: the one overbooked onto it at the slot goes first
    case, here, other = two_walk_ins_at_givors(client, auth)
    after = {**here, "start": (datetime.fromisoformat(here["start"]) + timedelta(minutes=15)).isoformat()}
    made = book(auth, other["id"], after, reason="the customer waits at the counter")
    assert made.status_code == 201, made.get_json()
    busy = {k: here[k] for k in ("garage", "technician", "start")}
    path = f"/api/v1/cases/{case['id']}/appointments"
    auth.login("planner")  # the policy lets the call centre overbook: reception's consent is still its own tick
    assert auth.post("/api/v1/policy", json={"allow_overbook": True}).status_code == 201
    auth.login("reception-givors")
    assert auth.post(path, json={**busy, "reason": "x"}).status_code == 409
    assert auth.post(path, json={**busy, "reason": "x", "overbook": False}).status_code == 409
    unexplained = auth.post(path, json={**busy, "overbook": True})
    assert unexplained.status_code == 422 and unexplained.get_json()["error"]["code"] == "reason_required"
    assert auth.post(path, json={**busy, "overbook": "yes", "reason": "x"}).status_code == 400
    auth.login("operator")
    refused = auth.post(path, json={**busy, "overbook": True, "reason": "the foreman agreed"})
    assert refused.status_code == 403
    auth.login("reception-givors")
    made = auth.post(path, json={**busy, "overbook": True, "reason": "the foreman asks a colleague"})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["overbooked"] is True and made.get_json()["technician"] == here["technician"]
    overrides = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert [o["kind"] for o in overrides] == ["overbook"]
    assert overrides[0]["reason"] == "the foreman asks a colleague"
    first = auth.client.get(f"/api/v1/cases/{other['id']}").get_json()["appointments"][0]
    assert overrides[0]["moved"][0]["appointment"] == first["id"], "the work it runs into first is its cost"
    assert overrides[0]["knock_on_minutes"] > 0
    # the board says of each job whether, so delayed, it still ends within its technician's shift
    day = datetime.fromisoformat(here["start"]).astimezone(ZoneInfo("Europe/Paris")).date()
    board = client.get(f"/api/v1/garages/givors/board?day={day}").get_json()
    (row,) = [t for t in board["technicians"] if t["id"] == here["technician"]]
    shifts = [(datetime.fromisoformat(s["start"]), datetime.fromisoformat(s["end"])) for s in row["shifts"]]
    delayed = [j for j in row["appointments"] if j["waits_for_overlap_minutes"]]
    assert first["id"] in [j["id"] for j in delayed]
    for j in row["appointments"]:
        start, end = datetime.fromisoformat(j["start"]), datetime.fromisoformat(j["end"])
        shift_end = next(e for s, e in shifts if s <= start < e)
        assert j["ends_past_shift"] == (end + timedelta(minutes=j["waits_for_overlap_minutes"]) > shift_end)


def test_an_overbooking_behind_a_job_still_running_tells_its_customer_how_long_they_may_wait(app, client, auth):
    """Booked by hand a quarter of an hour into its technician's job, the car waits for that job to end: the
    confirmation says by how long at most, beside the time booked."""
    case, here, other = two_walk_ins_at_givors(client, auth)
    ahead = book(auth, other["id"], here).get_json()
    start = datetime.fromisoformat(here["start"]) + timedelta(minutes=15)
    made = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                     json={"garage": "givors", "technician": here["technician"], "start": start.isoformat(),
                           "overbook": True, "reason": "the foreman asks a colleague"})
    assert made.status_code == 201, made.get_json()
    wait = int((datetime.fromisoformat(ahead["end"]) - start).total_seconds() // 60)
    assert wait > 0
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == made.get_json()["id"],
                                                        Message.kind == "booked")).one()
        first = db.session.scalars(select(Message).where(Message.appointment_id == ahead["id"],
                                                         Message.kind == "booked")).one()
    assert f"jusqu’à {wait} minutes après l’heure prévue" in told.body
    assert "après l’heure prévue" not in first.body


def test_an_overbooking_behind_a_chain_of_overbookings_is_told_the_whole_wait_the_board_shows(app, client, auth):
    """A at its time, B overbooked half-way into it (so B runs after A), then C overbooked after A's booked end but
    inside B's: C waits for B as B really runs, not as it was booked (told 15 minutes, it waited 45)."""
    case, here, other = two_walk_ins_at_givors(client, auth)
    third = auth.post("/api/v1/cases", json={"customer": {"name": "Léa", "phone": "+33 6 98 00 00 02"}, "symptom": "engine_fault_stop",
                                            "vehicle": {"plate": "EE-555-EE", "model": "Twingo"}}).get_json()
    first = book(auth, other["id"], here).get_json()
    length = datetime.fromisoformat(first["end"]) - datetime.fromisoformat(first["start"])
    at = datetime.fromisoformat(here["start"])

    def overbook(case_id: int, start: datetime) -> dict:
        made = auth.post(f"/api/v1/cases/{case_id}/appointments",
                         json={"garage": "givors", "technician": here["technician"], "start": start.isoformat(),
                               "overbook": True, "reason": "squeezed in"})
        assert made.status_code == 201, made.get_json()
        return made.get_json()

    overbook(case["id"], at + length / 2)  # B begins when A is done: at + length
    last = overbook(third["id"], at + length * 5 / 4)  # after A's booked end, inside B as it runs
    wait = int((at + length * 2 - (at + length * 5 / 4)).total_seconds() // 60)
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == last["id"],
                                                        Message.kind == "booked")).one()
    assert f"jusqu’à {wait} minutes après l’heure prévue" in told.body


def test_a_booking_sent_with_any_offset_answers_in_utc_as_every_read_of_it_does(client, auth):
    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    start = datetime.fromisoformat(best["start"]).astimezone(ZoneInfo("Asia/Kolkata"))
    made = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                     json={"garage": best["garage"], "technician": best["technician"], "start": start.isoformat()})
    assert made.status_code == 201, made.get_json()
    assert made.get_json()["start"].endswith("+00:00") and made.get_json()["start"] == best["start"]
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()["appointments"][0]
    assert (read["start"], read["end"]) == (made.get_json()["start"], made.get_json()["end"])


def test_an_offset_whose_plus_an_address_left_unencoded_is_still_read(client, auth):
    auth.login("planner")
    stated = client.get("/api/v1/policy?at=2099-01-01T00:00:00+01:00".replace("+", "%2B")).get_json()
    assert client.get("/api/v1/policy?at=2099-01-01T00:00:00+01:00").get_json() == stated
    assert client.get("/api/v1/overrides?from=2026-01-01T00:00:00+01:00&to=2099-01-01T00:00+01:00").status_code == 200


def test_raising_urgency_needs_a_reason_recomputes_offers_and_is_logged(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    assert offers_of(client, case["id"])["target"]["urgency"] == "P3"
    before = footprint(app)
    for body, status, code in (({"urgency": "P1"}, 422, "reason_required"),
                               ({"urgency": "P0", "reason": "x"}, 400, "bad_request"),
                               ({"urgency": "P3", "reason": "x"}, 422, "rule_broken")):
        response = auth.post(f"/api/v1/cases/{case['id']}/urgency", json=body)
        assert (response.status_code, response.get_json()["error"]["code"]) == (status, code)
    assert footprint(app) == before
    raised = auth.post(f"/api/v1/cases/{case['id']}/urgency",
                       json={"urgency": "P1", "reason": "Brakes grinding, customer scared to drive"})
    assert raised.status_code == 200 and raised.get_json()["urgency"] == "P1"
    (override,) = raised.get_json()["overrides"]
    assert (override["kind"], override["urgency"], override["result"]) == ("urgency_raise", "P1", None)
    offers = offers_of(client, case["id"])
    assert offers["target"]["urgency"] == "P1" and offers["target"]["latest_start"]
    assert override["rule_offer"]["start"] == offers["rule_offer"]["start"]
    assert book(auth, case["id"], offers["offers"][0]).status_code == 201
    (settled,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert settled["result"]["start"] == offers["offers"][0]["start"] or \
        datetime.fromisoformat(settled["result"]["start"]) == datetime.fromisoformat(offers["offers"][0]["start"])
    lowered = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P2", "reason": "Checked: it drives"})
    assert [o["kind"] for o in lowered.get_json()["overrides"]] == ["urgency_raise", "urgency_lower"]
    auth.login("workshop-lyon-07")
    assert auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P1", "reason": "x"}).status_code == 403


def test_a_cancelled_case_takes_no_change_of_urgency_as_it_takes_no_booking(app, client, auth):
    """Raised after its booking was cancelled, a case logged an override that would stay pending for good."""
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    best = offers_of(client, case["id"])["offers"][0]
    made = book(auth, case["id"], best).get_json()
    auth.login(f"reception-{best['garage']}")
    assert auth.post(f"/api/v1/appointments/{made['id']}/cancel", json={}).status_code == 200
    auth.login("operator")
    before = footprint(app)
    for urgency in ("P1", "P2"):
        refused = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": urgency, "reason": "it got worse"})
        assert refused.status_code == 409, refused.get_json()
        assert "open a new case" in refused.get_json()["error"]["message"]
    assert footprint(app) == before
    assert client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"] == []


def test_booking_checks_the_lifts_of_the_chosen_slot_not_only_its_technician(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="brakes_failing")  # brake repair needs a lift
    best = offers_of(client, case["id"])["offers"][0]
    start = datetime.fromisoformat(best["start"])
    fill_lifts(app, best["garage"], start, spare=best["technician"], exclude_case=case["id"])
    before = footprint(app)
    refused = book(auth, case["id"], best, reason="the caller insists")
    assert refused.status_code == 409, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "slot_taken"
    assert all((o["garage"], o["start"]) != (best["garage"], best["start"]) for o in error["details"]["offers"])
    assert footprint(app) == before


def test_a_slot_taken_between_the_first_check_and_the_write_is_refused(app, client, auth, monkeypatch):
    """The first look at the chosen slot is a read anyone could beat: the check under the garage's lock (and the
    database's guard after it) decides. Here someone takes the technician while the booking computes its offers."""
    from datetime import timedelta

    from sqlalchemy import select

    from scheduler.models import Appointment, Case
    from scheduler.services import booking

    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    start = datetime.fromisoformat(best["start"])
    real = booking.desk_offers

    def offers_while_someone_books(session, *args, **kwargs):
        found = real(session, *args, **kwargs)
        other = session.scalars(select(Case).where(Case.id != case["id"]).order_by(Case.id)).first()
        session.add(Appointment(case=other, garage_id=best["garage"], technician_id=best["technician"],
                                start_at=start, end_at=start + timedelta(minutes=30), skill_code="maintenance"))
        session.flush()
        return found

    monkeypatch.setattr(booking, "desk_offers", offers_while_someone_books)
    before = footprint(app)
    refused = book(auth, case["id"], best)
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["code"] == "slot_taken"
    assert footprint(app) == before, "nothing written, the other booking rolled back with the refusal"
    with app.app_context():
        assert not list(db.session.scalars(select(Appointment).where(Appointment.case_id == case["id"])))


def test_a_refused_booking_searches_the_network_once_for_its_fresh_offers(app, client, auth, monkeypatch):
    from scheduler.services import booking

    auth.login("operator")
    first, second = open_case(auth, plate="AA-111-AA"), open_case(auth, plate="BB-222-BB")
    best = offers_of(client, first["id"])["offers"][0]
    assert book(auth, first["id"], best).status_code == 201
    calls = []
    real = booking.case_offers
    monkeypatch.setattr(booking, "case_offers", lambda *a, **k: calls.append(1) or real(*a, **k))
    refused = book(auth, second["id"], best)
    assert refused.status_code == 409 and refused.get_json()["error"]["details"]["offers"]
    assert len(calls) == 1


def test_a_refusal_is_worded_without_reading_the_user_again(app, client, auth):
    """The refusal is worded in the language loaded with the user: reading the user again after the rollback opened
    a new transaction for it (on SQLite a write one, behind every other writer: under load the 409 became a 500)."""
    from sqlalchemy import event

    auth.login("operator")
    first, second = open_case(auth, plate="CC-333-CC"), open_case(auth, plate="DD-444-DD")
    best = offers_of(client, first["id"])["offers"][0]
    assert book(auth, first["id"], best).status_code == 201
    with app.app_context():
        engine = db.engine
    statements = []

    def seen(_conn, _cursor, statement, *_):
        statements.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        refused = book(auth, second["id"], best)
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "slot_taken"
    assert any("JOIN app_user" in s for s in statements), "the user comes with the session"
    assert not [s for s in statements if "FROM app_user WHERE" in s], "and is not read again to word the refusal"


def test_a_policy_that_keeps_today_from_the_call_centre_offers_a_p2_tomorrow_but_a_p1_today(client, auth):
    """same_day_visible: the planner's lever. Unticked, a P2's offers and rule offer start tomorrow (the garages
    keep today for walk-ins); booking today's free slot is then a departure that needs a reason. A P1 is always
    offered today."""
    auth.login("operator")
    p2 = open_case(auth, plate="SD-222-PP", symptom="brake_noise")["id"]
    zone = ZoneInfo("Europe/Paris")
    today = CLOCK_NOW.astimezone(zone).date()
    before = client.get(f"/api/v1/cases/{p2}/offers").get_json()
    starts = [datetime.fromisoformat(o["start"]).astimezone(zone).date() for o in before["offers"]]
    assert today in starts  # the lever bites: today's slots were offered while visible
    today_slot = next(o for o in before["offers"] if datetime.fromisoformat(o["start"]).astimezone(zone).date() == today)
    auth.login("planner")
    # no notice for a P2, every garage for the rules: they alone offer today, so keeping today makes them later
    assert auth.post("/api/v1/policy", json={"rule": {"garages": 14, "min_notice_minutes": {"P2": 0}}}).status_code \
        == 201
    auth.login("operator")
    ruled = client.get(f"/api/v1/cases/{p2}/offers").get_json()["rule_offer"]
    assert datetime.fromisoformat(ruled["start"]).astimezone(zone).date() == today
    auth.login("planner")
    assert auth.post("/api/v1/policy", json={"same_day_visible": False}).status_code == 201
    auth.login("operator")
    after = client.get(f"/api/v1/cases/{p2}/offers").get_json()
    assert after["offers"] and all(datetime.fromisoformat(o["start"]).astimezone(zone).date() > today
                                   for o in after["offers"])
    assert datetime.fromisoformat(after["rule_offer"]["start"]).astimezone(zone).date() > today
    assert after["rule_offer"]["reasons"][0]["code"] == "same_day"  # why the rules offer no earlier, said
    refused = auth.post(f"/api/v1/cases/{p2}/appointments",
                        json={k: today_slot[k] for k in ("garage", "technician", "start")})
    assert refused.status_code == 422 and refused.get_json()["error"]["details"]["kind"] == "manual_slot"
    p1 = open_case(auth, plate="SD-111-PP")["id"]
    urgent = client.get(f"/api/v1/cases/{p1}/offers").get_json()
    auth.login("reception-lyon-07")  # a walk-in is at the counter: the call centre's rule on today is not theirs
    walk_in = auth.post("/api/v1/cases", json={"customer": {"name": "Léa Roux", "phone": "+33 6 11 22 33 44"},
                                               "vehicle": {"plate": "SD-333-PP", "model": "Clio"},
                                               "symptom": "brake_noise"}).get_json()["id"]
    counter = client.get(f"/api/v1/cases/{walk_in}/offers").get_json()["rule_offer"]
    assert datetime.fromisoformat(counter["start"]).astimezone(zone).date() == today
    assert "same_day" not in [r["code"] for r in counter["reasons"]]
    assert datetime.fromisoformat(urgent["offers"][0]["start"]).astimezone(zone).date() == today


def test_a_p1_reserve_moves_the_rule_offer_of_other_work_to_a_day_that_keeps_it_free(app, client, auth):
    """p1_reserve_minutes: the rules give work other than a P1 the first garage-day that still has the reserve
    free after it (as a replay plays them); the board's own count of free time agrees. A P1 is not held back."""
    from scheduler.models import Garage
    from scheduler.services import boards

    auth.login("operator")
    p2 = open_case(auth, plate="RS-222-PP", symptom="brake_noise")["id"]
    before = client.get(f"/api/v1/cases/{p2}/offers").get_json()["rule_offer"]
    p1 = open_case(auth, plate="RS-111-PP")["id"]
    urgent = client.get(f"/api/v1/cases/{p1}/offers").get_json()["rule_offer"]
    auth.login("planner")
    assert auth.post("/api/v1/policy", json={"p1_reserve_minutes": 1440}).status_code == 201
    auth.login("operator")
    after = client.get(f"/api/v1/cases/{p2}/offers").get_json()["rule_offer"]
    assert after["start"] > before["start"] and "p1_reserve" in [r["code"] for r in after["reasons"]]
    assert client.get(f"/api/v1/cases/{p1}/offers").get_json()["rule_offer"]["start"] == urgent["start"]
    zone = ZoneInfo("Europe/Paris")
    duration = (datetime.fromisoformat(after["end"]) - datetime.fromisoformat(after["start"])).total_seconds() // 60
    with app.app_context():
        def free(slot) -> int:
            garage = db.session.get(Garage, slot["garage"])
            day = boards.garage_day(db.session, garage, datetime.fromisoformat(slot["start"]).astimezone(zone).date(),
                                    CLOCK_NOW)
            return sum(row.free_minutes_after(CLOCK_NOW) for row in day.rows)
        assert free(before) - duration < 1440 <= free(after) - duration


def test_a_booking_moved_before_its_messages_went_withdraws_them_so_the_customer_hears_only_what_holds(app, client,
                                                                                                     auth):
    from sqlalchemy import select

    from scheduler.models import Message

    auth.login("operator")
    case = open_case(auth, plate="MV-123-EE", symptom="brake_noise")["id"]
    offers = client.get(f"/api/v1/cases/{case}/offers").get_json()["offers"]
    first = auth.post(f"/api/v1/cases/{case}/appointments", json={k: offers[0][k] for k in ("garage", "technician",
                                                                                           "start")}).get_json()
    moves = []
    for offer in (offers[2], offers[4]):
        moved = auth.post(f"/api/v1/cases/{case}/appointments", json={
            **{k: offer[k] for k in ("garage", "technician", "start")}, "replaces": (moves[-1] if moves else first)["id"],
            "reason": "the customer asked for later"})
        assert moved.status_code == 201, moved.get_json()
        moves.append(moved.get_json())
    with app.app_context():
        told = {(m.appointment_id, m.kind): (m.status, m.last_error) for m in db.session.scalars(
            select(Message).where(Message.case_id == case))}
        from scheduler.services import outbox

        due = {m.id for m in outbox.due(db.session, CLOCK_NOW + timedelta(days=1))}
        withdrawn = db.session.scalars(select(Message.id).where(Message.case_id == case,
                                                                Message.status == "failed")).all()
    superseded = ("failed", "superseded: its booking was replaced before it went")  # API.md: queued, sent, failed
    assert told[(first["id"], "booked")] == superseded and told[(moves[0]["id"], "moved")] == superseded
    assert told[(moves[1]["id"], "moved")] == ("queued", ""), "only the booking that holds is told"
    with app.app_context():  # and its message carries the feedback link the withdrawn confirmation had
        assert "/feedback/" in db.session.scalar(select(Message.body).where(Message.appointment_id == moves[1]["id"]))
    assert withdrawn and not due & set(withdrawn), "never tried again"
    auth.login(f"reception-{offers[0]['garage']}")  # the garage's outbox says why, in the reader's words
    page = client.get(f"/garages/{offers[0]['garage']}/outbox?status=failed").get_data(as_text=True)
    assert "its booking was replaced before it went: never sent" in page and "superseded:" not in page
    one = client.get(f"/garages/{offers[0]['garage']}/outbox/{withdrawn[0]}").get_data(as_text=True)
    assert "its booking was replaced before it went: never sent" in one and "superseded:" not in one, "nor on its page"


def test_a_p1_looked_at_days_after_its_call_is_due_the_day_of_the_call_not_the_day_it_is_looked_at(app, client, auth):
    """The target counts from the call: a P1 left unbooked until two working days later has missed it, and booking
    it then is a departure from the rules that needs a reason, not an "on target" booking."""
    auth.login("operator")
    case = open_case(auth)
    called = offers_of(client, case["id"])["target"]["latest_start"]
    later = CLOCK_NOW + timedelta(days=2)
    app.config["CLOCK"] = lambda: later
    auth.login("operator")  # a session idle for two days has ended
    try:
        offers = offers_of(client, case["id"])
        assert offers["target"]["latest_start"] == called
        assert offers["target"]["met"] is False
        refused = book(auth, case["id"], offers["offers"][0])
        assert refused.status_code == 422, refused.get_json()
        assert refused.get_json()["error"]["code"] == "reason_required"
        assert "P1 target" in refused.get_json()["error"]["message"]
        made = book(auth, case["id"], offers["offers"][0], reason="Customer unreachable until today")
        assert made.status_code == 201
        (override,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
        assert override["kind"] == "manual_slot"
    finally:
        app.config["CLOCK"] = lambda: CLOCK_NOW


def test_after_an_urgency_raise_the_target_counts_from_the_raise(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="oil_change")
    assert offers_of(client, case["id"])["target"]["latest_start"] is None, "a P3 has no target"
    later = CLOCK_NOW + timedelta(days=2)
    app.config["CLOCK"] = lambda: later
    auth.login("operator")  # a session idle for two days has ended
    try:
        raised = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P1", "reason": "Smoke now"})
        assert raised.status_code == 200, raised.get_json()
        target = offers_of(client, case["id"])["target"]
        due = datetime.fromisoformat(target["latest_start"])
        assert later < due <= later + timedelta(days=4), "due the working day of the raise, not of the call"
        looked_at = due + timedelta(days=1)  # looked at again after that day: due then still, and missed
        app.config["CLOCK"] = lambda: looked_at
        auth.login("operator")
        again = offers_of(client, case["id"])["target"]
        assert (again["latest_start"], again["met"]) == (target["latest_start"], False)
        # the direct line judges a garage's yes by the same target, however late the garage is asked
        asked = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "today?"})
        assert asked.status_code == 201, asked.get_json()
        from scheduler.models import DirectLineRequest
        from scheduler.services import direct_line
        with app.app_context():
            request = db.session.get(DirectLineRequest, asked.get_json()["id"])
            assert direct_line.target_of(db.session, request).latest_start == due
    finally:
        app.config["CLOCK"] = lambda: CLOCK_NOW


def test_moving_a_booking_to_where_it_already_is_moves_nothing_and_logs_no_override(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    best = offers_of(client, case["id"])["offers"][0]
    made = book(auth, case["id"], best)
    assert made.status_code == 201
    appointment = made.get_json()
    before = footprint(app)
    again = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={
        **{k: appointment[k] for k in ("garage", "technician", "start")}, "replaces": appointment["id"],
        "reason": "same"})
    assert again.status_code == 409, again.get_json()
    error = again.get_json()["error"]
    assert error["code"] == "already_booked" and "nothing to move" in error["message"]
    assert error["details"]["appointment"]["id"] == appointment["id"]
    assert footprint(app) == before, "no new booking, no cancellation, no rebook override"


def test_the_rule_offers_why_not_earlier_reads_in_the_readers_language_from_its_reasons(client, auth):
    """The engine's note is English prose with garage ids ("only the first 1 garage(s) are looked at (vaulx is free
    at ...)"); the API says it as the desk's page does, from the reasons it carries, in the reader's language."""
    auth.login("operator")
    case = open_case(auth, symptom="warning_light")
    said = {}
    for language in ("en", "fr"):
        body = client.get(f"/api/v1/cases/{case['id']}/offers", headers={"Accept-Language": language}).get_json()
        rule = body["rule_offer"]
        assert rule["reasons"], "the facts stay as they are"
        said[language] = rule["late_because"]
    assert "(s)" not in said["en"] and said["en"] != said["fr"]
    assert any(word in said["fr"] for word in ("préavis", "garage", "technicien", "pont", "client", "rien")), said


def test_a_decision_whose_booking_was_replaced_is_judged_when_the_cases_work_starts(app, client, auth):
    """DESIGN.md judges an override by when the work started: rebooking does not leave the first decision
    pending for ever; it keeps the booking it produced as its result."""
    auth.login("operator")
    case = open_case(auth)
    offers = offers_of(client, case["id"])
    late = book(auth, case["id"], offers["rule_offer"], reason="Customer cannot come before")
    assert late.status_code == 201, late.get_json()
    best = offers["offers"][0]
    moved = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={
        **{k: best[k] for k in ("garage", "technician", "start")}, "replaces": late.get_json()["id"],
        "reason": "Customer can come now after all"})
    assert moved.status_code == 201, moved.get_json()
    started_at = datetime.fromisoformat(best["start"]) + timedelta(minutes=5)
    app.config["CLOCK"] = lambda: started_at
    auth.login(f"workshop-{best['garage']}")
    started = auth.post(f"/api/v1/appointments/{moved.get_json()['id']}/start")
    assert started.status_code == 200, started.get_json()

    auth.login("planner")
    listed = {o["kind"]: o for o in client.get("/api/v1/overrides").get_json() if o["case"] == case["id"]}
    first, second = listed["manual_slot"], listed["rebook"]
    assert datetime.fromisoformat(first["actual_start"]) == datetime.fromisoformat(second["actual_start"]) \
        == started_at
    assert first["result"]["start"] == late.get_json()["start"], "its own booking stays its result"
    assert second["result"]["start"] == moved.get_json()["start"]
    rule_start = datetime.fromisoformat(offers["rule_offer"]["start"])
    assert first["gain_minutes"] == round((rule_start - started_at).total_seconds() / 60)
    assert first["verdict"] != "pending" and second["verdict"] != "pending"


def test_another_technician_at_the_same_time_leaves_the_customer_a_confirmation(app, client, auth):
    """Rebooked with another technician at the same time and place before its confirmation went, the case's only
    message was superseded and none written: the customer had no confirmation at all."""
    from scheduler.models import Appointment, Technician

    auth.login("operator")
    case = open_case(auth, symptom="oil_change")
    offer = offers_of(client, case["id"])["offers"][0]
    first = book(auth, case["id"], offer).get_json()
    with app.app_context():
        booked = db.session.get(Appointment, first["id"])
        other = next(t for t in db.session.scalars(select(Technician).where(Technician.garage_id == offer["garage"]))
                     if t.id != offer["technician"] and booked.skill_code in t.skill_codes and t.active)
        for a in db.session.scalars(select(Appointment).where(  # a colleague free then: their work there called off
                Appointment.technician_id == other.id, Appointment.start_at < booked.end_at,
                Appointment.end_at > booked.start_at)):
            a.status = "cancelled"
        other_id = other.id
        db.session.commit()
    moved = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={
        "garage": offer["garage"], "technician": other_id, "start": offer["start"], "replaces": first["id"],
        "reason": "the customer knows this technician"})
    assert moved.status_code == 201, moved.get_json()
    with app.app_context():
        told = [(m.appointment_id, m.kind, m.status) for m in db.session.scalars(
            select(Message).where(Message.case_id == case["id"]).order_by(Message.id))]
        db.session.rollback()
    assert told == [(first["id"], "booked", "failed"), (moved.get_json()["id"], "booked", "queued")], told
