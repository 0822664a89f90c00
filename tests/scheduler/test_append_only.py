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
