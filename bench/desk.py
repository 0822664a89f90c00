"""The call-centre desk on the demo network, database to JSON, on SQLite and on PostgreSQL.

Seeds the full demo network (as `flask --app web serve` does), sets the clock to the next working
morning, opens a case near every garage (P1 to P3 symptoms, several rounds) and, for each case:

- asks for its offers through the HTTP layer (Flask's test client: authentication, the planning
  context, the optimizer, the JSON), as an operator's browser or a telephony integration would;
- answers the same question in-process twice, side by side: the planning seam (`case_offers`) and the
  validated file path it replaced (`offers_document` → `parse_problem` → `solve`, the whole horizon);
- opens the operator's case page;
- books the best offer through the API.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from sqlalchemy import event

from bench.databases import backends, database, machine, working_morning
from bench.stats import pct

SYMPTOMS = ("engine_fault_stop", "brakes_failing", "warning_light", "annual_service", "hv_warning")


class Timer:
    """Wall and CPU time of blocks. CPU is this process's, every thread (the optimizer answers on a worker thread;
    SQLite works in-process, PostgreSQL's own work is not counted): on a shared machine the wall time grows with
    the others' load, the CPU time much less."""

    def __init__(self):
        self.wall: list[float] = []
        self.cpu: list[float] = []

    @contextmanager
    def __call__(self):
        wall, cpu = time.perf_counter(), time.process_time()
        yield
        self.wall.append((time.perf_counter() - wall) * 1000)
        self.cpu.append((time.process_time() - cpu) * 1000)

    def line(self) -> str:
        return (f"p50 {pct(self.wall, .5):.0f} ms  p95 {pct(self.wall, .95):.0f} ms  max {max(self.wall):.0f} ms"
                f"  (CPU p50 {pct(self.cpu, .5):.0f}, p95 {pct(self.cpu, .95):.0f} ms)")


@contextmanager
def counting(engine):
    """How many SQL statements ran inside the block."""
    count = [0]

    def one(*_args, **_kwargs):
        count[0] += 1

    event.listen(engine, "before_cursor_execute", one)
    try:
        yield count
    finally:
        event.remove(engine, "before_cursor_execute", one)


def _call(plate: str, symptom: str, lat: float, lon: float) -> dict:
    return {"customer": {"name": "Bench Caller", "phone": "+33 6 00 00 00 00"},
            "vehicle": {"plate": plate, "model": "Peugeot 308"}, "symptom": symptom,
            "location": {"lat": lat + 0.004, "lon": lon - 0.003}}


def seeded_app(url: str, clock):
    from scheduler.db import utcnow
    from seed import demo
    from web import create_app
    from web.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CLOCK": lambda: clock,
                      "SECURE_COOKIES": False})
    with app.app_context():
        db.create_all()
        demo.seed(db.session, now=utcnow())
        db.session.commit()
    return app


def bench_desk(rounds: int = 3, backend: str = "both") -> dict:
    from scheduler.db import utcnow

    figures = {}
    for name in backends(backend):
        with database(name, "desk") as url:
            clock = working_morning(utcnow())
            started = time.perf_counter()
            app = seeded_app(url, clock)
            print(f"desk    {name}: demo network seeded in {time.perf_counter() - started:.0f} s; "
                  f"clock {clock:%a %d %b %H:%M} Paris; {machine()}")
            figures[name] = _measure(app, rounds)
            print(f"        ({machine()} at the end)")
            from web.extensions import db

            with app.app_context():
                db.engine.dispose()
    return figures


