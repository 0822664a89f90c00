"""The replay's plan answers what the optimizer answers: its free time after each placement is
FreeTime's, and its rule offer is the engine's rule offer, at every moment it is asked."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta, timezone

from optimizer import Location, make_request
from optimizer.freetime import FreeTime
from optimizer.rule import rule_offer
from scheduler.models.policy import Policy
from scheduler.services.replay_plan import GrowingFreeTime, NetworkPlan, Rules

DAY = datetime(2027, 3, 1, 7, tzinfo=timezone.utc)


def network(rnd: random.Random) -> NetworkPlan:
    garages = [NetworkPlan.garage(f"g{i}", 45.0 + i / 50, 4.8 + i / 40, 1 + i % 2) for i in range(3)]
    technicians = [NetworkPlan.technician(
        f"t{i}", f"g{i % 3}", ["x", "y"] if i % 2 else ["x"],
        [(DAY + timedelta(days=d, hours=h), DAY + timedelta(days=d, hours=h + 4)) for d in range(6) for h in (0, 5)])
        for i in range(6)]
    return NetworkPlan(garages, technicians, timezone.utc)


def test_a_growing_plan_gives_the_same_free_time_as_a_fresh_one():
    rnd = random.Random(3)
    plan = network(rnd)
    assert isinstance(plan.free, GrowingFreeTime)
    items = []
    for _ in range(150):
        tech = f"t{rnd.randrange(6)}"
        start = DAY + timedelta(days=rnd.randrange(6), minutes=15 * rnd.randrange(40))
        end = start + timedelta(minutes=15 * rnd.randrange(1, 8))
        lift = rnd.random() < 0.7
        for g in ("g0", "g1", "g2"):  # asked before: the growing plan then has spans to grow
            plan.free.lift_full(g)
        plan.occupy(tech, start, end, lift)
        items.append((tech, start, end, lift))
        fresh = FreeTime(plan.problem)
        for t, s, e, lf in items:
            fresh.occupy(t, int(s.timestamp() // 60), int(-(-e.timestamp() // 60)), lf)
        for g in ("g0", "g1", "g2"):
            assert plan.free.lift_full(g) == fresh.lift_full(g), (g, len(items))
        for t in (f"t{i}" for i in range(6)):
            assert plan.free.windows(t, True) == fresh.windows(t, True)


def test_the_plans_rule_offer_is_the_engines():
    rnd = random.Random(5)
    plan = network(rnd)
    for n in range(120):
        now = DAY + timedelta(days=rnd.randrange(3), minutes=15 * rnd.randrange(60) + rnd.randrange(15))
        same_day = rnd.random() < 0.5
        policy = Policy(rule_garages=rnd.choice([1, 2, 3]), search_radius_km=rnd.choice([5.0, 30.0]),
                        notice_minutes={"P1": rnd.choice([0, 120]), "P2": rnd.choice([0, 240]), "P3": 1440},
                        travel_speed_kmh=rnd.choice([30.0, 0.0]), horizon_days=5, p1_reserve_minutes=0,
                        same_day_visible=same_day)
        rules = Rules.of(policy)
        urgency, lift = rnd.choice(["P1", "P2", "P3"]), rnd.random() < 0.5
        lat, lon = 45.0 + rnd.random() / 20, 4.8 + rnd.random() / 20
        duration, skill = rnd.choice([30, 60, 90]), rnd.choice(["x", "y"])
        placed = plan.rule_offer(str(n), now, duration, skill, lift, urgency, lat, lon, rules)
        problem = plan.problem  # now and policy are those of this question
        # a P2 or P3 is offered nothing today when the policy keeps today from the call centre
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0), DAY.tzinfo)
        earliest = now if same_day or urgency == "P1" else tomorrow
        request = make_request(f"check{n}", duration, skill, lift, urgency, Location(lat, lon), None, now, earliest,
                               latest=now + timedelta(days=5))
        expected = rule_offer(problem, plan.free, request)
        if expected is None:
            assert placed is None
        else:
            assert placed is not None, n
            assert (placed.garage, placed.technician, int(placed.start.timestamp() // 60)) == \
                (expected.garage, expected.technician, expected.start), n
            assert placed.start >= earliest
            plan.occupy(placed.technician, placed.start, placed.end, lift)


def test_a_policy_that_keeps_today_from_the_call_centre_gives_a_p2_tomorrow_and_a_p1_today():
    plan = network(random.Random(1))
    now = DAY + timedelta(hours=1)  # 08:00, shifts from 07:00 and 12:00 every day
    for urgency, same_day, day in [("P2", True, 0), ("P2", False, 1), ("P1", False, 0), ("P3", False, 1)]:
        rules = Rules.of(Policy(rule_garages=1, search_radius_km=30.0, notice_minutes={"P1": 0, "P2": 0, "P3": 0},
                                travel_speed_kmh=0.0, horizon_days=5, p1_reserve_minutes=0,
                                same_day_visible=same_day))
        placed = plan.rule_offer(f"{urgency}{same_day}", now, 30, "x", False, urgency, 45.0, 4.8, rules)
        assert placed.start == now.replace(hour=7) + timedelta(days=day) + (timedelta(hours=1) if not day else
                                                                           timedelta()), (urgency, same_day)


def test_a_customer_whose_own_later_time_the_pass_gave_away_takes_the_next_free_time_after_it():
    """A customer who booked Tuesday 09:00 (later than offered): when an earlier call took that hour in the pass,
    they take their technician's next free time after it, not the first offer, which made every call behind them
    sooner than it really was."""
    from scheduler.services.replay_plan import Placed
    from scheduler.services.replays import Demand, _taken

    plan = NetworkPlan([NetworkPlan.garage("g", 45.0, 4.8, 1)],
                       [NetworkPlan.technician("t", "g", ["x"], [(DAY + timedelta(days=d), DAY + timedelta(days=d, hours=4))
                                                                 for d in range(3)])], timezone.utc)
    tuesday = DAY + timedelta(days=1, hours=2)  # 09:00
    offer = Placed("g", "t", DAY, DAY + timedelta(hours=1))
    case = Demand(1, DAY - timedelta(days=1), "P3", 60, "x", False, 45.0, 4.8, tuesday, False,
                  ("t", tuesday, tuesday + timedelta(hours=1), False))
    assert _taken(plan, case, offer) == case.booked, "free in the pass: the customer keeps their own time"
    plan.occupy("t", tuesday - timedelta(minutes=30), tuesday + timedelta(minutes=30), False)
    assert _taken(plan, case, offer) == ("t", tuesday + timedelta(minutes=30), tuesday + timedelta(minutes=90), False)
    plan.occupy("t", tuesday + timedelta(minutes=30), DAY + timedelta(days=3), False)
    assert _taken(plan, case, offer) == ("t", DAY, DAY + timedelta(hours=1), False), "nothing after it: the offer"
    earlier = Demand(2, DAY - timedelta(days=1), "P3", 60, "x", False, 45.0, 4.8, DAY, False,
                     ("t", DAY, DAY + timedelta(hours=1), False))
    assert _taken(plan, earlier, Placed("g", "t", tuesday, tuesday + timedelta(hours=1)))[1] == tuesday, \
        "booked sooner than the rules offer (people's doing): the rules' pass books the offer"
