"""Many people at once against the production server: gunicorn (deploy/gunicorn.conf.py, several workers)
over PostgreSQL and over SQLite, then the database is checked.

Clients work in groups of four. Each round a group races on one garage, all at the same moment (a barrier):
- booking: four callers' cases, one offer; two book it as offered, two book the same technician a quarter
  of an hour later (overlapping). A loser must get a 409 with fresh offers, and books the first of them.
- direct line: one request to a garage; its reception and workshop (two of each) all accept it at once.
- squeeze: reception previews a walk-in squeezed into its day and confirms it, while three callers book the
  walk-in's slot and the places the preview moves work to. Either the plan or the bookings win; a stale
  confirm is a 409 with a fresh preview.
Afterwards, in the database: no two active appointments of a technician overlap unless a person consented
(overbooked), no garage has more lift jobs at once than lifts without consent, no case has two active bookings.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import requests

from bench.stats import pct

GROUP = 4
LIFTS_QUERY = "SELECT id, lifts FROM garage"


@dataclass
class Tally:
    attempts: Counter = field(default_factory=Counter)  # writes tried, by kind
    outcomes: Counter = field(default_factory=Counter)  # (kind, status)
    codes: Counter = field(default_factory=Counter)  # (kind, error code) of the refusals
    losers_without_fresh: int = 0  # a 409 that gave nothing to try next
    booking_ms: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, kind: str, response: requests.Response, took: float) -> None:
        with self.lock:
            self.attempts[kind] += 1
            self.outcomes[(kind, response.status_code)] += 1
            if kind == "booking":
                self.booking_ms.append(took * 1000)
            if response.status_code >= 400:
                body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") \
                    else {}
                self.codes[(kind, (body.get("error") or {}).get("code", response.status_code))] += 1
            if response.status_code == 409:
                details = (response.json().get("error") or {}).get("details") or {}
                fresh = "offers" in details or "preview" in details or \
                    response.json()["error"]["code"] in ("already_answered", "already_booked")
                self.losers_without_fresh += not fresh

    @property
    def successes(self) -> int:
        return sum(n for (_, status), n in self.outcomes.items() if status in (200, 201))

    @property
    def refusals(self) -> int:
        return sum(n for (_, status), n in self.outcomes.items() if status == 409)

    @property
    def errors(self) -> int:
        return sum(n for (_, status), n in self.outcomes.items() if status >= 500)


class Person:
    """A logged-in account's cookies, shared by the threads acting as that person (one login per account:
    the login rate limit would refuse sixteen at once, rightly)."""

    def __init__(self, base: str, username: str):
        self.base = base
        http = requests.Session()
        for _ in range(10):  # a busy database answers 503 with Retry-After: a person tries again
            response = http.post(f"{base}/api/v1/session",
                                 json={"username": username, "password": "frontline-demo"}, timeout=60)
            if response.status_code != 503:
                break
            time.sleep(float(response.headers.get("Retry-After", 1)))
        response.raise_for_status()
        self.cookies = http.cookies.get_dict()
        self.csrf = response.json()["csrf_token"]

    def session(self, keep_alive: bool = False) -> requests.Session:
        http = requests.Session()
        http.cookies.update(self.cookies)
        http.headers["X-CSRFToken"] = self.csrf
        # A new connection per request: one kept open while its client waits at a barrier longer than the
        # server's keep-alive is closed under it, and a POST is not retried (nor should be). The throughput
        # clients never wait, and keep theirs.
        if not keep_alive:
            http.headers["Connection"] = "close"
        return http


class People:
    """Every account's login, made the first time a client acts as it."""

    def __init__(self, base: str):
        self.base, self.known, self.lock = base, {}, threading.Lock()

    def __getitem__(self, username: str) -> Person:
        with self.lock:
            if username not in self.known:
                self.known[username] = Person(self.base, username)
            return self.known[username]


