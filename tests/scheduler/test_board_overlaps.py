"""An overbooking on the board: who waits for whom, and how long."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from scheduler.services.boards import TechnicianDay

NINE = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)


def job(id_: int, start: int, minutes: int, urgency: str) -> SimpleNamespace:
    begin = NINE + timedelta(minutes=start)
    return SimpleNamespace(id=id_, start_at=begin, end_at=begin + timedelta(minutes=minutes), active=True,
                           case=SimpleNamespace(urgency=urgency))


def test_the_urgent_car_overbooked_at_the_same_time_goes_first_and_the_other_waits_until_it_is_done():
    routine, urgent = job(1, 0, 60, "P3"), job(2, 0, 90, "P1")  # the P1 was put onto the P3's time by hand
    (overlap,) = TechnicianDay(None, [], [routine, urgent]).overlaps
    assert (overlap.first.id, overlap.later.id, overlap.minutes) == (2, 1, 90)


def test_a_short_job_inside_a_long_one_waits_until_the_long_one_ends_not_the_time_they_share():
    long, short = job(1, 0, 180, "P2"), job(2, 60, 30, "P2")  # the first job was given two more hours
    (overlap,) = TechnicianDay(None, [], [long, short]).overlaps
    assert (overlap.first.id, overlap.later.id, overlap.minutes) == (1, 2, 120)


def test_a_job_behind_two_others_waits_for_the_longer_of_them():
    from scheduler.services.boards import GarageDay

    long, short, last = job(1, 0, 180, "P2"), job(2, 30, 30, "P2"), job(3, 45, 30, "P2")
    day = GarageDay(None, None, [TechnicianDay(None, [], [long, short, last])])
    assert day.waits == {2: 150, 3: 135}  # the 15 minutes behind the short job are not the wait
