"""The direct line through the API: put a case to a garage, which accepts with a start or declines."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.models import Appointment, Message
from tests.conftest import CLOCK_NOW
from tests.web.story import footprint, open_case
from web.extensions import db


def put_on_the_line(client, auth, plate: str = "GH-123-JK") -> tuple[dict, dict, dict]:
    """An operator's P1 case near Lyon 7e, put to the garage of the best offer; returns case, best offer, request."""
    auth.login("operator")
    case = open_case(auth, plate=plate)
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()
    best = offers["offers"][0]
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line",
                     json={"garage": best["garage"], "message": "Engine fault, customer immobilised. Today?"})
    assert sent.status_code == 201, sent.get_json()
    request = sent.get_json()
    assert (request["status"], request["garage"], request["case"]) == ("open", best["garage"], case["id"])
    return case, best, request


def test_the_garage_accepts_and_the_override_keeps_the_rule_offer(app, client, auth):
    case, best, request = put_on_the_line(client, auth)
    rule = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["rule_offer"]
    assert [r["id"] for r in client.get("/api/v1/direct-line?status=open").get_json()] == [request["id"]]

    auth.login(f"workshop-{best['garage']}")
    inbox = client.get("/api/v1/direct-line?status=open").get_json()
    assert [r["id"] for r in inbox] == [request["id"]] and inbox[0]["message"].startswith("Engine fault")
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=4)
    answered = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={"accept": True, "start": best["start"], "technician": best["technician"]})
    assert answered.status_code == 200, answered.get_json()
    appointment = answered.get_json()
    assert (appointment["channel"], appointment["pinned"], appointment["garage"], appointment["status"]) == \
        ("direct_line", True, best["garage"], "booked")
    assert appointment["request"]["status"] == "accepted" and appointment["request"]["response_seconds"] == 240

    again = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={"accept": False, "reason": "x"})
    assert (again.status_code, again.get_json()["error"]["code"]) == (409, "already_answered")

    auth.login("operator")
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    (override,) = read["overrides"]
    assert override["kind"] == "direct_line" and override["team"] == "call centre"
    assert override["rule_offer"] == {k: rule[k] for k in ("garage", "technician", "start", "end")}
    # why the rules were late, as the facts the offers said when the operator asked (not read back from prose)
    assert override["rule_reasons"] == rule["reasons"] and any(
        r["free_at"] or r["garage"] or r["minutes"] for r in rule["reasons"]), rule["reasons"]
    assert override["result"]["garage"] == best["garage"]
    assert datetime.fromisoformat(override["result"]["start"]) == datetime.fromisoformat(best["start"])
    kinds = [e["kind"] for e in read["timeline"]]
    assert kinds[:4] == ["call", "rule_offer", "offers", "direct_line"]
    assert {"override", "direct_line_answer", "booking"} <= set(kinds)
    answer = next(e for e in read["timeline"] if e["kind"] == "direct_line_answer")
    assert "accepted after 4 min" in answer["text"]
    assert read["status"] == "booked" and [a["channel"] for a in read["appointments"]] == ["direct_line"]
    accepted = client.get(f"/api/v1/direct-line/{request['id']}").get_json()
    assert accepted["status"] == "accepted" and accepted["answer"] is None  # a yes with no words is no answer text


def test_a_case_a_garage_took_within_its_target_is_not_put_on_the_line_again(app, client, auth):
    """A second garage's yes replaced the first's: a P1 taken today at Gerland was moved 14 days later."""
    case, best, request = put_on_the_line(client, auth)
    auth.login(f"workshop-{best['garage']}")
    assert auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                     json={"accept": True, "start": best["start"], "technician": best["technician"]}).status_code == 200
    auth.login("operator")
    other = next(g["id"] for g in client.get("/api/v1/garages").get_json() if g["id"] != best["garage"])
    before = footprint(app)
    again = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": other, "message": "Earlier?"})
    assert again.status_code == 409 and "already booked" in again.get_json()["error"]["message"], again.get_json()
    assert footprint(app) == before
    page = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert "Send on the direct line" not in page, "no form for what would be refused"


def test_a_case_the_operator_books_within_its_target_withdraws_its_direct_line_request(app, client, auth):
    """Put to one garage on the direct line, then booked by the operator today at another: the request stayed open
    at the first garage, which could no longer even read the case."""
    case, best, request = put_on_the_line(client, auth)
    offers = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]
    elsewhere = next(o for o in offers if o["garage"] != best["garage"])
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: elsewhere[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    auth.login(f"reception-{best['garage']}")
    assert request["id"] not in [r["id"] for r in client.get("/api/v1/direct-line?status=open").get_json()]
    answered = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={"accept": True, "start": best["start"], "technician": best["technician"]})
    assert answered.status_code == 409 and answered.get_json()["error"]["code"] == "already_answered"
    assert "the case was booked meanwhile" in answered.get_json()["error"]["message"]


