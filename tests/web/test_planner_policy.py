"""The versioned policy (a change is a new version, the version in force at a moment is the one the
rules use then) and the customers' feedback by link token."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from tests.conftest import CLOCK_NOW
from tests.web.pages import csrf_from


def test_a_change_is_a_new_version_in_force_from_then_on(client, auth):
    auth.login("planner")
    before = client.get("/api/v1/policy").get_json()
    assert before["rule"]["min_notice_minutes"] == {"P1": 1440, "P2": 1440, "P3": 1440}
    changed = auth.post("/api/v1/policy", json={"rule": {"min_notice_minutes": {"P1": 0}, "garages": 3},
                                                "p1_reserve_minutes": 60, "note": "P1 at once"})
    assert changed.status_code == 201, changed.get_json()
    body = changed.get_json()
    assert (body["version"], body["created_by"], body["note"]) == (before["version"] + 1, "planner", "P1 at once")
    assert body["rule"] == {"garages": 3, "min_notice_minutes": {"P1": 0, "P2": 1440, "P3": 1440}}
    assert body["created_at"] == CLOCK_NOW.isoformat()
    now = client.get("/api/v1/policy").get_json()
    assert now["version"] == body["version"] and now["p1_reserve_minutes"] == 60
    versions = client.get("/api/v1/policy/versions").get_json()
    earlier = client.get("/api/v1/policy", query_string={"at": (CLOCK_NOW - timedelta(minutes=1)).isoformat()})
    assert earlier.get_json()["version"] == before["version"]  # the rules of a past moment are kept
    first = min(v["created_at"] for v in client.get("/api/v1/policy/versions").get_json())
    too_early = (datetime.fromisoformat(first) - timedelta(seconds=1)).isoformat()
    nothing = client.get("/api/v1/policy", query_string={"at": too_early})
    assert nothing.status_code == 404, "before the first version no rules were in force: not version 1's word"
    assert nothing.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/policy", query_string={"at": first}).get_json()["version"] == min(
        v["version"] for v in versions)
    assert [v["version"] for v in versions][:2] == [body["version"], before["version"]]
    csv = client.get("/api/v1/policy/versions?format=csv").get_data(as_text=True)
    assert csv.splitlines()[0].startswith("version,created_at,created_by,note,rule.garages")


@pytest.mark.parametrize("fields, field", [
    ({"rule": {"min_notice_minutes": {"P1": -1}}}, "rule.min_notice_minutes.P1"),
    ({"rule.min_notice_minutes.P2": "soon"}, "rule.min_notice_minutes.P2"),
    ({"rule": {"garages": 0}}, "rule.garages"), ({"rule": {"garages": 1.5}}, "rule.garages"),
    ({"search_radius_km": True}, "search_radius_km"), ({"colour": "red"}, "colour"),
    ({"same_day_visible": "yes"}, "same_day_visible"), ({}, "policy"), ({"weights": {"wait": {"P1": -3}}},
                                                                       "weights.wait.P1"),
    ({"rule": None}, "rule"), ({"weights": 3}, "weights"),  # a group given as one value: "holds fields", not "fixed"
])
def test_an_invalid_value_is_refused_naming_the_field(client, auth, fields, field):
    auth.login("planner")
    refused = auth.post("/api/v1/policy", json=fields)
    assert refused.status_code == 400
    assert refused.get_json()["error"]["details"]["field"] == field
    assert "is fixed" not in refused.get_json()["error"]["message"]
    assert client.get("/api/v1/policy/versions").get_json()[0]["version"] == 1  # nothing half-written


def test_only_planners_and_admins_change_the_policy(client, auth):
    auth.login("operator")
    assert auth.post("/api/v1/policy", json={"rule": {"garages": 2}}).status_code == 403
    assert client.get("/api/v1/policy").status_code == 200


def test_the_policy_page_changes_a_field_and_names_a_bad_one(client, auth):
    auth.login("planner")
    page = client.get("/planner/policy").get_data(as_text=True)
    assert "rule.min_notice_minutes.P1" in page
    saved = client.post("/planner/policy", data={"csrf_token": csrf_from(page), "rule.min_notice_minutes.P1": "0",
                                                 "note": "P1 at once"}, follow_redirects=True)
    text = saved.get_data(as_text=True)
    assert "Policy version 2 is in force" in text and "1440 → <strong>0</strong>" in text
    # the history names who made the version as people know them, not by their login
    mine = text.split("<td>2</td>", 1)[1].split("</tr>", 1)[0]
    assert "Hélène (planification)" in mine and ">planner<" not in mine
    refused = client.post("/planner/policy", data={"csrf_token": csrf_from(text), "search_radius_km": "-4",
                                                   "offers": "5", "note": "wider and more"})
    bad = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Search radius (km) must be between" in bad and 'id="f-search_radius_km" class="field-error"' in bad
    # what was typed comes back, the good field and the note with the bad one, to be fixed and sent again
    assert 'name="offers" value="5"' in bad and 'name="search_radius_km" value="-4"' in bad
    assert 'value="wider and more"' in bad
    # a note longer than the 200 characters kept is refused whole and comes back to be shortened, never cut
    assert 'name="note" maxlength' not in bad, "a browser would cut a pasted note silently"
    long_note = "why " * 60
    too_long = client.post("/planner/policy", data={"csrf_token": csrf_from(bad), "offers": "4", "note": long_note})
    assert too_long.status_code == 400 and "at most 200 characters" in too_long.get_data(as_text=True)
    assert f'value="{long_note}"' in too_long.get_data(as_text=True)


def test_a_value_typed_another_way_is_no_new_version_on_the_page(app, client, auth):
    from sqlalchemy import func, select

    from scheduler.models import Policy
    from web.extensions import db

    auth.login("planner")
    radius = client.get("/api/v1/policy").get_json()["search_radius_km"]
    page = client.get("/planner/policy").get_data(as_text=True)
    same = client.post("/planner/policy", data={"csrf_token": csrf_from(page), "search_radius_km": f"{radius:g}.0",
                                                "note": "same radius"}, follow_redirects=True)
    assert "Nothing changed" in same.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Policy)) == 1


def test_the_api_takes_the_values_in_force_restated_and_a_body_read_and_posted_back(client, auth):
    """API.md: POST the changed fields → 201 a new version. A field given with the value in force (a default, a
    script that states its rules) is a new version all the same; the GET body, changed and posted back whole, is
    taken: what a version says of itself (version, created_at, created_by) and the fixed slot grid are read back as
    they were."""
    auth.login("planner")
    current = client.get("/api/v1/policy").get_json()
    restated = auth.post("/api/v1/policy", json={"max_moves": current["max_moves"]})
    assert restated.status_code == 201, restated.get_json()
    assert restated.get_json()["version"] == current["version"] + 1
    assert restated.get_json()["max_moves"] == current["max_moves"]
    body = client.get("/api/v1/policy").get_json()
    posted = auth.post("/api/v1/policy", json={**body, "offers": body["offers"] + 1})
    assert posted.status_code == 201, posted.get_json()
    after = posted.get_json()
    assert after["version"] == body["version"] + 1 and after["offers"] == body["offers"] + 1
    assert {k: v for k, v in after.items() if k not in ("version", "created_at", "created_by", "offers")} == {
        k: v for k, v in body.items() if k not in ("version", "created_at", "created_by", "offers")}
    grid = auth.post("/api/v1/policy", json={"slot_minutes": body["slot_minutes"] * 2})
    assert grid.status_code == 400 and grid.get_json()["error"]["details"]["field"] == "slot_minutes"
    assert "is fixed" in grid.get_json()["error"]["message"]
    assert auth.post("/api/v1/policy", json={}).status_code == 400
    numbered = auth.post("/api/v1/policy", json={"version": 99})
    assert numbered.status_code == 400 and numbered.get_json()["error"]["details"]["field"] == "version"
    assert "given by the server" in numbered.get_json()["error"]["message"]
    # the document read before the change above, edited: a second planner would undo the first's change unknowing
    stale = auth.post("/api/v1/policy", json={**body, "max_moves": body["max_moves"] + 1})
    assert stale.status_code == 409, stale.get_json()
    assert stale.get_json()["error"]["details"] == {"field": "version", "current": after["version"]}
    assert client.get("/api/v1/policy").get_json()["version"] == after["version"], "nothing written"
    assert auth.post("/api/v1/policy", json={"note": "only a note"}).status_code == 400, "a note alone is no rule"
    noted = auth.post("/api/v1/policy", json={**after, "note": "launch rules, restated"}).get_json()
    kept = auth.post("/api/v1/policy", json=noted)
    assert kept.status_code == 201 and kept.get_json()["note"] == "launch rules, restated", "a posted note is kept"


def test_the_policy_page_unticks_a_box_as_a_browser_sends_it_and_a_form_without_a_box_leaves_it(client, auth):
    """An unticked box is sent as its hidden "off" alone, a ticked one as "off" and "on"; a box the form did not
    carry is no change (an empty form once turned every setting off)."""
    auth.login("planner")
    page = client.get("/planner/policy").get_data(as_text=True)
    assert client.get("/api/v1/policy").get_json()["same_day_visible"] is True
    saved = client.post("/planner/policy", data={"csrf_token": csrf_from(page), "same_day_visible": "off",
                                                 "allow_overbook": "off", "note": "today for the garages"},
                        follow_redirects=True)
    assert saved.status_code == 200
    policy = client.get("/api/v1/policy").get_json()
    assert (policy["same_day_visible"], policy["allow_overbook"], policy["note"]) == \
        (False, False, "today for the garages")
    ticked = client.post("/planner/policy", data={"csrf_token": csrf_from(saved.get_data(as_text=True)),
                                                  "same_day_visible": ["off", "on"]}, follow_redirects=True)
    assert ticked.status_code == 200 and client.get("/api/v1/policy").get_json()["same_day_visible"] is True
    versions = len(client.get("/api/v1/policy/versions").get_json())
    empty = client.post("/planner/policy", data={"csrf_token": csrf_from(ticked.get_data(as_text=True))})
    assert empty.status_code == 400 and len(client.get("/api/v1/policy/versions").get_json()) == versions


def test_a_policy_page_saved_after_a_colleague_s_change_does_not_undo_it(client, auth):
    """Planner A opened the page; planner B raised max_moves; A saves a change to offers from the page A read: the
    page's max_moves (B's old value) would undo B's change unknowing. Refused, told, shown the values in force."""
    auth.login("planner")
    page = client.get("/planner/policy").get_data(as_text=True)
    read = client.get("/api/v1/policy").get_json()
    assert f'name="version" value="{read["version"]}"' in page
    raised = auth.post("/api/v1/policy", json={"max_moves": read["max_moves"] + 1}).get_json()
    form = {"csrf_token": csrf_from(page), "version": str(read["version"]), "offers": str(read["offers"] + 1),
            "max_moves": str(read["max_moves"])}
    stale = client.post("/planner/policy", data=form)
    assert stale.status_code == 302
    after = client.get("/api/v1/policy").get_json()
    assert after["version"] == raised["version"] and after["max_moves"] == read["max_moves"] + 1, "B's change stands"
    assert "no longer in force" in client.get(stale.headers["Location"]).get_data(as_text=True)
    fresh = client.get("/planner/policy").get_data(as_text=True)
    saved = client.post("/planner/policy", data={**form, "csrf_token": csrf_from(fresh),
                                                 "version": str(raised["version"]),
                                                 "max_moves": str(raised["max_moves"])})
    assert saved.status_code == 302 and client.get("/api/v1/policy").get_json()["offers"] == read["offers"] + 1


