"""The desk and the direct-line inbox as pages: what the operator and the garage see and do."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date

from scheduler.services import capacity
from tests.conftest import CLOCK_NOW, Auth
from tests.web.pages import csrf_from
from tests.web.story import open_case
from web.extensions import db

PARIS = ZoneInfo("Europe/Paris")


def later_today_on_shift(app, technician_id: str, minutes: int) -> datetime:
    """A local start later today within the technician's shift: what a foreman would pick."""
    from scheduler.models import Technician
    from web.extensions import db

    with app.app_context():
        technician = db.session.get(Technician, technician_id)
        today = CLOCK_NOW.astimezone(PARIS).date()
        for start, end in capacity.shifts(technician, today):
            start = max(start, (CLOCK_NOW + timedelta(minutes=30)).astimezone(PARIS).replace(second=0, microsecond=0))
            if start + timedelta(minutes=minutes) <= end:
                return start
    raise AssertionError(f"{technician_id} has no shift time left today")


def open_call(client, auth, plate="GH-123-JK", symptom="engine_fault_stop", near="lyon-07", email=""):
    auth.login("operator")
    desk = client.get("/desk/").get_data(as_text=True)
    response = client.post("/desk/cases", data={
        "csrf_token": csrf_from(desk), "name": "Marc Petit", "phone": "+33 6 12 34 56 78", "plate": plate,
        "model": "Peugeot 308", "symptom": symptom, "near": near, "note": "", "email": email})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    case_url = response.headers["Location"]
    return int(case_url.rstrip("/").split("/")[-1]), client.get(case_url).get_data(as_text=True)


def test_a_call_opens_a_case_with_the_rule_offer_stated_plainly_beside_the_offers(client, auth):
    case_id, page = open_call(client, auth)
    rule = client.get(f"/api/v1/cases/{case_id}/offers").get_json()["rule_offer"]
    days = round((datetime.fromisoformat(rule["start"]) - CLOCK_NOW).total_seconds() / 86400)
    assert "Standard rules" in page and "Lyon 7e Gerland" in page
    assert re.search(rf"in {days} days", page), "the wait is said the way an operator says it"
    assert page.count(">Book</button>") >= 1 and "Send on the direct line" in page
    assert "Announce a drive-in" in page