def test_a_garage_s_yes_never_replaces_the_case_s_booking_with_a_later_one(app, client, auth):
    case, best, request = put_on_the_line(client, auth)
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={k: best[k] for k in
                                                                           ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    auth.login(f"workshop-{best['garage']}")
    before = footprint(app)
    late = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                     json={"accept": True, "start": best["start"], "technician": best["technician"]})
    # booked within its target, the case withdrew the request: nothing is left to answer
    assert late.status_code == 409 and "withdrawn" in late.get_json()["error"]["message"], late.get_json()
    assert footprint(app) == before
    auth.login("operator")
    (held,) = [a for a in client.get(f"/api/v1/cases/{case['id']}").get_json()["appointments"]
               if a["status"] == "booked"]
    assert held["id"] == booked.get_json()["id"] and held["channel"] != "direct_line"


def test_a_booking_beyond_the_target_keeps_the_request_open_and_a_yes_must_be_sooner(app, client, auth):
    """Booked by the operator at the rules' slot, days out, the case still waits on the garage asked for sooner:
    its request stays open, and a yes no sooner than that booking is refused."""
    case, best, request = put_on_the_line(client, auth)
    rule = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["rule_offer"]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={**{k: rule[k] for k in ("garage", "technician", "start")},
                             "reason": "the rules' slot, until a garage takes it sooner"})
    assert booked.status_code == 201, booked.get_json()
    auth.login(f"workshop-{best['garage']}")
    assert request["id"] in [r["id"] for r in client.get("/api/v1/direct-line?status=open").get_json()]
    later = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                      json={"accept": True, "technician": best["technician"],
                            "start": (datetime.fromisoformat(rule["start"]) + timedelta(hours=2)).isoformat()})
    assert later.status_code == 409 and "no later than this" in later.get_json()["error"]["message"], later.get_json()


def test_the_operator_is_told_when_a_garage_s_yes_starts_before_the_customer_can_get_there(app, client, auth):
    """A customer 30 km out (an hour at 30 km/h) taken at once by an overbooking: the operator saw a plain green
    yes, and told the caller a time they could not make."""
    auth.login("operator")
    case = open_case(auth, plate="TT-303-TT", location={"lat": 45.735 + 0.27, "lon": 4.835})
    sent = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": "lyon-07", "message": "Now?"})
    assert sent.status_code == 201, sent.get_json()
    auth.login("workshop-lyon-07")
    board = client.get("/api/v1/garages/lyon-07/board").get_json()
    start = (CLOCK_NOW + timedelta(minutes=15)).replace(second=0, microsecond=0)
    start -= timedelta(minutes=start.minute % 15)
    technician = next(t["id"] for t in board["technicians"] if "diagnostics" in t["skills"] and any(
        datetime.fromisoformat(s["start"]) <= start and start + timedelta(hours=2) <= datetime.fromisoformat(s["end"])
        for s in t["shifts"]))
    taken = auth.post(f"/api/v1/direct-line/{sent.get_json()['id']}/answer",
                      json={"accept": True, "start": start.isoformat(), "technician": technician, "overbook": True,
                            "reason": "we squeeze it in"})
    assert taken.status_code == 200, taken.get_json()
    auth.login("operator")
    page = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert "the customer cannot be there before" in page and "garage note" in page
    near = open_case(auth, plate="TT-304-TT")  # beside the garage: a yes at its best offer is no surprise
    best = client.get(f"/api/v1/cases/{near['id']}/offers").get_json()["offers"][0]
    sent = auth.post(f"/api/v1/cases/{near['id']}/direct-line", json={"garage": best["garage"], "message": "?"})
    auth.login(f"workshop-{best['garage']}")
    assert auth.post(f"/api/v1/direct-line/{sent.get_json()['id']}/answer", json={
        "accept": True, "start": best["start"], "technician": best["technician"]}).status_code == 200
    auth.login("operator")
    assert "the customer cannot be there before" not in client.get(f"/desk/cases/{near['id']}").get_data(as_text=True)


def test_declining_needs_a_reason_and_the_operator_sees_it(app, client, auth):
    case, best, request = put_on_the_line(client, auth)
    auth.login(f"reception-{best['garage']}")
    before = footprint(app)
    refused = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={"accept": False})
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (422, "reason_required")
    assert footprint(app) == before
    declined = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={"accept": False, "reason": "No diagnostics technician today"})
    assert declined.status_code == 200 and declined.get_json()["status"] == "declined"
    auth.login("operator")
    mine = client.get("/api/v1/direct-line").get_json()
    assert mine[0]["id"] == request["id"] and mine[0]["answer"] == "No diagnostics technician today"
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert read["overrides"] == [] and read["appointments"] == []


