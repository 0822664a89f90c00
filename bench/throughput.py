"""How many bookings the production server makes per second when nobody waits on anybody (issues #9, #14).

The races of bench/load.py measure what holds, not capacity: their clients spend the run at barriers and
behind squeeze solves. Here every case is opened before the clock starts (through the API, spread over all
garages), and 16 clients then take cases from one queue and do what an operator does with each: ask its
offers (`GET /api/v1/cases/{id}/offers`) and book the best (`POST /api/v1/cases/{id}/appointments`); a 409
gives fresh offers, and one of them (at random: the losers of one race do not all herd onto the same next
slot, as callers who choose would not) is booked, up to four tries per case. The demo garages all lie within
the search radius of each other (Lyon), so every client's best offer is one of the network's earliest free
slots: clients compete for them, as operators do on a busy morning.

Reported: attempts, bookings made, 409s, 5xx, rates, latency of both requests, and CPU seconds of the
server's processes (gunicorn master and workers, sampled from /proc so restarted workers count), of the
database's backends for this database, of the clients, and of the whole machine (it is shared: what the
others used is shown too). Afterwards the database is checked as after the races (`check_database`).
"""

from __future__ import annotations

import os
import queue
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

from bench.load import run_clients
from bench.stats import pct

SYMPTOMS = ("annual_service", "oil_change", "seasonal_tyres", "brake_noise", "puncture", "warning_light")
OPERATORS = ("operator", "operator2")
TRIES = 4  # a booking and up to three fresh offers after 409s
TICK = os.sysconf("SC_CLK_TCK")


# ---- CPU, from /proc (the machine is shared: the server's own seconds, not the wall clock, say what it cost)

def cpu_of(pid: int) -> float | None:
    """User + system CPU seconds of a live process, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of stat)


def machine_cpu() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot, over all cores."""
    with open("/proc/stat") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / TICK, sum(values[:8]) / TICK


class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop(), sampled twice a second so a process
    that ends meanwhile (a gunicorn worker replaced after max_requests) keeps what it used until its last sample."""

    def __init__(self, groups: dict[str, callable]):
        self.groups = groups  # name -> function giving the group's pids now
        self.first: dict[tuple[str, int], float] = {}
        self.last: dict[tuple[str, int], float] = {}
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.lock = threading.Lock()

    def _sample(self, initial: bool = False) -> None:
        for name, pids in self.groups.items():
            try:
                found = pids()
            except Exception:  # noqa: BLE001, S112 - a failed lookup is retried at the next sample
                continue
            for pid in found:
                seconds = cpu_of(pid)
                if seconds is None:
                    continue
                with self.lock:
                    # a process born during the run counts from zero
                    self.first.setdefault((name, pid), seconds if initial else 0.0)
                    self.last[(name, pid)] = seconds

    def _run(self) -> None:
        while not self.done.wait(0.5):
            self._sample()

    def start(self) -> None:
        self._sample(initial=True)
        self.machine_start = machine_cpu()
        self.process_start = time.process_time()
        self.thread.start()

    def stop(self) -> dict[str, float]:
        self.done.set()
        self.thread.join()
        self._sample()
        busy0, total0 = self.machine_start
        busy1, total1 = machine_cpu()
        used = Counter()
        for key, seconds in self.last.items():
            used[key[0]] += seconds - self.first[key]
        used["clients"] = time.process_time() - self.process_start
        used["machine_busy"] = busy1 - busy0
        used["machine_total"] = total1 - total0
        used["processes"] = Counter(name for name, _ in self.last)
        return used


def postgres_backends(url: str):
    """The pids of the PostgreSQL backends serving this database (the server runs on this machine)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from web import _driver

    engine = create_engine(_driver(url), pool_size=1)
    name = make_url(_driver(url)).database

    def pids() -> list[int]:
        with engine.connect() as conn:
            return [pid for (pid,) in conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"),
                {"name": name})]
    return pids, engine


# ---- the run