def test_the_p1_guard_stops_silent_booking_when_even_the_best_offer_is_late(app, client, auth):
    # late afternoon: the garages are open, but no shift has an hour left today
    late = datetime.combine(CLOCK_NOW.astimezone(PARIS).date(), time(17, 15), PARIS)
    app.config["CLOCK"] = lambda: late
    case_id, page = open_call(client, auth)
    assert "P1 guard" in page and "even the best offer misses it" in page
    assert ">Book</button>" not in page, "no one-click booking of a late offer for a P1"
    assert "Book anyway" in page and 'name="reason" required' in page
    form = re.search(r'<form method="post" action="[^"]*/book" class="lever" id="book-anyway">(.*?)</form>', page, re.DOTALL)
    fields = dict(re.findall(r'name="(garage|technician|start)" value="([^"]+)"', form.group(1)))
    silent = client.post(f"/desk/cases/{case_id}/book", data={"csrf_token": csrf_from(page), **fields},
                         follow_redirects=True).get_data(as_text=True)
    assert "Give a reason" in silent
    assert client.get(f"/api/v1/cases/{case_id}").get_json()["appointments"] == []
    booked = client.post(f"/desk/cases/{case_id}/book", data={"csrf_token": csrf_from(page), **fields,
                                                              "reason": "Customer can wait, car is safe"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Booked:" in booked
    assert [o["kind"] for o in client.get(f"/api/v1/cases/{case_id}").get_json()["overrides"]] == ["manual_slot"]
    assert "P1 guard" in client.get(f"/desk/cases/{case_id}").get_data(as_text=True), "its booking misses it too"
    # a garage squeezes it in at 17:30 after all (an overbooking): booked in time, the alarm is over, though every
    # offer still misses the target (the walkthrough's operator, still alarmed, put it on the line again)
    from scheduler.models import Appointment

    with app.app_context():
        (held,) = db.session.query(Appointment).filter_by(case_id=case_id).all()
        length = held.end_at - held.start_at
        held.start_at, held.end_at = late + timedelta(minutes=15), late + timedelta(minutes=15) + length
        db.session.commit()
    page = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    assert "even the best offer misses it" in page
    assert "P1 guard" not in page and "P1 levers" in page


def test_a_p1_called_after_closing_is_due_the_next_working_day_not_already_late(app, client, auth):
    evening = datetime.combine(CLOCK_NOW.astimezone(PARIS).date(), time(19, 30), PARIS)
    app.config["CLOCK"] = lambda: evening
    _case_id, page = open_call(client, auth)
    assert "P1 guard" not in page and "the best offer meets it" in page
    tomorrow = format_date(evening.date() + timedelta(days=1), "EEEE d MMMM y", locale="en")
    assert f"P1 target: started by the end of {tomorrow}" in page
    assert f"Can you take it on {tomorrow}?" in page, "the direct-line message does not ask for a closed day"
    assert not re.search(r"Why not earlier:[^<]*\d{4}-\d{2}-\d{2}", page), "times are said as people say them"


def test_a_slot_taken_meanwhile_is_said_on_the_page_and_fresh_offers_show(client, auth):
    first, _page = open_call(client, auth, plate="AA-111-AA")
    second, second_page = open_call(client, auth, plate="BB-222-BB")
    best = client.get(f"/api/v1/cases/{first}/offers").get_json()["offers"][0]
    slot = {k: best[k] for k in ("garage", "technician", "start")}
    # logging in again (for the second call) renewed the session: the newest page's token is the valid one
    assert client.post(f"/desk/cases/{first}/book", data={"csrf_token": csrf_from(second_page), **slot}).status_code == 302
    again = client.post(f"/desk/cases/{second}/book", data={"csrf_token": csrf_from(second_page), **slot},
                        follow_redirects=True).get_data(as_text=True)
    assert "Slot just taken" in again and "Offers" in again


def test_the_garage_sees_the_request_arrive_by_polling_and_answers_it(app, client, auth):
    case_id, page = open_call(client, auth)
    workshop = app.test_client()  # another person, another browser
    Auth(workshop).login("workshop-lyon-07")
    jobs = workshop.get("/garages/lyon-07/jobs").get_data(as_text=True)
    assert "No request waiting" in jobs
    poll = re.search(r'hx-get="([^"]+/direct-line/inbox\?v=[^"]+)"', jobs).group(1).replace("&amp;", "&")
    assert workshop.get(poll).status_code == 204, "nothing new: the panel is left alone"

    sent = client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "P1 engine fault, can you take it today?"},
        follow_redirects=True).get_data(as_text=True)
    assert "Waiting for Lyon 7e Gerland" in sent
    operator_poll = re.search(r'hx-get="([^"]+/live\?v=[^"]+)"', sent).group(1).replace("&amp;", "&")
    assert client.get(operator_poll).status_code == 204

    arrived = workshop.get(poll)
    assert arrived.status_code == 200
    panel = arrived.get_data(as_text=True)
    assert "GH-123-JK" in panel and "P1 engine fault" in panel and "Standard rules would give" in panel
    request_id = re.search(r"/direct-line/(\d+)/answer", panel).group(1)
    technician = re.search(r'<select name="technician"><option value="([^"]+)"', panel).group(1)
    back_to = re.search(r'name="next" value="([^"]+)"', panel).group(1)
    assert back_to == "/garages/lyon-07/jobs", "the workshop goes back to its job list, not a board it cannot see"
    answer_at = later_today_on_shift(app, technician, minutes=60)
    accepted = workshop.post(f"/garages/lyon-07/direct-line/{request_id}/answer", data={
        "csrf_token": csrf_from(jobs), "decision": "accept", "time": f"{answer_at:%H:%M}", "technician": technician,
        "overbook": "yes", "reason": "the foreman asks a colleague", "next": back_to}, follow_redirects=True)
    assert accepted.status_code == 200
    assert "Accepted:" in accepted.get_data(as_text=True) and "No request waiting" in accepted.get_data(as_text=True)
    # answered: when the car is booked and with whom; the overbooking's reason reads as a quote, not the answer
    done = accepted.get_data(as_text=True).split("Answered or closed in the last 12 hours", 1)[1].split("</details>", 1)[0]
    assert f"· {answer_at:%H:%M} with " in done and "— “the foreman asks a colleague”" in done

    live = client.get(operator_poll)
    assert live.status_code == 200
    text = live.get_data(as_text=True)
    assert "Lyon 7e Gerland accepted" in text and "Booked" in text