def test_an_unanswered_request_expires_and_can_no_longer_be_accepted(app, client, auth):
    case, best, request = put_on_the_line(client, auth)
    app.config["CLOCK"] = lambda: CLOCK_NOW + timedelta(minutes=16)
    assert client.get(f"/api/v1/direct-line/{request['id']}").get_json()["status"] == "expired"
    assert client.get("/api/v1/direct-line?status=open").get_json() == []
    read = client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert "No answer from" in read["timeline"][-1]["text"]
    auth.login(f"workshop-{best['garage']}")
    late = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                     json={"accept": True, "start": best["start"], "technician": best["technician"]})
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "already_answered")


def test_accepting_a_busy_slot_is_refused_and_the_request_stays_open(app, client, auth):
    _case, best, request = put_on_the_line(client, auth)
    other = open_case(auth, plate="ZZ-000-ZZ")
    # booked a quarter of an hour after the time the garage will answer: the urgent car there goes first
    later = (datetime.fromisoformat(best["start"]) + timedelta(minutes=15)).isoformat()
    taken = auth.post(f"/api/v1/cases/{other['id']}/appointments",
                      json={"garage": best["garage"], "technician": best["technician"], "start": later,
                            "reason": "the customer asked for that time"})
    assert taken.status_code == 201, taken.get_json()
    auth.login(f"workshop-{best['garage']}")
    before = footprint(app)
    busy = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                     json={"accept": True, "start": best["start"], "technician": best["technician"]})
    assert (busy.status_code, busy.get_json()["error"]["code"]) == (409, "slot_taken")
    # what the garage can answer instead: its free times around the one it typed
    fresh = busy.get_json()["error"]["details"]["offers"]
    assert fresh and all(o["garage"] == best["garage"] for o in fresh)
    assert all({"wait_minutes", "distance_km", "cost"} <= set(o) for o in fresh)  # shaped as offers are
    assert (best["technician"], best["start"]) not in [(o["technician"], o["start"]) for o in fresh]
    assert footprint(app) == before
    assert client.get(f"/api/v1/direct-line/{request['id']}").get_json()["status"] == "open"
    overbook = {"accept": True, "start": best["start"], "technician": best["technician"], "overbook": True}
    unexplained = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json=overbook)
    assert (unexplained.status_code, unexplained.get_json()["error"]["code"]) == (422, "reason_required")
    assert footprint(app) == before
    squeezed = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={**overbook, "reason": "a colleague takes the next job"})
    assert squeezed.status_code == 200, "the garage may knowingly overbook its own technician, with a reason"
    assert squeezed.get_json()["request"]["status"] == "accepted"
    read = client.get(f"/api/v1/cases/{_case['id']}").get_json()
    assert sorted(o["kind"] for o in read["overrides"]) == ["direct_line", "overbook"]
    # the customer already booked there now waits for the urgent car: told by how long, at most
    # and whoever comes after them on that technician waits in turn, as far as the delay carries
    waits = next(o for o in read["overrides"] if o["kind"] == "overbook")["moved"]
    assert waits[0]["appointment"] == taken.get_json()["id"] and waits[0]["delay_minutes"] > 0
    with app.app_context():  # each next one that waits is booked to start before the one before it is done
        jobs = [db.session.get(Appointment, w["appointment"]) for w in waits]
        for before, delay, after, waited in zip(jobs, waits, jobs[1:], waits[1:]):
            assert not waited["delay_minutes"] or \
                after.start_at < before.end_at + timedelta(minutes=delay["delay_minutes"]), (before.id, after.id)
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == taken.get_json()["id"],
                                                        Message.kind == "delayed")).all()
        assert len(told) == 1, "the customer whose slot was overbooked is told"
        assert f"jusqu’à {waits[0]['delay_minutes']} minutes plus tard" in told[0].body
        assert "pourrait commencer en retard" in told[0].subject


def _overbooked_behind_an_urgent_car(app, client, auth):
    """A customer booked a quarter of an hour after the time a garage then accepts an urgent car at, overbooking
    their technician: (the urgent appointment, the customer's appointment, the technician's free colleagues)."""
    _case, best, request = put_on_the_line(client, auth)
    other = open_case(auth, plate="ZZ-000-ZZ")
    later = (datetime.fromisoformat(best["start"]) + timedelta(minutes=15)).isoformat()
    taken = auth.post(f"/api/v1/cases/{other['id']}/appointments",
                      json={"garage": best["garage"], "technician": best["technician"], "start": later,
                            "reason": "the customer asked for that time"}).get_json()
    auth.login(f"reception-{best['garage']}")
    urgent = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                       json={"accept": True, "start": best["start"], "technician": best["technician"],
                             "overbook": True, "reason": "a colleague takes the next job"})
    assert urgent.status_code == 200, urgent.get_json()
    return urgent.get_json(), taken


def _told_of_delay(app, appointment: dict) -> list[tuple[str, str]]:
    with app.app_context():
        return [(m.status, m.last_error) for m in db.session.scalars(
            select(Message).where(Message.appointment_id == appointment["id"], Message.kind == "delayed"))]


