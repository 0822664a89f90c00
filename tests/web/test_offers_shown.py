"""Booking an offer the desk showed, with the seal of those offers: judged on what was shown, not searched again.

The seal is what lets a booking skip the network search (about half of its cost): these tests check that it does,
and that nothing but a genuine, recent seal of this case's offers, shown to this person under the rules and the
urgency in force, is ever taken for what was offered.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape

import pytest
from itsdangerous import URLSafeSerializer

from scheduler.services import booking
from tests.conftest import CLOCK_NOW
from tests.web.story import footprint, open_case
from tests.web.test_api_booking import free_slot_not_offered


@pytest.fixture
def searches(monkeypatch) -> list:
    """Every network search a booking runs to learn what its desk was offered."""
    made = []
    real = booking.desk_offers

    def counted(*args, **kwargs):
        made.append(args[2].id)
        return real(*args, **kwargs)

    monkeypatch.setattr(booking, "desk_offers", counted)
    return made


def shown_to(client, case_id: int) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}/offers")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def book(auth, case_id: int, slot: dict, token: str | None, reason: str | None = None):
    body = {k: slot[k] for k in ("garage", "technician", "start")}
    if token is not None:
        body["offers_token"] = token
    if reason is not None:
        body["reason"] = reason
    return auth.post(f"/api/v1/cases/{case_id}/appointments", json=body)


def test_the_offer_shown_books_with_its_seal_without_a_second_search_and_the_timeline_keeps_what_was_shown(
        client, auth, searches):
    auth.login("operator")
    case = open_case(auth)
    shown = shown_to(client, case["id"])
    made = book(auth, case["id"], shown["offers"][0], shown["offers_token"])
    assert made.status_code == 201, made.get_json()
    assert searches == [], "the offers shown were not looked for again"
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert (read["status"], read["overrides"]) == ("booked", [])
    events = {e["kind"]: e for e in read["timeline"]}
    assert list(events) == ["call", "rule_offer", "offers", "booking"]
    assert read["timeline"][1]["data"]["start"] == shown["rule_offer"]["start"], "the rule offer the person saw"
    assert [o["start"] for o in read["timeline"][2]["data"]["offers"]] == [o["start"] for o in shown["offers"]]


def test_a_slot_not_shown_needs_a_reason_with_or_without_the_seal_and_its_override_keeps_the_rule_offer_shown(
        app, client, auth, searches):
    auth.login("operator")
    case = open_case(auth, symptom="warning_light")
    shown = shown_to(client, case["id"])
    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in shown["offers"]}
    other = free_slot_not_offered(app, case["id"], shown["offers"][0]["garage"], offered)
    before = footprint(app)
    refused = book(auth, case["id"], other, shown["offers_token"])
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "reason_required"
    assert footprint(app) == before
    made = book(auth, case["id"], other, shown["offers_token"], reason="The customer works mornings")
    assert made.status_code == 201, made.get_json()
    assert searches == []
    (override,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert override["kind"] == "manual_slot"
    assert override["rule_offer"]["start"] == shown["rule_offer"]["start"]


def forged(app, token_of: dict, **changes) -> str:
    """A seal like the one given, with its parts changed, signed with `key` (the app's own by default)."""
    key = changes.pop("key", app.config["SECRET_KEY"])
    serializer = URLSafeSerializer(key, salt="frontline.offers-shown")
    case_id, user_id, at, facts = URLSafeSerializer(app.config["SECRET_KEY"], salt="frontline.offers-shown") \
        .loads(token_of["offers_token"])
    parts = {"case": case_id, "user": user_id, "at": at, "facts": facts, **changes}
    return serializer.dumps([parts["case"], parts["user"], parts["at"], parts["facts"]])


def test_a_made_up_seal_offers_nothing_the_rules_did_not(app, client, auth, searches):
    """Signed with another key, a seal claiming an unoffered slot was offered is set aside: the search says no."""
    auth.login("operator")
    case = open_case(auth, symptom="warning_light")
    shown = shown_to(client, case["id"])
    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in shown["offers"]}
    other = free_slot_not_offered(app, case["id"], shown["offers"][0]["garage"], offered)
    _case, _user, _at, facts = URLSafeSerializer(app.config["SECRET_KEY"], salt="frontline.offers-shown") \
        .loads(shown["offers_token"])
    claimed = [other["garage"], other["technician"], round(datetime.fromisoformat(other["start"]).timestamp() / 60),
               0, 0, 0.0, 0.0, "", [], None]
    lie = [*facts[:5], [claimed]]
    for token in (forged(app, shown, facts=lie, key="not-the-app's-secret"), shown["offers_token"][:-3] + "xyz",
                  "nonsense", 42):
        refused = book(auth, case["id"], other, token)
        assert refused.status_code == 422, (token, refused.get_json())
        assert refused.get_json()["error"]["code"] == "reason_required"
    assert len(searches) == 4, "each booking searched, as without a seal"