def test_the_customer_rates_the_stages_with_the_link_token(app, client, auth):
    from sqlalchemy import select

    from scheduler.models import Case
    from scheduler.services import feedback
    from web.extensions import db

    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.status == "done").order_by(Case.id))
        token = feedback.token_for(case_id, app.config["SECRET_KEY"])
    given = client.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "repair", "score": 9, "token": token})
    assert given.status_code == 201 and given.get_json()["score"] == 9
    again = client.post(f"/api/v1/cases/{case_id}/feedback?token={token}", json={"stage": "repair", "score": 7})
    assert again.status_code == 201 and again.get_json()["id"] == given.get_json()["id"]  # replaced, not added
    assert client.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "repair", "score": 9,
                                                                  "token": token[:-1] + "x"}).status_code == 403
    # a case's link rates that case only: another case is not allowed (403), as API.md has it, not malformed (400)
    other = client.post(f"/api/v1/cases/{case_id + 1}/feedback", json={"stage": "repair", "score": 9, "token": token})
    assert other.status_code == 403 and other.get_json()["error"]["code"] == "forbidden", other.get_json()
    assert client.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "repair", "score": 9}).status_code == 401
    assert client.post(f"/api/v1/cases/{case_id}/feedback").status_code == 401, "nobody named, no body: 401 first"
    bad = client.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "mechanic", "score": 9, "token": token})
    assert bad.status_code == 400 and bad.get_json()["error"]["details"]["field"] == "stage"
    page = client.get(f"/feedback/{token}").get_data(as_text=True)
    assert "not to one person" in page
    sent = client.post(f"/feedback/{token}", data={"csrf_token": csrf_from(page), "booking": "10", "wait": "4"},
                       follow_redirects=True)
    assert "Thank you" in sent.get_data(as_text=True)
    assert client.get("/feedback/12.nope").status_code == 403
    # a colleague may type in what a customer says on the phone, named with it, never over the customer's own score
    auth.login("operator")
    over = auth.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "wait", "score": 5})
    assert over.status_code == 409 and over.get_json()["error"]["details"]["field"] == "stage"
    typed = auth.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "reception", "score": 6})
    assert typed.status_code == 201 and typed.get_json()["recorded_by"] == "call centre"  # a team, never the person
    assert auth.post(f"/api/v1/cases/{case_id}/feedback", json={"stage": "reception", "score": 5}).status_code == 201
    with app.app_context():
        scores = {stage: f.score for stage, f in feedback.given(db.session, db.session.get(Case, case_id)).items()}
    assert scores == {"repair": 7, "booking": 10, "wait": 4, "reception": 5}
    auth.login("planner")
    timeline = auth.client.get(f"/planner/cases/{case_id}").get_data(as_text=True)
    assert "Call centre entered for the customer" in timeline and "Customer rated" in timeline
    assert "operator entered" not in timeline, "feedback is never shown per employee"
    # the customer's own word stands over a colleague's
    mine = app.test_client().post(f"/api/v1/cases/{case_id}/feedback",
                                  json={"stage": "reception", "score": 8, "token": token})
    assert mine.status_code == 201 and mine.get_json()["recorded_by"] is None


