"""Moving a booked case: never one click; a confirmation with a reason; the first garage and the customer told."""

from __future__ import annotations

import re
from html import unescape

from tests.conftest import Auth
from tests.web.pages import csrf_from
from tests.web.story import footprint
from tests.web.test_desk_pages import open_call


def _booked_case(client, auth):
    case_id, page = open_call(client, auth, symptom="annual_service")
    offers = client.get(f"/api/v1/cases/{case_id}/offers").get_json()["offers"]
    first = {k: offers[0][k] for k in ("garage", "technician", "start")}
    booked = client.post(f"/desk/cases/{case_id}/book", data={"csrf_token": csrf_from(page), **first,
                                                              "source": "offer"}, follow_redirects=True)
    assert "Booked:" in booked.get_data(as_text=True)
    return case_id, offers, booked.get_data(as_text=True)


def test_a_booked_case_shows_no_one_click_booking_and_moving_asks_first(app, client, auth):
    case_id, offers, page = _booked_case(client, auth)
    assert ">Book</button>" not in page and "Move here…" in page
    move_link = re.search(r'<form method="get" action="([^"]+/move)"', page).group(1)
    other = next(o for o in offers[1:] if o["garage"] != offers[0]["garage"])
    asked = {"garage": other["garage"], "technician": other["technician"], "start": other["start"], "source": "offer"}
    before = footprint(app)
    confirm = client.get(move_link, query_string=asked)
    assert confirm.headers["Cache-Control"] == "no-store", "Back asks the server again"
    confirm = confirm.get_data(as_text=True)
    assert "Move this booking" in confirm and "Keep the booking as it is" in confirm
    assert 'name="reason" required' in confirm and 'name="replaces"' in confirm
    assert footprint(app) == before, "showing the confirmation changes nothing"
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', confirm))
    fields = {k: unescape(v) for k, v in fields.items()}
    silent = client.post(f"/desk/cases/{case_id}/book", data=fields, follow_redirects=True).get_data(as_text=True)
    assert "Give a reason" in silent and footprint(app) == before
    moved = client.post(f"/desk/cases/{case_id}/book", data={**fields, "reason": "Customer works near the other garage"},
                        follow_redirects=True).get_data(as_text=True)
    assert "Moved:" in moved
    # Back to the confirmation once moved: nothing is left to decide there (it offered the same move again)
    back = client.get(move_link, query_string=asked)
    assert back.status_code == 302 and back.headers["Location"].endswith(f"/desk/cases/{case_id}")
    assert "The booking is already at" in client.get(back.headers["Location"]).get_data(as_text=True)
    read = client.get(f"/api/v1/cases/{case_id}").get_json()
    assert sorted((a["garage"], a["status"]) for a in read["appointments"]) == sorted(
        [(offers[0]["garage"], "cancelled"), (other["garage"], "booked")])
    assert [o["kind"] for o in read["overrides"]] == ["rebook"]

    # the first garage is told in its inbox, the customer's message is queued
    garage = app.test_client()
    Auth(garage).login(f"reception-{offers[0]['garage']}")
    board = garage.get(f"/garages/{offers[0]['garage']}/board").get_data(as_text=True)
    assert "Moved away from you" in board and "GH-123-JK" in board
    assert "Customer works near the other garage" in board
    told = garage.get(f"/api/v1/garages/{offers[0]['garage']}/board").get_json()["notices"]
    assert told[0]["case"] == case_id and told[0]["data"]["to_garage"] == other["garage"]
    from scheduler.models import Message
    from web.extensions import db

    with app.app_context():
        kinds = [m.kind for m in db.session.query(Message).filter_by(case_id=case_id).order_by(Message.id)]
    assert kinds == ["booked", "moved"]


def test_moving_a_booking_the_garage_accepted_says_so_first(app, client, auth):
    case_id, page = open_call(client, auth)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today?"})
    request_id = client.get("/api/v1/direct-line").get_json()[0]["id"]
    workshop = Auth(app.test_client())
    workshop.login("workshop-lyon-07")
    found = client.get(f"/api/v1/cases/{case_id}/offers").get_json()
    offers, slot = found["offers"], found["rule_offer"]
    assert slot["garage"] == "lyon-07"
    answered = workshop.post(f"/api/v1/direct-line/{request_id}/answer",
                             json={"accept": True, "start": slot["start"], "technician": slot["technician"]})
    assert answered.status_code == 200, answered.get_json()
    other = next(o for o in offers if o["garage"] != "lyon-07")
    confirm = client.get(f"/desk/cases/{case_id}/move", query_string={
        "garage": other["garage"], "technician": other["technician"], "start": other["start"], "source": "offer"})
    text = confirm.get_data(as_text=True)
    assert "Lyon 7e Gerland accepted this booking on the direct line and fixed it (pinned)" in text
    assert "Moving it cancels what they agreed to" in text


def test_a_book_click_on_a_page_from_before_the_booking_asks_to_confirm_a_move(app, client, auth):
    case_id, offers, page = _booked_case(client, auth)
    stale = {k: offers[1][k] for k in ("garage", "technician", "start")}
    before = footprint(app)
    answer = client.post(f"/desk/cases/{case_id}/book", data={"csrf_token": csrf_from(page), **stale,
                                                              "source": "offer"})
    assert answer.status_code == 302 and "/move?" in answer.headers["Location"]
    confirm = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "booked meanwhile" in confirm and "Move this booking" in confirm
    assert footprint(app) == before