def test_a_delay_still_unsent_goes_no_more_once_the_urgent_car_it_told_of_is_cancelled(app, client, auth):
    """The customer behind an overbooked urgent car is to be told they may start late; the urgent booking cancelled
    before that message went, they would have been told of a wait there no longer is."""
    urgent, taken = _overbooked_behind_an_urgent_car(app, client, auth)
    assert _told_of_delay(app, taken) == [("queued", "")]
    cancelled = auth.post(f"/api/v1/appointments/{urgent['id']}/cancel", json={"reason": "towed elsewhere"})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert _told_of_delay(app, taken) == [("failed", "superseded: the wait it told of is over before it went")]
    outbox = client.get("/api/v1/outbox?status=queued").get_json()
    assert not [m for m in outbox if m["kind"] == "delayed"], "nothing left to tell of a delay"
    # the urgent customer's own unsent confirmation says why it never went: cancelled, not replaced
    with app.app_context():
        (confirmation,) = db.session.scalars(select(Message).where(Message.appointment_id == urgent["id"],
                                                                   Message.kind == "booked"))
        assert (confirmation.status, confirmation.last_error) == \
            ("failed", "superseded: its booking was cancelled before it went")
    page = client.get(f"/garages/{urgent['garage']}/outbox?status=failed", headers={"Accept-Language": "fr"})
    assert "annulée avant son envoi" in page.get_data(as_text=True)
    # never sent on purpose: grey "not sent", not a red failure for reception to act on (a probe read it as one)
    row = page.get_data(as_text=True).split("annulée avant son envoi")[0].rsplit("<tr>", 1)[1]
    assert '<span class="status withdrawn">non envoyé</span>' in row and "échec" not in row


def test_a_delay_still_unsent_goes_no_more_once_the_job_behind_is_handed_to_a_free_colleague(app, client, auth):
    """The reason the garage gave for its overbooking ("a colleague takes the next job"), done: the customer of the
    next job waits for no one."""
    _urgent, taken = _overbooked_behind_an_urgent_car(app, client, auth)
    with app.app_context():  # a colleague who can do the job, their work then cancelled so they are free
        job = db.session.get(Appointment, taken["id"])
        colleague = next(t for t in job.garage.technicians if t.id != job.technician_id
                         and job.skill_code in t.skill_codes)
        theirs = [a.id for a in db.session.scalars(select(Appointment).where(
            Appointment.technician_id == colleague.id, Appointment.status == "booked",
            Appointment.start_at < job.end_at, Appointment.end_at > job.start_at))]
        colleague = colleague.id
    for appointment in theirs:
        assert auth.post(f"/api/v1/appointments/{appointment}/cancel", json={}).status_code == 200
    assert _told_of_delay(app, taken) == [("queued", "")], "another technician's day changes nothing of it"
    handed = auth.post(f"/api/v1/appointments/{taken['id']}/hand-over", json={"technician": colleague})
    assert handed.status_code == 200, handed.get_json()
    assert _told_of_delay(app, taken) == [("failed", "superseded: the wait it told of is over before it went")]


def test_a_delay_still_unsent_goes_no_more_once_the_urgent_customer_does_not_come(app, client, auth):
    urgent, taken = _overbooked_behind_an_urgent_car(app, client, auth)
    app.config["CLOCK"] = lambda: datetime.fromisoformat(urgent["start"]) + timedelta(minutes=10)
    absent = auth.post(f"/api/v1/appointments/{urgent['id']}/no-show", json={})
    assert absent.status_code == 200, absent.get_json()
    assert _told_of_delay(app, taken) == [("failed", "superseded: the wait it told of is over before it went")]


def test_a_delay_still_true_is_still_told_when_other_work_of_the_technician_goes(app, client, auth):
    urgent, taken = _overbooked_behind_an_urgent_car(app, client, auth)
    with app.app_context():  # the technician's work hours after: its going changes nothing before it
        after = db.session.scalars(select(Appointment.id).where(
            Appointment.technician_id == urgent["technician"], Appointment.status == "booked",
            Appointment.start_at > datetime.fromisoformat(taken["end"]) + timedelta(hours=2))
            .order_by(Appointment.start_at)).first()
    assert after is not None
    assert auth.post(f"/api/v1/appointments/{after}/cancel", json={}).status_code == 200
    assert _told_of_delay(app, taken) == [("queued", "")], "the urgent car still goes first"


