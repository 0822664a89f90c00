"""A customer at the counter after closing: an engine that died at 18:30 is tomorrow morning's work. The squeeze
fits it into the next day the garage opens (the P1 target's day), and the car stays on the counter list until
then; a walk-in of an earlier day that was never booked is not today's any more."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from babel.dates import format_date
from sqlalchemy import select

from scheduler.models import Appointment, Garage
from tests.conftest import CLOCK_NOW
from tests.web.test_garage_desk import preview, walk_in
from web.extensions import db

PARIS = ZoneInfo("Europe/Paris")
GARAGE = "lyon-07"
BOARD = f"/garages/{GARAGE}/board"


def next_open_day(app, day):
    """The next day with opening hours at the garage (Monday to Friday, and Saturday mornings at some)."""
    with app.app_context():
        open_days = {h.weekday for h in db.session.get(Garage, GARAGE).opening_hours}
    day += timedelta(days=1)
    while day.weekday() not in open_days:
        day += timedelta(days=1)
    return day


def test_a_p1_walk_in_after_closing_is_squeezed_into_the_next_morning_and_waits_at_the_counter(app, client, auth):
    today = CLOCK_NOW.astimezone(PARIS).date()
    evening = datetime.combine(today, time(19, 30), PARIS)
    app.config["CLOCK"] = lambda: evening
    case = walk_in(auth)  # engine fault, the car will not start: a P1
    assert case["urgency"] == "P1"

    board = unescape(client.get(BOARD).get_data(as_text=True))
    counter = board.split("At the counter, not booked yet")[1].split("</ul>")[0]
    assert "WI-001-KC" in counter
    opens = next_open_day(app, today)
    label = f"Fit into {format_date(opens, 'EEEE d MMMM', locale='en')}"
    assert label in counter, "the button says which day it fits the car into"

    proposal = preview(auth, case["id"]).get_json()
    assert proposal["fits"] and proposal["placement"] is not None, proposal
    start = datetime.fromisoformat(proposal["placement"]["start"]).astimezone(PARIS)
    assert start.date() == opens, f"squeezed into the morning of {opens}, not {start}"
    page = unescape(client.get(f"/garages/{GARAGE}/squeeze/{proposal['id']}").get_data(as_text=True))
    assert label in page
    assert f"{format_date(opens, 'EEE d MMM', locale='en')} at" in page, "placed by hand: a time of that day too"

    morning = datetime.combine(opens, time(7, 45), PARIS)
    app.config["CLOCK"] = lambda: morning  # not confirmed yet: the car is still this morning's to fit in
    auth.login(f"reception-{GARAGE}")  # a new day, a new session
    counter = unescape(client.get(BOARD).get_data(as_text=True)).split("At the counter, not booked yet")[1]
    assert "WI-001-KC" in counter.split("</ul>")[0] and "Fit into today" in counter.split("</ul>")[0]

    later = datetime.combine(next_open_day(app, opens), time(9, 0), PARIS)
    app.config["CLOCK"] = lambda: later  # a day on, an unbooked walk-in is not at the counter any more
    auth.login(f"reception-{GARAGE}")
    assert "At the counter, not booked yet" not in client.get(BOARD).get_data(as_text=True)


def test_a_walk_in_of_the_afternoon_stays_on_the_counter_list_after_closing(app, client, auth):
    today = CLOCK_NOW.astimezone(PARIS).date()
    app.config["CLOCK"] = lambda: datetime.combine(today, time(15, 0), PARIS)
    walk_in(auth, symptom="oil_change")
    app.config["CLOCK"] = lambda: datetime.combine(today, time(19, 0), PARIS)
    auth.login(f"reception-{GARAGE}")
    board = client.get(BOARD).get_data(as_text=True)
    assert "WI-001-KC" in board.split("At the counter, not booked yet")[1].split("</ul>")[0], \
        "still waiting at the counter at closing time"



def test_a_car_left_after_closing_and_fitted_in_is_checked_in_and_shown_on_the_board_of_its_day(app, client, auth):
    today = CLOCK_NOW.astimezone(PARIS).date()
    app.config["CLOCK"] = lambda: datetime.combine(today, time(19, 30), PARIS)
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    opens = next_open_day(app, today)
    done = auth.form(f"/garages/{GARAGE}/squeeze/{proposal['id']}/confirm", {})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/board?day={opens.isoformat()}"), \
        "back on the board of the day it was fitted into, where it shows"
    said = unescape(client.get(done.headers["Location"]).get_data(as_text=True))
    assert f"Fitted in: {format_date(opens, 'EEE d MMM', locale='en')}" in said, "the flash says the day"
    with app.app_context():
        booked = db.session.scalar(select(Appointment).where(Appointment.case_id == case["id"]))
        assert booked.status == "checked_in", "the car was left with reception: tomorrow it is not 'late' or absent"
        assert booked.garage.local(booked.start_at).date() == opens


def test_placing_by_hand_keeps_the_day_the_preview_showed_though_closing_time_passed(app, client, auth):
    today = CLOCK_NOW.astimezone(PARIS).date()
    app.config["CLOCK"] = lambda: datetime.combine(today, time(18, 0), PARIS)
    case = walk_in(auth)
    proposal = preview(auth, case["id"]).get_json()
    app.config["CLOCK"] = lambda: datetime.combine(today, time(18, 40), PARIS)  # the garage closed meanwhile
    auth.login(f"reception-{GARAGE}")
    with app.app_context():
        technician = db.session.scalar(select(Appointment.technician_id).where(Appointment.garage_id == GARAGE))
    typed = {"preview": str(proposal["id"]), "time": "17:00", "technician": technician, "reason": "by hand"}
    page = auth.form(f"/garages/{GARAGE}/cases/{case['id']}/place", typed, follow_redirects=True)
    assert "That start is in the past" in unescape(page.get_data(as_text=True)), \
        "17:00 of the day the page showed (today), not of tomorrow"
    with app.app_context():
        assert db.session.scalar(select(Appointment).where(Appointment.case_id == case["id"])) is None


def test_a_drive_in_is_checked_in_with_its_booking_only_for_the_day_it_came_for(app, client, auth):
    from tests.web.story import open_case

    today = CLOCK_NOW.astimezone(PARIS).date()
    later = next_open_day(app, next_open_day(app, today))

    def drive_in_arrived(plate: str) -> int:
        auth.login("operator")
        case = open_case(auth, plate=plate)
        announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={}).get_json()
        auth.login(f"reception-{GARAGE}")
        assert auth.post(f"/api/v1/drive-ins/{announced['id']}/arrived").status_code == 200
        return case["id"]

    def fitted_in_at(moment: datetime, case_id: int) -> str:
        """The case squeezed in at `moment`: its booking's status."""
        app.config["CLOCK"] = lambda: moment
        auth.login(f"reception-{GARAGE}")
        proposal = preview(auth, case_id).get_json()
        assert auth.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={}).status_code == 200
        with app.app_context():
            return db.session.scalar(select(Appointment.status).where(Appointment.case_id == case_id))

    here_now = drive_in_arrived("DI-001-AA")
    days_ago = drive_in_arrived("DI-002-AA")  # came days ago and went home: never booked then
    assert fitted_in_at(datetime.combine(later, time(9, 0), PARIS), days_ago) == "booked", \
        "not here today: checked in when they come, not by a visit of days ago"
    assert fitted_in_at(CLOCK_NOW, here_now) == "checked_in", "at the counter now and fitted into today"
