"""The Alembic migrations build exactly the models' schema, guard included, on both databases."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from scheduler.db import Base
from web import create_app
from web.commands import upgrade_database
from web.extensions import db


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'migrated.sqlite'}"
    return request.getfixturevalue("pg_databases").create("migrate")


def test_upgrade_builds_the_models_schema(empty_url):
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": empty_url})
    with app.app_context():
        upgrade_database()
        with db.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
            assert diff == []
            if conn.dialect.name == "sqlite":
                triggers = conn.execute(text("SELECT name FROM sqlite_master WHERE type='trigger'")).scalars().all()
                assert {"appointment_guard_insert", "appointment_guard_update"} <= set(triggers)
            else:
                names = conn.execute(text("SELECT conname FROM pg_constraint WHERE contype = 'x'")).scalars().all()
                assert "appointment_no_double_booking" in names
                triggers = conn.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars().all()
                assert "appointment_guard" in triggers
        assert "appointment" in inspect(db.engine).get_table_names()
        db.engine.dispose()
