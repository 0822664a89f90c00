"""Times are stored in UTC and shown in the garage's zone; DST days keep local times."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from scheduler.db import Base
from scheduler.models import (
    Appointment,
    Case,
    Customer,
    Garage,
    JobType,
    ShiftPattern,
    Skill,
    Technician,
    Vehicle,
)
from scheduler.services import capacity
from scheduler.services.technicians import weekday_of

PARIS = ZoneInfo("Europe/Paris")
LAST_SUNDAY_OF_OCTOBER = date(2026, 10, 25)  # clocks go back at 03:00


def _session(tmp_path) -> Session:
    engine = create_engine(f"sqlite:///{tmp_path / 'dst.sqlite'}")
    Base.metadata.create_all(engine)
    session = Session(engine)
    session.add_all([Skill(code="maintenance", label="Maintenance"),
                     JobType(code="oil_change", label="Oil change", skill_code="maintenance", duration_minutes=45),
                     Garage(id="g", name="G", address="a", city="Lyon", lat=45.7, lon=4.8, phone="p")])
    tech = Technician(id="t", garage_id="g", name="T")
    for weekday in range(7):
        tech.shift_patterns.append(ShiftPattern(weekday=weekday, starts=time(8), ends=time(12)))
    session.add(tech)
    session.flush()
    return session


def test_an_appointment_on_the_dst_sunday_keeps_its_local_time(tmp_path):
    session = _session(tmp_path)
    customer = Customer(name="C", phone="1")
    case = Case(urgency="P3", job_type_code="oil_change", customer=customer,
                vehicle=Vehicle(plate="AB-123-CD", model="Clio", customer=customer))
    local_start = datetime.combine(LAST_SUNDAY_OF_OCTOBER, time(10, 0), PARIS)
    session.add(Appointment(case=case, garage_id="g", technician_id="t", skill_code="maintenance",
                            start_at=local_start, end_at=local_start + timedelta(minutes=45)))
    session.commit()
    session.expunge_all()
    stored = session.scalar(select(Appointment))
    assert stored.start_at.tzinfo is not None
    assert stored.start_at == datetime(2026, 10, 25, 9, 0, tzinfo=timezone.utc)  # CET, +01:00, after 03:00
    garage = session.get(Garage, "g")
    assert garage.local(stored.start_at).strftime("%H:%M %z") == "10:00 +0100"
    summer = datetime.combine(date(2026, 10, 24), time(10, 0), PARIS)
    assert summer.astimezone(timezone.utc).hour == 8  # the day before is still CEST, +02:00


def test_the_dst_day_has_25_hours_and_shifts_keep_their_wall_clock_times(tmp_path):
    session = _session(tmp_path)
    garage = session.get(Garage, "g")
    start, end = garage.day_bounds(LAST_SUNDAY_OF_OCTOBER)
    assert end - start == timedelta(hours=25)
    (shift_start, shift_end), = capacity.shifts(session.get(Technician, "t"), LAST_SUNDAY_OF_OCTOBER)
    assert (shift_start.hour, shift_end.hour) == (8, 12)
    assert shift_end.astimezone(timezone.utc) - shift_start.astimezone(timezone.utc) == timedelta(hours=4)


def test_naive_datetimes_are_refused(tmp_path):
    import pytest
    from sqlalchemy.exc import StatementError

    session = _session(tmp_path)
    customer = Customer(name="C", phone="1")
    case = Case(urgency="P3", job_type_code="oil_change", customer=customer,
                vehicle=Vehicle(plate="AB-999-CD", model="Clio", customer=customer))
    session.add(Appointment(case=case, garage_id="g", technician_id="t", skill_code="maintenance",
                            start_at=datetime(2026, 10, 25, 10), end_at=datetime(2026, 10, 25, 11)))
    with pytest.raises(StatementError, match="naive datetimes are refused"):
        session.flush()


@pytest.mark.parametrize(("typed", "weekday"), [
    ("Mon", 0), ("monday", 0), ("lun.", 0), ("Lundi", 0), ("MAR", 1), ("mardi", 1), ("Tue", 1), ("mercredi", 2),
    ("jeu", 3), ("Fri.", 4), ("ven", 4), ("samedi", 5), ("dim.", 6), ("Sun", 6), ("Mon:", 0), ("Weds", 2),
    ("Thurs", 3), ("tues", 1),
    ("lundo", -1), ("mo", -1), ("", -1), ("08:00-12:00", -1)])
def test_a_typed_day_name_is_read_in_english_or_french(typed, weekday):
    assert weekday_of(typed) == weekday