def _measure(app, rounds: int) -> dict:
    from optimizer import parse_problem, solve
    from scheduler.models import Case, Garage
    from scheduler.services import planning
    from seed import demo
    from web.extensions import db

    with app.app_context():
        garages = [(g.id, g.lat, g.lon) for g in db.session.query(Garage).order_by(Garage.id)]
        engine = db.engine
        clock = app.config["CLOCK"]()
    client = app.test_client()
    response = client.post("/api/v1/session", json={"username": "operator", "password": demo.DEMO_PASSWORD})
    headers = {"X-CSRFToken": response.get_json()["csrf_token"]}
    ms = {name: Timer() for name in ("http", "seam", "file", "page", "book", "sealed")}
    statements: dict[str, list[int]] = {"http": [], "page": [], "book": [], "sealed": []}
    same = differ = 0
    warm = client.post("/api/v1/cases", json=_call("BN-WARM-UP", SYMPTOMS[0], *garages[0][1:]), headers=headers)
    client.get(f"/api/v1/cases/{warm.get_json()['id']}/offers")  # the network, loaded once per change of it
    for n in range(rounds):
        for i, (garage_id, lat, lon) in enumerate(garages):
            call = _call(f"BN-{n:02d}{i:02d}-CH", SYMPTOMS[(n + i) % len(SYMPTOMS)], lat, lon)
            case = client.post("/api/v1/cases", json=call, headers=headers).get_json()
            with counting(engine) as count, ms["http"]():
                answer = client.get(f"/api/v1/cases/{case['id']}/offers")
            statements["http"].append(count[0])
            assert answer.status_code == 200, answer.get_json()
            # In-process, each in a fresh session (no planning context kept between them).
            with app.app_context():
                row = db.session.get(Case, case["id"])
                row.job_type  # noqa: B018 - loaded before the clock starts, for both
                with ms["seam"]():
                    seam = planning.case_offers(db.session, row, clock)
                db.session.rollback()
            with app.app_context():
                row = db.session.get(Case, case["id"])
                row.job_type  # noqa: B018
                with ms["file"]():
                    old = solve(parse_problem(planning.offers_document(db.session, row, clock)))
                db.session.rollback()
            agree = [(o.garage, o.start) for o in old.offers] == \
                [(o.garage, round(o.start.timestamp() / 60)) for o in seam.offers]
            same, differ = same + agree, differ + (not agree)
            with counting(engine) as count, ms["page"]():
                assert client.get(f"/desk/cases/{case['id']}").status_code == 200
            statements["page"].append(count[0])
            best = answer.get_json()["offers"][0]
            body = {**{k: best[k] for k in ("garage", "technician", "start")}, "reason": "the caller agreed"}
            # every other case hands back the offers' seal (web/shown.py), as the desk's page does: side by side
            kind = "sealed" if (n + i) % 2 else "book"
            if kind == "sealed":
                body["offers_token"] = answer.get_json()["offers_token"]
            with counting(engine) as count, ms[kind]():
                booked = client.post(f"/api/v1/cases/{case['id']}/appointments", json=body, headers=headers)
            statements[kind].append(count[0])
            assert booked.status_code == 201, booked.get_json()

    calls = len(ms["http"].wall)
    print(f"        GET /api/v1/cases/<id>/offers (HTTP layer): {ms['http'].line()}  ({calls} calls, "
          f"{pct(statements['http'], .5)} SQL statements)")
    print(f"        in-process, planning seam:       {ms['seam'].line()}")
    print(f"        in-process, validated file path: {ms['file'].line()}")
    file, seam = ms["file"].wall, ms["seam"].wall
    print(f"        ratio file path / seam: p50 {pct(file, .5) / pct(seam, .5):.1f}x  "
          f"p95 {pct(file, .95) / pct(seam, .95):.1f}x; same offers (garage, start) {same}/{same + differ}")
    print(f"        operator's case page: {ms['page'].line()}  ({pct(statements['page'], .5)} SQL statements)")
    print(f"        POST /api/v1/cases/<id>/appointments (best offer): {ms['book'].line()}  "
          f"({pct(statements['book'], .5)} SQL statements)")
    print(f"        the same with the offers' seal handed back: {ms['sealed'].line()}  "
          f"({pct(statements['sealed'], .5)} SQL statements)")
    return {"ms": ms, "statements": statements, "same": same, "calls": calls}