def test_another_cases_or_persons_seal_an_old_one_or_one_from_before_an_urgency_change_is_set_aside(
        app, client, auth, searches):
    auth.login("operator")
    case, other_case = open_case(auth, symptom="warning_light"), open_case(auth, plate="ZZ-999-ZZ")
    shown = shown_to(client, case["id"])
    made = book(auth, case["id"], shown["offers"][0], shown_to(client, other_case["id"])["offers_token"])
    assert made.status_code == 201, made.get_json()
    assert len(searches) == 1, "another case's offers are not this one's"

    someone_elses = open_case(auth, plate="EL-333-SE", symptom="warning_light")
    theirs = shown_to(client, someone_elses["id"])
    made = book(auth, someone_elses["id"], theirs["offers"][0], forged(app, theirs, user=10_000))
    assert made.status_code == 201, made.get_json()
    assert len(searches) == 2, "offers shown to another person are not this person's"

    late_case = open_case(auth, plate="LA-111-TE", symptom="warning_light")
    late = shown_to(client, late_case["id"])
    later = CLOCK_NOW + timedelta(minutes=11)
    slot = next(o for o in late["offers"] if datetime.fromisoformat(o["start"]) >= later)
    app.config["CLOCK"] = lambda: later
    made = book(auth, late_case["id"], slot, late["offers_token"], reason="As the caller asked")
    assert made.status_code == 201, made.get_json()
    assert len(searches) == 3, "offers shown eleven minutes ago are looked for again"
    app.config["CLOCK"] = lambda: CLOCK_NOW

    raised_case = open_case(auth, plate="UR-222-GE", symptom="warning_light")
    before = shown_to(client, raised_case["id"])
    raised = auth.post(f"/api/v1/cases/{raised_case['id']}/urgency", json={"urgency": "P1", "reason": "Smoke"})
    assert raised.status_code == 200, raised.get_json()
    made = book(auth, raised_case["id"], before["offers"][0], before["offers_token"], reason="As the caller asked")
    assert made.status_code == 201, made.get_json()
    assert len(searches) == 4, "offers found for the urgency before the change are not the case's now"


def test_a_slot_taken_gives_fresh_offers_with_their_seal_and_one_of_them_books_without_another_search(
        client, auth, searches):
    auth.login("operator")
    first = open_case(auth)
    second = open_case(auth, plate="AB-456-CD")
    shown = shown_to(client, second["id"])
    taken = book(auth, first["id"], shown["offers"][0], shown_to(client, first["id"])["offers_token"])
    assert taken.status_code == 201, taken.get_json()
    refused = book(auth, second["id"], shown["offers"][0], shown["offers_token"])
    assert refused.status_code == 409
    details = refused.get_json()["error"]["details"]
    assert details["offers"] and details["offers_token"]
    made = book(auth, second["id"], details["offers"][0], details["offers_token"])
    assert made.status_code == 201, made.get_json()
    assert searches == [], "every booking was judged on the offers it was chosen from"