def test_a_customer_coming_back_to_rate_another_stage_keeps_what_they_said_before(app, client):
    from sqlalchemy import select

    from scheduler.models import Case
    from scheduler.services import feedback
    from web.extensions import db

    with app.app_context():
        case_id = db.session.scalar(select(Case.id).where(Case.status == "done").order_by(Case.id))
        token = feedback.token_for(case_id, app.config["SECRET_KEY"])
    page = client.get(f"/feedback/{token}").get_data(as_text=True)
    client.post(f"/feedback/{token}", data={"csrf_token": csrf_from(page), "booking": "2",
                                            "comment": "Twenty minutes on hold"})
    page = client.get(f"/feedback/{token}").get_data(as_text=True)
    assert "Twenty minutes on hold" in page  # shown back to them
    # the page ticks the booking's 2 again; the customer adds the repair and writes nothing more
    client.post(f"/feedback/{token}", data={"csrf_token": csrf_from(page), "booking": "2", "repair": "8"})
    with app.app_context():
        given = feedback.given(db.session, db.session.get(Case, case_id))
        said = {stage: (f.score, f.comment) for stage, f in given.items()}
    assert said == {"booking": (2, "Twenty minutes on hold"), "repair": (8, "")}


def test_the_api_takes_any_stage_and_the_customers_page_asks_about_the_stages_that_happened(app, client, auth):
    """API.md: `{stage, score, comment}` with any of the four stages → 201. The link comes with the booking, so
    the customer's page asks about what happened so far (not the repair before any work), and reads only that."""
    from scheduler.models import Case
    from scheduler.services import feedback
    from tests.web.story import open_case
    from web.extensions import db

    auth.login("operator")
    case = open_case(auth)["id"]
    token = feedback.token_for(case, app.config["SECRET_KEY"])
    customer = app.test_client()  # the customer's link needs no account

    def rate(stage: str, score: int = 3):
        return customer.post(f"/api/v1/cases/{case}/feedback", json={"stage": stage, "score": score, "token": token})

    def offered() -> set:
        return set(re.findall(r'type="radio" name="(\w+)"', customer.get(f"/feedback/{token}").get_data(as_text=True)))

    def scores() -> dict:
        with app.app_context():
            return {s: f.score for s, f in feedback.given(db.session, db.session.get(Case, case)).items()}

    assert offered() == {"booking"}
    assert [rate(s).status_code for s in ("booking", "wait")] == [201, 201]
    assert scores() == {"booking": 3, "wait": 3}

    best = client.get(f"/api/v1/cases/{case}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case}/appointments", json={
        **{k: best[k] for k in ("garage", "technician", "start")}, "reason": "caller's choice"})
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()["id"]
    page = customer.get(f"/feedback/{token}").get_data(as_text=True)
    assert offered() == {"booking", "wait"} and "once they have happened" in page
    # a score sent through the page for a stage it does not ask about is not read
    customer.post(f"/feedback/{token}", data={"csrf_token": csrf_from(page), "wait": "8", "repair": "0"})
    assert scores() == {"booking": 3, "wait": 8}

    auth.login(f"reception-{best['garage']}")
    assert auth.post(f"/api/v1/appointments/{appointment}/check-in").status_code == 200
    assert offered() == {"booking", "wait", "reception"}
    auth.login(f"workshop-{best['garage']}")
    assert auth.post(f"/api/v1/appointments/{appointment}/start").status_code == 200
    assert "repair" not in offered(), "work started is not work done"
    assert rate("repair", 9).status_code == 201 and scores()["repair"] == 9
    assert auth.post(f"/api/v1/appointments/{appointment}/finish", json={"note": "done"}).status_code == 200
    assert rate("repair").status_code == 201
    assert offered() == {"booking", "wait", "reception", "repair"}
    assert "once they have happened" not in customer.get(f"/feedback/{token}").get_data(as_text=True)


