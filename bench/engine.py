"""The engine's second round (issue #9), each figure beside the earlier code path's in the same run.

- replan on garage-weeks: the earlier single CP-SAT model (`optimizer.squeeze.plan`, 8 workers, as
  it ran) beside the re-plan by neighbourhoods (`optimizer.solve`), at 2, 10 and a longer limit;
- offers at 300 to 3,000 garages with candidates by radius: the best-first search beside a scan of
  every candidate garage (the earlier search), checked equal field by field;
- loading a network file: the CLI's streaming reader beside `json.load` + parse, and `json.load`
  alone (a plain reader, for reference), each in a child process of its own (peak: its VmHWM);
- squeezes with two garages at the default 2 s limit, against the same model given 20 s.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.generate import garage_week, generate
from bench.stats import pct
from optimizer.freetime import FreeTime
from optimizer.offers import GarageStarts, garage_lower, offer_cost, offers_for
from optimizer.problem import parse_problem
from optimizer.solve import solve
from optimizer.validate import check_answer


def bench_replan_weeks(seeds: list[int], limits: list[float], reference: float, old_limit: float = 10) -> None:
    from optimizer.squeeze import plan as single_model

    print(f"replan  garage-weeks (bench.generate.garage_week): 10 technicians, 5 days, 6 lifts; "
          f"earlier model at {old_limit:g} s (8 workers) | re-plan at " + ", ".join(f"{x:g} s" for x in limits)
          + f" | re-plan at {reference:g} s (reference)")
    within, all_placed, runs = 0, 0, 0
    for seed in seeds:
        problem = parse_problem(garage_week(seed, 15 + seed % 6))
        old = single_model(problem, old_limit, workers=8)
        row = [f"seed {seed}: {len(problem.appointments)} appts, {len(problem.requests)} requests;",
               f"earlier {old.cost:,.0f} ({len(old.unplaced)} unplaced)"]
        answers = {}
        for limit in limits + [reference]:
            t = time.perf_counter()
            answer = solve(problem, time_limit=limit)
            took = time.perf_counter() - t
            assert check_answer(problem, answer).feasible
            answers[limit] = answer
            row.append(f"{limit:g} s: {answer.cost:,.0f} ({len(answer.unplaced)} unplaced, {len(answer.moves)} moves, "
                       f"took {took:.1f} s)")
        best = min(a.cost for a in answers.values())
        at10 = answers[limits[-1]]
        runs += 1
        within += at10.cost <= best * 1.05
        all_placed += len(at10.unplaced) <= len(answers[reference].unplaced)
        row.append(f"bound {at10.bound:,.0f}")
        print("        " + "; ".join(row))
    print(f"        at {limits[-1]:g} s: as many placed as the reference on {all_placed}/{runs}; "
          f"cost within 5% of the best found on {within}/{runs}")


def scan_every_garage(problem, free, request, limit):
    """The earlier search: every candidate garage's first `limit` starts, all sorted."""
    found = []
    for rank, (garage, km) in enumerate(problem.candidate_garages(request)):
        lower = garage_lower(problem, request, km)
        if request.latest is not None and lower > request.latest:
            continue
        starts = GarageStarts(free, problem.technicians_by_garage[garage], request, lower, request.latest)
        for _ in range(limit):
            nxt = starts.next()
            if nxt is None:
                break
            start, tech = nxt
            found.append((round(offer_cost(problem, request, start, km), 9), start, rank, tech, garage))
    found.sort()
    return [(g, t, s) for _, s, _, t, g in found[:limit]]


