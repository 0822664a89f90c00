"""Fixtures: an app per test on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set.

The demo network is seeded once per backend and session; each test gets a copy (SQLite)
or a transaction rolled back afterwards (PostgreSQL, SQLAlchemy's savepoint recipe).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import uuid
from collections.abc import Callable
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import current_app
from flask_sqlalchemy.session import _app_ctx_id
from jinja2 import BytecodeCache
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import scoped_session, sessionmaker
from werkzeug.routing import Rule

from web import create_app
from web.extensions import db

PG_URL = os.environ.get("TEST_DATABASE_URL")
# The seed's and the app's moment is fixed, so a run does not pass on some days and fail on others;
# FRONTLINE_TEST_NOW (ISO 8601) plays the whole suite at another moment.
NOW = datetime.fromisoformat(os.environ.get("FRONTLINE_TEST_NOW", "2026-11-24T08:30:00+00:00")) \
    .astimezone(timezone.utc).replace(second=0, microsecond=0)


def working_morning(moment: datetime) -> datetime:
    """`moment` if the garages have most of a working day ahead, else the next working day at 08:00."""
    local = moment.astimezone(ZoneInfo("Europe/Paris"))
    if local.weekday() < 5 and time(7, 30) <= local.time() <= time(13, 0):
        return moment
    day = local.date() + timedelta(days=0 if local.time() < time(7, 30) else 1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(8, 0), ZoneInfo("Europe/Paris")).astimezone(timezone.utc)


# The app's clock in tests: a working morning, so "today" always has work time left.
CLOCK_NOW = working_morning(NOW)
SMALL_SEED = {"seed": 7, "days_ahead": 7, "history_days": 30, "dense_history_days": 2}
PASSWORD = "frontline-demo"


# The longest files, measured (pytest --durations): each file runs on one worker (--dist loadfile), so started
# last they ran alone at the end while the other core idled (the last 2 % of a CI run took two minutes).
# pytest-xdist 3.8 hands files out by their number of tests (its --loadscope-reorder default), which overrides this
# order between files; a run with --no-loadscope-reorder (stop 40) was not faster, on a machine too unsteady to say.
LONGEST_FIRST = ("tests/browser/", "tests/web/test_garage_desk.py", "tests/web/test_access_matrix.py",
                 "tests/web/test_french_pages.py", "tests/web/test_api_fuzz.py", "tests/web/test_stress.py",
                 "tests/web/test_production_server.py", "tests/web/test_nasty_inputs.py", "tests/seed/test_demo.py",
                 "tests/web/test_desk_pages.py", "tests/web/test_api_booking.py", "tests/web/test_planner_stats.py",
                 "tests/web/test_more_time_replan.py", "tests/web/test_admin_technicians.py")


def pytest_collection_modifyitems(config, items):
    def rank(item) -> int:
        path = str(item.fspath).replace("\\", "/")
        return next((i for i, part in enumerate(LONGEST_FIRST) if part in path), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: each file's tests keep their order


def _pg_driver(url: str) -> str:
    return re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+psycopg://", url)


class PgDatabases:
    """Creates databases of its own on the server and drops them at the end."""

    def __init__(self, url: str):
        self.admin_url = make_url(_pg_driver(url))
        self.created: list[str] = []

    def create(self, purpose: str, template: str | None = None, owned: bool = True) -> str:
        """A new database, empty or a copy of `template` (the URL of one made here, with no one connected);
        dropped at the end of this process's session unless not `owned` (shared by the run's workers)."""
        name = f"frontline_test_{purpose}_{uuid.uuid4().hex[:8]}"
        copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{copy}'))
        engine.dispose()
        if owned:
            self.created.append(name)
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_all(self, names: list[str] | None = None) -> None:
        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            for name in self.created if names is None else names:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.fixture(scope="session")
def pg_databases():
    if not PG_URL:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    dbs = PgDatabases(PG_URL)
    yield dbs
    dbs.drop_all()


class CompiledTemplates(BytecodeCache):
    """The templates compiled once per test process, not once per test: every test makes an app of its own, and
    parsing and compiling the pages again each time took about a third of a page test's time. Jinja checks each
    entry against its template's source, so an edited template is compiled afresh."""

    def __init__(self):
        self.code: dict[str, bytes] = {}

    def load_bytecode(self, bucket):
        if bucket.key in self.code:
            bucket.bytecode_from_string(self.code[bucket.key])

    def dump_bytecode(self, bucket):
        self.code[bucket.key] = bucket.bytecode_to_string()


