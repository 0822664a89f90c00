"""The call-centre desk's second round in Chromium: a booking is never moved by one click, the queue of open
work shows a garage's answer live, the phone finds the caller, a late acceptance is shown as late."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.browser.test_story import log_in


@pytest.fixture
def shots(tmp_path) -> Path:
    """Where screenshots go: FRONTLINE_SHOTS to keep them and look at them, else the test's own folder."""
    folder = Path(os.environ.get("FRONTLINE_SHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def operator_page(browser, live_server):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(page, live_server, "operator")
    page.wait_for_selector("input[name=name]:focus")
    return page


def open_call(page, plate: str, symptom: str, near: str, name: str = "Léa Martin", phone: str = "+33 6 55 44 33 22"):
    page.fill("input[name=name]", name)
    page.fill("input[name=phone]", phone)
    page.fill("input[name=plate]", plate)
    page.fill("input[name=model]", "Renault Clio")
    page.fill("input[name=near]", near)
    page.select_option("select[name=symptom]", symptom)
    with page.expect_navigation():
        page.click("button:has-text('Open case')")
    page.wait_for_selector("table.offers tbody tr")
    return int(re.search(r"/desk/cases/(\d+)", page.url).group(1))


def put_on_the_direct_line(page, garage_id: str) -> None:
    page.select_option("form[action$='/direct-line'] select[name=garage]", garage_id)
    with page.expect_navigation():
        page.click("button:has-text('Send on the direct line')")
    page.wait_for_selector(".banner.open")


def garage_answers(browser, base: str, username: str, case_id: int, answer: dict) -> None:
    """The garage answers the case's open request through the API, in a browser of its own."""
    garage = browser.new_context().new_page()
    log_in(garage, base, username)
    token = garage.request.get(f"{base}/api/v1/session").json()["csrf_token"]
    (asked,) = [r for r in garage.request.get(f"{base}/api/v1/direct-line?status=open").json() if r["case"] == case_id]
    answered = garage.request.post(f"{base}/api/v1/direct-line/{asked['id']}/answer", data=answer,
                                   headers={"X-CSRFToken": token})
    assert answered.ok, answered.text()


def api_case(page, base: str, case_id: int) -> dict:
    return page.request.get(f"{base}/api/v1/cases/{case_id}").json()


def test_moving_a_booking_asks_first_and_dismissing_changes_nothing(browser, live_server, shots):
    page = operator_page(browser, live_server)
    case_id = open_call(page, "MV-101-AB", "annual_service", "Villefranche-sur-Saône")
    with page.expect_navigation():
        page.click("table.offers tbody tr:first-child button:has-text('Book')")
    assert "Booked:" in page.inner_text(".flash.success")
    assert page.locator("table.offers button", has_text=re.compile(r"^Book$")).count() == 0, "no one-click rebooking"
    (booked,) = api_case(page, live_server, case_id)["appointments"]
    page.screenshot(path=str(shots / "desk-booked-case.png"), full_page=True)

    with page.expect_navigation():
        page.click("table.offers tbody tr:nth-child(2) button:has-text('Move here')")
    assert "Move this booking" in page.inner_text("h1")
    assert page.locator("input[name=reason][required]").count() == 1
    page.screenshot(path=str(shots / "desk-move-confirm.png"), full_page=True)
    with page.expect_navigation():
        page.click("a:has-text('Keep the booking as it is')")
    assert f"/desk/cases/{case_id}" in page.url
    after = api_case(page, live_server, case_id)
    assert after["appointments"] == [booked] and after["overrides"] == [], "dismissing changes nothing"

    with page.expect_navigation():
        page.click("table.offers tbody tr:nth-child(2) button:has-text('Move here')")
    page.fill("input[name=reason]", "The customer will be at work near the other garage")
    with page.expect_navigation():
        page.click("button:has-text('Move the booking')")
    assert "Moved:" in page.inner_text(".flash.success")
    moved = api_case(page, live_server, case_id)
    assert sorted(a["status"] for a in moved["appointments"]) == ["booked", "cancelled"]
    assert [(o["kind"], o["reason"]) for o in moved["overrides"]] == [
        ("rebook", "The customer will be at work near the other garage")]

    # the first garage reads it in its inbox, on its board
    reception = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    log_in(reception, live_server, f"reception-{booked['garage']}")
    notice = reception.wait_for_selector("#inbox .notices li:has-text('MV-101-AB')")
    assert "The customer will be at work near the other garage" in notice.inner_text()
    reception.screenshot(path=str(shots / "board-notice.png"), full_page=False)


def test_the_queue_shows_a_garage_answer_without_reloading(browser, live_server, shots):
    page = operator_page(browser, live_server)
    case_id = open_call(page, "QU-202-EU", "engine_fault_stop", "villefranche")
    put_on_the_direct_line(page, "villefranche")
    # the operator moves on to the next call: the desk, with its queue
    with page.expect_navigation():
        page.click("nav a:has-text('Call-centre desk')")
    row = page.wait_for_selector(f"#work-{case_id}")
    assert "Waiting for Villefranche-sur-Saône" in row.inner_text() and "min left" in row.inner_text()

    garage_answers(browser, live_server, "workshop-villefranche", case_id,
                   {"accept": False, "reason": "No engine specialist until Monday"})

    page.wait_for_selector(f"#work-{case_id}.declined", timeout=10_000)  # no reload: the panel polls
    text = page.inner_text(f"#work-{case_id}")
    assert "Villefranche-sur-Saône declined" in text and "No engine specialist until Monday" in text
    page.screenshot(path=str(shots / "desk-queue.png"), full_page=True)
    with page.expect_navigation():
        page.click(f"#work-{case_id} a:has-text('Open case')")  # one action from its case
    assert f"/desk/cases/{case_id}" in page.url

    # sending the customer to the garage that just said no is asked first
    page.select_option("form[action$='/drive-in'] select[name=garage]", "villefranche")
    with page.expect_navigation():
        page.click("button:has-text('Tell the garage they are coming')")
    assert "Villefranche-sur-Saône declined this case" in page.inner_text("main")
    assert "No engine specialist until Monday" in page.inner_text("main")
    page.screenshot(path=str(shots / "desk-drive-in-confirm.png"), full_page=True)
    with page.expect_navigation():
        page.click("button:has-text('anyway')")
    assert "expects the customer" in page.inner_text(".flash.success")
    with page.expect_navigation():
        page.click("nav a:has-text('Call-centre desk')")
    assert "Drive-in to Villefranche-sur-Saône" in page.inner_text(f"#work-{case_id}")


def a_known_customer(live_app):
    """A customer of the demo whose car has been to the network before: a repeat caller."""
    from sqlalchemy import select

    from scheduler.models import Customer, Vehicle
    from web.extensions import db

    with live_app.app_context():
        customer = db.session.scalar(select(Customer).join(Vehicle, Vehicle.customer_id == Customer.id)
                                     .where(Customer.phone.like("+33 6%")).order_by(Customer.id).limit(1))
        return customer.name, customer.phone, [(v.plate, v.model) for v in customer.vehicles]


def test_the_phone_finds_the_caller_and_fills_the_form(browser, live_server, live_app, shots):
    name, phone, cars = a_known_customer(live_app)
    page = operator_page(browser, live_server)
    page.click("input[name=phone]")
    page.keyboard.type(phone.replace(" ", "").replace("+33", "0"))  # as telephony gives it
    page.wait_for_selector("#known-customer button.pick-car")
    assert name in page.inner_text("#known-customer")
    page.wait_for_selector(f"input[name=name][value='{name}']", state="attached")
    plate, model = cars[0]
    page.click(f"#known-customer button:has-text('{plate}')")
    page.wait_for_selector(f"input[name=plate][value='{plate}']", state="attached")
    assert page.input_value("input[name=plate]") == plate and page.input_value("input[name=model]") == model
    assert page.input_value("input[name=name]") == name, "the name stays editable and filled"
    assert "Known vehicle" in page.inner_text("#known-vehicle")
    page.screenshot(path=str(shots / "desk-phone-lookup.png"), full_page=False)

    # a known plate alone fills the name and the phone too, which the operator can still change
    fresh = operator_page(browser, live_server)
    fresh.click("input[name=plate]")
    fresh.keyboard.type(plate.lower().replace("-", ""))
    fresh.wait_for_selector(f"input[name=phone][value='{phone}']", state="attached")
    assert fresh.input_value("input[name=name]") == name and fresh.input_value("input[name=model]") == model
    fresh.fill("input[name=name]", "Someone Else")
    assert fresh.input_value("input[name=name]") == "Someone Else"


def test_a_corrected_plate_replaces_what_the_first_plate_filled_and_never_what_was_typed(browser, live_server, live_app,
                                                                                        shots):
    """A probe: a plate typed, then corrected to another known car, kept the first car's owner and model (the second
    car's stored model was then overwritten with the first's), and corrected to an unknown plate kept them too."""
    from sqlalchemy import select

    from scheduler.models import Customer, Vehicle
    from web.extensions import db

    with live_app.app_context():
        rows = db.session.execute(select(Vehicle.plate, Vehicle.model, Customer.name).join(
            Customer, Vehicle.customer_id == Customer.id).where(Customer.phone.like("+33 6%")).order_by(Vehicle.id)
            .limit(40)).all()
    first = rows[0]
    second = next(r for r in rows if r.name != first.name and r.model != first.model)
    page = operator_page(browser, live_server)

    def plate(text):
        page.fill("input[name=plate]", "")
        page.click("input[name=plate]")
        page.keyboard.type(text)

    plate(first.plate)
    page.wait_for_selector(f"input[name=name][value='{first.name}']", state="attached")
    plate(second.plate)
    page.wait_for_function("([n, m]) => document.querySelector('input[name=name]').value === n && "
                           "document.querySelector('input[name=model]').value === m", arg=[second.name, second.model])
    plate("ZZ-999-ZZ")
    page.wait_for_function("() => document.querySelector('input[name=name]').value === '' && "
                           "document.querySelector('input[name=model]').value === ''")
    page.fill("input[name=name]", "Paul Typed")  # what the operator types is theirs: a plate never replaces it
    plate(first.plate)
    page.wait_for_function("m => document.querySelector('input[name=model]').value === m", arg=first.model)
    assert page.input_value("input[name=name]") == "Paul Typed"
    page.screenshot(path=str(shots / "desk-corrected-plate.png"), full_page=False)


def test_a_corrected_phone_replaces_the_first_callers_name_and_address_and_never_what_was_typed(
        browser, live_server, live_app, shots):
    """The phone's look-up filled the name only while it was empty: a number corrected to another known caller's kept
    the first caller's name and address, as the plate's look-up did (stop 39)."""
    from sqlalchemy import select

    from scheduler.models import Customer
    from web.extensions import db

    with live_app.app_context():
        callers = db.session.execute(select(Customer.name, Customer.phone, Customer.email).where(
            Customer.phone.like("+33 6%"), Customer.email.is_not(None)).order_by(Customer.id).limit(40)).all()
    phones = [c.phone for c in callers]
    first, second = [c for c in callers if phones.count(c.phone) == 1][:2]  # one caller per number
    page = operator_page(browser, live_server)

    def phone(text):
        page.fill("input[name=phone]", "")
        page.click("input[name=phone]")
        page.keyboard.type(text)

    def filled(name, email):
        page.wait_for_function("([n, e]) => document.querySelector('input[name=name]').value === n && "
                               "document.querySelector('input[name=email]').value === e", arg=[name, email])

    phone(first.phone)
    filled(first.name, first.email)
    phone(second.phone)
    filled(second.name, second.email)
    phone("01 99 99 99 99")  # no one calls from it: what the number filled goes
    filled("", "")
    page.fill("input[name=name]", "Paul Typed")
    phone(first.phone)
    filled("Paul Typed", first.email)  # what the operator typed is theirs
    page.screenshot(path=str(shots / "desk-corrected-phone.png"), full_page=False)


def test_a_late_acceptance_is_shown_as_missing_the_target(browser, live_server, live_app, story_clock, shots):
    from datetime import datetime, timedelta

    from scheduler.models import Case, Garage
    from scheduler.services import planning
    from web.extensions import db

    page = operator_page(browser, live_server)
    case_id = open_call(page, "LA-303-TE", "engine_fault_stop", "69700")  # Givors' postcode
    put_on_the_direct_line(page, "givors")

    with live_app.app_context():  # the garage can only take it in a few days
        case, garage = db.session.get(Case, case_id), db.session.get(Garage, "givors")
        slot = planning.garage_slots(db.session, case, garage, story_clock() + timedelta(days=3), count=1)[0]
        start, technician, zone = slot.start, slot.technician, garage.zone
        db.session.rollback()
    garage_answers(browser, live_server, "reception-givors", case_id,
                   {"accept": True, "start": start.isoformat(), "technician": technician})

    banner = page.wait_for_selector(".banner.accepted.late", timeout=10_000)  # live, no reload
    text = banner.inner_text()
    local = start.astimezone(zone)
    assert "misses the P1 target" in text and f"{local.day} {local:%b} {local:%H:%M}" in text, text
    assert page.locator(".banner.good").count() == 0, "a late acceptance is not shown as good news"
    page.screenshot(path=str(shots / "desk-late-acceptance.png"), full_page=True)
    override = next(o for o in api_case(page, live_server, case_id)["overrides"] if o["kind"] == "direct_line")
    assert datetime.fromisoformat(override["result"]["start"]) == start, "the override's result is that start"


def test_the_queues_open_buttons_stay_within_their_panel_in_french_at_1366_px(browser, live_server, live_app, shots):
    """Seen on the desk: "Ouvrir le dossier", kept on one line, pushed the open work past its panel at 1366 px, the
    button half behind the panel's scroll."""
    from tests.conftest import Auth

    api = Auth(live_app.test_client())
    api.login("operator")
    for plate in ("QU-101-EU", "QU-102-EU"):  # unbooked P1s: open work
        made = api.post("/api/v1/cases", json={
            "customer": {"name": "Jean-Baptiste Delacroix-Montaigne", "phone": "+33 6 11 22 33 44"},
            "vehicle": {"plate": plate, "model": "Peugeot 3008"}, "symptom": "engine_fault_stop",
            "location": {"place": "69007"}})
        assert made.status_code == 201, made.get_json()
    page = browser.new_context(locale="fr-FR", viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, "operator")
    page.wait_for_selector("#queue a.button")
    panel = page.query_selector("#queue").bounding_box()
    buttons = page.query_selector_all("#queue a.button")
    assert len(buttons) >= 2
    for button in buttons:
        box = button.bounding_box()
        assert panel["x"] <= box["x"] and box["x"] + box["width"] <= panel["x"] + panel["width"], (box, panel)
    page.screenshot(path=str(shots / "desk-queue-fr.png"))


def test_a_name_typed_without_a_space_does_not_widen_the_desk_or_the_case(browser, live_server, shots):
    """One 110-character name widened the shared desk to 2,417 px for every operator; a long note, the case page."""
    page = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    log_in(page, live_server, "operator")
    page.wait_for_selector("input[name=name]:focus")
    page.fill("textarea[name=note]", "N" * 400)
    case_id = open_call(page, "WW-111-WW", "engine_fault_stop", "Lyon 7e", name="Bartholomew" * 10)
    for url in (f"{live_server}/desk/", f"{live_server}/desk/cases/{case_id}"):
        page.goto(url)
        page.screenshot(path=str(shots / f"long-name-{url.rstrip('/').rsplit('/', 1)[-1]}.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366, url


def test_enter_pressed_again_opens_one_case_and_books_nothing_unseen(browser, live_server, live_app, shots):
    """A probe: Enter pressed three times on the call form opened three cases for one call; pressed twice, the second
    landed on the offers page's focused "Book" and booked the first offer before the operator saw it."""
    from sqlalchemy import func, select

    from scheduler.models import Appointment, Case, Vehicle
    from web.extensions import db

    def cases_of(plate):
        with live_app.app_context():
            return db.session.scalar(select(func.count(Case.id)).join(Vehicle).where(Vehicle.plate == plate))

    page = operator_page(browser, live_server)
    for plate, presses in (("EN-301-TR", 3), ("EN-302-TR", 2)):
        page.fill("input[name=name]", "Léa Martin")
        page.fill("input[name=phone]", "+33 6 55 44 33 22")
        page.fill("input[name=plate]", plate)
        page.fill("input[name=model]", "Renault Clio")
        page.fill("input[name=near]", "69007")
        page.select_option("select[name=symptom]", "annual_service")  # a P3: its first offer has the focus
        page.focus("input[name=model]")
        with page.expect_navigation():
            for _ in range(presses):
                page.keyboard.press("Enter")
        page.keyboard.press("Enter")  # and once more as the offers are drawn
        page.wait_for_selector("table.offers tbody tr")
        assert cases_of(plate) == 1, plate
        case_id = int(re.search(r"/desk/cases/(\d+)", page.url).group(1))
        with live_app.app_context():
            assert db.session.scalar(select(func.count(Appointment.id)).where(Appointment.case_id == case_id)) == 0
        page.screenshot(path=str(shots / f"desk-enter-{presses}.png"), full_page=False)
        page.goto(f"{live_server}/desk/")
        page.wait_for_selector("input[name=name]:focus")