def bench_offers_scale(sizes: list[int], requests: int, spread_deg: float = 0.6) -> None:
    for garages in sizes:
        doc = generate(garages=garages, technicians=8, days=10, load=0.85, requests=requests, seed=1,
                       mode="offers", spread_deg=spread_deg)
        doc["policy"]["travel_speed_kmh"] = 30
        doc["version"] = 1
        problem = parse_problem(doc)
        del doc
        free = FreeTime(problem)
        for tech in problem.technicians:  # a warm process has the index built
            free.windows(tech, False)
        for garage in problem.garages:
            free.lift_full(garage)
        times, scan_times, same, candidates = [], [], 0, []
        for r in problem.requests:
            t = time.perf_counter()
            found = offers_for(problem, free, r, problem.policy.offers)
            times.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            reference = scan_every_garage(problem, free, r, problem.policy.offers)
            scan_times.append((time.perf_counter() - t) * 1000)
            same += [(o.garage, o.technician, o.start) for o in found] == reference
            candidates.append(len(problem.candidate_garages(r)))
        print(f"offers  {garages} garages x 8 technicians x 10 days, {len(problem.appointments):,} appointments, "
              f"radius 30 km (median {pct(candidates, .5)} candidate garages), travel 30 km/h")
        print(f"        best-first p50 {pct(times, .5):.2f} ms  p95 {pct(times, .95):.2f} ms  max {max(times):.1f} ms | "
              f"scan of every garage p50 {pct(scan_times, .5):.2f} ms  p95 {pct(scan_times, .95):.2f} ms  "
              f"max {max(scan_times):.1f} ms; same offers {same}/{len(times)}")
        del problem, free


LOADER = """
import json, resource, sys, time
t = time.perf_counter()
if sys.argv[2] == "stream":
    from optimizer.document import load_problem
    problem = load_problem(sys.argv[1])
else:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
    if sys.argv[2] == "json.load + parse":
        from optimizer.problem import parse_problem
        problem = parse_problem(doc)
        del doc
if sys.argv[2] != "plain json.load":
    from optimizer.freetime import FreeTime
    free = FreeTime(problem)
    for tech in problem.technicians:
        free.windows(tech, False)
took = time.perf_counter() - t
use = resource.getrusage(resource.RUSAGE_SELF)
# VmHWM is this process's own peak. ru_maxrss is not: Linux carries the parent's peak over the
# fork into it, so a child of a process that had just built the network reported ~1.2 GB.
with open("/proc/self/status") as f:
    peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
print(json.dumps({"seconds": took, "cpu": use.ru_utime + use.ru_stime, "peak_mb": peak}))
"""
LOAD_WAYS = ("stream", "json.load + parse", "plain json.load")


def bench_loading(sizes: list[int]) -> None:
    """Load and index (every technician's free windows) a network file, each way in a fresh process."""
    for garages in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "network.json"
            doc = generate(garages=garages, technicians=8, days=10, load=0.85, requests=50, seed=1, mode="offers")
            appointments = len(doc["appointments"])
            with path.open("w", encoding="utf-8") as f:
                json.dump(doc, f)
            del doc
            size = path.stat().st_size / 1e6
            out = {}
            for how in LOAD_WAYS:
                env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
                run = subprocess.run([sys.executable, "-c", LOADER, str(path), how], capture_output=True, text=True,
                                     env=env, check=True)
                out[how] = json.loads(run.stdout)
        cells = [f"{how} {o['seconds']:.1f} s (CPU {o['cpu']:.1f} s), peak {o['peak_mb']:.0f} MB"
                 for how, o in out.items()]
        print(f"load    {garages} garages ({appointments:,} appointments, {size:.0f} MB file); load + index: "
              f"{cells[0]} | {cells[1]} | reading alone: {cells[2]}; load average {os.getloadavg()[0]:.1f}")


