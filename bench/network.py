"""A national network in PostgreSQL: 300 garages in 40 metropolitan areas, four weeks of booked work.

The network itself (garages, technicians, skills, shifts, the policy) is made by the demo seed's own
builder with a generated garage list; the booked work is inserted in bulk (one case per appointment,
no technician double-booked, no garage over its lifts: the database's guards check every row), since
the demo seed's object-by-object demand would take most of an hour at this size. Then the operator
asks for offers through the HTTP layer for callers near random garages, and the same questions are
answered by the validated file path for a share of them.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from datetime import datetime, timedelta, timezone
from unittest import mock

from bench.databases import backends, database, machine, working_morning
from bench.desk import SYMPTOMS, Timer, counting
from bench.stats import pct

AREAS = 40


def garages(count: int, rnd: random.Random) -> list[tuple]:
    """(id, name, address, city, lat, lon, lifts, technicians, load) in the shape of seed.catalog.GARAGES."""
    centres = [(rnd.uniform(43.3, 50.5), rnd.uniform(-1.5, 7.5)) for _ in range(AREAS)]
    made = []
    for n in range(count):
        lat, lon = centres[n % AREAS]
        techs = rnd.choice([5, 6, 6, 7, 8])
        made.append((f"g{n + 1:03d}", f"Garage {n + 1}", f"{n + 1} avenue de la République", f"Ville {n % AREAS}",
                     lat + rnd.uniform(-0.15, 0.15), lon + rnd.uniform(-0.2, 0.2), rnd.choice([4, 5, 6]),
                     techs, rnd.uniform(0.5, 0.97)))
    return made


def seed_network(url: str, count: int, now: datetime, days: int = 28) -> tuple[int, int]:
    from sqlalchemy import insert, text

    from scheduler.models import Appointment, Case, Customer, Technician, User, Vehicle
    from seed import catalog, demo
    from web import create_app
    from web.extensions import db

    rnd = random.Random(300)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        builder = demo._Builder(db.session, rnd, now, demo._quiet)
        names = [f"Technician {n}" for n in range(10 * count)]
        with mock.patch.object(catalog, "GARAGES", garages(count, rnd)), \
                mock.patch.object(demo._Builder, "_people", lambda self, _count: names):
            builder.network()
        operator = User(username="operator", role="operator", display_name="Bench operator")
        operator.set_password(demo.DEMO_PASSWORD)
        db.session.add(operator)
        db.session.flush()
        technicians = list(db.session.query(Technician).order_by(Technician.id))
        jobs = [(j.code, j.skill_code, j.duration_minutes, j.needs_lift) for j in builder.job_types.values()]
        lifts = {g.id: g.lifts for g in builder.garages}
        load = builder.load
        customers = [{"id": i + 1, "name": f"Client {i}", "phone": "+33 6 00 00 00 00"} for i in range(count)]
        garage_index = {g.id: i + 1 for i, g in enumerate(builder.garages)}
        db.session.execute(insert(Customer), customers)
        db.session.execute(insert(Vehicle), [{"id": c["id"], "plate": f"NW-{c['id']:04d}", "model": "Clio",
                                              "customer_id": c["id"]} for c in customers])
        cases, appointments = [], []
        lift_use: dict[tuple[str, int], int] = defaultdict(int)
        today = builder.today
        for tech in technicians:
            doable = [j for j in jobs if j[1] in tech.skill_codes]
            for offset in range(days + 1):
                day = today + timedelta(days=offset)
                level = load[tech.garage_id] if offset <= 13 else min(load[tech.garage_id], 0.7) * 0.8
                for s0, e0 in tech.shifts_on(day):
                    cursor, end = s0.astimezone(timezone.utc), e0.astimezone(timezone.utc)
                    while cursor < end:
                        code, skill, minutes, lift = rnd.choice(doable)
                        stop = cursor + timedelta(minutes=minutes)
                        quarters = [int(cursor.timestamp()) // 900 + q for q in range(minutes // 15)]
                        if stop <= end and stop > now and rnd.random() < level and \
                                not (lift and any(lift_use[(tech.garage_id, q)] >= lifts[tech.garage_id]
                                                  for q in quarters)):
                            if lift:
                                for q in quarters:
                                    lift_use[(tech.garage_id, q)] += 1
                            number = garage_index[tech.garage_id]
                            cases.append({"id": len(cases) + 1, "urgency": "P3", "job_type_code": code,
                                          "customer_id": number, "vehicle_id": number, "garage_id": tech.garage_id,
                                          "status": "booked", "opened_at": now - timedelta(days=3)})
                            appointments.append({"case_id": len(cases), "garage_id": tech.garage_id,
                                                 "technician_id": tech.id, "start_at": cursor, "end_at": stop,
                                                 "skill_code": skill, "lift": lift, "created_at": now})
                            cursor = stop
                        else:
                            cursor += timedelta(minutes=15)
        for chunk in range(0, len(cases), 20000):
            db.session.execute(insert(Case), cases[chunk:chunk + 20000])
            db.session.execute(insert(Appointment), appointments[chunk:chunk + 20000])
        if db.engine.dialect.name == "postgresql":
            for table in ("customer", "vehicle", "case_file"):
                db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                        f"(SELECT max(id) FROM {table}))"))
        db.session.commit()
        db.engine.dispose()
    return len(technicians), len(appointments)


def bench_network(garages: int = 300, calls: int = 150, backend: str = "postgresql") -> dict:
    from scheduler.db import utcnow

    figures = {}
    for name in backends(backend):
        with database(name, "network") as url:
            clock = working_morning(utcnow())
            started = time.perf_counter()
            techs, booked = seed_network(url, garages, clock - timedelta(hours=12))
            print(f"network {name}: {garages} garages, {techs} technicians, {booked} booked appointments over 28 days, "
                  f"seeded in {time.perf_counter() - started:.0f} s; clock {clock:%a %d %b %H:%M} Paris; {machine()}")
            figures[name] = _measure(url, clock, calls)
            print(f"        ({machine()} at the end)")
    return figures


def _measure(url: str, clock: datetime, calls: int) -> dict:
    from optimizer import parse_problem, solve
    from scheduler.models import Case, Garage
    from scheduler.services import planning
    from seed import demo
    from web import create_app
    from web.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "CLOCK": lambda: clock,
                      "SECURE_COOKIES": False})
    rnd = random.Random(1)
    with app.app_context():
        places = [(g.lat, g.lon) for g in db.session.query(Garage).order_by(Garage.id)]
        engine = db.engine
    client = app.test_client()
    response = client.post("/api/v1/session", json={"username": "operator", "password": demo.DEMO_PASSWORD})
    headers = {"X-CSRFToken": response.get_json()["csrf_token"]}
    http, seam, file, statements, candidates = Timer(), Timer(), Timer(), [], []
    for n in range(calls + 1):
        lat, lon = rnd.choice(places)
        call = {"customer": {"name": "Bench Caller", "phone": "+33 6 00 00 00 00"},
                "vehicle": {"plate": f"NB-{n:04d}-CH", "model": "Peugeot 308"}, "symptom": rnd.choice(SYMPTOMS),
                "location": {"lat": lat + rnd.uniform(-0.05, 0.05), "lon": lon + rnd.uniform(-0.05, 0.05)}}
        case = client.post("/api/v1/cases", json=call, headers=headers).get_json()
        timer = http if n else Timer()  # the first call loads the network into the process, once per change of it
        with counting(engine) as count, timer():
            answer = client.get(f"/api/v1/cases/{case['id']}/offers")
        assert answer.status_code == 200, answer.get_json()
        if n == 0:
            continue
        statements.append(count[0])
        with app.app_context():
            row = db.session.get(Case, case["id"])
            candidates.append(len(planning.snapshot(db.session, clock).candidates(row.lat, row.lon)))
            with seam():
                planning.case_offers(db.session, row, clock)
            db.session.rollback()
        if n % 5 == 1:  # the file path is slow: a share of the calls is enough for its percentiles
            with app.app_context():
                row = db.session.get(Case, case["id"])
                row.job_type  # noqa: B018
                with file():
                    solve(parse_problem(planning.offers_document(db.session, row, clock)))
                db.session.rollback()
    with app.app_context():
        db.engine.dispose()

    print(f"        GET /api/v1/cases/<id>/offers (HTTP layer): {http.line()}  ({len(http.wall)} calls, "
          f"{pct(statements, .5)} SQL statements, median {pct(candidates, .5)} candidate garages in the radius)")
    print(f"        in-process, planning seam:       {seam.line()}")
    print(f"        in-process, validated file path: {file.line()}  ({len(file.wall)} calls); ratio p50 "
          f"{pct(file.wall, .5) / pct(seam.wall, .5):.1f}x, p95 {pct(file.wall, .95) / pct(seam.wall, .95):.1f}x")
    return {"http": http, "seam": seam, "file": file}