class Client:
    def __init__(self, base: str, people: People, tally: Tally):
        self.base, self.tally, self.people = base, tally, people
        self.sessions: dict[str, requests.Session] = {}

    def http(self, who: str) -> requests.Session:
        if who not in self.sessions:
            self.sessions[who] = self.people[who].session()
        return self.sessions[who]

    def get(self, who: str, path: str) -> requests.Response:
        return self.http(who).get(self.base + path, timeout=120)

    def post(self, who: str, path: str, body: dict, kind: str | None = None) -> requests.Response:
        t = time.perf_counter()
        response = self.http(who).post(self.base + path, json=body, timeout=120)
        if kind:
            self.tally.note(kind, response, time.perf_counter() - t)
        return response

    def open_case(self, who: str, plate: str, symptom: str, lat: float, lon: float) -> dict | None:
        response = self.post(who, "/api/v1/cases", {
            "customer": {"name": "Load Caller", "phone": "+33 6 00 00 00 00"},
            "vehicle": {"plate": plate, "model": "Peugeot 308"}, "symptom": symptom,
            "location": {"lat": lat, "lon": lon}})
        return response.json() if response.status_code == 201 else None

    def book(self, who: str, case: int, garage: str, technician: str, start: str) -> requests.Response:
        body = {"garage": garage, "technician": technician, "start": start, "reason": "the caller asked for it"}
        response = self.post(who, f"/api/v1/cases/{case}/appointments", body, "booking")
        if response.status_code == 409:
            fresh = ((response.json().get("error") or {}).get("details") or {}).get("offers") or []
            if fresh:  # the operator takes the next offer shown
                response = self.post(who, f"/api/v1/cases/{case}/appointments",
                                     {**body, **{k: fresh[0][k] for k in ("garage", "technician", "start")}},
                                     "booking")
        return response


def _later(iso: str, minutes: int) -> str:
    from datetime import datetime

    return (datetime.fromisoformat(iso) + timedelta(minutes=minutes)).isoformat()


