"""Fixtures of the web tests that need a server of their own."""

from __future__ import annotations

import shutil

import pytest


@pytest.fixture(params=["sqlite", "postgresql"])
def served_database(request, tmp_path):
    """The seeded demo network in a database of its own, which a real server's workers commit to."""
    if request.param == "sqlite":
        copy = tmp_path / "frontline.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        return f"sqlite:///{copy}"
    return request.getfixturevalue("pg_databases").create("served", template=request.getfixturevalue("pg_seeded"))


@pytest.fixture
def committing_app(served_database):
    """The app over a database of its own whose requests really commit, so that two can race."""
    from tests.conftest import make_app
    from web.extensions import db

    app = make_app(served_database)
    yield app
    with app.app_context():
        db.engine.dispose()