COMPILED_TEMPLATES = CompiledTemplates()

# Each new app compiles a URL builder for each of its ~140 routes (Python source built and compiled per route), most
# of the 80 ms an app takes to make; the suite makes one per test. A builder depends only on its rule's parts and
# defaults and reaches the rule's converters through the rule it is bound to, so one compiled per rule is shared.
_compile_builder = Rule._compile_builder
_builders: dict[tuple, object] = {}


def _shared_builder(rule: Rule, append_unknown: bool = True):
    key = (rule.rule, repr(rule._trace), repr(sorted((rule.defaults or {}).items())), append_unknown)
    if key not in _builders:
        _builders[key] = _compile_builder(rule, append_unknown)
    return _builders[key]


Rule._compile_builder = _shared_builder


def make_app(url: str, **extra):
    # The suite reads its answers in English unless a test asks otherwise (the network's default is French).
    config = {"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
              "CLOCK": lambda: CLOCK_NOW, "BABEL_DEFAULT_LOCALE": "en"}
    config.update(extra)
    application = create_app(config)
    application.jinja_env.bytecode_cache = COMPILED_TEMPLATES
    return application


def build_schema_and_seed(url: str) -> None:
    from seed import demo

    app = make_app(url)
    with app.app_context():
        db.create_all()
        demo.seed(db.session, now=NOW, **SMALL_SEED)
        db.session.commit()
        db.engine.dispose()


def once_per_run(tmp_path_factory, name: str, build: Callable[[Path], None]) -> Path:
    """A file built once for the whole run and read by every xdist worker. Each worker seeded the demo network for
    itself, on SQLite, on PostgreSQL and for the browser tests: about 75 s of a two-core CI run's CPU went to seeding
    the same network again. Without workers it is built here, as before."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.mktemp("shared") / name
        build(path)
        return path
    root = tmp_path_factory.getbasetemp().parent  # the run's: each worker's own is beneath it
    path = root / name
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker to ask builds it; the others wait, then read it
        if not path.exists():
            part = root / f"{name}.part"
            build(part)
            part.rename(path)
    return path


# Where the run's seeded PostgreSQL database is named (a file beside the workers' own temporary directories): the
# controller drops it once every worker is done with it (pytest_sessionfinish).
PG_TEMPLATE = "pg_template_url"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    return once_per_run(tmp_path_factory, "seeded.sqlite", lambda path: build_schema_and_seed(f"sqlite:///{path}"))


# The browser tests' network: two weeks of demand, enough for the saturated garages' rule offer to fall more than a
# week out; seeded at the suite's fixed morning.
STORY_SEED = {"seed": 7, "days_ahead": 14, "history_days": 7, "dense_history_days": 1}


@pytest.fixture(scope="session")
def story_template(tmp_path_factory):
    from seed import demo

    def build(path: Path) -> None:
        seeding = make_app(f"sqlite:///{path}")
        with seeding.app_context():
            db.create_all()
            demo.seed(db.session, now=CLOCK_NOW, **STORY_SEED)
            db.session.commit()
            db.engine.dispose()

    return once_per_run(tmp_path_factory, "story.sqlite", build)


@pytest.fixture(scope="session")
def pg_template(pg_databases, tmp_path_factory):
    """The URL of the run's seeded PostgreSQL database, which no one connects to: each process copies it."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        url = pg_databases.create("template")
        build_schema_and_seed(url)
        return url

    def build(path: Path) -> None:
        template = pg_databases.create("template", owned=False)
        path.write_text(template)  # before seeding: if the seed fails, the controller still drops it
        build_schema_and_seed(template)

    return once_per_run(tmp_path_factory, PG_TEMPLATE, build).read_text()