def test_a_policy_change_is_in_the_admins_audit_trail_from_and_to(client, auth):
    auth.login("planner")
    before = client.get("/api/v1/policy").get_json()["max_moves"]
    made = auth.post("/api/v1/policy", json={"max_moves": before + 2, "note": "busy week", "travel_speed_kmh": 45.5})
    assert made.status_code == 201
    auth.login("admin")
    (entry,) = client.get("/api/v1/audit?entity=policy").get_json()
    assert entry["entity_id"] == str(made.get_json()["version"]) and entry["action"] == "created"
    assert entry["changes"]["max_moves"] == [before, before + 2] and entry["changes"]["note"] == [None, "busy week"]
    page = client.get("/admin/audit", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "jeu de règles" in page and "Nombre maximal de rendez-vous déplacés par une insertion" in page
    assert re.search(r"30\s*→\s*45,5", re.sub(r"<[^>]+>", "", page)), "the reader's numbers: 30 → 45,5"
    fr = auth.client.post("/api/v1/policy", json={"time_limit_seconds": 0.0001},
                          headers={**auth.headers(), "Accept-Language": "fr"}).get_json()["error"]["message"]
    assert "0,0001" in fr, "a tiny value is said as it came, not rounded to 0"


def test_a_bound_in_a_refusal_reads_as_the_readers_numbers(client, auth):
    auth.login("planner")
    fr = auth.client.post("/api/v1/policy", json={"time_limit_seconds": 0.01},
                          headers={**auth.headers(), "Accept-Language": "fr"})
    message = fr.get_json()["error"]["message"]
    assert fr.status_code == 400 and "0,1" in message and "0.1" not in message
    en = auth.post("/api/v1/policy", json={"search_radius_km": 1e7}).get_json()["error"]["message"]
    assert "e+" not in en and "10,000,000" in en


@pytest.mark.parametrize("fields, field", [({"search_radius_km": 1e20}, "search_radius_km"),
                                           ({"rule": {"garages": 1e300}}, "rule.garages"),
                                           ({"offers": -1e40}, "offers")])
def test_a_number_too_large_to_write_out_is_refused_naming_the_field(client, auth, fields, field):
    """A refusal quotes what was typed; 1e20 cannot be written digit by digit, and that was a 500."""
    auth.login("planner")
    for language in ("fr", "en"):
        refused = auth.client.post("/api/v1/policy", json=fields,
                                   headers={**auth.headers(), "Accept-Language": language})
        assert refused.status_code == 400, refused.get_data(as_text=True)
        assert refused.get_json()["error"]["details"]["field"] == field
    page = client.get("/planner/policy").get_data(as_text=True)
    typed = client.post("/planner/policy", data={"csrf_token": csrf_from(page), "search_radius_km": "1e20"})
    assert typed.status_code == 400 and 'id="f-search_radius_km" class="field-error"' in typed.get_data(as_text=True)
    replay = auth.post("/api/v1/replays", json={"from": "2026-10-01", "to": "2026-10-02",
                                                 "policy": {"search_radius_km": 1e300}})
    assert replay.status_code == 400 and replay.get_json()["error"]["details"]["field"] == "search_radius_km"


def test_a_decimal_reads_and_is_typed_back_with_the_readers_decimal_comma(client, auth):
    """A French planner saw "30 → 32.5" in the versions and "32.5" in the field, where the audit trail wrote 32,5."""
    auth.login("planner")
    assert auth.post("/api/v1/policy", json={"search_radius_km": 32.5}).status_code == 201
    french = {"Accept-Language": "fr-FR,fr;q=0.9"}
    page = client.get("/planner/policy", headers=french).get_data(as_text=True)
    assert "<strong>32,5</strong>" in page and 'name="search_radius_km" value="32,5"' in page
    assert "32.5" not in page
    again = client.post("/planner/policy", data={"csrf_token": csrf_from(page), "version": "2", "search_radius_km": "32,5"},
                        headers=french, follow_redirects=True)
    assert client.get("/api/v1/policy").get_json()["version"] == 2, "the value shown, typed back, changes nothing"
    assert again.status_code == 400 and "Rien n’a changé" in again.get_data(as_text=True)
    replays_page = client.get("/planner/replays", headers=french).get_data(as_text=True)
    assert 'placeholder="32,5"' in replays_page and "32.5" not in replays_page
