"""An overbooking on the board: who waits for whom, and how long."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from scheduler.services.boards import TechnicianDay

NINE = datetime(2026, 12, 1, 8, tzinfo=timezone.utc)


def job(id_: int, start: int, minutes: int, urgency: str) -> SimpleNamespace:
    begin = NINE + timedelta(minutes=start)
    return SimpleNamespace(id=id_, start_at=begin, end_at=begin + timedelta(minutes=minutes), active=True,
                           case=SimpleNamespace(urgency=urgency), started_at=None)


def test_the_urgent_car_overbooked_at_the_same_time_goes_first_and_the_other_waits_until_it_is_done():
    routine, urgent = job(1, 0, 60, "P3"), job(2, 0, 90, "P1")  # the P1 was put onto the P3's time by hand
    (overlap,) = TechnicianDay(None, [], [routine, urgent]).overlaps
    assert (overlap.first.id, overlap.later.id, overlap.minutes) == (2, 1, 90)


def test_a_short_job_inside_a_long_one_waits_until_the_long_one_ends_not_the_time_they_share():
    long, short = job(1, 0, 180, "P2"), job(2, 60, 30, "P2")  # the first job was given two more hours
    (overlap,) = TechnicianDay(None, [], [long, short]).overlaps
    assert (overlap.first.id, overlap.later.id, overlap.minutes) == (1, 2, 120)


def test_a_job_behind_two_others_waits_for_both_in_turn():
    from scheduler.services.boards import GarageDay

    long, short, last = job(1, 0, 180, "P2"), job(2, 30, 30, "P2"), job(3, 45, 30, "P2")
    day = GarageDay(None, None, [TechnicianDay(None, [], [long, short, last])])
    # one technician: the long job until 3:00, then the short one until 3:30, then the last
    assert day.waits == {2: 150, 3: 165}
    assert [(o.first.id, o.later.id) for o in day.rows[0].overlaps] == [(1, 2), (2, 3)]


def test_a_job_pushed_back_pushes_the_next_one_though_their_bookings_do_not_overlap():
    """The walkthrough's case: an urgent car at 10:30 onto a 10:45 job; the 11:15 job behind it was said to wait
    15 minutes (its overlap with nothing) when it waits for both."""
    urgent, pushed, next_one = job(1, 150, 60, "P1"), job(2, 165, 45, "P3"), job(3, 195, 45, "P3")
    waits = {o.later.id: (o.first.id, o.minutes) for o in TechnicianDay(None, [], [urgent, pushed, next_one]).overlaps}
    assert waits == {2: (1, 45), 3: (2, 60)}


def test_a_job_already_started_waits_for_nothing_though_its_booking_overlaps():
    """The banner said a customer whose job was under way waited 50 minutes."""
    urgent, started, next_one = job(1, 150, 60, "P1"), job(2, 165, 45, "P3"), job(3, 195, 45, "P3")
    started.started_at = NINE + timedelta(minutes=160)  # the workshop began it on another lift, early
    waits = {o.later.id: o.minutes for o in TechnicianDay(None, [], [urgent, started, next_one]).overlaps}
    assert 2 not in waits and waits[3] > 0


def test_work_already_begun_goes_first_even_before_a_more_urgent_car_booked_for_the_same_time():
    running, urgent = job(1, 0, 60, "P3"), job(2, 0, 30, "P1")
    running.started_at = NINE  # the technician is on it: it is not left half done for the urgent car
    (overlap,) = TechnicianDay(None, [], [urgent, running]).overlaps
    assert (overlap.first.id, overlap.later.id, overlap.minutes) == (1, 2, 60)


def test_a_job_pushed_past_the_end_of_its_technicians_shift_says_so():
    """An urgent car put by hand at 14:00 onto a 14:30 job of an hour and a half: that job now ends at 16:30, after
    the 16:00 end of the technician's shift (the board said only that its customer waited, as if it could still be
    done as booked)."""
    shifts = [(NINE - timedelta(hours=1), NINE + timedelta(hours=3)), (NINE + timedelta(hours=4), NINE + timedelta(hours=8))]
    urgent, pushed = job(1, 360, 60, "P1"), job(2, 390, 90, "P3")  # 14:00 and 14:30; the shift ends at 16:00
    (overlap,) = TechnicianDay(None, shifts, [urgent, pushed]).overlaps
    assert (overlap.later.id, overlap.minutes, overlap.past_shift) == (2, 30, NINE + timedelta(hours=8))
    # shifts that touch are one stretch of work: pushed past 16:00 into a shift from 16:00, the job still fits
    longer = [*shifts, (NINE + timedelta(hours=8), NINE + timedelta(hours=10))]
    (overlap,) = TechnicianDay(None, longer, [job(1, 360, 60, "P1"), job(2, 390, 90, "P3")]).overlaps
    assert overlap.past_shift is None
    # the same wait earlier in the afternoon still ends within the shift: nothing to say
    urgent, pushed = job(1, 240, 60, "P1"), job(2, 270, 60, "P3")
    (overlap,) = TechnicianDay(None, shifts, [urgent, pushed]).overlaps
    assert overlap.minutes == 30 and overlap.past_shift is None


def test_a_night_shift_on_the_days_the_clocks_change_counts_the_minutes_that_pass():
    """00:30-06:00 in Paris is 270 minutes on 28 March 2027 and 390 on 31 October: the board said 330 for both
    (two times of one zone subtract as wall-clock times)."""
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    for day, minutes in ((datetime(2027, 3, 28), 270), (datetime(2027, 10, 31), 390), (datetime(2027, 3, 29), 330)):
        shift = (day.replace(hour=0, minute=30, tzinfo=paris), day.replace(hour=6, tzinfo=paris))
        row = TechnicianDay(None, [shift], [])
        assert row.shift_minutes == minutes, day
        assert row.free_minutes_after(shift[0].astimezone(timezone.utc)) == minutes
