"""Offers and the rule offer against exhaustive enumeration of every single placement."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.freetime import FreeTime
from optimizer.offers import offers_for
from optimizer.rule import rule_offer
from optimizer.solve import solve
from optimizer.validate import check_answer
from tests.optimizer.factory import all_single_placements, at, load, random_problem


def expected_offers(problem, request_id, limit):
    """The cheapest placements, one per (garage, start), ties by start, garage order, tech id."""
    request = next(r for r in problem.requests if r.id == request_id)
    rank = {g: i for i, (g, _) in enumerate(problem.candidate_garages(request))}
    best = {}
    for cost, pl in all_single_placements(problem, request_id):
        key = (pl.garage, pl.start)
        if key not in best or pl.technician < best[key][1].technician:
            best[key] = (cost, pl)
    ordered = sorted(best.values(), key=lambda c: (round(c[0], 9), c[1].start, rank[c[1].garage], c[1].technician))
    return [(round(c, 6), p.garage, p.technician, p.start) for c, p in ordered[:limit]]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10_000), garages=st.integers(1, 3), techs=st.integers(1, 3),
       appointments=st.integers(0, 8), days=st.integers(1, 2))
def test_offers_match_exhaustive_enumeration(seed, garages, techs, appointments, days):
    problem = load(random_problem(seed, garages=garages, techs=techs, appointments=appointments,
                                  requests=2, days=days, slot=15))
    free = FreeTime(problem)
    for request in problem.requests:
        got = offers_for(problem, free, request, problem.policy.offers)
        assert [(round(o.cost, 6), o.garage, o.technician, o.start) for o in got] == \
            expected_offers(problem, request.id, problem.policy.offers)
    answer = solve(problem)
    check = check_answer(problem, answer, statement=True)
    assert check.feasible, check.violations


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), garages=st.integers(1, 3), techs=st.integers(1, 3),
       appointments=st.integers(0, 8))
def test_rule_offer_is_the_first_fit_at_the_home_garages(seed, garages, techs, appointments):
    problem = load(random_problem(seed, garages=garages, techs=techs, appointments=appointments, slot=15, days=2))
    request = problem.requests[0]
    home = [g for g, _ in problem.candidate_garages(request)][: problem.policy.rule.garages]
    # every placement enumerated is feasible, so it already starts after the customer's arrival
    lower = max(problem.now + problem.policy.rule.notice(request.urgency), request.earliest)
    fits = [
        (pl.start, home.index(pl.garage), pl.technician)
        for _, pl in all_single_placements(problem, request.id)
        if pl.garage in home and pl.start >= lower
    ]
    got = rule_offer(problem, FreeTime(problem), request)
    if not fits:
        assert got is None
    else:
        start, rank, tech = min(fits)
        assert (got.start, got.garage, got.technician) == (start, home[rank], tech)
        assert got.late_because


def test_known_optimal_offers_of_the_example(shared):
    problem = load(shared("offers-small.json"))
    answer = solve(problem)
    best = {o.request: round(o.cost, 3) for o in answer.offers if o.rank == 1}
    assert best == {"r0000": 15005.636, "r0001": 1502.864, "r0002": 1528.171}
    assert check_answer(problem, answer).feasible
    assert answer.status == "OPTIMAL"


def _one_garage(**request):
    doc = {
        "version": 1, "mode": "offers", "now": at(9), "slot_minutes": 15,
        "garages": [{"id": "lyon-07", "location": {"lat": 45.746, "lon": 4.842}, "lifts": 1},
                    {"id": "lyon-03", "location": {"lat": 45.76, "lon": 4.86}, "lifts": 1}],
        "technicians": [
            {"id": "t-1", "garage": "lyon-07", "skills": ["diagnostics"],
             "shifts": [{"start": at(8), "end": at(12)}, {"start": at(8, 1), "end": at(12, 1)}]},
            {"id": "t-2", "garage": "lyon-03", "skills": ["diagnostics"],
             "shifts": [{"start": at(8), "end": at(12)}]},
            {"id": "t-3", "garage": "lyon-07", "skills": ["diagnostics"],
             "shifts": [{"start": at(8), "end": at(12)}]},
        ],
        "appointments": [
            {"id": "a-1", "technician": "t-1", "start": at(8), "end": at(11, 0), "skill": "diagnostics",
             "lift": True, "status": "in_progress"},
        ],
        "requests": [dict({"id": "r-1", "duration_minutes": 60, "skill": "diagnostics", "lift": True,
                           "urgency": "P1", "location": {"lat": 45.746, "lon": 4.842}}, **request)],
        "policy": {"rule": {"garages": 1, "min_notice_minutes": 1440}},
    }
    return load(doc)


def test_rule_offer_explains_minimum_notice_and_home_garage():
    problem = _one_garage()
    ro = rule_offer(problem, FreeTime(problem), problem.requests[0])
    assert (ro.garage, ro.technician, ro.start) == ("lyon-07", "t-1", problem.now + 24 * 60)
    assert "minimum notice" in ro.late_because
    assert "lyon-03" in ro.late_because


def test_latest_excludes_every_later_start():
    problem = _one_garage(latest=at(10))
    answer = solve(problem)
    assert all(o.start <= problem.now + 60 for o in answer.offers)
    assert [o.garage for o in answer.offers] == ["lyon-03"] * len(answer.offers)
    assert answer.rule_offers == [None]


def test_a_full_lift_blocks_a_lift_job_but_not_a_floor_job():
    problem = _one_garage(garages=["lyon-07"])
    free = FreeTime(problem)
    lift_job = offers_for(problem, free, problem.requests[0], 1)[0]
    assert (lift_job.technician, lift_job.start) == ("t-1", problem.now + 120)  # lift busy until 11:00
    floor = _one_garage(garages=["lyon-07"], lift=False)
    floor_job = offers_for(floor, FreeTime(floor), floor.requests[0], 1)[0]
    assert (floor_job.technician, floor_job.start) == ("t-3", problem.now)


@pytest.mark.parametrize("garages, max_travel_km, reason", [
    ([], None, "no garage in the problem"),  # max_travel_km null: no limit, and no garage to reach
    ([], 30, "no garage within 30 km"),
])
def test_a_request_with_no_candidate_garage_is_unplaced_with_a_reason(garages, max_travel_km, reason):
    doc = {"version": 1, "mode": "offers", "now": at(9), "garages": garages, "technicians": [],
           "requests": [{"id": "r", "duration_minutes": 30, "skill": "tyres", "urgency": "P2",
                         "location": {"lat": 45.75, "lon": 4.85}}],
           "policy": {"max_travel_km": max_travel_km}}
    answer = solve(load(doc))
    assert [u.reason for u in answer.unplaced] == [reason]
    assert answer.rule_offers == [None]


def test_a_request_that_lists_no_garage_is_unplaced_and_says_so():
    doc = random_problem(7, requests=1)
    doc["requests"][0]["garages"] = []
    answer = solve(load(doc))
    assert [u.reason for u in answer.unplaced] == ["the request lists no garage"]
