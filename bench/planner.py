"""The planner desk on the demo network: how fast the dashboard answers, and how fast a what-if
replay plays 30 days of recorded demand, inline and on two RQ workers.

Seeds the full demo network (as `flask --app web serve` does) into a temporary SQLite file. The
RQ part needs Redis at FRONTLINE_BENCH_REDIS (default redis://127.0.0.1:6379/14) and is skipped,
saying so, when it does not answer.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.stats import pct

REDIS = os.environ.get("FRONTLINE_BENCH_REDIS", "redis://127.0.0.1:6379/14")
CHANGES = {"rule": {"min_notice_minutes": {"P1": 0}, "garages": 3}}


def _wait(app, replay_id: int, limit: float = 1800.0) -> dict:
    from scheduler.db import may_write
    from scheduler.services import replays
    from web.extensions import db

    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        reading = may_write.set(False)  # polls as the page does: a read, no lock taken
        try:
            with app.app_context():
                replay = replays.get(db.session, replay_id)
                if replay.status in ("done", "failed"):
                    assert replay.status == "done", replay.error
                    return replay.result
        finally:
            may_write.reset(reading)
        time.sleep(0.2)
    raise TimeoutError(f"replay {replay_id} did not finish in {limit:.0f} s")


def bench_planner(rounds: int = 20, workers: int = 2) -> None:
    from scheduler.db import utcnow
    from scheduler.services import replays
    from seed import demo
    from web import create_app, jobs
    from web.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="frontline-bench-planner-"))
    url = f"sqlite:///{folder / 'demo.sqlite'}"
    now = utcnow()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CLOCK": lambda: now})
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        demo.seed(db.session, now=now)
        db.session.commit()
        from sqlalchemy import func, select

        from scheduler.models import Override
        overrides = db.session.scalar(select(func.count(Override.id)))
    print(f"planner demo network seeded in {time.perf_counter() - started:.0f} s ({overrides} overrides in the history)")

    client = app.test_client()
    client.post("/api/v1/session", json={"username": "planner", "password": demo.DEMO_PASSWORD})
    for name, path in (("dashboard page, last 12 weeks", "/planner/"),
                       ("GET /api/v1/stats/overrides?group_by=week", "/api/v1/stats/overrides?group_by=week"),
                       ("GET /api/v1/stats/rules", "/api/v1/stats/rules"),
                       ("GET /api/v1/overrides (CSV)", "/api/v1/overrides?format=csv")):
        times = []
        for _ in range(rounds):
            t = time.perf_counter()
            assert client.get(path).status_code == 200
            times.append((time.perf_counter() - t) * 1000)
        print(f"        {name}: p50 {pct(times, .5):.0f} ms  p95 {pct(times, .95):.0f} ms  ({rounds} requests)")

    last = now.date() - timedelta(days=1)
    params = {"from": (last - timedelta(days=29)).isoformat(), "to": last.isoformat(), "policy": CHANGES}
    with app.app_context():
        replay = replays.create(db.session, None, params, now)
        db.session.commit()
        replay_id = replay.id
    t = time.perf_counter()
    replays.run_job(url, replay_id)
    inline_s = time.perf_counter() - t
    inline = _wait(app, replay_id)
    print(f"replay  30 days ({params['from']} to {params['to']}), {inline['cases']} cases, P1 notice 0 and 3 rule "
          f"garages; two passes (current rules, changed policy)")
    print(f"        inline: {inline_s:.1f} s, {inline['cases'] / inline_s:.0f} cases/s")
    _summary(inline)

    if not _redis_answers():
        print(f"        RQ: skipped, Redis does not answer at {REDIS}")
        return
    rq_app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CLOCK": lambda: now,
                         "REDIS_URL": REDIS})
    from rq import Worker

    queue = jobs.queue(REDIS)
    queue.empty()
    procs = [subprocess.Popen([str(Path(sys.executable).parent / "rq"), "worker", "--url", REDIS, jobs.QUEUE],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(queue=queue)) < workers:  # started and listening before the clock runs
            assert time.monotonic() < deadline, "the RQ workers did not start"
            time.sleep(0.2)
        with rq_app.app_context():
            replay = replays.create(db.session, None, params, now, runner="rq")
            db.session.commit()
            replay_id = replay.id
            t = time.perf_counter()
            jobs.start_replay(replay_id)
        queued = _wait(rq_app, replay_id)
        rq_s = time.perf_counter() - t
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=60)
    print(f"        {workers} RQ workers: {rq_s:.1f} s, {queued['cases'] / rq_s:.0f} cases/s "
          f"(same figures as inline: {queued == inline})")


def _summary(result: dict) -> None:
    for u in ("p1", "p2", "p3"):
        row = result[u]
        print(f"        {u.upper()} median wait h (rules / people / changed): "
              + " / ".join("-" if row[w]["median_minutes"] is None else f"{row[w]['median_minutes'] / 60:.1f}"
                           for w in ("rules", "humans", "changed"))
              + "; same day: " + " / ".join("-" if row[w]["same_day_share"] is None else f"{row[w]['same_day_share']:.0%}"
                                            for w in ("rules", "humans", "changed")))
    print(f"        overrides made unnecessary: {result['overrides']['unnecessary']} of {result['overrides']['total']}")


def _redis_answers() -> bool:
    try:
        from redis import Redis

        return bool(Redis.from_url(REDIS, socket_timeout=1).ping())
    except Exception:
        return False