def bench_rebuilds(seeds: list[int]) -> None:
    """The re-plan's constructive start alone, with no deadline: every request of a garage-week placed dearest
    first, quickly (chains only where nothing else places it) and thoroughly (chains of one and of two jobs).
    Deterministic, so its time is the inserter's speed and its fingerprint tells whether a change kept its plans."""
    import hashlib

    from optimizer.insertion import Inserter, dearest_first

    total, plans = 0.0, []
    for seed in seeds:
        problem = parse_problem(garage_week(seed, 15 + seed % 6))
        cells = []
        for thorough, width in ((False, 1), (True, 1), (True, 2)):
            began = time.process_time()
            inserter = Inserter(problem, {}, {}, {}, thorough=thorough, width=width)
            for request in dearest_first(problem, problem.requests):
                inserter.place(request, float("inf"))
            took = time.process_time() - began
            total += took
            cells.append(f"{took:.2f} s")
            plans.append(sorted((k, v.technician, v.start) for k, v in inserter.placements.items()))
            plans.append(sorted((k, v.technician, v.start) for k, v in inserter.moves.items()))
        print(f"rebuild garage-week {seed}: CPU quick {cells[0]}, thorough (one) {cells[1]}, thorough (two) {cells[2]}")
    print(f"rebuild total CPU {total:.2f} s; plans {hashlib.sha256(repr(plans).encode()).hexdigest()[:12]}")


def bench_two_garage_squeeze(instances: int, long_limit: float = 20) -> None:
    optimal, reached, times, misses = 0, 0, [], []
    for seed in range(instances):
        rnd = random.Random(seed)
        doc = generate(garages=2, technicians=8 + seed % 5, days=1, load=0.85, requests=rnd.choice([1, 2]),
                       seed=300 + seed, mode="squeeze", urgency="P1", max_moves=3, spread_deg=0.05)
        problem = parse_problem(doc)
        t = time.perf_counter()
        quick = solve(problem)  # the policy's default limit, 2 s
        times.append(time.perf_counter() - t)
        assert check_answer(problem, quick).feasible
        best = min(quick.cost, solve(problem, time_limit=long_limit).cost)
        optimal += quick.status == "OPTIMAL"
        reached += quick.cost <= best + 1e-6
        if quick.cost > best + 1e-6:
            misses.append(f"+{(quick.cost - best) / best:.1%}")
    print(f"squeeze two-garage days, 8-12 technicians each, 1-2 P1 requests, max 3 moves ({instances} instances), "
          f"default 2 s limit: proven optimal {optimal}/{instances}, the answer of a {long_limit:g} s solve reached "
          f"{reached}/{instances} {' '.join(misses)}; p50 {pct(times, .5):.2f} s p95 {pct(times, .95):.2f} s")


def bench_squeeze_many(instances: int, limit: float = 2.0) -> None:
    """Squeezes of many requests into one garage's two days (8-14 mixed requests): the squeeze answers the
    re-plan's question (PROBLEM_FORMAT.md), so it is set beside the same problem asked as a re-plan, at one limit."""
    print(f"squeeze, one garage's two days, 8-14 requests, {limit:g} s: squeeze cost (unplaced) | the same as replan")
    for seed in range(instances):
        doc = generate(garages=1, technicians=10, days=2, load=0.9, requests=8 + 2 * (seed % 4), seed=700 + seed,
                       mode="squeeze", max_moves=20, spread_deg=0.05)
        cells = []
        for mode in ("squeeze", "replan"):
            problem = parse_problem({**doc, "mode": mode})
            answer = solve(problem, time_limit=limit)
            assert check_answer(problem, answer).feasible
            cells.append(f"{answer.cost:,.0f} ({len(answer.unplaced)})")
        print(f"        seed {700 + seed}: " + " | ".join(cells))


def bench_workers(seeds: list[int], limit: float = 10, counts: tuple[int, ...] = (1, 2, 8)) -> None:
    """The re-plan's CP-SAT worker count on this machine: cost and requests placed at one limit."""
    print(f"workers re-plan at {limit:g} s on garage-weeks " + ", ".join(map(str, seeds)) + ": "
          + " | ".join(f"{n} worker(s)" for n in counts))
    for seed in seeds:
        problem = parse_problem(garage_week(seed, 15 + seed % 6))
        cells = []
        for n in counts:
            answer = solve(problem, time_limit=limit, workers=n)
            cells.append(f"{answer.cost:,.0f} ({len(answer.unplaced)} unplaced)")
        print(f"        seed {seed}: " + " | ".join(cells))