@pytest.fixture(scope="session")
def pg_seeded(pg_databases, pg_template):
    """The seeded network on PostgreSQL, this process's own copy (tests write in it, rolled back)."""
    return pg_databases.create("seeded", template=pg_template)


@pytest.fixture(scope="session", autouse=True)
def seeds_shared(request):
    """Each worker asks for the run's seeded networks in its own order, so that two of them are seeded at once on two
    cores rather than one after the other while a worker waits; one worker first asks for the network it needs
    last. Only the networks the collected tests use."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return
    used = set().union(*(getattr(item, "fixturenames", ()) for item in request.session.items))
    order = (["story_template"] if "live_app" in used else []) + \
        (["sqlite_template"] if used & {"app", "sqlite_template"} else []) + \
        (["pg_template"] if PG_URL and used & {"app", "pg_seeded"} else [])
    for name in order[::-1] if int(worker.removeprefix("gw") or 0) % 2 else order:
        request.getfixturevalue(name)


def pytest_sessionfinish(session):
    """The controller of a run with workers drops the seeded PostgreSQL database they copied."""
    if PG_URL and not hasattr(session.config, "workerinput") and os.environ.get("PYTEST_XDIST_WORKER") is None:
        named = session.config._tmp_path_factory.getbasetemp() / PG_TEMPLATE
        for shared in (named, named.with_name(f"{PG_TEMPLATE}.part")):
            if shared.exists():
                PgDatabases(PG_URL).drop_all([make_url(shared.read_text()).database])


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request):
    return request.param


@pytest.fixture
def app(backend, request, tmp_path):
    """No app context stays pushed: each request must get its own `g`, as in production."""
    if backend == "sqlite":
        copy = tmp_path / "frontline.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), copy)
        application = make_app(f"sqlite:///{copy}")
        yield application
        with application.app_context():
            db.engine.dispose()
        return
    application = make_app(request.getfixturevalue("pg_seeded"))
    with application.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
    # A plain Session: Flask-SQLAlchemy's own picks its engine in get_bind and would ignore `bind`,
    # committing for real. Scoped per app context, as Flask-SQLAlchemy scopes it. `db.session` is the process's:
    # only apps on this database (this one, or one a test makes beside it) get the test's connection; another in
    # the process (the browser tests' live server, answering a page's poll in its own thread) keeps its own
    # session, never this connection, which two threads at once would corrupt (a rare "current transaction is
    # aborted" on PostgreSQL).
    app_session = db.session
    bound = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")
    here = application.config["SQLALCHEMY_DATABASE_URI"]

    def session_for_this_app():
        return bound() if current_app.config["SQLALCHEMY_DATABASE_URI"] == here else app_session()

    db.session = scoped_session(session_for_this_app, scopefunc=_app_ctx_id)
    yield application
    with application.app_context():
        db.session.remove()
        outer.rollback()
        connection.close()
        db.engine.dispose()
    db.session = app_session


@pytest.fixture
def client(app):
    return app.test_client()


class Auth:
    """Log in as a demo user through the API; remembers the CSRF token for writes."""

    def __init__(self, client):
        self.client = client
        self.csrf = None

    def login(self, username: str, password: str = PASSWORD):
        response = self.client.post("/api/v1/session", json={"username": username, "password": password})
        assert response.status_code == 200, response.get_json()
        self.csrf = response.get_json()["csrf_token"]
        return response

    def headers(self) -> dict:
        return {"X-CSRFToken": self.csrf}

    def post(self, path: str, **kwargs):
        return self.client.post(path, headers=self.headers(), **kwargs)

    def form(self, path: str, data: dict | None = None, **kwargs):
        payload = {"csrf_token": self.csrf, **(data or {})}
        return self.client.post(path, data=payload, **kwargs)


@pytest.fixture
def auth(client):
    return Auth(client)