@dataclass
class Throughput:
    attempts: int = 0  # booking requests
    booked: int = 0  # 201s
    outcomes: Counter = field(default_factory=Counter)  # (request, status)
    codes: Counter = field(default_factory=Counter)  # error codes of refusals
    cases_done: int = 0  # cases a client finished with (booked or given up)
    cases_booked: int = 0
    no_offers: int = 0
    connection_errors: int = 0
    sealed: bool = True  # whether bookings handed back the offers' seal
    offers_ms: list = field(default_factory=list)
    booking_ms: list = field(default_factory=list)
    made_ms: list = field(default_factory=list)  # of the bookings made (201)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, request: str, response: requests.Response, took: float) -> None:
        with self.lock:
            self.outcomes[(request, response.status_code)] += 1
            (self.offers_ms if request == "offers" else self.booking_ms).append(took * 1000)
            if request == "booking":
                self.attempts += 1
                self.booked += response.status_code == 201
                if response.status_code == 201:
                    self.made_ms.append(took * 1000)
            if response.status_code >= 400:
                try:
                    code = (response.json().get("error") or {}).get("code", response.status_code)
                except ValueError:
                    code = response.status_code
                self.codes[(request, code)] += 1

    def count(self, status_from: int, status_to: int | None = None, request: str | None = None) -> int:
        return sum(n for (r, s), n in self.outcomes.items()
                   if (request is None or r == request) and status_from <= s <= (status_to or status_from))


