"""Plan problems of any size around Lyon, deterministic by seed (format version 1)."""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta, timezone

ZONE = timezone(timedelta(hours=2))
SKILLS = ["maintenance", "diagnostics", "electrical", "engine", "tyres", "bodywork", "high_voltage"]
MONDAY = datetime(2026, 8, 3, tzinfo=ZONE)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _book(doc: dict, rnd: random.Random, tid: str, skills: list[str], shift: tuple[datetime, datetime],
          now: datetime, aid: int, durations: tuple[int, ...], load: float, lift_use: dict[int, int], lifts: int,
          lift_share: float, pinned_share: float, flexes: tuple[int, ...]) -> int:
    """Fill one shift of a technician with jobs back to back, each taken with probability `load`;
    a job is on a lift when one is free all along. Returns the next appointment number."""
    cursor, end = shift
    while True:
        length = timedelta(minutes=rnd.choice(durations))
        if cursor + length > end:
            return aid
        if rnd.random() < load:
            minute0 = int(cursor.timestamp() // 60)
            span = range(minute0, minute0 + int(length.total_seconds() // 60), 15)
            lift = rnd.random() < lift_share and all(lift_use.get(m, 0) < lifts for m in span)
            if lift:
                for m in span:
                    lift_use[m] = lift_use.get(m, 0) + 1
            doc["appointments"].append({
                "id": f"a{aid:06d}", "technician": tid, "start": _iso(cursor),
                "end": _iso(cursor + length), "skill": rnd.choice(skills), "lift": lift,
                "urgency": rnd.choice(["P2", "P3", "P3", "P3"]),
                "status": "in_progress" if cursor < now else "booked",
                "pinned": rnd.random() < pinned_share, "flex_minutes": rnd.choice(flexes)})
            aid += 1
        cursor += length


def generate(garages: int = 6, technicians: int = 8, days: int = 5, load: float = 0.85,
             requests: int = 5, seed: int = 0, mode: str = "offers", max_moves: int = 3,
             urgency: str | None = None, spread_deg: float = 0.6, time_limit: float = 2.0,
             durations: tuple[int, ...] = (30, 45, 60, 60, 90, 120)) -> dict:
    rnd = random.Random(seed)
    now = MONDAY + timedelta(hours=9)
    workdays = [MONDAY + timedelta(days=d) for d in range(days * 2) if (MONDAY + timedelta(days=d)).weekday() < 5][:days]
    doc: dict = {"version": 1, "mode": mode, "now": _iso(now), "slot_minutes": 15,
                 "garages": [], "technicians": [], "appointments": [], "requests": [],
                 "policy": {"max_travel_km": 30, "rule": {"garages": 1, "min_notice_minutes": 1440},
                            "offers": 5, "max_moves": max_moves,
                            "weights": {"wait": {"P1": 100, "P2": 10, "P3": 1}, "travel_km": 2,
                                        "move": 30, "shift_minute": 1, "unplaced": 100000},
                            "time_limit_seconds": time_limit}}
    aid = 0
    for g in range(garages):
        gid = f"g{g:03d}"
        lifts = max(1, technicians // 2 + rnd.choice([-1, 0, 1]))
        doc["garages"].append({"id": gid, "lifts": lifts, "location": {
            "lat": round(45.76 + rnd.uniform(-spread_deg, spread_deg), 5),
            "lon": round(4.84 + rnd.uniform(-spread_deg, spread_deg) * 1.4, 5)}})
        lift_use: dict[int, int] = {}
        for t in range(technicians):
            tid = f"{gid}-t{t:02d}"
            skills = sorted({"maintenance", *rnd.sample(SKILLS, rnd.choice([1, 2, 3]))})
            shifts = []
            for day in workdays:
                start = day + timedelta(hours=rnd.choice([8, 8, 9]))
                shifts.append((start, start + timedelta(hours=4)))
                shifts.append((start + timedelta(hours=5.5), start + timedelta(hours=9.5)))
            doc["technicians"].append({"id": tid, "garage": gid, "skills": skills,
                                       "shifts": [{"start": _iso(s), "end": _iso(e)} for s, e in shifts]})
            for s, e in shifts:
                aid = _book(doc, rnd, tid, skills, (s, e), now, aid, durations, load, lift_use, lifts,
                            lift_share=0.6, pinned_share=0.1, flexes=(0, 30, 60, 120))
    for r in range(requests):
        near = rnd.choice(doc["garages"])["location"]
        doc["requests"].append({
            "id": f"r{r:04d}", "duration_minutes": rnd.choice([30, 45, 60, 90]),
            "skill": rnd.choice(["maintenance", "diagnostics", "electrical", "tyres"]),
            "lift": rnd.random() < 0.6,
            "urgency": urgency or rnd.choice(["P1", "P2", "P3"]),
            "location": {"lat": round(near["lat"] + rnd.uniform(-0.05, 0.05), 5),
                         "lon": round(near["lon"] + rnd.uniform(-0.05, 0.05), 5)},
            "earliest": _iso(now)})
    return doc


def garage_week(seed: int = 0, requests: int = 15, technicians: int = 10, lifts: int = 6, load: float = 0.8,
                days: int = 5, time_limit: float = 10.0) -> dict:
    """A re-plan question like the ones the issue's hidden garage-week poses (issue #9).

    One garage, a week of two half-day shifts, nearly every job on a lift (the lifts bind
    before the technicians do), a few pinned jobs, flex of 0 to 2 h, and requests of mixed
    urgency (30 min to 4 h) that often fit only once other work moves.
    """
    rnd = random.Random(seed)
    now = MONDAY + timedelta(days=3, hours=9)  # a Thursday: the week runs over a weekend
    workdays = [now.replace(hour=0) + timedelta(days=d) for d in range(days * 2)]
    workdays = [d for d in workdays if d.weekday() < 5][:days]
    doc: dict = {"version": 1, "mode": "replan", "now": _iso(now), "slot_minutes": 15,
                 "garages": [{"id": "g000", "lifts": lifts, "location": {"lat": 45.95, "lon": 4.81}}],
                 "technicians": [], "appointments": [], "requests": [],
                 "policy": {"max_travel_km": 30, "rule": {"garages": 1, "min_notice_minutes": 1440},
                            "offers": 5, "max_moves": 50,
                            "weights": {"wait": {"P1": 100, "P2": 10, "P3": 1}, "travel_km": 2,
                                        "move": 30, "shift_minute": 1, "unplaced": 100000},
                            "time_limit_seconds": time_limit}}
    lift_use: dict[int, int] = {}
    aid = 0
    for t in range(technicians):
        tid = f"g000-t{t:02d}"
        skills = sorted({"maintenance", *rnd.sample(SKILLS, rnd.choice([1, 2, 3, 4]))})
        shifts = []
        for day in workdays:
            start = day + timedelta(hours=8)
            shifts.append((start, start + timedelta(hours=4)))
            shifts.append((start + timedelta(hours=5.5), start + timedelta(hours=9.5)))
        doc["technicians"].append({"id": tid, "garage": "g000", "skills": skills,
                                   "shifts": [{"start": _iso(s), "end": _iso(e)} for s, e in shifts]})
        for s, e in shifts:
            aid = _book(doc, rnd, tid, skills, (s, e), now, aid, (30, 45, 45, 45, 60, 60, 60, 60, 90, 90, 180),
                        load, lift_use, lifts, lift_share=0.95, pinned_share=0.08, flexes=(0, 30, 60, 60, 120))
    # what lies wholly before now is history, not part of a re-plan
    doc["appointments"] = [a for a in doc["appointments"] if a["end"] > _iso(now)]
    for r in range(requests):
        skill = rnd.choice(["maintenance", "maintenance", "maintenance", "diagnostics", "electrical", "tyres",
                            "tyres", "bodywork"])
        # as in ../shared/problems/replan-garage-week.json: bodywork is long and off the lifts
        long_job = skill == "bodywork"
        doc["requests"].append({
            "id": f"r{r:04d}", "duration_minutes": 240 if long_job else rnd.choice([30, 45, 60, 60, 90, 120]),
            "skill": skill, "lift": not long_job and rnd.random() < 0.8,
            "urgency": rnd.choice(["P1", "P2", "P2", "P3", "P3", "P3"]),
            "location": {"lat": 45.94, "lon": 4.80}, "garages": ["g000"], "earliest": _iso(now)})
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description="write a generated plan problem as JSON")
    parser.add_argument("--mode", default="offers", choices=["offers", "squeeze", "replan"])
    parser.add_argument("--garages", type=int, default=6)
    parser.add_argument("--technicians", type=int, default=8)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--load", type=float, default=0.85)
    parser.add_argument("--requests", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps(generate(args.garages, args.technicians, args.days, args.load, args.requests,
                              args.seed, args.mode)))


if __name__ == "__main__":
    main()
