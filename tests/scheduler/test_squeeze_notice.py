"""A re-plan or squeeze never brings a customer who is not yet at the garage earlier than an hour from now: the
problem format lets booked work move by its flex either way, and a re-plan at 13:12 moved a 14:30 customer to 13:30
(a garage-desk walkthrough)."""

from __future__ import annotations

from types import SimpleNamespace

from optimizer.document import parse_problem
from scheduler.services import squeeze


def problem(flex: int) -> dict:
    day = "2026-12-01T{}:00+01:00"
    return {
        "version": 1, "mode": "squeeze", "now": day.format("13:10"), "slot_minutes": 15,
        "garages": [{"id": "g", "location": {"lat": 45.75, "lon": 4.85}, "lifts": 0}],
        "technicians": [{"id": "t", "garage": "g", "skills": ["maintenance"],
                         "shifts": [{"start": day.format("13:00"), "end": day.format("15:30")}]}],
        # the 14:30 customer cannot go later (the shift ends at 15:30): room for the urgent car is made by
        # bringing them earlier, at 13:30, twenty minutes from now, unless the notice holds them back
        "appointments": [{"id": "7", "technician": "t", "start": day.format("14:30"), "end": day.format("15:30"),
                          "skill": "maintenance", "lift": False, "urgency": "P3", "status": "booked",
                          "pinned": False, "flex_minutes": flex}],
        "requests": [{"id": "r", "duration_minutes": 60, "skill": "maintenance", "lift": False, "urgency": "P1",
                      "location": None, "garages": ["g"], "earliest": day.format("14:30"),
                      "latest": day.format("14:30")}],
        "policy": {"max_moves": 3, "time_limit_seconds": 1.0},
    }


SNAP = SimpleNamespace(policy=SimpleNamespace(time_limit_seconds=1.0))


def test_without_the_notice_the_engine_brings_the_customer_in_twenty_minutes():
    from optimizer import solve

    answer = solve(parse_problem(problem(60)), time_limit=1.0)
    assert [(m.appointment, m.start) for m in answer.moves] == [("7", parse_problem(problem(60)).now + 20)], \
        "the case this test stands on: the engine alone moves the customer to 13:30"


def test_nobody_not_yet_here_is_brought_earlier_than_an_hour_from_now():
    p = parse_problem(problem(60))
    answer, degraded = squeeze._solve(p, SNAP)
    assert degraded is None
    assert not [m for m in answer.moves if m.start < p.now + squeeze.EARLIER_NOTICE_MINUTES], answer.moves
    assert [u.request for u in answer.unplaced] == ["r"]  # the room is not there without them: said, not forced


def test_a_customer_an_hour_or_more_away_may_still_come_earlier():
    far = problem(120)
    for a in far["appointments"]:
        a["start"], a["end"] = "2026-12-01T15:30:00+01:00", "2026-12-01T16:30:00+01:00"
    far["technicians"][0]["shifts"][0]["end"] = "2026-12-01T16:30:00+01:00"
    far["requests"][0]["earliest"] = far["requests"][0]["latest"] = "2026-12-01T15:30:00+01:00"
    p = parse_problem(far)
    answer, _ = squeeze._solve(p, SNAP)
    assert [m.appointment for m in answer.moves] == ["7"]
    assert min(m.start for m in answer.moves) >= p.now + squeeze.EARLIER_NOTICE_MINUTES
