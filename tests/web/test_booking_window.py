"""Bookings are taken up to a year ahead, whoever decides; a date in another year is said with its year;
a direct-line request expires its minutes after sending, and the operator is warned when that is before
the garage opens."""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from scheduler.services import capacity
from tests.conftest import CLOCK_NOW
from tests.web.pages import csrf_from
from tests.web.story import footprint, open_case
from tests.web.test_api_booking import offers_of
from tests.web.test_desk_pages import open_call
from web.extensions import db

PARIS = ZoneInfo("Europe/Paris")
FAR = "2099-11-26T07:00:00+00:00"  # a Thursday, 08:00 in Lyon: someone is on shift, the day is decades ahead


def test_a_start_decades_ahead_is_refused_through_the_api_naming_the_field_and_nothing_is_saved(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")  # P3: the customer's choice, no target to miss
    best = offers_of(client, case["id"])["offers"][0]
    before = footprint(app)
    refused = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                        json={"garage": best["garage"], "technician": best["technician"], "start": FAR, "reason": "far"})
    assert refused.status_code == 422, refused.get_json()
    error = refused.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == "too_far_ahead" and error["details"]["field"] == "start"
    assert "2099" in error["message"] and "365 days" in error["message"]
    assert datetime.fromisoformat(error["details"]["latest_start"]) == CLOCK_NOW + capacity.BOOKING_WINDOW
    assert footprint(app) == before
    assert client.get(f"/api/v1/cases/{case['id']}").get_json()["appointments"] == []


def test_beyond_the_rules_horizon_but_within_the_year_a_person_may_still_book_with_a_reason(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    best = offers_of(client, case["id"])["offers"][0]
    start = datetime.fromisoformat(best["start"])
    made = None
    for weeks in range(9, 14):  # the same weekday and time, two months and more ahead: past the 28-day horizon
        made = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                         json={"garage": best["garage"], "technician": best["technician"],
                               "start": (start + timedelta(weeks=weeks)).isoformat(), "reason": "after the holidays"})
        if made.status_code == 201:
            break
        assert made.get_json()["error"]["code"] != "too_far_ahead"
    assert made.status_code == 201, made.get_json()


def test_a_move_or_a_direct_line_answer_decades_ahead_is_refused_too(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    best = offers_of(client, case["id"])["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: best[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201
    moved = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                      json={"garage": best["garage"], "technician": best["technician"], "start": FAR,
                            "reason": "far", "replaces": booked.get_json()["id"]})
    assert (moved.status_code, moved.get_json()["error"]["code"]) == (422, "too_far_ahead")

    other = open_case(auth, plate="ZZ-000-ZZ")  # P1: the garage's answer is the booking
    able = offers_of(client, other["id"])["offers"][0]
    sent = auth.post(f"/api/v1/cases/{other['id']}/direct-line", json={"garage": able["garage"], "message": "Today?"})
    assert sent.status_code == 201
    auth.login(f"reception-{able['garage']}")
    before = footprint(app)
    answered = auth.post(f"/api/v1/direct-line/{sent.get_json()['id']}/answer",
                         json={"accept": True, "start": FAR, "technician": able["technician"]})
    assert (answered.status_code, answered.get_json()["error"]["code"]) == (422, "too_far_ahead")
    assert answered.get_json()["error"]["details"]["field"] == "start"
    assert footprint(app) == before
    assert client.get(f"/api/v1/direct-line/{sent.get_json()['id']}").get_json()["status"] == "open"


def test_the_page_says_the_refusal_under_the_day_keeps_what_was_typed_and_saves_nothing(app, client, auth):
    case_id, page = open_call(client, auth, symptom="annual_service")
    before = footprint(app)
    refused = client.post(f"/desk/cases/{case_id}/book", data={
        "csrf_token": csrf_from(page), "garage": "venissieux", "technician": "", "source": "typed",
        "day": "2099-12-03", "time": "10:00", "reason": "the caller insists"})
    assert refused.status_code == 422
    text = refused.get_data(as_text=True)
    day = re.search(r'<input type="date" name="day"[^>]*>\s*<span class="field-error" id="typed-day-error">([^<]*)</span>',
                    text)
    assert day, "the refusal sits under the day it is about"
    assert "Thu 3 Dec 2099 10:00 is too far ahead" in day.group(1)
    assert 'value="2099-12-03"' in day.group(0) and 'aria-invalid="true"' in day.group(0)
    assert 'value="the caller insists"' in text and "<details class=\"other-slot\" open>" in text
    assert "Booked:" not in text
    assert footprint(app) == before
    assert client.get(f"/api/v1/cases/{case_id}").get_json()["appointments"] == []

    # in French too, with the year
    french = client.post(f"/desk/cases/{case_id}/book", headers={"Accept-Language": "fr"}, data={
        "csrf_token": csrf_from(page), "garage": "venissieux", "technician": "", "source": "typed",
        "day": "2099-12-03", "time": "10:00", "reason": "le client insiste"}).get_data(as_text=True)
    assert "jeu. 3 déc. 2099 10:00 est trop loin" in french


def _late_december() -> datetime:
    """A working morning late in CLOCK_NOW's year: the first week of January is next year."""
    day = date(CLOCK_NOW.astimezone(PARIS).year, 12, 28)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(9, 0), PARIS)