def test_a_garage_cannot_answer_for_another(client, auth):
    case_id, page = open_call(client, auth)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today?"})
    request_id = client.get("/api/v1/direct-line").get_json()[0]["id"]
    auth.login("reception-lyon-03")
    board = client.get("/garages/lyon-03/board").get_data(as_text=True)
    assert "GH-123-JK" not in board
    refused = client.post(f"/garages/lyon-07/direct-line/{request_id}/answer",
                          data={"csrf_token": csrf_from(board), "decision": "decline", "reason": "no"})
    assert refused.status_code == 403


def test_the_operator_is_told_live_when_the_garage_does_not_answer_in_time(app, client, auth):
    case_id, page = open_call(client, auth)
    sent = client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today?"}, follow_redirects=True)
    poll = re.search(r'hx-get="([^"]+/live\?v=[^"]+)"', sent.get_data(as_text=True)).group(1).replace("&amp;", "&")
    assert client.get(poll).status_code == 204
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=16)  # the demo policy's expiry is 15 min
    told = client.get(poll)
    assert told.status_code == 200
    text = told.get_data(as_text=True)
    assert "No answer from Lyon 7e Gerland" in text and "try another garage or announce a drive-in" in text
    # asked again and declined, the status is that answer: the first silence is the timeline's, no longer a red
    # "try another garage" beside it
    page = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today, please?"})
    again = max(r["id"] for r in client.get("/api/v1/direct-line").get_json())
    auth.login("reception-lyon-07")
    assert auth.post(f"/api/v1/direct-line/{again}/answer",
                     json={"accept": False, "reason": "no lift free"}).status_code == 200
    auth.login("operator")
    status = client.get(f"/desk/cases/{case_id}").get_data(as_text=True).split('id="live"')[1].split("<h3>")[0]
    assert "Lyon 7e Gerland declined" in status and "No answer from" not in status


def test_typing_a_known_plate_shows_the_owner_and_fills_the_model(client, auth):
    case_id, _page = open_call(client, auth)
    desk = client.get("/desk/").get_data(as_text=True)
    assert 'hx-get="/desk/vehicle"' in re.search(r'<input[^>]*name="plate"[^>]*>', desk).group(0)
    known = client.get("/desk/vehicle", query_string={"plate": "gh-123-jk", "model": ""}).get_data(as_text=True)
    assert "Known vehicle" in known and "Marc Petit" in known and f"/desk/cases/{case_id}" in known
    assert 'id="model"' in known and 'value="Peugeot 308"' in known and 'hx-swap-oob="true"' in known
    # each fill says which look-up made it: the page keeps what was typed (web/static/lookups.js, the browser tests)
    assert 'data-looked-up="plate"' in re.search(r'<input[^>]*id="model"[^>]*>', known).group(0)
    unknown = client.get("/desk/vehicle", query_string={"plate": "ZZ-999-ZZ"}).get_data(as_text=True)
    assert "Known vehicle" not in unknown and 'id="known-vehicle"' in unknown
    for name in ("model", "name", "phone", "email"):  # nothing found: what an earlier plate filled is emptied
        tag = re.search(rf'<input[^>]*id="{name}"[^>]*>', unknown).group(0)
        assert 'value=""' in tag and 'data-clears="plate"' in tag, tag