def test_the_case_page_is_drawn_again_when_the_case_is_booked_elsewhere(app, client, auth):
    case_id, page = open_call(client, auth, symptom="annual_service")
    poll = re.search(r'hx-get="([^"]+/live\?[^"]+)"', page).group(1).replace("&amp;", "&")
    assert "booked=0" in poll and client.get(poll).status_code == 204
    colleague = Auth(app.test_client())
    colleague.login("operator2")
    best = colleague.client.get(f"/api/v1/cases/{case_id}/offers").get_json()["offers"][0]
    slot = {k: best[k] for k in ("garage", "technician", "start")}
    assert colleague.post(f"/api/v1/cases/{case_id}/appointments", json=slot).status_code == 201
    stale = client.get(poll)
    assert stale.status_code == 200 and stale.headers.get("HX-Refresh") == "true", "its Book buttons are stale"
    fresh = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    again = re.search(r'hx-get="([^"]+/live\?[^"]+)"', fresh).group(1).replace("&amp;", "&")
    assert client.get(again).status_code == 204 and ">Book</button>" not in fresh


def test_moving_to_a_past_day_is_refused_before_a_reason_is_asked(app, client, auth):
    case_id, offers, page = _booked_case(client, auth)
    move_link = re.search(r'<form method="get" action="([^"]+/move)"', page).group(1)
    before = footprint(app)
    refused = client.get(move_link, query_string={"garage": offers[0]["garage"], "source": "typed",
                                                  "day": "2020-01-01", "time": "10:00"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Move this booking" not in text
    assert "That start is in the past" in text
    assert footprint(app) == before


def _next_booked_at_lyon_07():
    """The garage's next booking still to come (within an app context)."""
    from sqlalchemy import select

    from scheduler.models import Appointment
    from tests.conftest import CLOCK_NOW
    from web.extensions import db

    return db.session.scalar(select(Appointment).where(
        Appointment.garage_id == "lyon-07", Appointment.status == "booked", Appointment.start_at > CLOCK_NOW)
        .order_by(Appointment.start_at).limit(1))


def test_reception_s_move_page_lists_the_free_times_of_the_day_the_customer_asks_for(app, client, auth):
    from datetime import datetime, timedelta

    from tests.conftest import CLOCK_NOW

    with app.app_context():
        booked = _next_booked_at_lyon_07()
        booked_id, zone = booked.id, booked.garage.zone
    auth.login("reception-lyon-07")
    asked = (CLOCK_NOW + timedelta(days=9)).astimezone(zone).date()
    page = client.get(f"/garages/lyon-07/appointments/{booked_id}/move", query_string={"day": asked.isoformat()})
    starts = [datetime.fromisoformat(v.split("|")[1]) for v in
              re.findall(r'name="slot" value="([^"]+)"', page.get_data(as_text=True))]
    assert starts and min(s.astimezone(zone).date() for s in starts) >= asked, starts
    assert f'name="day" value="{asked.isoformat()}"' in page.get_data(as_text=True)
    bad = client.get(f"/garages/lyon-07/appointments/{booked_id}/move", query_string={"day": "someday"},
                     follow_redirects=True)
    assert bad.status_code == 200 and "Pick a day" in bad.get_data(as_text=True)


def test_confirming_a_move_to_where_the_booking_already_is_says_there_is_nothing_to_move(app, client, auth):
    case_id, _offers, page = _booked_case(client, auth)
    current = client.get(f"/api/v1/cases/{case_id}").get_json()["appointments"][0]
    before = footprint(app)
    answer = client.post(f"/desk/cases/{case_id}/book", data={
        "csrf_token": csrf_from(page), **{k: current[k] for k in ("garage", "technician", "start")},
        "source": "offer", "replaces": str(current["id"]), "reason": "the caller asked"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/desk/cases/{case_id}"), \
        "back to the case, not to the move's confirmation again"
    said = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "nothing to move" in said and "booked meanwhile" not in said
    assert footprint(app) == before


def test_reception_s_move_page_says_how_this_customer_hears_of_the_new_time(app, client, auth):
    from scheduler.models import Appointment
    from web.extensions import db

    with app.app_context():
        booked = _next_booked_at_lyon_07()
        booked_id, customer = booked.id, booked.case.customer
        customer.email = "lea.martin@example.org"
        db.session.commit()
    auth.login("reception-lyon-07")
    page = unescape(client.get(f"/garages/lyon-07/appointments/{booked_id}/move").get_data(as_text=True))
    assert "e-mailed to the customer (lea.martin@example.org)" in page and "no e-mail address" not in page
    with app.app_context():
        db.session.get(Appointment, booked_id).case.customer.email = None
        db.session.commit()
        phone = db.session.get(Appointment, booked_id).case.customer.phone
    page = unescape(client.get(f"/garages/lyon-07/appointments/{booked_id}/move").get_data(as_text=True))
    assert f"no e-mail address: call them at {phone}" in page and "e-mailed" not in page
