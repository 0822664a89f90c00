"""Small random plan problems, and brute-force answers to compare the optimizer with."""

from __future__ import annotations

import itertools
import random
from datetime import datetime, timedelta, timezone

from optimizer.answer import Answer, Move, Placement
from optimizer.problem import Problem, parse_problem
from optimizer.validate import check_plan, problem_for_single

ZONE = timezone(timedelta(hours=2))
DAY = datetime(2026, 8, 6, tzinfo=ZONE)
SKILLS = ["maintenance", "diagnostics", "tyres"]


def at(hour: float, day: int = 0) -> str:
    return (DAY + timedelta(days=day, minutes=round(hour * 60))).isoformat()


def random_problem(seed: int, mode: str = "offers", garages: int = 2, techs: int = 2,
                   appointments: int = 4, requests: int = 1, days: int = 1,
                   slot: int = 30, max_moves: int = 2, travel: bool | None = None) -> dict:
    """A random problem; `travel` None: format 1.1's travel speed and notice by urgency half the time."""
    rnd = random.Random(seed)
    travel = rnd.random() < 0.5 if travel is None else travel
    notice = rnd.choice([0, 60, 240])
    doc = {
        "version": 1, "mode": mode, "now": at(9), "slot_minutes": slot,
        "garages": [], "technicians": [], "appointments": [], "requests": [],
        "policy": {
            "max_travel_km": 50, "rule": {"garages": 1, "min_notice_minutes": notice},
            "offers": 3, "max_moves": max_moves,
            "weights": {"wait": {"P1": 100, "P2": 10, "P3": 1}, "travel_km": 2, "move": 30,
                        "shift_minute": 1, "unplaced": 100000},
            "time_limit_seconds": 5.0,
        },
    }
    if travel:
        # slow enough that the few km of these networks cost a slot or more
        doc["policy"]["travel_speed_kmh"] = rnd.choice([5, 12.5, 30])
        named = rnd.sample(["P1", "P2", "P3"], rnd.choice([1, 2, 3]))  # the others get 1440
        doc["policy"]["rule"]["min_notice_minutes"] = {u: rnd.choice([0, 30, 60, 240]) for u in named}
    for g in range(garages):
        doc["garages"].append({"id": f"g{g}", "location": {"lat": 45.7 + rnd.random() / 10,
                                                             "lon": 4.8 + rnd.random() / 10},
                               "lifts": rnd.choice([0, 1, 1, 2])})
        for t in range(techs):
            shifts = []
            for d in range(days):
                start = rnd.choice([8, 9, 9.5])
                shifts.append({"start": at(start, d), "end": at(start + rnd.choice([2, 3, 4]), d)})
            doc["technicians"].append({"id": f"g{g}-t{t}", "garage": f"g{g}",
                                       "skills": rnd.sample(SKILLS, rnd.choice([1, 2, 3])),
                                       "shifts": shifts})
    for a in range(appointments):
        tech = rnd.choice(doc["technicians"])
        d = rnd.randrange(days)
        start = rnd.choice([8, 8.5, 9, 9.5, 10, 10.25, 11, 12])
        doc["appointments"].append({
            "id": f"a{a}", "technician": tech["id"], "start": at(start, d),
            "end": at(start + rnd.choice([0.5, 1, 1.5]), d), "skill": rnd.choice(tech["skills"]),
            "lift": rnd.random() < 0.5, "urgency": "P3",
            "status": rnd.choice(["booked", "booked", "booked", "checked_in"]),
            "pinned": rnd.random() < 0.2, "flex_minutes": rnd.choice([0, 30, 60, 90]),
        })
    for r in range(requests):
        req = {"id": f"r{r}", "duration_minutes": rnd.choice([30, 60, 90]), "skill": rnd.choice(SKILLS),
               "lift": rnd.random() < 0.5, "urgency": rnd.choice(["P1", "P2", "P3"]),
               "location": {"lat": 45.75 + rnd.random() / 20, "lon": 4.85 + rnd.random() / 20}}
        if rnd.random() < 0.5:
            req["garages"] = rnd.sample([g["id"] for g in doc["garages"]], garages)
        if rnd.random() < 0.3:
            req["earliest"] = at(rnd.choice([9, 10, 11]))
        if rnd.random() < 0.3:
            req["latest"] = at(rnd.choice([10, 11, 12, 14]), days - 1)
        doc["requests"].append(req)
    return doc


def grid_starts(problem: Problem, tech_id: str, duration: int) -> list[int]:
    out = []
    for s, e in problem.technicians[tech_id].shifts:
        t = -(-s // problem.slot) * problem.slot
        while t + duration <= e:
            out.append(t)
            t += problem.slot
    return out


def all_single_placements(problem: Problem, request_id: str) -> list[tuple[float, Placement]]:
    """Every feasible placement of one request against the plan, with its cost."""
    problem = problem_for_single(problem, request_id)
    request = problem.requests[0]
    out = []
    for garage, _ in problem.candidate_garages(request):
        for tech in problem.technicians_by_garage[garage]:
            for start in grid_starts(problem, tech.id, request.duration):
                pl = Placement(request.id, garage, tech.id, start, start + request.duration)
                check = check_plan(problem, Answer(status="", placements=[pl]))
                if check.feasible:
                    out.append((check.cost, pl))
    return sorted(out, key=lambda c: (round(c[0], 9), c[1].start))


def brute_force(problem: Problem) -> float:
    """The optimal cost of a tiny squeeze problem, by trying every combination."""
    request_options = []
    for r in problem.requests:
        opts: list[Placement | None] = [None]
        for garage, _ in problem.candidate_garages(r):
            for tech in problem.technicians_by_garage[garage]:
                for start in grid_starts(problem, tech.id, r.duration):
                    opts.append(Placement(r.id, garage, tech.id, start, start + r.duration))
        request_options.append(opts)
    move_options = []
    for a in problem.appointments:
        if not problem.is_movable(a):
            continue
        opts_m: list[Move | None] = [None]
        garage = problem.garage_of(a)
        for tech in problem.technicians_by_garage[garage]:
            for start in grid_starts(problem, tech.id, a.duration):
                if abs(start - a.start) <= a.flex_minutes and (tech.id, start) != (a.technician, a.start):
                    opts_m.append(Move(a.id, tech.id, start, start + a.duration))
        move_options.append(opts_m)
    best = float("inf")
    for placements in itertools.product(*request_options):
        chosen = [p for p in placements if p is not None]
        for moves in itertools.product(*move_options):
            mv = [m for m in moves if m is not None]
            if len(mv) > problem.policy.max_moves:
                continue
            check = check_plan(problem, Answer(status="", placements=chosen, moves=mv))
            if check.feasible and check.cost < best:
                best = check.cost
    return best


def load(doc: dict) -> Problem:
    return parse_problem(doc)
