"""Background jobs: inline in a thread by default, on an RQ queue of worker processes when
FRONTLINE_REDIS_URL (config REDIS_URL) is set, so long work scales out across machines.

Both paths run the same function with the database URL and report through the database, so the
page and the API read progress the same way whichever ran it.
"""

from __future__ import annotations

import threading
import time

from flask import current_app

from scheduler.models.replay import PASSES

QUEUE = "frontline-replays"
_threads: dict[int, threading.Thread] = {}


def redis_url() -> str | None:
    return current_app.config.get("REDIS_URL") or None


def runner() -> str:
    return "rq" if redis_url() else "inline"


def database_url() -> str:
    return current_app.config["SQLALCHEMY_DATABASE_URI"]


def queue(url: str):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE, connection=Redis.from_url(url))


def start_replay(replay_id: int) -> None:
    """Hand the replay's passes to the runner. The request commits after this; jobs wait for the row."""
    url = redis_url()
    if url:
        q = queue(url)
        for name in PASSES:  # one job per pass: two workers play them at once
            q.enqueue("web.jobs.replay_job", database_url(), replay_id, [name], job_timeout=3600,
                      result_ttl=3600, failure_ttl=86400)
        return
    thread = threading.Thread(target=replay_job, args=(database_url(), replay_id, list(PASSES)),
                              name=f"replay-{replay_id}", daemon=True)
    _threads[replay_id] = thread
    thread.start()


def replay_job(database_url: str, replay_id: int, names: list[str], wait_seconds: float = 30.0) -> None:
    """A replay's passes. Started as its request ends, it first waits for that request to commit the row."""
    from sqlalchemy import create_engine, select
    from sqlalchemy.pool import NullPool

    from scheduler.models import Replay
    from scheduler.services import replays

    deadline = time.monotonic() + wait_seconds
    probe = create_engine(database_url, poolclass=NullPool)
    try:
        while True:
            with probe.connect() as conn:
                if conn.execute(select(Replay.id).where(Replay.id == replay_id)).first():
                    break
            if time.monotonic() > deadline:
                return  # the request that made it rolled back: nothing to run
            time.sleep(0.05)
    finally:
        probe.dispose()
    replays.run_job(database_url, replay_id, names)


def join(replay_id: int, timeout: float = 120.0) -> None:
    """Wait for an inline replay's thread (tests, the CLI)."""
    thread = _threads.get(replay_id)
    if thread is not None:
        thread.join(timeout)