def test_the_case_pages_book_button_hands_back_the_offers_shown_so_booking_from_the_page_searches_once(
        client, auth, searches):
    auth.login("operator")
    case = open_case(auth)
    page = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    form = re.search(r'<form method="post" action="/desk/cases/\d+/book" class="inline">(.*?)</form>', page,
                     re.DOTALL).group(1)
    fields = {name: unescape(value) for name, value in re.findall(r'name="(\w+)" value="([^"]*)"', form)}
    assert fields["offers_token"], "the Book button carries the offers shown"
    done = auth.form(f"/desk/cases/{case['id']}/book", {k: v for k, v in fields.items() if k != "csrf_token"})
    assert done.status_code == 302, done.get_data(as_text=True)[:500]
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert read["status"] == "booked" and read["appointments"][0]["start"] == fields["start"]
    assert searches == [], "the page's offers were not looked for again"


def test_offers_the_rules_gave_while_the_optimizer_was_down_are_not_a_licence_to_book_anywhere(
        app, client, auth, searches, monkeypatch):
    """With the optimizer failed, every free slot counts as offered (the booking is not refused because of the
    solver); sealed, that would have let any slot be booked without a reason for ten minutes after it recovered."""
    from scheduler.services import planning

    auth.login("operator")
    case = open_case(auth, symptom="warning_light")
    real = planning.solve

    def broken(*_args, **_kwargs):
        raise RuntimeError("solver crashed")

    monkeypatch.setattr(planning, "solve", broken)
    degraded = shown_to(client, case["id"])
    assert degraded["degraded"] and degraded["offers_token"]
    monkeypatch.setattr(planning, "solve", real)
    found = shown_to(client, case["id"])
    offered = {(o["garage"], datetime.fromisoformat(o["start"])) for o in [*found["offers"], found["rule_offer"]]}
    other = free_slot_not_offered(app, case["id"], degraded["rule_offer"]["garage"], offered)
    refused = book(auth, case["id"], other, degraded["offers_token"])
    assert refused.status_code == 422 and refused.get_json()["error"]["code"] == "reason_required", refused.get_json()
    assert searches, "judged on the optimizer's offers, found again"


def test_a_seal_from_before_a_change_of_the_rules_is_set_aside(app, client, auth, searches):
    auth.login("operator")
    case = open_case(auth, symptom="warning_light")
    shown = shown_to(client, case["id"])
    auth.login("planner")
    changed = auth.post("/api/v1/policy", json={"max_moves": 4, "note": "try four"})
    assert changed.status_code == 201, changed.get_json()
    auth.login("operator")
    made = book(auth, case["id"], shown["offers"][0], shown["offers_token"])
    assert made.status_code in (201, 409, 422), made.get_json()
    assert len(searches) == 1, "the rules in force are not those the offers were found under"


def test_receptions_own_offers_book_with_their_seal_and_its_target_keeps_its_time_zone(client, auth, searches):
    auth.login("reception-lyon-07")
    case = open_case(auth, symptom="oil_change")
    shown = shown_to(client, case["id"])
    assert {o["garage"] for o in shown["offers"]} == {"lyon-07"}, "reception is offered its own garage's times"
    made = book(auth, case["id"], shown["offers"][-1], shown["offers_token"])
    assert made.status_code == 201, made.get_json()
    assert searches == []


def test_a_seal_is_fresh_from_its_second_on_and_a_few_seconds_of_another_clock(app):
    from scheduler.models import Case, User
    from scheduler.services import planning
    from web import shown
    from web.extensions import db

    with app.test_request_context(), app.app_context():
        case = db.session.scalar(db.select(Case).where(Case.lat.is_not(None)).limit(1))
        user = db.session.scalar(db.select(User).where(User.username == "operator"))
        found = planning.case_offers(db.session, case, CLOCK_NOW)
        at = CLOCK_NOW + timedelta(seconds=0.6)  # rounded up, a seal looked "from the future" within its second
        token = shown.seal(found, case.id, user.id, at)
        assert shown.unseal(token, case, user, at) is not None
        assert shown.unseal(token, case, user, at - timedelta(seconds=3)) is not None, "another worker's clock"
        assert shown.unseal(token, case, user, at - timedelta(seconds=30)) is None
        back = shown.unseal(token, case, user, at + timedelta(minutes=9))
        assert back.target == found.target and back.target.latest_start.utcoffset() == \
            found.target.latest_start.utcoffset(), "the target's day, in its garage's time"
        assert [(o.garage, o.start) for o in back.offers] == [(o.garage, o.start) for o in found.offers]
        assert back.rule == found.rule