def test_a_direct_line_yes_behind_work_still_running_tells_its_customer_how_long_they_may_wait(app, client, auth):
    """Accepted at a time its technician is still on a job begun before it, the urgent car waits for that job: its
    customer's confirmation says so, by how long at most, not only the time booked."""
    _case, best, request = put_on_the_line(client, auth)
    other = open_case(auth, plate="ZZ-000-ZZ")
    taken = auth.post(f"/api/v1/cases/{other['id']}/appointments",
                      json={k: best[k] for k in ("garage", "technician", "start")}).get_json()
    ends = datetime.fromisoformat(taken["end"])
    start = datetime.fromisoformat(best["start"]) + timedelta(minutes=15)
    assert ends - start >= timedelta(minutes=15), "the job ahead still runs at the time accepted"
    auth.login(f"workshop-{best['garage']}")
    answered = auth.post(f"/api/v1/direct-line/{request['id']}/answer",
                         json={"accept": True, "start": start.isoformat(), "technician": best["technician"],
                               "overbook": True, "reason": "squeezed in after the current job"})
    assert answered.status_code == 200, answered.get_json()
    mine = answered.get_json()["id"]
    wait = int((ends - start).total_seconds() // 60)
    with app.app_context():
        told = db.session.scalars(select(Message).where(Message.appointment_id == mine,
                                                        Message.kind == "booked")).one()
        assert f"jusqu’à {wait} minutes après l’heure prévue" in told.body
        ahead = db.session.scalars(select(Message).where(Message.appointment_id == taken["id"],
                                                         Message.kind == "delayed")).all()
        assert ahead == [], "the customer whose job runs first waits for nobody"
    # a booking on a free technician says nothing of the kind
    with app.app_context():
        plain = db.session.scalars(select(Message).where(Message.appointment_id == taken["id"],
                                                         Message.kind == "booked")).one()
        assert "après l’heure prévue" not in plain.body
    # the operator, who gives the customer the time, reads that it may come later (a probe: "Booked 10:00" only)
    auth.login("operator")
    status = client.get(f"/desk/cases/{_case['id']}").get_data(as_text=True).split('id="live"')[1].split("<h3>")[0]
    assert "overbooked: the technician has work to finish first" in status


def test_who_may_use_the_direct_line(app, client, auth):
    case, best, request = put_on_the_line(client, auth)
    again = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": best["garage"], "message": "?"})
    assert again.status_code == 409, "one open request per garage and case"
    for body, field in (({"garage": "atlantis", "message": "x"}, "garage"), ({"garage": best["garage"]}, "message")):
        bad = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json=body)
        assert (bad.status_code, bad.get_json()["error"]["details"]["field"]) == (400, field)
    accept = {"accept": True, "start": best["start"], "technician": best["technician"]}
    elsewhere = "lyon-03" if best["garage"] != "lyon-03" else "lyon-07"
    for username, status in (("operator", 403), (f"reception-{elsewhere}", 403), ("planner", 403)):
        auth.login(username)
        assert auth.post(f"/api/v1/direct-line/{request['id']}/answer", json=accept).status_code == status
    auth.login(f"reception-{elsewhere}")
    assert client.get("/api/v1/direct-line?status=open").get_json() == []
    assert auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": elsewhere, "message": "x"}).status_code == 403
    auth.login("operator2")
    assert request["id"] not in {r["id"] for r in client.get("/api/v1/direct-line").get_json()}, \
        "an operator lists their own requests"
    auth.login("operator")
    assert request["id"] in {r["id"] for r in client.get("/api/v1/direct-line").get_json()}
    auth.login("planner")
    assert client.get("/api/v1/direct-line").status_code == 403
    auth.login(f"reception-{best['garage']}")
    assert auth.post("/api/v1/direct-line/999999/answer", json=accept).status_code == 404
    assert auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={"accept": "yes"}).status_code == 400
    assert client.get("/api/v1/direct-line?status=maybe").status_code == 400
    client.delete("/api/v1/session", headers=auth.headers())
    assert client.get("/api/v1/direct-line").status_code == 401


def test_a_drive_in_to_a_closed_garage_is_expected_at_its_opening_answered_in_utc(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    sunday = (CLOCK_NOW + timedelta(days=6 - CLOCK_NOW.weekday())).replace(hour=10, minute=0)
    app.config["CLOCK"] = lambda: sunday
    auth.login("operator")  # days later: the session of Tuesday has ended
    announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={})
    assert announced.status_code == 201, announced.get_json()
    drive_in = announced.get_json()
    expected = datetime.fromisoformat(drive_in["expected_at"])
    assert expected.date() > sunday.date(), "expected when the garage opens, on its next open day"
    assert drive_in["expected_at"].endswith("+00:00"), "in UTC, as every time the API answers"


def test_a_case_booked_within_its_target_is_not_sent_to_another_garage_as_a_drive_in(app, client, auth):
    """A probe: a drive-in was announced for a case booked elsewhere within its target, so two garages expected the
    customer and the booked one kept a time for a car that never came. The direct line refused it (409); so does a
    drive-in now, naming the booking."""
    auth.login("operator")
    case = open_case(auth, symptom="annual_service")  # P3: any time the customer takes is within its target
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments",
                       json={k: best[k] for k in ("garage", "technician", "start")})
    assert booked.status_code == 201, booked.get_json()
    before = footprint(app)
    other = next(g["id"] for g in client.get("/api/v1/garages").get_json() if g["id"] != best["garage"])
    refused = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"garage": other})
    assert refused.status_code == 409, refused.get_json()
    assert refused.get_json()["error"]["details"]["appointment"]["id"] == booked.get_json()["id"]
    assert footprint(app) == before
    line = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": other, "message": "sooner?"})
    assert line.status_code == 409 and line.get_json()["error"]["message"] == refused.get_json()["error"]["message"]