def test_the_operator_books_a_time_the_caller_asks_for_with_a_reason(app, client, auth):
    case_id, page = open_call(client, auth, symptom="annual_service")  # P3: the caller chooses
    assert "Another time the caller asks for" in page
    found = client.get(f"/api/v1/cases/{case_id}/offers").get_json()
    from tests.web.test_api_booking import free_slot_not_offered

    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in [found["rule_offer"], *found["offers"]]}
    slot = free_slot_not_offered(app, case_id, "lyon-07", offered)
    start = datetime.fromisoformat(slot["start"]).astimezone(PARIS)
    asked = {"csrf_token": csrf_from(page), "garage": "lyon-07", "technician": "", "day": start.date().isoformat(),
             "time": f"{start:%H:%M}"}
    silent = client.post(f"/desk/cases/{case_id}/book", data=asked, follow_redirects=True).get_data(as_text=True)
    assert "Give a reason" in silent
    bad = client.post(f"/desk/cases/{case_id}/book", data={**asked, "time": "25:99", "reason": "x"},
                      follow_redirects=True).get_data(as_text=True)
    assert "Give the day and the time" in bad
    night = client.post(f"/desk/cases/{case_id}/book", data={**asked, "time": "03:00", "reason": "x"},
                        follow_redirects=True).get_data(as_text=True)
    # shut at 03:00: said so, with when it opens, not "no one with the diagnostics skill works then"
    assert "Lyon 7e Gerland is closed then: it opens" in night and "skill" not in night.split("<main>")[1]
    booked = client.post(f"/desk/cases/{case_id}/book", data={**asked, "reason": "Only free on that day"},
                         follow_redirects=True).get_data(as_text=True)
    assert "Booked:" in booked
    read = client.get(f"/api/v1/cases/{case_id}").get_json()
    (appointment,) = read["appointments"]
    assert appointment["garage"] == "lyon-07" and datetime.fromisoformat(appointment["start"]) == start
    assert [(o["kind"], o["reason"]) for o in read["overrides"]] == [("manual_slot", "Only free on that day")]


def test_a_colleague_opening_the_case_sees_who_was_asked(client, auth):
    case_id, page = open_call(client, auth)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today?"})
    auth.login("operator2")  # the caller rings back; another operator picks up
    assert "Waiting for Lyon 7e Gerland" in client.get(f"/desk/cases/{case_id}").get_data(as_text=True)


def test_closed_garages_are_marked_where_the_operator_picks_one_for_the_direct_line(app, client, auth):
    evening = datetime.combine(CLOCK_NOW.astimezone(PARIS).date(), time(19, 30), PARIS)
    app.config["CLOCK"] = lambda: evening
    _case_id, page = open_call(client, auth)
    tomorrow = format_date(evening.date() + timedelta(days=1), "EEE d MMM", locale="en")
    assert f"Lyon 7e Gerland — 0.0 km — closed, opens {tomorrow} 07:45" in page


def test_an_empty_message_or_an_overlong_reason_is_refused_on_the_page_and_nothing_is_written(app, client, auth):
    from tests.web.story import footprint

    case_id, page = open_call(client, auth)
    before = footprint(app)
    empty = client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "  "}, follow_redirects=True)
    assert "Write a message for the garage" in empty.get_data(as_text=True)
    long = client.post(f"/desk/cases/{case_id}/urgency", data={
        "csrf_token": csrf_from(page), "urgency": "P2", "reason": "x" * 1001}, follow_redirects=True)
    assert "reason is longer than 1000 characters" in long.get_data(as_text=True)
    assert footprint(app) == before


