"""The replay's growing plan answers what the optimizer's FreeTime answers, item after item."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from optimizer.freetime import FreeTime
from scheduler.services.replay_plan import GrowingFreeTime, NetworkPlan


def test_a_growing_plan_gives_the_same_windows_as_a_fresh_one():
    rnd = random.Random(3)
    day = datetime(2027, 3, 1, 7, tzinfo=timezone.utc)
    technicians = [{"id": f"t{i}", "garage": f"g{i % 2}", "skills": ["x"],
                    "shifts": [{"start": day + timedelta(days=d, hours=h), "end": day + timedelta(days=d, hours=h + 4)}
                               for d in range(5) for h in (0, 5)]} for i in range(4)]
    garages = [{"id": f"g{i}", "location": {"lat": 45, "lon": 4.8 + i / 10}, "lifts": 1 + i} for i in range(2)]
    plan = NetworkPlan(garages, technicians, timezone.utc)
    assert isinstance(plan.free, GrowingFreeTime)
    items = []
    for _ in range(120):
        tech = f"t{rnd.randrange(4)}"
        start = day + timedelta(days=rnd.randrange(5), minutes=15 * rnd.randrange(40))
        end = start + timedelta(minutes=15 * rnd.randrange(1, 8))
        lift = rnd.random() < 0.6
        for t in ("t0", "t1", "t2", "t3"):  # read windows first, so they are cut rather than worked out again
            plan.free.windows(t, False), plan.free.windows(t, True)
        plan.occupy(tech, start, end, lift)
        items.append((tech, start, end, lift))
        fresh = FreeTime(plan.problem)
        for t, s, e, lf in items:
            fresh.occupy(t, int(s.timestamp() // 60), int(-(-e.timestamp() // 60)), lf)
        for t in ("t0", "t1", "t2", "t3"):
            for lf in (False, True):
                assert plan.free.windows(t, lf)[0] == fresh.windows(t, lf)[0], (t, lf, len(items))