def test_announcing_a_drive_in_tells_the_nearest_garage(client, auth):
    auth.login("operator")
    case = open_case(auth)
    announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"note": "Customer is 2 km away"})
    assert announced.status_code == 201
    drive_in = announced.get_json()
    assert drive_in["garage"] == "lyon-07" and drive_in["status"] == "expected"
    assert CLOCK_NOW < datetime.fromisoformat(drive_in["expected_at"]) < CLOCK_NOW + timedelta(hours=1)
    (override,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert override["kind"] == "drive_in" and override["rule_offer"] is not None and override["result"] is None
    # announced twice (a double click, a colleague): the garage expects the car once, and one override says so
    again = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={})
    assert again.status_code == 409 and again.get_json()["error"]["details"]["drive_in"] == drive_in["id"]
    assert auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"note": "x" * 501}).status_code == 400
    assert len(client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]) == 1
    status = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True).split('<section id="live"')[1]
    assert "Drive-in announced: Lyon 7e Gerland expects the customer" in status and "Not booked yet." not in status
    auth.login("reception-lyon-07")
    board = client.get("/garages/lyon-07/board").get_data(as_text=True)
    assert "GH-123-JK" in board and "Expected" in board
    assert auth.post(f"/api/v1/drive-ins/{drive_in['id']}/arrived").status_code == 200
    # at the counter, not booked yet: still open work, the garage's where it is
    (mine,) = [c for c in client.get("/api/v1/cases?queue=1").get_json() if c["id"] == case["id"]]
    assert (mine["queue"]["kind"], mine["queue"]["garage"]) == ("unbooked", "lyon-07")
    auth.login("operator")
    status = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True).split('<section id="live"')[1]
    assert "Drive-in: the customer is at Lyon 7e Gerland’s counter." in status
    assert case["id"] in [c["id"] for c in client.get("/api/v1/cases?queue=1").get_json()]


def test_a_drive_in_not_there_at_its_time_is_marked_late_above_the_direct_lines_requests(app, client, auth):
    """A probe: the drive-ins sat under the open answer forms of the requests, below the fold, and one long overdue
    looked like one still on its way."""
    auth.login("operator")
    case = open_case(auth)
    drive_in = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={}).get_json()
    asked = auth.post(f"/api/v1/cases/{open_case(auth, plate='GH-124-JK')['id']}/direct-line",
                      json={"garage": "lyon-07", "message": "today?"})
    assert asked.status_code == 201, asked.get_json()
    auth.login("reception-lyon-07")

    def inbox() -> str:
        return client.get("/garages/lyon-07/direct-line/inbox").get_data(as_text=True)

    def row(page: str) -> str:
        return page.split(f'id="drive-in-{drive_in["id"]}"')[1].split("</li>")[0]

    on_its_way = inbox()
    assert on_its_way.index(f'id="drive-in-{drive_in["id"]}"') < on_its_way.index('id="request-'), "first in sight"
    assert ">late<" not in row(on_its_way)
    expected = datetime.fromisoformat(drive_in["expected_at"])
    app.config["CLOCK"] = lambda: expected + timedelta(minutes=10)
    version = re.search(r'hx-get="[^"]*v=(\w+)', on_its_way)[1]
    polled = client.get(f"/garages/lyon-07/direct-line/inbox?v={version}")
    assert polled.status_code == 200, "a drive-in becoming late redraws the panel"
    assert '<span class="tag bad">late</span>' in row(polled.get_data(as_text=True))