def run_load(base: str, garages: list[tuple[str, float, float]], clients: int = 16, seconds: float = 60,
             rounds: int | None = None, mix: tuple[str, ...] = ("booking", "direct_line", "booking", "squeeze", "booking")
             ) -> tuple[Tally, float]:
    """Groups of four clients race until `seconds` have passed (or `rounds` rounds each); returns the tally."""
    tally = Tally()
    people = People(base)
    groups = max(1, clients // GROUP)
    stop_at = time.monotonic() + seconds
    shared: list[dict] = [{} for _ in range(groups)]
    barriers = [threading.Barrier(GROUP) for _ in range(groups)]
    failures: list[BaseException] = []

    def member(group: int, index: int) -> None:
        client = Client(base, people, tally)
        barrier, board = barriers[group], shared[group]
        plate = 0
        for round_no in range(rounds or 10**9):
            # every member decides together whether to go on: a barrier nobody else reaches would hang
            if index == 0:
                board["go"] = (rounds is not None or time.monotonic() < stop_at) and not failures
            barrier.wait()
            if not board["go"]:
                return
            kind = mix[(round_no + group) % len(mix)]
            garage, lat, lon = garages[(round_no * groups + group) % len(garages)]
            plate += 1
            mine = f"L{group:02d}{index}-{plate:05d}"
            try:
                if kind == "booking":
                    _booking_round(client, barrier, board, index, mine, garage, lat, lon)
                elif kind == "direct_line":
                    _direct_line_round(client, barrier, board, index, mine, garage, lat, lon)
                else:
                    _squeeze_round(client, barrier, board, index, mine, garage, lat, lon)
            except threading.BrokenBarrierError:
                return
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                failures.append(exc)
                barrier.abort()
                return

    threads = [threading.Thread(target=member, args=(g, i), daemon=True) for g in range(groups) for i in range(GROUP)]
    return tally, run_clients(threads, failures)


def run_clients(threads: list[threading.Thread], failures: list[BaseException]) -> float:
    """Start every client at once, wait for all; the seconds it took. A client's own failure is raised here."""
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise failures[0]
    return elapsed


def _booking_round(client: Client, barrier, board: dict, index: int, plate: str, garage: str, lat: float,
                   lon: float) -> None:
    who = "operator" if index % 2 == 0 else "operator2"
    case = client.open_case(who, plate, "annual_service", lat + 0.003, lon - 0.002)
    if index == 0:
        offers = client.get(who, f"/api/v1/cases/{case['id']}/offers").json().get("offers", []) if case else []
        board["offer"] = offers[0] if offers else None
    barrier.wait()
    offer = board["offer"]
    if case and offer:
        start = offer["start"] if index % 2 == 0 else _later(offer["start"], 15)
        client.book(who, case["id"], offer["garage"], offer["technician"], start)
    barrier.wait()


def _direct_line_round(client: Client, barrier, board: dict, index: int, plate: str, garage: str, lat: float,
                       lon: float) -> None:
    if index == 0:
        board["asked"] = None
        case = client.open_case("operator", plate, "engine_fault_stop", lat + 0.002, lon + 0.002)
        offers = client.get("operator", f"/api/v1/cases/{case['id']}/offers").json().get("offers", []) if case else []
        if offers:
            best = offers[0]
            sent = client.post("operator", f"/api/v1/cases/{case['id']}/direct-line",
                               {"garage": best["garage"], "message": "Can you take them now?"})
            if sent.status_code == 201:
                board["asked"] = (sent.json()["id"], best)
    barrier.wait()
    if board["asked"]:
        request_id, best = board["asked"]
        who = f"{'reception' if index % 2 == 0 else 'workshop'}-{best['garage']}"
        client.post(who, f"/api/v1/direct-line/{request_id}/answer",
                    {"accept": True, "start": best["start"], "technician": best["technician"]}, "direct_line")
    barrier.wait()


def _squeeze_round(client: Client, barrier, board: dict, index: int, plate: str, garage: str, lat: float,
                   lon: float) -> None:
    reception = f"reception-{garage}"
    if index == 0:
        board["preview"] = None
        case = client.open_case(reception, plate, "brakes_failing", lat, lon)
        if case:
            made = client.post(reception, f"/api/v1/cases/{case['id']}/squeeze", {"garage": garage})
            if made.status_code == 200 and made.json().get("placement"):
                board["preview"] = made.json()
    case = client.open_case("operator", plate, "brakes_failing", lat, lon) \
        if index else None
    barrier.wait()
    preview = board["preview"]
    if preview:
        if index == 0:
            client.post(reception, f"/api/v1/squeeze/{preview['id']}/confirm",
                        {"reason": "brakes failing, customer at the desk"}, "squeeze_confirm")
        elif case:
            # the walk-in's own slot, or where the preview moves someone to
            targets = [(preview["placement"]["technician"], preview["placement"]["start"])] + \
                [(m["technician_to"], m["to"]) for m in preview["moves"]]
            technician, start = targets[index % len(targets)]
            client.book("operator", case["id"], garage, technician, start)
    barrier.wait()


def check_database(url: str) -> dict:
    """What the database holds after the run: overlaps and lift overuse without consent, double bookings."""
    from sqlalchemy import create_engine, text

    from scheduler.models import ACTIVE
    from web import _driver

    engine = create_engine(_driver(url))
    active = ", ".join(f"'{s}'" for s in ACTIVE)
    with engine.connect() as conn:
        rows = conn.execute(text(
            f"SELECT id, case_id, technician_id, garage_id, start_at, end_at, lift, overbooked FROM appointment "
            f"WHERE status IN ({active})")).all()
        lifts = dict(conn.execute(text(LIFTS_QUERY)).all())
    engine.dispose()
    by_tech, by_garage, per_case = defaultdict(list), defaultdict(list), Counter()
    for row in rows:
        by_tech[row.technician_id].append(row)
        if row.lift:
            by_garage[row.garage_id].append(row)
        per_case[row.case_id] += 1
    overlaps = 0
    for items in by_tech.values():
        items.sort(key=lambda r: r.start_at)
        for i, a in enumerate(items):
            for b in items[i + 1:]:
                if b.start_at >= a.end_at:
                    break
                overlaps += not (a.overbooked or b.overbooked)
    lifts_over = 0
    for garage, items in by_garage.items():
        for a in items:
            if a.overbooked:
                continue
            using = sum(1 for b in items if b.start_at <= a.start_at < b.end_at and not b.overbooked)
            lifts_over += using > lifts[garage]
    return {"active": len(rows), "overlaps": overlaps, "lifts_over": lifts_over,
            "cases_booked_twice": sum(1 for n in per_case.values() if n > 1)}


def bench_load(backend: str = "both", quick: bool = False, clients: int = 16, seconds: float | None = None,
               scenario: str = "races", cases: int | None = None, seal: str = "with") -> dict:
    """`scenario`: races (the adversarial groups of four), throughput (bench/throughput.py) or both, each on a
    freshly seeded database of each backend. `seal`: whether the throughput's bookings hand back the offers' seal
    (with, without, or both side by side)."""
    from bench.databases import backends

    results = {}
    for name in backends(backend):
        if scenario in ("races", "both"):
            results[name] = _races(name, quick, clients, seconds)
        if scenario in ("throughput", "both"):
            results[(name, "throughput")] = _throughput(name, quick, clients, seconds, cases, seal)
    return results


def _seeded(url: str):
    """The demo network seeded at the next working morning: (clock, garages)."""
    from bench.databases import working_morning
    from scheduler.db import utcnow
    from scheduler.models import Garage
    from seed import demo
    from web import create_app
    from web.extensions import db

    clock = working_morning(utcnow())
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        demo.seed(db.session, now=clock - timedelta(hours=12), days_ahead=14, history_days=7,
                  dense_history_days=2)
        db.session.commit()
        garages = [(g.id, g.lat, g.lon) for g in db.session.query(Garage).order_by(Garage.id)]
        db.engine.dispose()
    return clock, garages


WORKERS, THREADS = 4, 4  # deploy/gunicorn.conf.py on this 2-core machine: 2 per core, 4 threads each


def _races(name: str, quick: bool, clients: int, seconds: float | None):
    import tempfile

    from bench.databases import database, machine
    from tests.web.server import Gunicorn

    seconds = seconds or (30 if quick else 180)
    with database(name, "load") as url:
        clock, garages = _seeded(url)
        workers = WORKERS
        instance = Path(tempfile.mkdtemp(prefix="frontline-load-"))
        print(f"load    {name}: starting; {machine()}")
        with Gunicorn(url, instance, workers=workers, threads=THREADS, clock=clock.isoformat()) as server:
            tally, elapsed = run_load(server.base, garages, clients=clients, seconds=seconds)
        print(f"        ({machine()} at the end)")
        held = check_database(url)
        report(name, workers, clients, tally, elapsed, held)
    return tally, elapsed, held


def _throughput(name: str, quick: bool, clients: int, seconds: float | None, cases: int | None, seal: str = "with"):
    import tempfile

    from bench import throughput
    from bench.databases import database, machine
    from tests.web.server import Gunicorn

    seconds = seconds or (30 if quick else 120)
    cases = cases or (300 if quick else 3000)
    with database(name, "through") as url:
        clock, garages = _seeded(url)
        instance = Path(tempfile.mkdtemp(prefix="frontline-through-"))
        print(f"through {name}: starting; {machine()}")
        with Gunicorn(url, instance, workers=WORKERS, threads=THREADS, clock=clock.isoformat()) as server:
            people = People(server.base)
            t = time.perf_counter()
            ids = throughput.open_cases(server.base, people, garages, cases, clients)
            open_s = time.perf_counter() - t
            groups = {"server": lambda: {server.process.pid, *server.worker_pids()}}
            pg_engine = None
            if name == "postgresql":
                groups["postgres"], pg_engine = throughput.postgres_backends(url)
            runs = []
            # side by side on one server: without the seal (every booking searches, the path before it), then
            # with it, each on its own half of the cases (every other one, so both get the same mix)
            pools = [(False, ids[0::2]), (True, ids[1::2])] if seal == "both" else [(seal == "with", ids)]
            for sealed, pool in pools:
                meter = throughput.CpuMeter(groups)
                load_before = machine()
                meter.start()
                tally, elapsed = throughput.run_throughput(server.base, people, pool, clients, seconds, sealed)
                cpu = meter.stop()
                runs.append((pool, tally, elapsed, cpu, (load_before, machine())))
            if pg_engine is not None:
                pg_engine.dispose()
        held = check_database(url)
        for pool, tally, elapsed, cpu, load in runs:
            throughput.report(name, WORKERS, THREADS, clients, len(pool), open_s, tally, elapsed, cpu, held, load)
    return tally, elapsed, cpu, held


def report(name: str, workers: int, clients: int, tally: Tally, elapsed: float, held: dict) -> None:
    bookings = tally.attempts["booking"]
    booked = tally.outcomes[("booking", 201)]
    print(f"load    {name}: gunicorn {workers} workers x 4 threads, {clients} clients, {elapsed:.0f} s")
    print(f"        attempts {sum(tally.attempts.values())} ({', '.join(f'{k} {v}' for k, v in tally.attempts.items())}); "
          f"successes {tally.successes}, refusals (409) {tally.refusals}, 5xx {tally.errors}")
    print(f"        booking requests {bookings / elapsed:.1f}/s, bookings made {booked / elapsed:.1f}/s; "
          f"booking p50 {pct(tally.booking_ms, .5):.0f} ms, p95 {pct(tally.booking_ms, .95):.0f} ms")
    print(f"        by outcome: {dict(sorted((f'{k} {s}', n) for (k, s), n in tally.outcomes.items()))}")
    print(f"        refusals by code: {dict(sorted((f'{k} {c}', n) for (k, c), n in tally.codes.items()))}")
    print(f"        losers without fresh offers or preview: {tally.losers_without_fresh}")
    print(f"        database afterwards: {held['active']} active appointments, overlaps without consent "
          f"{held['overlaps']}, lifts over capacity without consent {held['lifts_over']}, "
          f"cases with two active bookings {held['cases_booked_twice']}")