def test_a_date_in_another_year_is_said_with_its_year_on_the_page_and_in_the_customers_message(app, client, auth):
    from scheduler.models import Message

    moment = _late_december()
    app.config["CLOCK"] = lambda: moment
    case_id, page = open_call(client, auth, symptom="annual_service", near="venissieux")
    day = date(moment.year + 1, 1, 5)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    booked = client.post(f"/desk/cases/{case_id}/book", data={
        "csrf_token": csrf_from(page), "garage": "venissieux", "technician": "", "source": "typed",
        "day": day.isoformat(), "time": "10:00", "reason": "after the holidays"}, follow_redirects=True)
    said = format_date(day, "EEE d MMM y", locale="en")
    assert f"Booked: {said} 10:00 at" in booked.get_data(as_text=True)
    with app.app_context():
        message = db.session.scalars(select(Message).order_by(Message.id.desc())).first()
        assert message.locale == "fr"
        assert f"{format_date(day, 'EEEE d MMMM y', locale='fr')} à 10:00" in message.body
        assert str(day.year) in message.subject

    # this year's dates stay short
    with app.test_request_context(headers={"Accept-Language": "en"}):
        from web.filters import local_datetime

        this_year = datetime.combine(moment.date(), time(16, 0), PARIS)
        assert local_datetime(this_year) == f"{format_date(moment.date(), 'EEE d MMM', locale='en')} 16:00"
        assert local_datetime(datetime.combine(day, time(10, 0), PARIS)) == f"{said} 10:00"


def _weekday_early_morning() -> datetime:
    """06:56 on a working day: the demo garages open at 07:45."""
    return datetime.combine(CLOCK_NOW.astimezone(PARIS).date(), time(6, 56), PARIS)


def test_a_request_sent_before_opening_expires_its_minutes_after_sending_as_the_issue_states(app, client, auth):
    early = _weekday_early_morning()
    app.config["CLOCK"] = lambda: early
    auth.login("operator")
    case = open_case(auth)
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                     json={"garage": "venissieux", "message": "Engine fault, customer immobilised. Today?"})
    assert sent.status_code == 201, sent.get_json()
    request = sent.get_json()
    assert datetime.fromisoformat(request["expires_at"]) == early + timedelta(minutes=15)
    app.config["CLOCK"] = lambda: early + timedelta(minutes=16)  # 07:12: expired, the garage still closed
    assert client.get(f"/api/v1/direct-line/{request['id']}").get_json()["status"] == "expired"
    expired = [e for e in client.get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
               if e["kind"] == "direct_line_expired"]
    assert any("Vénissieux" in e["text"] and "within 15 min" in e["text"] for e in expired), expired


def test_the_operator_is_warned_when_a_request_expires_before_the_garage_opens(app, client, auth):
    early = _weekday_early_morning()
    app.config["CLOCK"] = lambda: early
    case_id, page = open_call(client, auth)
    sent = client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "venissieux", "message": "Today?"}, follow_redirects=True)
    text = sent.get_data(as_text=True)
    assert "it is closed until 07:45 and the request expires 07:11, before anyone there can answer" in text
    assert "Waiting for Vénissieux — sent 06:56, expires 07:11" in text
    assert "Vénissieux is closed until 07:45: nobody there will answer before this request expires." in text

    app.config["CLOCK"] = lambda: datetime.combine(early.date(), time(8), PARIS)  # open: a new request is answered
    case_id, page = open_call(client, auth)
    sent = client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "venissieux", "message": "Today?"}, follow_redirects=True)
    text = sent.get_data(as_text=True)
    assert "Waiting for Vénissieux — sent 08:00, expires 08:15" in text and "is closed until" not in text
