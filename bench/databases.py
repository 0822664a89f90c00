"""Databases of a bench run: a temporary SQLite file, or a PostgreSQL database created and dropped here.

PostgreSQL is the server of BENCH_DATABASE_URL (else TEST_DATABASE_URL, else the local one); a
backend that does not answer is skipped with a line that says so.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PARIS = ZoneInfo("Europe/Paris")
PG_SERVER = (os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
             or "postgresql://postgres@127.0.0.1:5432/test")


def machine() -> str:
    """The conditions of a figure: the machine is shared, so its load is printed beside what was measured."""
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (5 min {five:.1f}) on {os.cpu_count()} cores"


def working_morning(moment: datetime, hour: int = 9) -> datetime:
    """The next working day's `hour` o'clock in Paris: the garages have the whole day ahead."""
    day = moment.astimezone(PARIS).date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, time(hour), PARIS)


def _admin_url():
    url = make_url(PG_SERVER)
    return url.set(drivername="postgresql+psycopg")


def pg_available() -> str | None:
    """None when PostgreSQL answers, else why not (one line)."""
    try:
        engine = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - any reason is a reason to skip
        return str(exc).strip().splitlines()[0]
    return None


@contextmanager
def database(backend: str, purpose: str) -> Iterator[str]:
    """A URL of an empty database of that backend, gone afterwards."""
    if backend == "sqlite":
        folder = Path(tempfile.mkdtemp(prefix=f"frontline-bench-{purpose}-"))
        yield f"sqlite:///{folder / 'bench.sqlite'}"
        for name in ("bench.sqlite", "bench.sqlite-wal", "bench.sqlite-shm"):
            (folder / name).unlink(missing_ok=True)
        return
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    name = f"frontline_bench_{purpose}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _admin_url().set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def backends(wanted: str) -> list[str]:
    """The backends to run: `sqlite`, `postgresql` or `both` (PostgreSQL skipped, and said, when it is down)."""
    chosen = ["sqlite", "postgresql"] if wanted == "both" else [wanted]
    if "postgresql" in chosen:
        why = pg_available()
        if why:
            print(f"        PostgreSQL skipped: {why}")
            chosen.remove("postgresql")
    return chosen