def test_a_drive_in_announced_after_closing_is_expected_when_the_garage_opens(app, client, auth):
    paris = ZoneInfo("Europe/Paris")
    evening = datetime.combine(CLOCK_NOW.astimezone(paris).date(), time(20, 0), paris)
    app.config["CLOCK"] = lambda: evening
    auth.login("operator")
    case = open_case(auth)
    announced = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={})
    assert announced.status_code == 201
    opening = datetime.combine(evening.date() + timedelta(days=1), time(7, 45), paris)
    assert datetime.fromisoformat(announced.get_json()["expected_at"]) == opening
    # no note: the override's reason is the app's own, in English for the API and in French on the page
    (override,) = client.get(f"/api/v1/cases/{case['id']}").get_json()["overrides"]
    assert override["reason"] == "Drive-in announced: customer told to come now"
    page = client.get(f"/desk/cases/{case['id']}", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Arrivée annoncée\u202f: client invité à venir maintenant" in page and "customer told to come" not in page


def test_the_garage_asked_reads_the_case_it_is_asked_about_but_acts_only_through_its_answer(client, auth):
    case, best, request = put_on_the_line(client, auth, plate="RD-456-CS")
    elsewhere = "lyon-03" if best["garage"] != "lyon-03" else "lyon-09"
    for role in ("reception", "workshop"):
        auth.login(f"{role}-{best['garage']}")
        read = client.get(f"/api/v1/cases/{case['id']}")
        assert read.status_code == 200, read.get_json()
        assert read.get_json()["vehicle"]["plate"] == "RD-456-CS"  # what it is asked to take on
    auth.login(f"reception-{best['garage']}")  # reception may raise urgency on its own cases
    raised = auth.post(f"/api/v1/cases/{case['id']}/urgency", json={"urgency": "P2", "reason": "mine now?"})
    assert raised.status_code == 403, "reading a case it was asked about does not make it the garage's"
    auth.login(f"reception-{elsewhere}")
    assert client.get(f"/api/v1/cases/{case['id']}").status_code == 403
    # Declined: still in the garage's queue while the case is unbooked; once booked elsewhere, no longer its to read.
    auth.login(f"reception-{best['garage']}")
    declined = auth.post(f"/api/v1/direct-line/{request['id']}/answer", json={"accept": False, "reason": "Full today"})
    assert declined.status_code == 200, declined.get_json()
    assert client.get(f"/api/v1/cases/{case['id']}").status_code == 200
    auth.login("operator")
    offer = next(o for o in client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"]
                 if o["garage"] != best["garage"])
    booked = auth.post(f"/api/v1/cases/{case['id']}/appointments", json={
        **{k: offer[k] for k in ("garage", "technician", "start")}, "reason": "declined by the first garage"})
    assert booked.status_code == 201, booked.get_json()
    for role in ("reception", "workshop"):
        auth.login(f"{role}-{best['garage']}")
        assert client.get(f"/api/v1/cases/{case['id']}").status_code == 403
        assert case["id"] not in [c["id"] for c in client.get("/api/v1/cases?queue=1").get_json()]


def test_a_message_too_long_is_refused_in_the_reader_s_language_and_the_form_stops_it_first(app, client, auth):
    auth.login("operator")
    case = open_case(auth, plate="LO-999-NG")
    best = client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    body = {"garage": best["garage"], "message": "x" * 1001}
    refused = client.post(f"/api/v1/cases/{case['id']}/direct-line", json=body,
                          headers={**auth.headers(), "Accept-Language": "fr"})
    assert refused.status_code == 400
    assert refused.get_json()["error"]["message"] == "message dépasse 1000 caractères."
    assert refused.get_json()["error"]["details"]["field"] == "message"
    english = auth.post(f"/api/v1/cases/{case['id']}/direct-line", json=body)
    assert english.get_json()["error"]["message"] == "message is longer than 1000 characters."
    page = client.get(f"/desk/cases/{case['id']}").get_data(as_text=True)
    assert '<textarea name="message" rows="4" maxlength="1000">' in page, "what is typed is not lost to a refusal"


def test_a_drive_in_sent_to_another_garage_is_no_longer_expected_at_the_first(app, client, auth):
    """Announced at one garage, then at another: both expected the same car, and the queue showed only the first;
    once the car was at the second's counter, the queue still said the first had declined."""
    from scheduler.models import DriveIn

    auth.login("operator")
    case = open_case(auth, plate="DI-222-DI")
    first = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"garage": "lyon-07"})
    second = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"garage": "lyon-03"})
    assert first.status_code == 201 and second.status_code == 201, second.get_json()
    with app.app_context():
        assert db.session.get(DriveIn, first.get_json()["id"]).status == "redirected"
    queue = {c["id"]: c["queue"] for c in client.get("/api/v1/cases?queue=1").get_json()}
    assert (queue[case["id"]]["kind"], queue[case["id"]]["garage"]) == ("drive_in", "lyon-03")
    timeline = client.get(f"/api/v1/cases/{case['id']}").get_json()["timeline"]
    assert any(e["kind"] == "drive_in_redirected" and "no longer expects" in e["text"] for e in timeline)
    auth.login("reception-lyon-07")
    assert case["id"] not in [c["id"] for c in client.get("/api/v1/cases?queue=1").get_json()]
    auth.login("reception-lyon-03")
    assert auth.post(f"/api/v1/drive-ins/{second.get_json()['id']}/arrived", json={}).status_code == 200
    auth.login("operator")
    # at the second garage's counter, not booked yet: open work there (API.md: "P1/P2 cases not booked"), not a
    # refusal of the first
    queue = {c["id"]: c["queue"] for c in client.get("/api/v1/cases?queue=1").get_json()}
    assert (queue[case["id"]]["kind"], queue[case["id"]]["garage"]) == ("unbooked", "lyon-03")


