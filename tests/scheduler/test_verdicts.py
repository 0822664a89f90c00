"""API.md: "A verdict is pending until the work has started", for every kind of override."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from scheduler.models import Override
from scheduler.models.override import KINDS

T0 = datetime(2026, 11, 2, 8, tzinfo=timezone.utc)


def judged(kind: str, *, started: bool, ended: bool = False, came_back_worse: bool = False) -> str:
    o = Override(kind=kind, rule_start=T0 + timedelta(days=2), actual_start=T0 + timedelta(hours=2) if started else None,
                 actual_end=T0 + timedelta(hours=3) if ended else None, knock_on_minutes=0)
    o._came_back_worse = came_back_worse
    return o.verdict


@pytest.mark.parametrize("kind", KINDS)
def test_no_kind_is_judged_before_its_work_starts(kind):
    assert judged(kind, started=False) == "pending"
    assert judged(kind, started=False, came_back_worse=True) == "pending"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_is_judged_by_its_net_gain_against_its_rule_offer(kind):
    """API.md and DESIGN.md define one gain and one verdict for an override, whatever its kind: a lowered urgency
    was judged apart (beat once its work was done, lost if the car came back worse) with no gain at all."""
    assert judged(kind, started=True) == "beat", "46 h earlier than the rules"
    o = Override(kind=kind, rule_start=T0, actual_start=T0 + timedelta(hours=2), knock_on_minutes=0)
    o._came_back_worse = False
    assert (o.gain_minutes, o.verdict) == (-120, "lost")
    o = Override(kind=kind, rule_start=T0 + timedelta(minutes=30), actual_start=T0, knock_on_minutes=30)
    o._came_back_worse = False
    assert (o.gain_minutes, o.verdict) == (30, "tie")


def test_a_lowered_urgency_whose_car_came_back_worse_is_flagged_beside_its_verdict():
    o = Override(kind="urgency_lower", rule_start=T0 + timedelta(days=2), actual_start=T0, knock_on_minutes=0)
    o._came_back_worse = True
    assert o.verdict == "beat" and o.came_back_worse() is True
    assert Override(kind="walk_in", rule_start=T0, actual_start=T0).came_back_worse() is None


def test_an_overbooking_s_knock_on_is_each_customer_s_wait_in_turn():
    # one hour of overbooking at 10:00 on a technician booked 10:30-11:00, 11:00-11:45 and 12:30-13:00: the first
    # waits until 11:00, the second until the first is done (11:30), the third not at all (free by then)
    from types import SimpleNamespace

    from scheduler.services.overrides import knock_on

    def job(i, start, minutes):
        return SimpleNamespace(id=i, start_at=T0 + timedelta(minutes=start),
                               end_at=T0 + timedelta(minutes=start + minutes), case=SimpleNamespace(urgency="P3"))

    busy = [job(3, 270, 30), job(1, 150, 30), job(2, 180, 45)]  # 10:30, 11:00, 12:30 (T0 is 8:00 UTC)
    found = knock_on(busy, T0 + timedelta(minutes=120), T0 + timedelta(minutes=180))
    # the 12:30 job is not moved, and not listed as moved (it was, with a delay of 0: the next day's first job too)
    assert found["moved"] == [{"appointment": 1, "delay_minutes": 30, "wait_minutes": 30},
                              {"appointment": 2, "delay_minutes": 30, "wait_minutes": 30}]
    assert found["knock_on_minutes"] == 60
    # past the first job on time the day runs as before: the list ends before it
    later = knock_on([*busy, job(4, 330, 30)], T0 + timedelta(minutes=120), T0 + timedelta(minutes=180))
    assert later["moved"] == found["moved"]
    # two jobs already overlapping (an earlier overbooking: 11:00 waits 15 min for 10:30-11:15): only what this
    # one adds is its knock-on
    earlier = knock_on([job(5, 150, 45), job(6, 180, 30)], T0 + timedelta(minutes=120), T0 + timedelta(minutes=180))
    # what each is told is all it now waits: the 11:00 customer 45 minutes, 15 of them for the earlier overbooking
    assert earlier["moved"] == [{"appointment": 5, "delay_minutes": 30, "wait_minutes": 30},
                                {"appointment": 6, "delay_minutes": 30, "wait_minutes": 45}]


def test_an_overbooking_behind_work_already_running_pushes_the_next_customers_by_its_own_wait_too():
    """The walkthrough's case: placed by hand at 14:00 for an hour behind a job running to 14:30, the new job ends
    at 15:30, not 15:00: the 15:00 customer waits 30 minutes (recorded 0 and never told)."""
    from types import SimpleNamespace

    from scheduler.services.overrides import knock_on

    def job(i, start, minutes):
        return SimpleNamespace(id=i, start_at=T0 + timedelta(minutes=start),
                               end_at=T0 + timedelta(minutes=start + minutes), case=SimpleNamespace(urgency="P3"))

    running, next_one = job(1, 330, 60), job(2, 420, 60)  # 13:30-14:30 and 15:00-16:00 (T0 is 8:00 UTC)
    found = knock_on([running, next_one], T0 + timedelta(minutes=360), T0 + timedelta(minutes=420))
    assert found["moved"] == [{"appointment": 2, "delay_minutes": 30, "wait_minutes": 30}]
    assert found["knock_on_minutes"] == 30
    assert 1 not in [w["appointment"] for w in found["moved"]], "the work it waits for is not delayed by it"


def test_an_overbooking_takes_its_turn_as_the_board_does_behind_a_car_as_urgent_booked_for_the_same_time():
    """The board takes a technician's jobs by start, the more urgent first, then the one booked first: an overbooking
    at the same time as an equally urgent car booked before it waits for that car, whose customer is not delayed;
    a more urgent one goes first and the other waits (capacity.turn_order, the one reading of both)."""
    from types import SimpleNamespace

    from scheduler.services.capacity import turn_order
    from scheduler.services.overrides import knock_on, own_wait

    def job(i, start, minutes, urgency):
        return SimpleNamespace(id=i, start_at=T0 + timedelta(minutes=start),
                               end_at=T0 + timedelta(minutes=start + minutes), case=SimpleNamespace(urgency=urgency))

    booked, after = job(1, 60, 60, "P2"), job(2, 120, 30, "P3")  # 9:00-10:00 and 10:00-10:30
    same = job(3, 60, 45, "P2")  # overbooked at 9:00, as urgent as the car booked then
    assert own_wait([booked, after], same.start_at, turn_order(same)) == 60
    found = knock_on([booked, after], same.start_at, same.end_at, turn_order(same))
    assert found["moved"] == [{"appointment": 2, "delay_minutes": 45, "wait_minutes": 45}]
    urgent = job(4, 60, 45, "P1")
    assert own_wait([booked, after], urgent.start_at, turn_order(urgent)) == 0
    first = knock_on([booked, after], urgent.start_at, urgent.end_at, turn_order(urgent))
    assert [w["appointment"] for w in first["moved"]] == [1, 2] and first["moved"][0]["wait_minutes"] == 45
