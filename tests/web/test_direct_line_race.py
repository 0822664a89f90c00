"""Reception and the workshop both see the request: when both say yes at once, the case is booked once."""

from __future__ import annotations

import threading
import time

from scheduler.services import capacity
from tests.conftest import Auth
from tests.web.story import open_case


def test_two_people_accepting_one_request_at_once_book_the_case_once(committing_app, monkeypatch):
    app = committing_app
    operator = Auth(app.test_client())
    operator.login("operator")
    case = open_case(operator)
    best = operator.client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][0]
    sent = operator.post(f"/api/v1/cases/{case['id']}/direct-line", json={"garage": best["garage"], "message": "Today?"})
    assert sent.status_code == 201
    # Hold each answer between reading the request and booking, as a slow request would.
    checked = capacity.check_slot

    def slowly(*args, **kwargs):
        time.sleep(0.5)
        return checked(*args, **kwargs)

    monkeypatch.setattr(capacity, "check_slot", slowly)
    barrier, answers = threading.Barrier(2), {}

    def accept(username: str) -> None:
        person = Auth(app.test_client())
        person.login(username)
        barrier.wait()
        response = person.post(f"/api/v1/direct-line/{sent.get_json()['id']}/answer", json={
            "accept": True, "start": best["start"], "technician": best["technician"], "overbook": True})
        answers[username] = (response.status_code, response.get_json())

    people = [threading.Thread(target=accept, args=(f"{role}-{best['garage']}",)) for role in ("reception", "workshop")]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=60)

    assert sorted(status for status, _ in answers.values()) == [200, 409]
    (refused,) = [body for status, body in answers.values() if status == 409]
    assert refused["error"]["code"] == "already_answered"
    read = operator.client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert len([a for a in read["appointments"] if a["status"] != "cancelled"]) == 1
    assert [o["kind"] for o in read["overrides"]] == ["direct_line"]


def test_two_operators_booking_one_case_at_once_leave_it_booked_once(committing_app, monkeypatch):
    from scheduler.services import booking

    app = committing_app
    operator = Auth(app.test_client())
    operator.login("operator")
    case = open_case(operator)
    first, second = operator.client.get(f"/api/v1/cases/{case['id']}/offers").get_json()["offers"][:2]
    insert = booking.book

    def slowly(*args, **kwargs):  # after the case's earlier bookings were read, before the commit
        time.sleep(1.0)
        return insert(*args, **kwargs)

    monkeypatch.setattr(booking, "book", slowly)
    barrier, answers = threading.Barrier(2), []

    def book(username: str, offer: dict) -> None:
        person = Auth(app.test_client())
        person.login(username)
        barrier.wait()
        response = person.post(f"/api/v1/cases/{case['id']}/appointments",
                               json={k: offer[k] for k in ("garage", "technician", "start")})
        answers.append(response.status_code)

    people = [threading.Thread(target=book, args=args) for args in (("operator", first), ("operator2", second))]
    for person in people:
        person.start()
    for person in people:
        person.join(timeout=60)

    assert sorted(answers) == [201, 409], "the later one is told the case is already booked"
    read = operator.client.get(f"/api/v1/cases/{case['id']}").get_json()
    assert len([a for a in read["appointments"] if a["status"] == "booked"]) == 1
