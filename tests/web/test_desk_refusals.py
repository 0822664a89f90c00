"""Refusals say what happened and leave nothing behind; the timeline keeps decisions, not page views."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import CLOCK_NOW, Auth
from tests.web.pages import csrf_from
from tests.web.story import open_case
from tests.web.test_api_booking import book, offers_of
from tests.web.test_desk_pages import open_call
from web.extensions import db


def rows(app) -> dict:
    """Every table a desk action writes to, counted."""
    from scheduler.models import (
        Appointment,
        Case,
        CaseEvent,
        Customer,
        DirectLineRequest,
        DriveIn,
        GarageNotice,
        Message,
        Override,
        OverrideOutcome,
        Vehicle,
    )

    with app.app_context():
        return {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in (
            Appointment, Case, CaseEvent, Customer, DirectLineRequest, DriveIn, GarageNotice, Message, Override,
            OverrideOutcome, Vehicle)}


def test_a_typed_busy_time_says_busy_then_and_a_taken_offer_says_just_taken(app, client, auth):
    auth.login("operator")
    first, second = open_case(auth, plate="AA-111-AA"), open_case(auth, plate="BB-222-BB")
    best = offers_of(client, first["id"])["offers"][0]
    assert book(auth, first["id"], best).status_code == 201
    before = rows(app)
    slot = {k: best[k] for k in ("garage", "technician", "start")}
    typed = auth.post(f"/api/v1/cases/{second['id']}/appointments",
                      json={**slot, "source": "typed", "reason": "the caller asks for it"})
    error = typed.get_json()["error"]
    assert (typed.status_code, error["code"]) == (409, "slot_taken")
    assert error["message"].startswith("Busy then") and "just taken" not in error["message"]
    assert error["details"]["busy_then"] is True and error["details"]["offers"], "free times around it"
    # offers as API.md shapes them wherever they come: where, when, the wait, the distance and the cost
    assert {"garage", "technician", "start", "end", "wait_minutes", "distance_km", "cost"} <= set(
        error["details"]["offers"][0])
    offered = auth.post(f"/api/v1/cases/{second['id']}/appointments", json={**slot, "source": "offer"})
    assert offered.status_code == 409 and "just taken" in offered.get_json()["error"]["message"]
    assert rows(app) == before

    # the page's forms say which one they are: an offer shown, or a time typed
    page = client.get(f"/desk/cases/{second['id']}").get_data(as_text=True)
    assert re.search(r'name="source" value="typed"', page) and re.search(r'name="source" value="offer"', page)
    local = datetime.fromisoformat(slot["start"]).astimezone(ZoneInfo("Europe/Paris"))
    asked = client.post(f"/desk/cases/{second['id']}/book", data={
        "csrf_token": csrf_from(page), "garage": slot["garage"], "technician": slot["technician"], "source": "typed",
        "day": local.date().isoformat(), "time": f"{local:%H:%M}", "reason": "asked"}, follow_redirects=True)
    said = asked.get_data(as_text=True)
    assert "Busy then" in said
    assert rows(app) == before
    # not a dead end: the form comes back as typed, the refusal under the time, and the free times around it to pick
    # (flashed above an emptied form, it said they were listed and listed none)
    assert asked.status_code == 409 and '<details class="other-slot" open>' in said
    assert 'id="typed-time-error"' in said and 'value="asked"' in said and f'value="{local:%H:%M}"' in said
    picks = re.findall(r'name="pick" value="([^"]+)"', said)
    assert picks, "the free times around the busy one"
    technician, _, start = unescape(picks[0]).partition("|")
    picked = client.post(f"/desk/cases/{second['id']}/book", data={
        "csrf_token": csrf_from(said), "garage": slot["garage"], "technician": "", "source": "typed",
        "day": local.date().isoformat(), "time": f"{local:%H:%M}", "reason": "asked", "pick": unescape(picks[0])},
        follow_redirects=True)
    assert "Booked:" in picked.get_data(as_text=True)
    (made,) = client.get(f"/api/v1/cases/{second['id']}").get_json()["appointments"]
    assert (made["technician"], datetime.fromisoformat(made["start"])) == (technician, datetime.fromisoformat(start))
    # a typed time without its reason keeps the form too, and says so under the reason
    third = open_case(auth, plate="CC-333-CC")
    page = client.get(f"/desk/cases/{third['id']}").get_data(as_text=True)
    free = datetime.fromisoformat(unescape(picks[-1]).partition("|")[2]).astimezone(ZoneInfo("Europe/Paris"))
    bare = client.post(f"/desk/cases/{third['id']}/book", data={
        "csrf_token": csrf_from(page), "garage": slot["garage"], "technician": "", "source": "typed",
        "day": free.date().isoformat(), "time": f"{free:%H:%M}", "pick": unescape(picks[-1])})  # hours after the first
    assert bare.status_code == 422 and 'id="typed-reason-error"' in bare.get_data(as_text=True)
    assert f'value="{free:%H:%M}"' in bare.get_data(as_text=True)


def _declined_at(app, auth, case_id: int, garage: str = "lyon-07") -> None:
    auth.post(f"/api/v1/cases/{case_id}/direct-line", json={"garage": garage, "message": "Today?"})
    workshop = Auth(app.test_client())
    workshop.login(f"workshop-{garage}")
    asked = workshop.client.get("/api/v1/direct-line?status=open").get_json()[0]["id"]
    assert workshop.post(f"/api/v1/direct-line/{asked}/answer", json={"accept": False, "reason": "full"}).status_code == 200
    return asked, workshop


REFUSALS = {
    "already_booked": lambda t: t.auth.post(t.path("appointments"), json=t.slot(1)),
    "rebook_without_reason": lambda t: t.auth.post(t.path("appointments"), json={**t.slot(1), "replaces": t.booked}),
    "stale_replaces": lambda t: t.auth.post(t.path("appointments"),
                                            json={**t.slot(1), "replaces": t.booked + 999, "reason": "x"}),
    "bad_replaces": lambda t: t.auth.post(t.path("appointments"), json={**t.slot(1), "replaces": "one"}),
    "bad_source": lambda t: t.auth.post(t.path("appointments"), json={**t.slot(1), "source": "guess"}),
    "same_urgency": lambda t: t.auth.post(t.path("urgency"), json={"urgency": "P1", "reason": "x"}),
    "empty_message": lambda t: t.auth.post(t.path("direct-line"), json={"garage": "lyon-03", "message": " "}),
    "drive_in_where_declined": lambda t: t.auth.post(t.path("drive-in"), json={"garage": "lyon-07"}),
    "answer_twice": lambda t: t.workshop.post(f"/api/v1/direct-line/{t.request}/answer",
                                              json={"accept": False, "reason": "again"}),
    "page_move_without_reason": lambda t: t.client.post(t.path("book", page=True), data={
        "csrf_token": t.auth.csrf, **t.slot(1), "replaces": str(t.booked), "source": "offer"}),
}


class Scene:
    """A P1 case booked at its best offer after the nearest garage declined it."""

    def __init__(self, app, client, auth):
        self.client, self.auth = client, auth
        auth.login("operator")
        self.case = open_case(auth)
        self.request, self.workshop = _declined_at(app, auth, self.case["id"])
        self.offers = offers_of(client, self.case["id"])["offers"]
        made = book(auth, self.case["id"], self.offers[0])
        assert made.status_code == 201, made.get_json()
        self.booked = made.get_json()["id"]

    def path(self, action: str, page: bool = False) -> str:
        return f"/desk/cases/{self.case['id']}/{action}" if page else f"/api/v1/cases/{self.case['id']}/{action}"

    def slot(self, index: int) -> dict:
        return {k: self.offers[index][k] for k in ("garage", "technician", "start")}


@pytest.mark.parametrize("refusal", sorted(REFUSALS))
def test_every_refusal_leaves_the_row_counts_unchanged(app, client, auth, refusal):
    scene = Scene(app, client, auth)
    before = rows(app)
    response = REFUSALS[refusal](scene)
    assert response.status_code in (302, 400, 409, 422), (refusal, response.status_code)
    assert rows(app) == before, refusal


def test_the_timeline_records_offers_once_per_change_and_the_new_urgency_s_rule_offer(app, client, auth):
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")
    for minutes, garage in ((0, "lyon-07"), (1, "lyon-03"), (2, "oullins")):  # three writes, minutes apart
        app.config["CLOCK"] = lambda m=minutes: CLOCK_NOW + timedelta(minutes=m)
        for _ in range(3):  # page views write nothing
            client.get(f"/desk/cases/{case['id']}")
        assert auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                         json={"garage": garage, "message": "A slot this week?"}).status_code == 201
    kinds = [e["kind"] for e in client.get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]]
    assert kinds.count("rule_offer") == 1 and kinds.count("offers") == 1, kinds

    raised = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P1", "reason": "brakes grinding"})
    rules = [e for e in raised.get_json()["timeline"] if e["kind"] == "rule_offer"]
    assert [e["data"]["urgency"] for e in rules] == ["P3", "P1"], "the rules were asked again under P1"
    assert rules[-1]["text"].startswith("P1 · Standard rules")
    page = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    panel = re.search(r'class="rule-offer">(.*?)</p>', page, re.DOTALL).group(1)
    wait = re.search(r"in \d+ (?:days?|min)|in \d+ h \d+", panel).group(0)
    assert f"({wait})" in rules[-1]["text"], "the panel and the timeline say the wait the same way"


def test_a_drive_in_at_a_garage_that_just_declined_asks_first(app, client, auth):
    case_id, page = open_call(client, auth)
    client.post(f"/desk/cases/{case_id}/direct-line", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "message": "Today?"})
    workshop = Auth(app.test_client())
    workshop.login("workshop-lyon-07")
    asked = workshop.client.get("/api/v1/direct-line?status=open").get_json()[0]["id"]
    workshop.post(f"/api/v1/direct-line/{asked}/answer", json={"accept": False, "reason": "No one free today"})
    page = client.get(f"/desk/cases/{case_id}").get_data(as_text=True)
    before = rows(app)
    asking = client.post(f"/desk/cases/{case_id}/drive-in", data={
        "csrf_token": csrf_from(page), "garage": "lyon-07", "note": "coming anyway"})
    text = asking.get_data(as_text=True)
    assert asking.status_code == 409 and "Lyon 7e Gerland declined this case" in text and "No one free today" in text
    assert 'name="confirm" value="yes"' in text and 'value="coming anyway"' in text
    assert rows(app) == before, "asking writes nothing"
    sent = client.post(f"/desk/cases/{case_id}/drive-in", data={
        "csrf_token": csrf_from(text), "garage": "lyon-07", "note": "coming anyway", "confirm": "yes"},
        follow_redirects=True)
    assert "Lyon 7e Gerland expects the customer" in sent.get_data(as_text=True)


def test_a_drive_in_is_expected_after_the_drive_to_that_garage(app, client, auth):
    import math

    from scheduler.models import Case
    from scheduler.services import planning, policies

    auth.login("operator")
    case = open_case(auth)  # in Lyon 7e
    announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"garage": "villefranche"}).get_json()
    with app.app_context():
        stored = db.session.get(Case, case["id"])
        km = dict((g.id, d) for g, d in planning.nearest_garages(db.session, stored.lat, stored.lon, CLOCK_NOW))
        speed = policies.in_force(db.session, CLOCK_NOW).travel_speed_kmh
    drive = timedelta(minutes=math.ceil(km["villefranche"] / speed * 60))
    assert drive > timedelta(minutes=20), "Villefranche is a real drive from Lyon 7e, not ten minutes"
    assert datetime.fromisoformat(announced["expected_at"]) == CLOCK_NOW + drive