def test_the_call_form_takes_the_callers_e_mail_so_the_confirmation_goes_by_e_mail(app, client, auth):
    from sqlalchemy import select

    from scheduler.models import Customer, Message
    from web.extensions import db

    def on_file() -> str | None:
        with app.app_context():
            return db.session.scalar(select(Customer.email).where(Customer.name == "Marc Petit"))

    auth.login("operator")
    assert re.search(r'<input[^>]*id="email"[^>]*name="email"[^>]*type="email"', client.get("/desk/").get_data(as_text=True))
    case_id, _page = open_call(client, auth, email=" marc.petit@example.fr ")
    assert on_file() == "marc.petit@example.fr"
    best = client.get(f"/api/v1/cases/{case_id}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case_id}/appointments", json={
        **{k: best[k] for k in ("garage", "technician", "start")}, "reason": "caller's choice"})
    assert booked.status_code in (200, 201), booked.get_json()
    with app.app_context():
        told = db.session.scalar(select(Message).where(Message.appointment_id == booked.get_json()["id"]))
        assert (told.recipient, told.by_email) == ("marc.petit@example.fr", True), "not queued for a phone call"

    # the phone look-up offers the address on file, as the phone's fill (one typed is kept: tests/browser/test_desk.py)
    looked = client.get("/desk/customer", query_string={"phone": "+33 6 12 34 56 78"}).get_data(as_text=True)
    email = re.search(r'<input[^>]*id="email"[^>]*>', looked).group(0)
    assert 'value="marc.petit@example.fr"' in email and 'data-looked-up="phone"' in email

    open_call(client, auth, plate="GH-124-JK")  # a known caller who gives no address keeps theirs
    assert on_file() == "marc.petit@example.fr"
    open_call(client, auth, plate="GH-125-JK", email="marc@garage-petit.fr")  # a new one replaces it
    assert on_file() == "marc@garage-petit.fr"

    desk = client.get("/desk/").get_data(as_text=True)
    refused = client.post("/desk/cases", data={
        "csrf_token": csrf_from(desk), "name": "Marc Petit", "phone": "+33 6 12 34 56 78", "plate": "GH-126-JK",
        "model": "Peugeot 308", "symptom": "engine_fault_stop", "near": "lyon-07", "email": "marc@petit@example.fr"})
    assert refused.status_code == 400 and "Not an e-mail address." in refused.get_data(as_text=True)
    assert on_file() == "marc@garage-petit.fr"
    # the API refuses what the page refuses: one rule
    api = auth.post("/api/v1/cases", json={
        "customer": {"name": "Marc Petit", "phone": "+33 6 12 34 56 78", "email": "marc@petit@example.fr"},
        "vehicle": {"plate": "GH-126-JK", "model": "Peugeot 308"}, "symptom": "engine_fault_stop",
        "location": {"place": "lyon-07"}})
    assert api.status_code == 400 and api.get_json()["error"]["details"]["field"] == "customer.email"


