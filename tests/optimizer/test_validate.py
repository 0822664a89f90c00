"""The validator, independent of the solver, catches each kind of infeasibility."""

from __future__ import annotations

from optimizer.answer import Answer, Move, Placement
from optimizer.problem import parse_problem
from optimizer.validate import check_plan
from tests.optimizer.factory import at

NOW = at(9)


def problem(**overrides):
    doc = {
        "version": 1, "mode": "squeeze", "now": NOW, "slot_minutes": 15,
        "garages": [{"id": "g", "location": {"lat": 45.7, "lon": 4.8}, "lifts": 1}],
        "technicians": [
            {"id": "t1", "garage": "g", "skills": ["maintenance"], "shifts": [{"start": at(8), "end": at(12)}]},
            {"id": "t2", "garage": "g", "skills": ["tyres"], "shifts": [{"start": at(8), "end": at(12)}]},
        ],
        "appointments": [
            {"id": "a", "technician": "t1", "start": at(10), "end": at(11), "skill": "maintenance",
             "lift": True, "flex_minutes": 30},
        ],
        "requests": [{"id": "r", "duration_minutes": 60, "skill": "maintenance", "lift": True,
                      "urgency": "P1", "garages": ["g"]}],
        "policy": {"max_moves": 1},
    }
    doc.update(overrides)
    return parse_problem(doc)


def minute(hour):
    return parse_problem({"mode": "offers", "now": at(hour), "garages": [], "technicians": []}).now


def place(tech, hour, dur=60):
    return Placement("r", "g", tech, minute(hour), minute(hour) + dur)


def test_a_good_plan_is_feasible_and_costed():
    # the request names its garage and has no location, so travel is 0 km
    check = check_plan(problem(), Answer(status="", placements=[place("t1", 11, dur=60)]))
    assert check.feasible, check.violations
    assert check.cost == 100 * 120  # P1 weight x 120 minutes of waiting
    assert check_plan(problem(), Answer(status="")).cost == 100000 * 100  # unplaced P1


def test_overlap_skill_lift_shift_grid_flex_and_moves_are_caught():
    p = problem()
    cases = {
        "overlaps appointment a": [place("t1", 10.5)],
        "lacks skill maintenance": [place("t2", 9)],
        "not inside a single shift": [place("t1", 11.5)],
        "off the 15-minute grid": [Placement("r", "g", "t1", minute(9) + 5, minute(9) + 65)],
        "starts before now": [place("t1", 8)],
    }
    for expected, placements in cases.items():
        violations = check_plan(p, Answer(status="", placements=placements)).violations
        assert any(expected in v for v in violations), (expected, violations)
    far = check_plan(p, Answer(status="", moves=[Move("a", "t1", minute(11), minute(12))]))
    assert any("beyond its flex" in v for v in far.violations)


def test_lift_capacity_counts_moved_and_placed_work():
    p = problem(technicians=[
        {"id": "t1", "garage": "g", "skills": ["maintenance"], "shifts": [{"start": at(8), "end": at(12)}]},
        {"id": "t3", "garage": "g", "skills": ["maintenance"], "shifts": [{"start": at(8), "end": at(12)}]},
    ])
    clash = check_plan(p, Answer(status="", placements=[place("t3", 10)]))
    assert any("only 1 lifts" in v for v in clash.violations)
    ok = check_plan(p, Answer(status="", placements=[place("t3", 10)],
                              moves=[Move("a", "t1", minute(10.5), minute(11.5))]))
    assert any("only 1 lifts" in v for v in ok.violations)  # still overlaps 10:30-11:00
    cleared = check_plan(p, Answer(status="", placements=[place("t3", 9)]))
    assert cleared.feasible


def test_moving_more_than_max_moves_or_pinned_work_is_refused():
    p = problem(appointments=[
        {"id": "a", "technician": "t1", "start": at(10), "end": at(11), "skill": "maintenance", "flex_minutes": 60},
        {"id": "b", "technician": "t1", "start": at(11), "end": at(11.5), "skill": "maintenance",
         "flex_minutes": 60, "pinned": True},
    ])
    check = check_plan(p, Answer(status="", moves=[Move("a", "t1", minute(9), minute(10)),
                                                   Move("b", "t1", minute(10.5), minute(11))]))
    assert any("more than max_moves" in v for v in check.violations)
    assert any("not movable" in v for v in check.violations)


def test_a_job_off_the_grid_moved_to_another_technician_must_start_on_the_grid():
    # Existing work may stay off the grid where it is; a change of technician alone is a move, and a
    # moved appointment's new start is on the grid (format: feasibility 3).
    p = problem(technicians=[
        {"id": "t1", "garage": "g", "skills": ["maintenance"], "shifts": [{"start": at(8), "end": at(12)}]},
        {"id": "t3", "garage": "g", "skills": ["maintenance"], "shifts": [{"start": at(8), "end": at(12)}]},
    ], appointments=[{"id": "a", "technician": "t1", "start": at(10 + 7 / 60), "end": at(10.5 + 7 / 60),
                      "skill": "maintenance", "flex_minutes": 30}])
    swap = check_plan(p, Answer(status="", moves=[Move("a", "t3", minute(10) + 7, minute(10) + 37)]))
    assert any("off the 15-minute grid" in v for v in swap.violations)
    assert check_plan(p, Answer(status="", moves=[Move("a", "t3", minute(10), minute(10) + 30)])).feasible
