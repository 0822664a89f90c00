"""Many clerks, one slot: the database lets exactly one booking through, on both databases."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from scheduler.db import Base, harden_sqlite
from scheduler.errors import SlotTaken
from scheduler.models import Appointment, Case, Customer, Garage, JobType, Skill, Technician, Vehicle
from scheduler.services.booking import book

THREADS = 16
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


LIFTS = 5


def _network(session: Session) -> None:
    session.add(Skill(code="diagnostics", label="Diagnostics"))
    session.add(JobType(code="fault_diagnosis", label="Fault diagnosis", skill_code="diagnostics",
                        duration_minutes=60, needs_lift=False))
    session.add(JobType(code="brake_repair", label="Brake repair", skill_code="diagnostics",
                        duration_minutes=60, needs_lift=True))
    session.add(Garage(id="g1", name="Garage 1", address="1 rue", city="Lyon", lat=45.7, lon=4.8, lifts=2,
                       phone="+33 4 00 00 00 00"))
    session.add(Technician(id="t1", garage_id="g1", name="Tech"))
    # a garage with one technician more than it has lifts
    session.add(Garage(id="g5", name="Garage 5", address="5 rue", city="Lyon", lat=45.7, lon=4.8, lifts=LIFTS,
                       phone="+33 4 00 00 00 05"))
    for i in range(LIFTS + 1):
        session.add(Technician(id=f"g5-t{i}", garage_id="g5", name=f"Tech {i}"))
    for i in range(THREADS):
        customer = Customer(name=f"Customer {i}", phone="+33 6 00 00 00 00")
        session.add(Case(urgency="P1", job_type_code="fault_diagnosis", customer=customer,
                         vehicle=Vehicle(plate=f"AA-{i:03d}-AA", model="Clio", customer=customer)))
    session.commit()


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'race.sqlite'}")
        harden_sqlite(engine)
    else:
        url = request.getfixturevalue("pg_databases").create("race")
        engine = create_engine(url, pool_size=THREADS, max_overflow=0)
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        _network(session)
    yield engine
    engine.dispose()


def _attempt(engine, case_id: int, start: datetime, barrier: threading.Barrier, outcomes: list) -> None:
    barrier.wait()  # load after the barrier: on SQLite even a read takes the (immediate) write lock
    with Session(engine) as session:
        case = session.get(Case, case_id)
        tech = session.get(Technician, "t1")
        try:
            book(session, case, tech, start, start + timedelta(minutes=60))
            session.commit()
            outcomes.append("booked")
        except SlotTaken:
            session.rollback()
            outcomes.append("taken")


@pytest.mark.parametrize("offset_minutes", [0, 30])
def test_exactly_one_of_many_concurrent_bookings_wins(engine, offset_minutes):
    with Session(engine) as session:
        case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))
    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    # half the threads aim at 09:00, the other half at an overlapping start
    threads = [threading.Thread(target=_attempt, args=(
        engine, case_ids[i], START + timedelta(minutes=offset_minutes * (i % 2)), barrier, outcomes))
        for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["taken"] * (THREADS - 1)
    with Session(engine) as session:
        assert session.scalar(select(func.count(Appointment.id))) == 1


def _lift_job(engine, case_id: int, technician: str, barrier: threading.Barrier, outcomes: list) -> None:
    barrier.wait()
    with Session(engine) as session:
        case = session.get(Case, case_id)
        case.job_type_code = "brake_repair"
        session.flush()
        try:
            book(session, case, session.get(Technician, technician), START, START + timedelta(minutes=60))
            session.commit()
            outcomes.append("booked")
        except SlotTaken:
            session.rollback()
            outcomes.append("taken")


def test_a_garage_never_takes_more_simultaneous_lift_jobs_than_it_has_lifts(engine):
    """Six technicians free, five lifts: six bookings at once leave exactly five (60 of 60 went through before)."""
    with Session(engine) as session:
        case_ids = list(session.scalars(select(Case.id).order_by(Case.id)))[:LIFTS + 1]
    barrier, outcomes = threading.Barrier(LIFTS + 1), []
    threads = [threading.Thread(target=_lift_job, args=(engine, case_id, f"g5-t{i}", barrier, outcomes))
               for i, case_id in enumerate(case_ids)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert sorted(outcomes) == ["booked"] * LIFTS + ["taken"]
    with Session(engine) as session:
        assert session.scalar(select(func.count(Appointment.id)).where(Appointment.garage_id == "g5")) == LIFTS


def test_the_database_refuses_a_plain_booking_on_top_of_an_overbooked_one_and_lifts_past_capacity(engine):
    from sqlalchemy.exc import IntegrityError

    def appointment(case, technician, overbooked=False, lift=False, garage="g1"):
        return Appointment(case=case, garage_id=garage, technician_id=technician, skill_code="diagnostics",
                           start_at=START, end_at=START + timedelta(minutes=60), overbooked=overbooked, lift=lift)

    with Session(engine) as session:
        cases = list(session.scalars(select(Case).order_by(Case.id).limit(LIFTS + 2)))
        session.add(appointment(cases[0], "t1", overbooked=True))  # alone: consent given, nothing overlapped
        session.commit()
        session.add(appointment(cases[1], "t1"))
        with pytest.raises(IntegrityError, match="appointment_no_double_booking"):
            session.commit()
        session.rollback()
        session.add_all([appointment(cases[i], f"g5-t{i}", lift=True, garage="g5") for i in range(LIFTS)])
        session.commit()
        session.add(appointment(cases[LIFTS], f"g5-t{LIFTS}", lift=True, garage="g5"))
        with pytest.raises(IntegrityError, match="appointment_lifts_full"):
            session.commit()
        session.rollback()
        session.add(appointment(cases[LIFTS], f"g5-t{LIFTS}", lift=True, garage="g5", overbooked=True))
        session.commit()  # a person's explicit overbooking of the lifts is recorded as such


def test_the_database_itself_refuses_an_overlap_that_skips_the_service(engine):
    from sqlalchemy.exc import IntegrityError

    with Session(engine) as session:
        cases = list(session.scalars(select(Case).order_by(Case.id).limit(3)))
        for case, minutes in zip(cases, (0, 30)):
            session.add(Appointment(case=case, garage_id="g1", technician_id="t1", skill_code="diagnostics",
                                    start_at=START + timedelta(minutes=minutes),
                                    end_at=START + timedelta(minutes=60 + minutes)))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        # cancelled work and people's explicit overbookings do not block
        first = Appointment(case=cases[0], garage_id="g1", technician_id="t1", skill_code="diagnostics",
                            start_at=START, end_at=START + timedelta(minutes=60))
        cancelled = Appointment(case=cases[1], garage_id="g1", technician_id="t1", skill_code="diagnostics",
                                start_at=START, end_at=START + timedelta(minutes=60), status="cancelled")
        overbooked = Appointment(case=cases[2], garage_id="g1", technician_id="t1", skill_code="diagnostics",
                                 start_at=START, end_at=START + timedelta(minutes=30), overbooked=True)
        session.add_all([first, cancelled, overbooked])
        session.commit()
        # back-to-back is not an overlap: intervals are half-open
        follow = Appointment(case=cases[1], garage_id="g1", technician_id="t1", skill_code="diagnostics",
                             start_at=START + timedelta(minutes=60), end_at=START + timedelta(minutes=90))
        session.add(follow)
        session.commit()
        # reviving the cancelled one onto a taken slot is refused too (the update guard)
        cancelled.status = "booked"
        with pytest.raises(IntegrityError):
            session.commit()
