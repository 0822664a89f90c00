"""The call-centre desk on the demo network: how long the offers call takes, database to JSON.

Seeds the full demo network (as `flask --app web serve` does) into a temporary SQLite file,
then asks for offers through the HTTP layer for callers near every garage, the way an operator's
browser or a telephony integration would.
"""

from __future__ import annotations

import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.stats import pct

PARIS = ZoneInfo("Europe/Paris")
SYMPTOMS = ("engine_fault_stop", "brakes_failing", "warning_light", "annual_service", "hv_warning")


def working_morning(moment: datetime) -> datetime:
    local = moment.astimezone(PARIS)
    day = local.date() + timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time().replace(hour=9), PARIS)


def bench_desk(rounds: int = 3) -> None:
    from scheduler.db import utcnow
    from scheduler.models import Garage
    from seed import demo
    from web import create_app
    from web.extensions import db

    folder = Path(tempfile.mkdtemp(prefix="frontline-bench-"))
    clock = working_morning(utcnow())
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'demo.sqlite'}", "SECRET_KEY": "bench",
                      "CLOCK": lambda: clock})
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        demo.seed(db.session, now=utcnow())
        db.session.commit()
        garages = [(g.id, g.lat, g.lon) for g in db.session.query(Garage).order_by(Garage.id)]
    print(f"desk    demo network seeded in {time.perf_counter() - started:.0f} s ({len(garages)} garages, "
          f"28 days of demand); clock {clock:%a %d %b %H:%M} Paris")

    client = app.test_client()
    response = client.post("/api/v1/session", json={"username": "operator", "password": demo.DEMO_PASSWORD})
    headers = {"X-CSRFToken": response.get_json()["csrf_token"]}
    offers_ms, page_ms = [], []
    for n in range(rounds):
        for i, (garage_id, lat, lon) in enumerate(garages):
            call = {"customer": {"name": "Bench Caller", "phone": "+33 6 00 00 00 00"},
                    "vehicle": {"plate": f"BN-{n:02d}{i:02d}-CH", "model": "Peugeot 308"},
                    "symptom": SYMPTOMS[(n + i) % len(SYMPTOMS)],
                    "location": {"lat": lat + 0.004, "lon": lon - 0.003}}
            case = client.post("/api/v1/cases", json=call, headers=headers).get_json()
            t = time.perf_counter()
            answer = client.get(f"/api/v1/cases/{case['id']}/offers")
            offers_ms.append((time.perf_counter() - t) * 1000)
            assert answer.status_code == 200, answer.get_json()
            t = time.perf_counter()
            assert client.get(f"/desk/cases/{case['id']}").status_code == 200
            page_ms.append((time.perf_counter() - t) * 1000)
    print(f"        GET /api/v1/cases/<id>/offers: p50 {pct(offers_ms, .5):.0f} ms  p95 {pct(offers_ms, .95):.0f} ms  "
          f"max {max(offers_ms):.0f} ms  ({len(offers_ms)} calls)")
    print(f"        operator's case page (offers, levers, timeline): p50 {pct(page_ms, .5):.0f} ms  "
          f"p95 {pct(page_ms, .95):.0f} ms")
