"""The audit trail cannot be rewritten: the database itself refuses it, whatever path writes."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from scheduler.db import Base, harden_sqlite
from scheduler.models import Case, CaseEvent, Customer, JobType, Skill, Vehicle


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'audit.sqlite'}")
        harden_sqlite(engine)
    else:
        engine = create_engine(request.getfixturevalue("pg_databases").create("audit"))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Skill(code="diagnostics", label="Diagnostics"))
        session.add(JobType(code="fault_diagnosis", label="Fault", skill_code="diagnostics", duration_minutes=60))
        customer = Customer(name="A", phone="1")
        case = Case(urgency="P1", job_type_code="fault_diagnosis", customer=customer,
                    vehicle=Vehicle(plate="AU-001-DT", model="Clio", customer=customer))
        case.log("call", symptom="engine_fault_stop")
        session.add(case)
        session.commit()
    yield engine
    engine.dispose()


def test_case_events_cannot_be_changed_or_deleted_only_added(engine):
    with Session(engine) as session:
        for statement in (update(CaseEvent).values(kind="tampered"), delete(CaseEvent)):
            with pytest.raises(DBAPIError, match="append_only"):
                session.execute(statement)
            session.rollback()
        case = session.scalar(select(Case))
        case.log("note", text="a correction is a new row")
        session.commit()
        assert [e.kind for e in session.scalars(select(CaseEvent).order_by(CaseEvent.id))] == ["call", "note"]
        if engine.dialect.name == "postgresql":
            with pytest.raises(DBAPIError, match="append_only"):
                session.execute(text("TRUNCATE case_event CASCADE"))


@pytest.fixture(params=["sqlite", "postgresql"])
def seeded(request, tmp_path):
    """The seeded network (overrides, outcomes, policy versions, answered requests) in a database of its own."""
    import shutil

    if request.param == "sqlite":
        copy = tmp_path / "seeded.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        engine = create_engine(f"sqlite:///{copy}")
        harden_sqlite(engine)
    else:
        engine = create_engine(request.getfixturevalue("pg_databases").create(
            "audit", template=request.getfixturevalue("pg_seeded")))
    yield engine
    engine.dispose()


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def _refused(engine, statement: str) -> None:
    with engine.connect() as conn:
        with pytest.raises(DBAPIError, match="append_only"):
            conn.execute(text(statement))
        conn.rollback()


# Every audit table: what happened, what the rules offered, what the decision led to, which rules were in force.
AUDIT = ["case_event", "override", "override_outcome", "policy"]


@pytest.mark.parametrize("table", AUDIT)
def test_the_database_refuses_to_rewrite_the_audit_tables(seeded, table):
    before = count(seeded, table)
    assert before > 0, f"the seed has {table} rows to protect"
    _refused(seeded, f"UPDATE {table} SET id = id")
    _refused(seeded, f"DELETE FROM {table}")
    if seeded.dialect.name == "postgresql":
        _refused(seeded, f"TRUNCATE {table} CASCADE")
    assert count(seeded, table) == before


def test_a_policy_change_is_a_new_version_the_old_one_stays_as_it_was(seeded):
    from scheduler.models import Policy, User
    from scheduler.services import policies
    from tests.conftest import CLOCK_NOW

    with Session(seeded) as session:
        old = session.scalar(select(Policy).order_by(Policy.version.desc()))
        was = (old.version, old.search_radius_km, old.note)
        planner = session.scalar(select(User).where(User.username == "planner"))
        new = policies.change(session, planner, {"search_radius_km": old.search_radius_km + 5}, CLOCK_NOW)
        session.commit()
        assert new.version == was[0] + 1
        session.expire_all()
        kept = session.get(Policy, old.id)
        assert (kept.version, kept.search_radius_km, kept.note) == was


def test_a_direct_line_answer_stands_once_given(seeded):
    from scheduler.models import DirectLineRequest

    with Session(seeded) as session:
        answered = session.scalar(select(DirectLineRequest).where(DirectLineRequest.status == "accepted"))
        assert answered is not None
        answered.status, answered.answer = "declined", "rewritten afterwards"
        with pytest.raises(DBAPIError, match="append_only"):
            session.flush()
        session.rollback()
    _refused(seeded, "DELETE FROM direct_line_request")
    if seeded.dialect.name == "postgresql":
        _refused(seeded, "TRUNCATE direct_line_request CASCADE")
    with Session(seeded) as session:  # a request waiting for its answer still gets it
        waiting = session.scalar(select(DirectLineRequest))
        session.execute(text("INSERT INTO direct_line_request (case_id, garage_id, message, status, created_at, "
                             "rule_note) VALUES (:case, :garage, 'Today?', 'open', :now, '')"),
                        {"case": waiting.case_id, "garage": waiting.garage_id, "now": waiting.created_at})
        session.execute(update(DirectLineRequest).where(DirectLineRequest.status == "open")
                        .values(status="declined", answer="no lift free"))
        session.commit()
        assert session.scalar(select(DirectLineRequest).where(DirectLineRequest.answer == "no lift free"))