def open_cases(base: str, people, garages: list[tuple[str, float, float]], count: int, clients: int = 16,
               prefix: str = "T") -> list[int]:
    """`count` cases, the i-th near garage i mod len(garages), opened by the operators through the API,
    `clients` at a time; their ids in that order."""
    ids: list[int | None] = [None] * count
    failures: list[str] = []
    todo = queue.Queue()
    for i in range(count):
        todo.put(i)

    def worker() -> None:
        sessions = {who: people[who].session(keep_alive=True) for who in OPERATORS}
        while True:
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            _, lat, lon = garages[i % len(garages)]
            nudge = ((i // len(garages)) % 7 - 3) * 0.001  # a few hundred metres around the garage
            body = {"customer": {"name": "Throughput Caller", "phone": f"+33 6 {i // 10000:02d} {i % 10000:04d} 00"},
                    "vehicle": {"plate": f"{prefix}{i:06d}", "model": "Renault Clio"},
                    "symptom": SYMPTOMS[(i // len(garages)) % len(SYMPTOMS)],
                    "location": {"lat": lat + nudge, "lon": lon - nudge}}
            for _ in range(5):
                try:
                    response = sessions[OPERATORS[i % 2]].post(f"{base}/api/v1/cases", json=body, timeout=120)
                except requests.ConnectionError:
                    continue  # nothing was opened; or one case too many, harmless: only ids returned are booked
                if response.status_code != 503:
                    break
                time.sleep(float(response.headers.get("Retry-After", 1)))
            if response.status_code == 201:
                ids[i] = response.json()["id"]
            else:
                failures.append(f"{response.status_code} {response.text[:200]}")

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        print(f"        {len(failures)} cases not opened, e.g. {failures[0]}")
    return [i for i in ids if i is not None]


def run_throughput(base: str, people, case_ids: list[int], clients: int = 16, seconds: float = 120,
                   sealed: bool = True) -> tuple[Throughput, float]:
    """16 clients book the queued cases until `seconds` have passed or the cases run out."""
    tally = Throughput(sealed=sealed)
    todo = queue.Queue()
    for case in case_ids:
        todo.put(case)
    stop_at = time.monotonic() + seconds
    failures: list[BaseException] = []

    def client(index: int) -> None:
        # one kept-alive connection per client (behind a proxy that keeps connections open)
        http = people[OPERATORS[index % 2]].session(keep_alive=True)
        while time.monotonic() < stop_at and not failures:
            try:
                case = todo.get_nowait()
            except queue.Empty:
                return
            try:
                book_case(http, base, case, tally, sealed)
            except requests.ConnectionError:
                with tally.lock:
                    tally.connection_errors += 1
                http = people[OPERATORS[index % 2]].session(keep_alive=True)
            except BaseException as exc:  # noqa: BLE001 - reported after the run
                failures.append(exc)
                return

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    return tally, run_clients(threads, failures)


def book_case(http: requests.Session, base: str, case: int, tally: Throughput, sealed: bool = True) -> None:
    """What an operator does with one case: its offers, the best one booked; after a 409, one of the fresh ones.

    `sealed`: the booking hands back the `offers_token` of the offers it chose from, as the desk's page does (the
    booking is then judged on them, not searched again); without, it searches as every booking did before."""
    t = time.perf_counter()
    response = http.get(f"{base}/api/v1/cases/{case}/offers", timeout=120)
    tally.note("offers", response, time.perf_counter() - t)
    shown = response.json() if response.status_code == 200 else {}
    offers, token = shown.get("offers", []), shown.get("offers_token")
    booked, best = False, offers[0] if offers else None
    for _ in range(TRIES):
        if best is None:
            with tally.lock:
                tally.no_offers += 1
            break
        t = time.perf_counter()
        body = {k: best[k] for k in ("garage", "technician", "start")}
        if sealed and token:
            body["offers_token"] = token
        response = http.post(f"{base}/api/v1/cases/{case}/appointments", json=body, timeout=120)
        tally.note("booking", response, time.perf_counter() - t)
        if response.status_code in (200, 201):
            booked = True
            break
        if response.status_code != 409:
            break
        details = (response.json().get("error") or {}).get("details") or {}
        fresh, token = details.get("offers") or [], details.get("offers_token")
        best = random.choice(fresh) if fresh else None
    with tally.lock:
        tally.cases_done += 1
        tally.cases_booked += booked


def report(name: str, workers: int, threads: int, clients: int, opened: int, open_s: float, tally: Throughput,
           elapsed: float, cpu: dict, held: dict, load: tuple[str, str]) -> None:
    booked, attempts = tally.booked, tally.attempts
    server, database, machine = cpu["server"], cpu.get("postgres", 0.0), cpu["machine_busy"]
    cores = cpu["machine_total"] / elapsed if elapsed else 0
    print(f"through {name}: gunicorn {workers} workers x {threads} threads, {clients} clients, {elapsed:.1f} s, "
          f"bookings {'with' if tally.sealed else 'without'} the offers' seal "
          f"(load: {load[0]}; at the end {load[1]})")
    print(f"        {opened} cases opened beforehand in {open_s:.0f} s; {tally.cases_done} taken, "
          f"{tally.cases_booked} booked, {tally.no_offers} without offers, "
          f"{tally.connection_errors} connection errors")
    print(f"        booking attempts {attempts}; bookings made {booked}; 409 {tally.count(409, request='booking')}; "
          f"other 4xx {tally.count(400, 499, 'booking') - tally.count(409, request='booking')}; "
          f"5xx {tally.count(500, 599)} (offers {tally.count(500, 599, 'offers')})")
    print(f"        bookings made {booked / elapsed:.1f}/s, attempts {attempts / elapsed:.1f}/s, "
          f"requests {(attempts + len(tally.offers_ms)) / elapsed:.1f}/s")
    print(f"        offers p50 {pct(tally.offers_ms, .5):.0f} ms p95 {pct(tally.offers_ms, .95):.0f} ms; "
          f"booking p50 {pct(tally.booking_ms, .5):.0f} ms p95 {pct(tally.booking_ms, .95):.0f} ms "
          f"(made: p50 {pct(tally.made_ms, .5):.0f} ms p95 {pct(tally.made_ms, .95):.0f} ms)")
    print(f"        refusals by code: {dict(sorted((f'{r} {c}', n) for (r, c), n in tally.codes.items()))}")
    per = 1000 / booked if booked else float("nan")
    print(f"        CPU s: server {server:.1f} ({cpu['processes'].get('server', 0)} processes), postgres "
          f"{database:.1f}, clients {cpu['clients']:.1f}; machine busy {machine:.1f} of {cpu['machine_total']:.1f} "
          f"({cores:.1f} cores x {elapsed:.0f} s), others {machine - server - database - cpu['clients']:.1f}")
    print(f"        per booking made: server {server * per:.0f} ms CPU, postgres {database * per:.0f} ms, "
          f"server + postgres {(server + database) * per:.0f} ms -> at most "
          f"{cores / ((server + database) / booked) if booked and server + database else float('nan'):.0f} "
          f"bookings/s on these {cores:.0f} cores if nothing else ran")
    print(f"        database afterwards: {held['active']} active appointments, overlaps without consent "
          f"{held['overlaps']}, lifts over capacity without consent {held['lifts_over']}, "
          f"cases with two active bookings {held['cases_booked_twice']}")
