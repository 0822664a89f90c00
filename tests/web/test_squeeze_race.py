"""A squeeze confirmed while someone acts on the work it moves: each is applied whole, one after the other."""

from __future__ import annotations

import threading
import time

import pytest

from scheduler.services import squeeze
from tests.conftest import Auth

WALK_IN = {"customer": {"name": "Nadia Kaci", "phone": "+33 6 70 00 00 01"},
           "vehicle": {"plate": "WI-001-KC", "model": "Renault Clio"}, "symptom": "engine_fault_stop"}


@pytest.mark.parametrize("action, status", [("check-in", "checked_in"), ("cancel", "cancelled")])
def test_work_checked_in_or_cancelled_while_a_squeeze_that_moves_it_is_confirmed_stays_so(committing_app, monkeypatch,
                                                                                          action, status):
    """A probe on PostgreSQL: a check-in committed while the confirm was applying its plan was undone by the move
    (the job booked again, elsewhere), and a cancellation too, its customer told "cancelled"; other times the
    confirm failed with a 500, or the two deadlocked (503)."""
    app = committing_app
    reception = Auth(app.test_client())
    reception.login("reception-lyon-07")
    case = reception.post("/api/v1/cases", json=WALK_IN).get_json()
    proposal = reception.post(f"/api/v1/cases/{case['id']}/squeeze", json={"garage": "lyon-07"}).get_json()
    assert proposal["moves"], "Lyon 7e is full today: fitting a P1 in moves someone"
    moved = proposal["moves"][0]["appointment"]
    # Hold the confirm between reading the plan and applying it, as a slow request would.
    read = squeeze.diff

    def slowly(*args, **kwargs):
        time.sleep(1.0)
        return read(*args, **kwargs)

    monkeypatch.setattr(squeeze, "diff", slowly)
    answers = {}

    def confirm() -> None:
        answers["confirm"] = reception.post(f"/api/v1/squeeze/{proposal['id']}/confirm", json={})

    deciding = threading.Thread(target=confirm)
    deciding.start()
    time.sleep(0.3)  # the confirm is under way
    colleague = Auth(app.test_client())
    colleague.login("reception-lyon-07")
    acted = colleague.post(f"/api/v1/appointments/{moved}/{action}", json={})
    deciding.join(timeout=60)

    assert answers["confirm"].status_code == 200, answers["confirm"].get_json()
    assert acted.status_code == 200, acted.get_json()
    (job,) = [a for a in colleague.client.get(f"/api/v1/cases/{acted.get_json()['case']}").get_json()["appointments"]
              if a["id"] == moved]
    assert job["status"] == status, "what the colleague did holds"
    assert job["start"] == proposal["moves"][0]["to"], "done to the job where the confirmed plan put it"