def test_a_drive_in_that_never_came_does_not_stop_announcing_it_again(app, client, auth):
    auth.login("operator")
    case = open_case(auth)
    first = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={}).get_json()
    later = datetime.fromisoformat(first["expected_at"]) + timedelta(hours=3)  # off reception's board by now
    app.config["CLOCK"] = lambda: later
    auth.login("operator")
    again = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={"note": "held up, on the way now"})
    assert again.status_code == 201 and again.get_json()["id"] != first["id"]


def test_a_drive_in_expected_before_the_customer_can_be_there_or_while_the_garage_is_closed_is_refused(app, auth):
    """An expected time typed by hand is one the customer can keep: not before they can drive there, not while the
    garage is shut (its reception would wait for a car at 03:00)."""
    auth.login("operator")
    case = open_case(auth)
    paris = ZoneInfo("Europe/Paris")
    night = datetime.combine(CLOCK_NOW.astimezone(paris).date() + timedelta(days=1), time(3), paris)
    before = footprint(app)
    for garage, at, said in (("givors", CLOCK_NOW + timedelta(minutes=5), "at the earliest"),
                             ("lyon-07", night, "closed then")):
        refused = auth.post(f"/api/v1/cases/{case['id']}/drive-in",
                            json={"garage": garage, "expected_at": at.isoformat()})
        assert refused.status_code == 400, refused.get_json()
        error = refused.get_json()["error"]
        assert error["details"]["field"] == "expected_at" and said in error["message"], error
    assert footprint(app) == before
    # the customer says they will be there sooner than the policy's speed allows: the person who heard it confirms
    sooner = auth.post(f"/api/v1/cases/{case['id']}/drive-in", json={
        "garage": "givors", "expected_at": (CLOCK_NOW + timedelta(minutes=5)).isoformat(), "confirm": True})
    assert sooner.status_code == 201, sooner.get_json()
    # five minutes before a garage opens, the customer waits at its gate: no refusal
    opens = datetime.combine(night.date(), time(7, 45), paris)
    gate = auth.post(f"/api/v1/cases/{case['id']}/drive-in",
                     json={"garage": "lyon-07", "expected_at": (opens - timedelta(minutes=5)).isoformat()})
    assert gate.status_code == 201, gate.get_json()


def test_the_garage_a_case_is_put_to_sees_its_own_free_times_for_it_and_no_other_garage_does(app, client, auth):
    case, best, _request = put_on_the_line(client, auth)
    auth.login(f"reception-{best['garage']}")
    assert client.get(f"/api/v1/cases/{case['id']}").status_code == 200
    shown = client.get(f"/api/v1/cases/{case['id']}/offers")
    assert shown.status_code == 200, shown.get_json()
    offers = shown.get_json()["offers"]
    assert offers and {o["garage"] for o in offers} == {best["garage"]}

    other = next(g["id"] for g in client.get("/api/v1/garages").get_json() if g["id"] != best["garage"])
    auth.login(f"reception-{other}")
    refused = client.get(f"/api/v1/cases/{case['id']}/offers")
    assert (refused.status_code, refused.get_json()["error"]["code"]) == (403, "forbidden")


def test_a_customer_moved_behind_an_overbooking_is_told_how_long_they_may_wait(app, client, auth):
    """A probe: a re-plan moved a customer to 17:15, the end of another customer's booking on a technician still
    taking an overbooked urgent car first (the work there ran to 18:00), and told them "moved to 17:15" only. Told
    now, as an overbooking's own customer is, how long at most they may wait."""
    from types import SimpleNamespace

    from scheduler.models import User
    from scheduler.services import capacity, squeeze

    _urgent, taken = _overbooked_behind_an_urgent_car(app, client, auth)
    with app.app_context():
        behind = db.session.get(Appointment, taken["id"])
        technician, arrives = behind.technician_id, behind.end_at  # free as booked; taken in turn, not yet
        for a in capacity.work_from(db.session, technician, arrives):  # the rest of their day, let go
            if a.start_at >= arrives and a.status == "booked":
                a.status = "cancelled"
        mover = db.session.scalar(select(Appointment).where(
            Appointment.garage_id == behind.garage_id, Appointment.technician_id != technician,
            Appointment.status == "booked", Appointment.skill_code == behind.skill_code,
            Appointment.start_at > arrives + timedelta(hours=2)).order_by(Appointment.start_at))
        moving_id, was = mover.id, (mover.technician_id, mover.start_at)
        db.session.commit()
        actor = db.session.scalar(select(User).where(User.username == f"reception-{behind.garage_id}"))
        squeeze._apply_moves(db.session, [{"appointment": mover, "technician_from": was[0], "from": was[1],
                                           "technician_to": technician, "to": arrives, "told": "email"}],
                             actor, CLOCK_NOW, SimpleNamespace(id=0, case_id=None))
        db.session.commit()
        (told,) = db.session.scalars(select(Message).where(Message.appointment_id == moving_id,
                                                          Message.kind == "moved"))
        assert "jusqu’à" in told.body and "minutes après l’heure prévue" in told.body, told.body