def test_a_phone_that_is_no_number_is_said_under_its_field_and_the_typed_call_is_kept(app, client, auth):
    """The operator mistypes the phone while the caller waits: the call form comes back with everything typed
    and the phone's refusal under it (the API refuses the same text: one rule)."""
    from tests.web.story import footprint

    auth.login("operator")
    desk = client.get("/desk/").get_data(as_text=True)
    before = footprint(app)
    refused = client.post("/desk/cases", data={
        "csrf_token": csrf_from(desk), "name": "Marc Petit", "phone": "ask his wife", "plate": "GH-126-JK",
        "model": "Peugeot 308", "symptom": "engine_fault_stop", "near": "lyon-07", "note": "smoke from the bonnet"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "Not a phone number" in page
    assert 'value="GH-126-JK"' in page and "smoke from the bonnet" in page, "what was typed is kept"
    assert footprint(app) == before


def test_an_acceptance_for_another_day_is_confirmed_with_its_day(app, client, auth):
    from scheduler.models import Technician
    from web.extensions import db

    case_id, page = open_call(client, auth)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Tomorrow morning?"})
    request_id = client.get("/api/v1/direct-line").get_json()[0]["id"]
    with app.app_context():  # the first shift of tomorrow (overbooking ticked, in case that time is taken)
        tomorrow = CLOCK_NOW.astimezone(PARIS).date() + timedelta(days=1)
        technician, start = next((t.id, s) for t in db.session.get(Technician, "lyon-07-t01").garage.technicians
                                 for s, e in capacity.shifts(t, tomorrow) if s + timedelta(hours=2) <= e)
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    accepted = client.post(f"/garages/lyon-07/direct-line/{request_id}/answer", data={
        "csrf_token": csrf_from(board), "decision": "accept", "slot": f"{technician}|{start.isoformat()}",
        "overbook": "yes", "reason": "the customer can only come tomorrow", "late_ok": "yes"}, follow_redirects=True)
    text = accepted.get_data(as_text=True)
    assert accepted.status_code == 200 and f"Accepted: {start:%a} {start.day} {start:%b}" in text, \
        re.findall(r'class="flash[^"]*">([^<]*)', text)


def test_a_booking_form_sent_twice_books_once(client, auth):
    # a double click, or the browser's resend: the page's form gives back the booking already made
    case_id, page = open_call(client, auth, symptom="annual_service")
    offer = client.get(f"/api/v1/cases/{case_id}/offers").get_json()["offers"][0]
    form = {"csrf_token": csrf_from(page), "garage": offer["garage"], "technician": offer["technician"],
            "start": offer["start"]}
    for _ in range(2):
        sent = client.post(f"/desk/cases/{case_id}/book", data=form, follow_redirects=True).get_data(as_text=True)
        assert "Booked:" in sent
    assert len(client.get(f"/api/v1/cases/{case_id}").get_json()["appointments"]) == 1


def test_the_callers_note_is_on_the_case_page_and_on_the_garages_board(client, auth):
    """What the operator typed in the note ("back from holiday, engine warning") is read where the work is done."""
    auth.login("operator")
    case = open_case(auth, plate="NO-123-TE")
    assert "Back from holiday, engine fault warning" in client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: best[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    auth.login(f"reception-{best['garage']}")
    day = best["start"][:10]
    board = client.get(f"/garages/{best['garage']}/board?day={day}").get_data(as_text=True)
    assert "NO-123-TE" in board and "Back from holiday, engine fault warning" in board


def test_a_booking_that_misses_the_p1_target_is_said_on_the_case_page_and_where_it_would_move(app, client, auth):
    """Raised to P1 with its booking days away: the operator's case page says the booking misses the target, and
    a move page (the operator's, reception's) says which times miss it too."""

    from scheduler.models import Appointment

    auth.login("operator")
    case = open_case(auth, plate="TG-123-AA", symptom="brake_noise")["id"]
    best = client.get(f"/api/v1/cases/{case}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case}/appointments", json={k: best[k] for k in ("garage", "technician",
                                                                                       "start")}).get_json()
    assert "misses the P2 target" not in client.get(f"/desk/cases/{case}").get_data(as_text=True)
    with app.app_context():  # booked long ago, for a day well past any target
        appointment = db.session.get(Appointment, booked["id"])
        appointment.start_at += timedelta(days=20)  # past the seed's booked fortnight: free
        appointment.end_at += timedelta(days=20)
        db.session.commit()
    raised = auth.post(f"/api/v1/cases/{case}/urgency", json={"urgency": "P1", "reason": "immobilised after all"})
    assert raised.status_code == 200, raised.get_json()
    page = client.get(f"/desk/cases/{case}").get_data(as_text=True)
    assert "The booking misses the P1 target" in page
    far = datetime.fromisoformat(booked["start"]) + timedelta(days=21)
    move = client.get(f"/desk/cases/{case}/move", query_string={"garage": best["garage"], "start": far.isoformat(),
                                                                "technician": best["technician"]})
    assert move.status_code == 200 and "This time misses the P1 target" in move.get_data(as_text=True)
    auth.login(f"reception-{best['garage']}")
    moving = client.get(f"/garages/{best['garage']}/appointments/{booked['id']}/move").get_data(as_text=True)
    assert "P1 target: started by the end of" in moving
    late = moving.count("misses target")
    radios = re.findall(r'<input type="radio" name="slot"[^>]*>', moving)
    assert radios and late <= len(radios)
    checked = [r for r in radios if "checked" in r]
    assert late < len(radios) or not checked, "a time that misses the target is never ticked for the user"


def test_the_symptom_lists_group_by_urgency_and_each_option_starts_with_its_own_words(client, auth):
    """A probe: every option began "P1 · ", "P3 · ", so typing "Vidange" in the focused list found nothing."""
    french = {"Accept-Language": "fr"}
    for user, page in (("operator", "/desk/"), ("reception-lyon-07", "/garages/lyon-07/board")):
        auth.login(user)
        html = client.get(page, headers=french).get_data(as_text=True)
        listed = re.search(r'<select[^>]*name="symptom"[^>]*>(.*?)</select>', html, re.DOTALL).group(1)
        assert re.findall(r'<optgroup label="(P\d)">', listed) == ["P1", "P2", "P3"], user
        assert re.search(r'<optgroup label="P3">.*<option value="oil_change">Vidange</option>', listed, re.DOTALL)
        assert " · " not in listed
