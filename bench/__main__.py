"""`python -m bench [optimizer|desk|network|load|planner|loading|rebuilds|all] [--quick] [--backend B] [--scenario S]`: print the figures of docs/performance.md."""

from __future__ import annotations

import argparse
import statistics
import time

from bench.generate import generate
from bench.stats import pct
from optimizer.answer import Answer
from optimizer.baseline import no_move_plan
from optimizer.freetime import FreeTime
from optimizer.offers import offers_for
from optimizer.problem import parse_problem
from optimizer.rule import rule_offer
from optimizer.solve import solve
from optimizer.validate import check_answer, check_plan


def same_day(problem, start: int | None) -> bool:
    return start is not None and start < (problem.now // 1440 + 1) * 1440 - 120  # same local day (UTC+2)


def bench_offers(garages: int, requests: int) -> None:
    t0 = time.perf_counter()
    problem = parse_problem(generate(garages=garages, technicians=8, days=10, load=0.85,
                                     requests=requests, seed=1, mode="offers"))
    free = FreeTime(problem)
    for tech in problem.technicians:  # build the index before timing, as a warm process has it
        free.windows(tech, False)
    load_s = time.perf_counter() - t0
    times, better, waits_rule, waits_best, p1_same = [], 0, [], [], [0, 0]
    for r in problem.requests:
        t = time.perf_counter()
        found = offers_for(problem, free, r, problem.policy.offers)
        times.append((time.perf_counter() - t) * 1000)
        ro = rule_offer(problem, free, r)
        if found and ro:
            waits_best.append(found[0].start - r.origin)
            waits_rule.append(ro.start - r.origin)
            better += found[0].start < ro.start
        if r.urgency == "P1":
            p1_same[1] += 1
            p1_same[0] += bool(found) and same_day(problem, found[0].start)
    print(f"offers  network {garages} garages x 8 technicians x 10 days, {len(problem.appointments)} appointments, "
          f"load+index {load_s:.1f} s")
    print(f"        latency per request: p50 {pct(times, .5):.2f} ms  p95 {pct(times, .95):.2f} ms  "
          f"max {max(times):.2f} ms  ({len(times)} requests)")
    if waits_best:
        print(f"        median wait: best offer {statistics.median(waits_best) / 60:.1f} h, rule offer "
              f"{statistics.median(waits_rule) / 60:.1f} h; best offer earlier than the rule offer "
              f"for {better}/{len(waits_best)}")
    print(f"        P1 requests offered a same-day start: {p1_same[0]}/{p1_same[1]}")


def bench_squeeze(instances: int) -> None:
    times, gaps, gains, p1 = [], [], [], [0, 0]
    optimal = 0
    for seed in range(instances):
        techs = 8 + seed % 8
        problem = parse_problem(generate(garages=1, technicians=techs, days=1, load=0.85, requests=1,
                                         seed=100 + seed, mode="squeeze", urgency="P1", max_moves=3,
                                         time_limit=2.0))
        base_cost = _no_move_cost(problem)
        t = time.perf_counter()
        answer = solve(problem)
        times.append(time.perf_counter() - t)
        assert check_answer(problem, answer).feasible
        optimal += answer.status == "OPTIMAL"
        gaps.append(_gap(answer))
        gains.append(base_cost - answer.cost)
        p1[1] += 1
        p1[0] += bool(answer.placements) and same_day(problem, answer.placements[0].start)
    print(f"squeeze garage-day, 8-15 technicians, 1 P1 request, max 3 moves ({instances} instances)")
    print(f"        latency p50 {pct(times, .5):.3f} s  p95 {pct(times, .95):.3f} s; optimal {optimal}/{instances}; "
          f"max gap {max(gaps):.4%}")
    print(f"        cost saved vs no-move placement: median {statistics.median(gains):.0f}, "
          f"max {max(gains):.0f}; P1 started the same day {p1[0]}/{p1[1]}")


def bench_replan(limits: list[float]) -> None:
    problem_doc = generate(garages=1, technicians=10, days=5, load=0.9, requests=20, seed=7, mode="replan",
                           max_moves=50, durations=(30, 30, 45, 45, 60, 90))
    problem = parse_problem(problem_doc)
    base = _no_move_cost(problem)
    print(f"replan  garage-week, 10 technicians, {len(problem.appointments)} appointments, "
          f"{len(problem.requests)} requests; no-move cost {base:.0f}")
    for limit in limits:
        t = time.perf_counter()
        answer = solve(problem, time_limit=limit)
        took = time.perf_counter() - t
        assert check_answer(problem, answer).feasible
        print(f"        limit {limit:>4.0f} s: took {took:.2f} s, {answer.status}, cost {answer.cost:.0f} "
              f"({len(answer.moves)} moves, {len(answer.unplaced)} unplaced), bound {answer.bound:.0f}, "
              f"gap {_gap(answer):.1%}")


def _no_move_cost(problem) -> float:
    placements, _ = no_move_plan(problem)
    return check_plan(problem, Answer(status="", placements=placements)).cost


def _gap(answer) -> float:
    if answer.bound is None or answer.cost in (None, 0):
        return 0.0
    return (answer.cost - answer.bound) / answer.cost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", nargs="?", choices=["optimizer", "desk", "network", "load", "planner", "loading", "rebuilds", "all"],
                        default="all")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both",
                        help="the database of the desk, network and load runs")
    parser.add_argument("--reference", type=float, default=60,
                        help="seconds of the re-plan taken as the reference on garage-weeks (the issue asks 600)")
    parser.add_argument("--scenario", choices=["races", "throughput", "both"], default="races",
                        help="load: the adversarial races, the throughput run (bench/throughput.py), or both")
    parser.add_argument("--seconds", type=float, help="load: how long each scenario runs")
    parser.add_argument("--cases", type=int, help="load, throughput: cases opened beforehand")
    parser.add_argument("--seal", choices=["with", "without", "both"], default="with",
                        help="throughput: bookings hand back the offers' seal (web/shown.py), not, or both in turn")
    args = parser.parse_args()
    if args.what in ("desk", "all"):
        from bench.desk import bench_desk

        bench_desk(rounds=1 if args.quick else 3, backend=args.backend)
    if args.what in ("network", "all"):
        from bench.network import bench_network

        bench_network(garages=60 if args.quick else 300, calls=30 if args.quick else 150)
    if args.what in ("load", "all"):
        from bench.load import bench_load

        bench_load(backend=args.backend, quick=args.quick, seconds=args.seconds, scenario=args.scenario,
                   cases=args.cases, seal=args.seal)
    if args.what in ("planner", "all"):
        from bench.planner import bench_planner

        bench_planner(rounds=5 if args.quick else 20)
    if args.what in ("desk", "network", "load", "planner"):
        return
    from bench.engine import (bench_loading, bench_offers_scale, bench_rebuilds, bench_replan_weeks,
                              bench_squeeze_many, bench_two_garage_squeeze, bench_workers)

    if args.what == "loading":  # the network file's loading alone (issue #9 part 4)
        bench_loading([40] if args.quick else [1000, 3000])
        return
    if args.what == "rebuilds":  # the re-plan's constructive start alone: the inserter's speed
        bench_rebuilds([0] if args.quick else [0, 1, 2, 3, 4, 5])
        return

    if args.quick:
        bench_offers(garages=40, requests=50)
        bench_squeeze(instances=5)
        bench_replan([2])
        print("-- engine, second round (issue #9)")
        bench_replan_weeks([0], [2], reference=4, old_limit=2)
        bench_offers_scale([100], requests=50)
        bench_loading([40])
        bench_two_garage_squeeze(3)
        bench_squeeze_many(2)
    else:
        bench_offers(garages=300, requests=300)
        bench_squeeze(instances=30)
        bench_replan([2, 10])
        print("-- engine, second round (issue #9)")
        bench_replan_weeks([0, 1, 2, 3, 4, 5], [2, 10], reference=args.reference)
        bench_offers_scale([300, 1000, 3000], requests=300)
        bench_loading([1000, 3000])
        bench_two_garage_squeeze(20)
        bench_squeeze_many(8)
        bench_workers([0, 1, 2])


if __name__ == "__main__":
    main()
