"""Re-plan by large-neighbourhood search: a whole plan at every moment, improved a part at a time.

One CP-SAT model of a garage-week (hundreds of movable jobs, each with a dozen options) spends
its time proving little: its relaxation of "placed or not" is weak, and it left requests unplaced
that fit once other work moved. Here the plan is improved a neighbourhood at a time: every
request stays free, but only the work of one day (or two, or a few technicians) may move; the
rest is held where the current plan has it. Each such model starts from the current plan (a complete hint), so
the plan never gets worse. Before any of it, a constructive start (optimizer.insertion) places
every request afresh, dearest wait first, moving the jobs in its way, so CP-SAT starts from a
full answer where one is easy to find; each P1 of one such start is also given a small CP-SAT model
of its garage's earliest shift where it could start (a probe), since the room a P1 needs today is often
made by a dozen jobs shifting at once, beyond any chain; between the models, late requests are pulled
earlier the same way, taking the place of cheaper requests when that is cheaper in all.

What is left unplaced is said truthfully (`why_unplaced`): "no technician free" only when no
room appears even with every movable job gone.
"""

from __future__ import annotations

import random
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from optimizer.answer import Answer, Move, Offer, Placement, Unplaced
from optimizer.baseline import no_move_plan
from optimizer.freetime import FreeTime
from optimizer.insertion import Inserter, Places, dearest_first, pull_earlier
from optimizer.offers import garage_lower, offers_for, unplaced_reason
from optimizer.problem import Appointment, Problem, Request
from optimizer.squeeze import SCALE, PlanModel
from optimizer.validate import check_plan

# A garage-week day's model is seldom proved optimal in any time worth waiting for; it finds most
# of its gain early. Measured: capped at 0.7 s, 13 neighbourhoods in 10 s placed as many requests
# as 6 of 1.5 s, for a lower cost on most garage-weeks. Since the constructive start places every
# request, the gain left is in moves a day's model finds in 1-1.4 s and not in 0.7 (two P2s brought
# four days earlier on one garage-week, 224,600 -> 181,900): 1 s, measured side by side (Stop 24).
STEP_SECONDS = 1.0
# A probe (Week.probe): a dear request's garage's earliest shift, every movable job there free, as one model.
# On a garage-week a P1 waited a day at a cost of 141,000 where 15 moves start it this afternoon (27,000); the
# model finds that in 0.3-2 s, or proves the morning infeasible in 0.03 s. A P2 left four days out (60,300) is
# brought back the same way. Each is capped, and all of them together may use PROBE_SHARE of the time limit:
# at 10 s, probing the P2s too, with the time the thorough rebuilds took, measured 1.26 -> 1.09 (geometric
# mean over twelve runs of the best known cost) on a shared machine.
PROBE_SECONDS = 0.7
PROBE_SHARE = 0.45
# The constructive start (optimizer.insertion): the first quick rebuild may use QUICK_SHARE of the time limit;
# the probed rebuild INSERT_SHARE (and PROBE_SHARE in probes), the two thorough ones and the insertion of what is
# still unplaced half of it each. They run only when the first took less than SPARE of the limit.
QUICK_SHARE = 0.7
SPARE = 0.25
INSERT_SHARE = 0.3
# Up to this many movable jobs, the whole problem is first given to one model, with this share
# of the time left; it usually proves its plan optimal and the search stops there.
WHOLE_AT_ONCE = 80
# Pulling late requests earlier (optimizer.insertion.pull_earlier) may use this share.
PULL_SHARE = 0.1
WHOLE_SHARE = 0.5


# A constructive start's first requests: their placements, the moves they made, and the requests placed.
Start = tuple[dict[str, Placement], dict[str, Move], list[Request]]


@dataclass
class Plan:
    placements: dict[str, Placement]
    moves: dict[str, Move]
    cost: float

    def answer(self, status: str = "FEASIBLE") -> Answer:
        return Answer(status=status, placements=list(self.placements.values()), moves=list(self.moves.values()))


def evaluate(problem: Problem, placements: dict[str, Placement], moves: dict[str, Move]) -> Plan | None:
    check = check_plan(problem, Answer(status="", placements=list(placements.values()), moves=list(moves.values())))
    return Plan(placements, moves, check.cost) if check.feasible else None


def held(problem: Problem, plan: Plan, free: set[str]) -> Problem:
    """The problem in which only the appointments in `free` may move; the others are pinned where
    the plan has them, and the moves they already made count against `max_moves`."""
    appointments: list[Appointment] = []
    used = 0
    for a in problem.appointments:
        if a.id in free:
            appointments.append(a)
            continue
        mv = plan.moves.get(a.id)
        if mv is not None:
            used += 1
            a = Appointment(a.id, mv.technician, mv.start, mv.end, a.skill, a.lift, a.urgency, a.status, True, 0)
        elif problem.is_movable(a):
            a = Appointment(a.id, a.technician, a.start, a.end, a.skill, a.lift, a.urgency, a.status, True, 0)
        appointments.append(a)
    policy = replace(problem.policy, max_moves=max(0, problem.policy.max_moves - used))
    return replace(problem, appointments=appointments, policy=policy, _candidates=problem._candidates)


@dataclass(frozen=True)
class Part:
    """A neighbourhood: the movable work of these days (at these garages, of these technicians when
    named) may move, and requests may start on these days or on the day they are on now."""

    days: tuple[int, ...]  # local day numbers; () with `work` False: every day, no work
    garages: frozenset[str] | None = None
    techs: frozenset[str] | None = None
    work: bool = True
    window: tuple[int, int] | None = None  # instead of days: the work of the garages over these minutes


class Week:
    """The days of a problem and the movable work on each, for cutting it into neighbourhoods."""

    def __init__(self, problem: Problem, floor: dict[str, float] | None = None):
        self.problem = problem
        self.floor = floor or {}  # each request's least wait cost in any plan: what is above it can be gained
        offset = datetime.fromtimestamp(problem.now * 60, problem.zone or UTC).utcoffset()
        self.shift = int(offset.total_seconds() // 60) if offset else 0
        self.work: dict[int, list[Appointment]] = defaultdict(list)
        for a in problem.appointments:
            if problem.is_movable(a):
                self.work[self.day(a.start)].append(a)
        self.days = sorted(self.work)
        self.movable = [a for items in self.work.values() for a in items]
        self.flex = max((a.flex_minutes for a in self.movable), default=0)
        self._open: FreeTime | None = None  # the plan with every movable job gone, read when first needed
        self.garages = sorted({problem.garage_of(a) for a in self.movable})

    def day(self, minute: int) -> int:
        return (minute + self.shift) // 1440

    def span(self, day: int) -> tuple[int, int]:
        start = day * 1440 - self.shift
        return start, start + 1439

    def free(self, part: Part, plan: Plan) -> set[str]:
        out = set(plan.moves)  # moved work is always free: held, it could sit where other work must return
        if not part.work:
            return out
        if part.window is not None:
            lo, hi = part.window
            out.update(a.id for a in self.movable if a.start < hi and a.end > lo
                       and (part.garages is None or self.problem.garage_of(a) in part.garages))
            return out
        for day in part.days:
            for a in self.work.get(day, ()):
                if (part.techs is None or a.technician in part.techs) and \
                        (part.garages is None or self.problem.garage_of(a) in part.garages):
                    out.add(a.id)
        return out

    def allowed(self, part: Part, plan: Plan, requests: list[Request] | None = None
                ) -> dict[str, list[tuple[int, int]]] | None:
        if not part.work:
            return None
        spans = {day: self.span(day) for day in part.days}
        out = {}
        for r in self.problem.requests if requests is None else requests:
            pl = plan.placements.get(r.id)
            mine = dict(spans)
            if part.window is not None:
                mine[-1] = part.window
            if pl is not None:
                mine.setdefault(self.day(pl.start), self.span(self.day(pl.start)))
            out[r.id] = [mine[d] for d in sorted(mine)]
        return out

    def focus(self, plan: Plan, tried: Counter) -> Part | None:
        """The neighbourhood of the request whose wait costs most above its floor (less so each time it was the
        focus: a P1 that waits only as long as any plan makes it wait has nothing to gain). A placed request's
        garage's shifts where it could start earlier, one at a time, earliest first (a P2 four days out fitted
        on the second morning, not the first two shifts); then its first days with work to move up to where it
        is now, the work of whoever could do it there (every job of those days when it needs a lift: lift jobs
        of any technician hold the lifts). An unplaced request: its nearest candidates in turn, a day step and
        a window step at each. None when there is nothing to gain."""
        p = self.problem
        if not self.days:
            return None
        week_end = self.span(self.days[-1])[1]

        def late(r: Request) -> float:
            # an unplaced request counts as if it waited to the end of the plan: its 100,000-fold cost would make
            # it the focus every time, even when nothing can ever make room for it (insertion tries those)
            pl = plan.placements.get(r.id)
            return p.late_cost(r, pl.start if pl else week_end) - self.floor.get(r.id, 0.0)

        r = max(p.requests, key=lambda r: (late(r) / (1 + tried[r.id]), r.id), default=None)
        if r is None or late(r) <= 0:
            return None
        tried[r.id] += 1
        pl = plan.placements.get(r.id)
        near = [g for g, _ in p.candidate_garages(r)][:3]
        # an unplaced request's candidates in turn, each given a day step and a window step (they alternate)
        garage = pl.garage if pl else (near[(tried[r.id] - 1) // 2 % len(near)] if near else None)
        if garage is None:
            return None
        if pl is not None:
            window = self._shift_window(r, garage, pl.start, tried[r.id] - 1, wrap=False)
            if window is not None:
                return Part((), frozenset([garage]), None, True, window)
        elif tried[r.id] % 2 == 0:
            window = self._shift_window(r, garage, pl.start if pl else week_end, tried[r.id] // 2 - 1)
            if window is not None:
                return Part((), frozenset([garage]), None, True, window)
        first, last = self.day(r.earliest), self.day(pl.start) if pl else self.days[-1]
        days = [d for d in self.days if first <= d <= last]
        if not days:
            return None
        # the earliest day first, then each later day in turn with it, as the request is the focus again
        chosen = (days[0],) if len(days) == 1 else (days[0], days[1 + (tried[r.id] - 1) % (len(days) - 1)])
        techs = None if r.lift else frozenset(t.id for t in p.technicians_by_garage[garage] if r.skill in t.skills)
        return Part(chosen, frozenset([garage]), techs)

    def _shift_window(self, r: Request, garage: str, before: int, k: int, wrap: bool = True
                      ) -> tuple[int, int] | None:
        """The k-th (in turn) shift of the garage, among those the request could start in before `before`,
        widened by the most flex any job has: its work may all move, so room is made where the request
        would start, not a day of work at a time (a model a step can solve)."""
        p = self.problem
        if self._open is None:
            self._open = FreeTime(p, exclude=[a.id for a in self.movable])
        lower = garage_lower(p, r, dict(p.candidate_garages(r)).get(garage, 0.0))  # now, earliest, arrival
        upper = before if r.latest is None else min(before, r.latest + 1)
        qualified = [t for t in p.technicians_by_garage[garage] if r.skill in t.skills]
        # only shifts it could start in were every movable job gone: others would be a step wasted
        spans = sorted({(s, e) for t in qualified for s, e in t.shifts if s < upper and e - r.duration >= lower
                        and self._open.first_start(t.id, r.duration, r.lift, max(s, lower),
                                                   min(e - r.duration, upper - 1)) is not None})
        if not spans or (not wrap and k >= len(spans)):
            return None
        s, e = spans[k % len(spans)]
        # a week's flex would make the window a week: no wider than the shift itself on either side
        widen = min(self.flex, e - s)
        return max(s, lower) - widen, e + widen

    def probe(self, placed: list[Request], placements: dict[str, Placement], moves: dict[str, Move],
              request: Request, until: float, workers: int, seed: int) -> Plan | None:
        """`request` placed by CP-SAT, with the requests placed so far held, in the earliest shift window
        where it could start were the movable work gone, every movable job of that window free: a P1
        that fits this afternoon only once fifteen jobs shift, which no chain of the constructive start
        finds. None when that is no earlier than where it is."""
        p = self.problem
        sub = replace(p, requests=list(placed), _candidates=p._candidates)
        plan = evaluate(sub, dict(placements), dict(moves))
        if plan is None:
            return None
        pl = plan.placements.get(request.id)
        before = pl.start if pl else (request.latest + 1 if request.latest is not None else 10 ** 12)
        tried = 0
        for garage, _ in p.candidate_garages(request)[:2]:
            for k in range(2):
                left = until - time.perf_counter()
                if left < 0.1 or tried >= 2:
                    return None
                window = self._shift_window(request, garage, before, k, wrap=False)
                if window is None:
                    break
                tried += 1
                part = Part((), frozenset([garage]), None, True, window)
                allowed = self.allowed(part, plan, placed)
                try:
                    better = improve(sub, plan, self.free(part, plan), allowed, min(PROBE_SECONDS, left),
                                     workers, seed)
                except Exception:  # noqa: BLE001 - the constructive start goes on without it
                    better = None
                if better is not None and better.cost < plan.cost - 1e-9 and request.id in better.placements \
                        and (pl is None or better.placements[request.id].start < pl.start):
                    return better
        return None

    def parts(self, rnd: random.Random):
        """Neighbourhoods for ever: the requests alone; each day in turn, earliest first; then days,
        pairs of days and technicians' days at random."""
        yield Part((), work=False)
        multi = len(self.garages) > 1
        for day in self.days:
            for g in (self.garages if multi else [None]):
                yield Part((day,), None if g is None else frozenset([g]))
        techs = sorted(self.problem.technicians)
        while self.days:
            kind = rnd.random()
            garages = frozenset([rnd.choice(self.garages)]) if multi else None
            if kind < 0.4 or len(self.days) == 1:
                yield Part((rnd.choice(self.days),), garages)
            elif kind < 0.8:
                i = rnd.randrange(len(self.days) - 1)
                yield Part((self.days[i], self.days[i + 1]), garages)
            else:
                chosen = frozenset(rnd.sample(techs, min(len(techs), 4)))
                yield Part(tuple(rnd.sample(self.days, min(len(self.days), 3))), None, chosen)


def improve(problem: Problem, plan: Plan, free: set[str], allowed, limit: float, workers: int,
            seed: int, proof: list[float] | None = None) -> Plan | None:
    """The best plan CP-SAT finds in the neighbourhood; `proof` receives the model's proven bound
    when the neighbourhood is the whole problem (infinite when the plan is proved optimal)."""
    began = time.perf_counter()
    sub = held(problem, plan, free)
    pm = PlanModel(sub, allowed)
    pm.hint(list(plan.placements.values()), [mv for a, mv in plan.moves.items() if a in free])
    # building the model counts against the step's time: the time limit is the caller's
    stats, solver = pm.solve(limit - (time.perf_counter() - began), workers, seed)
    if stats.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    if proof is not None:
        # proved optimal, the plan is the bound: the scaled bound falls short of its cost by the rounding of the
        # objective's terms to 1/SCALE (14,571.63 against 14,571.6318), which left an optimal plan FEASIBLE
        proof.append(float("inf") if stats.status == "OPTIMAL" else stats.bound_scaled / SCALE + pm.constant)
    placements, moves, _ = pm.extract(solver)
    kept = {a: mv for a, mv in plan.moves.items() if a not in free}
    kept.update((mv.appointment, mv) for mv in moves)
    return evaluate(problem, {pl.request: pl for pl in placements}, kept)


def cheapest(problem: Problem) -> dict[str, Offer | None]:
    """Each request's cheapest offer with every movable job gone (None when it has none even then)."""
    free = FreeTime(problem, exclude=[a.id for a in problem.appointments if problem.is_movable(a)])
    out: dict[str, Offer | None] = {}
    for r in problem.requests:
        best = offers_for(problem, free, r, 1)
        out[r.id] = best[0] if best else None
    return out


def lower_bound(problem: Problem, best: dict[str, Offer | None] | None = None) -> float:
    """Each request at its cheapest start with every movable job gone, or unplaced if none: moves cost
    nothing less than zero and requests only take room from one another, so no plan costs less."""
    best = cheapest(problem) if best is None else best
    return sum(min(best[r.id].cost, problem.unplaced_cost(r)) if best[r.id] else problem.unplaced_cost(r)
               for r in problem.requests)


def replan(problem: Problem, time_limit: float, workers: int = 1, seed: int = 0) -> Answer:
    started = time.perf_counter()
    deadline = started + time_limit
    base_placements, _ = no_move_plan(problem)
    plan = evaluate(problem, {pl.request: pl for pl in base_placements}, {})
    assert plan is not None, "the no-move plan is feasible by construction"
    best = cheapest(problem)
    bound = lower_bound(problem, best)
    rnd = random.Random(seed)
    week = Week(problem, {r.id: problem.late_cost(r, best[r.id].start) for r in problem.requests if best[r.id]})
    places: Places = {}  # each job's possible places, listed once for every constructive pass
    steps = 0
    def missing() -> list[Request]:
        left = [r for r in problem.requests if r.id not in plan.placements]
        return sorted(left, key=lambda r: -problem.unplaced_cost(r))

    def insert(share: float) -> None:
        nonlocal plan
        inserter = Inserter(problem, plan.placements, plan.moves, places)
        until = min(deadline, time.perf_counter() + time_limit * share)
        for request in missing():
            inserter.place(request, until)
        better = evaluate(problem, inserter.placements, inserter.moves)
        if better is not None and better.cost < plan.cost - 1e-9:
            plan = better

    def pull(share: float) -> None:
        nonlocal plan

        def cost(placements, moves):
            found = evaluate(problem, placements, moves)
            return None if found is None else found.cost

        until = min(deadline, time.perf_counter() + time_limit * share)
        better = pull_earlier(problem, plan.placements, plan.moves, until, cost, places)
        if better is not None:
            plan = Plan(*better)

    weights = [problem.wait_weight(r.urgency) for r in problem.requests]
    dearest = max(weights, default=0.0)

    def probed(request: Request) -> bool:
        # every urgency but the cheapest: a P3 a few days out costs little, and a probe of each would take the
        # time the dearer ones need (probing them too measured worse, 1.13 against 1.09)
        weight = problem.wait_weight(request.urgency)
        return weight >= dearest or weight > min(weights)

    def rebuild(share: float, thorough: bool, width: int, probe: float = 0.0, start: Start | None = None,
                step: int | None = None) -> Start | None:
        # Every request placed afresh, dearest wait first, each moving what is in its way: the no-move plan
        # gives the morning's free starts to whichever request asked first, and its moves are then spent
        # on cheap requests before the dear ones get theirs. Quickly first, with chains of one job in the way
        # (for the cheapest requests only where nothing else places them: a week's rebuild in about 0.3 s),
        # then thoroughly when time allows (up to 1.7 s, and better at 10 s on most garage-weeks measured),
        # with chains of one job in the way and of two: the wider finds room for a P1 today where the narrower
        # left it for tomorrow, but can spend the moves the policy allows before the cheaper requests are
        # placed (a quick rebuild with two left a request unplaced at 2 s on garage-weeks measured).
        # With `probe`, that share of the time limit (on top of `share`) goes to CP-SAT probes of the dearest
        # requests (Week.probe), each right after it is placed, and the plan of the dearest requests alone is
        # returned, for a later rebuild to `start` from.
        nonlocal plan
        placements, moves, done = start if start is not None else ({}, {}, [])
        coarse_places: Places = {}  # a coarser step's places are its own
        pool = places if step in (None, problem.slot) else coarse_places
        inserter = Inserter(problem, placements, moves, pool, thorough=thorough, width=width, step=step)
        began = time.perf_counter()
        probes_until = min(deadline, began + time_limit * probe)
        spent = 0.0  # in probes: the placing is given its whole share besides
        done = list(done)
        dear: Start | None = None
        for request in dearest_first(problem, problem.requests):
            if request in done:
                continue
            if probe and dear is None and problem.wait_weight(request.urgency) < dearest:
                dear = (dict(inserter.placements), dict(inserter.moves), list(done))
            inserter.place(request, min(deadline, began + time_limit * share + spent))
            done.append(request)
            if probe and probed(request) and time.perf_counter() < probes_until:
                at = time.perf_counter()
                better = week.probe(done, inserter.placements, inserter.moves, request, probes_until, workers, seed)
                spent += time.perf_counter() - at
                if better is not None:
                    inserter = Inserter(problem, better.placements, better.moves, pool, thorough=thorough,
                                        width=width, step=step)
        fresh = evaluate(problem, inserter.placements, inserter.moves)
        if fresh is not None and fresh.cost < plan.cost - 1e-9:
            plan = fresh
        return dear

    # A whole plan first: a week's quick rebuild takes 0.3-0.9 s, and cut off at a short limit it left requests
    # unplaced (at 2 s, with a 0.6 s share, on four garage-weeks of six); what it leaves is inserted at once.
    trace: list[str] = []

    def mark(what: str) -> None:
        trace.append(f"{what} at {time.perf_counter() - started:.1f} s: {plan.cost:,.0f}")

    rebuild(QUICK_SHARE, thorough=False, width=1, step=coarse(problem))
    if missing():
        insert(INSERT_SHARE / 2)
    mark("quick start")
    if time.perf_counter() - started < SPARE * time_limit:
        # Time to spare: the dear requests probed; then, if time is still plentiful, the thorough rebuilds (at
        # 10 s they came after the probes, took 1.4 s each and were seldom kept).
        dear = rebuild(INSERT_SHARE, thorough=False, width=1, probe=PROBE_SHARE)
        mark("probed")
        if time.perf_counter() - started < SPARE * time_limit:
            rebuild(INSERT_SHARE / 2, thorough=True, width=1, start=dear)
            rebuild(INSERT_SHARE / 2, thorough=True, width=2)
            mark("thorough")
        if missing():
            insert(INSERT_SHARE / 2)
    pull(PULL_SHARE)
    mark("pulled")
    movable = {a.id for a in problem.appointments if problem.is_movable(a)}
    if len(movable) <= WHOLE_AT_ONCE:
        # A small plan (a garage's day at the desk) is one model, proved optimal in well under a second.
        proof: list[float] = []
        try:
            whole = improve(problem, plan, movable, None, max(0.05, deadline - time.perf_counter()) * WHOLE_SHARE,
                            workers, seed, proof)
        except Exception:  # noqa: BLE001 - the search below goes on from the plan as it was
            whole = None
        if whole is not None and whole.cost < plan.cost - 1e-9:
            plan = whole
        if proof:
            bound = max(bound, min(proof[0], plan.cost))
    tried: Counter = Counter()
    kept = 0
    parts = week.parts(rnd)
    while True:
        if steps and steps % 4 == 0:  # the plan has changed: room may have appeared
            if missing():
                insert(INSERT_SHARE / 3)
            pull(PULL_SHARE / 3)
        # every other neighbourhood is around the request that costs most: it moves the total most
        part = (week.focus(plan, tried) if steps % 2 else None) or next(parts, None)
        if part is None:
            break
        left = deadline - time.perf_counter()
        if left < 0.15 or plan.cost <= bound + 1e-6:
            break
        try:
            better = improve(problem, plan, week.free(part, plan), week.allowed(part, plan),
                             min(STEP_SECONDS, left), workers, seed + steps)
        except Exception:  # noqa: BLE001 - a neighbourhood that fails leaves the plan as it was
            better = None
        steps += 1
        if better is not None and better.cost < plan.cost - 1e-9:
            plan = better
            kept += 1
    if len(plan.placements) < len(problem.requests):  # the search's time ran out before the last cheap places
        plan = fill(problem, plan)
    placed = set(plan.placements)
    missing = [r for r in problem.requests if r.id not in placed]
    answer = plan.answer("OPTIMAL" if plan.cost <= bound + 1e-6 else "FEASIBLE")
    answer.unplaced = [why_unplaced(problem, plan, r) for r in missing]
    answer.cost = plan.cost
    answer.bound = min(bound, plan.cost)
    mark(f"{steps} neighbourhoods searched, {kept} kept")
    answer.notes.append("; ".join(trace))
    return answer


# The quick first plan tries starts every quarter of an hour at most often: on a 1-minute grid it took 1.7 s of a
# 2 s limit over a garage-week, 15 times the starts of a 15-minute grid, and left a request unplaced.
QUICK_STEP = 15


def coarse(problem: Problem) -> int:
    """The quick first plan's step: the slot, or its multiple nearest a quarter of an hour (on the grid still)."""
    return problem.slot * max(1, round(QUICK_STEP / problem.slot))


def why_unplaced(problem: Problem, plan: Plan, request: Request) -> Unplaced:
    """The true reason a request is left out of this plan, as a code and in words."""
    movable = [a.id for a in problem.appointments if problem.is_movable(a)]
    fixed = FreeTime(problem, exclude=movable)  # what no move can change
    if not _room(problem, request, fixed):
        why = unplaced_reason(problem, request, fixed)
        return Unplaced(request.id, why, "lifts_full" if why.startswith("every lift") else "no_technician")
    # Room left in the plan as it stands: no place was worth more than leaving it out (a small weights.unplaced;
    # `fill` has placed every request for which one was)
    if _room(problem, request, _standing(problem, plan)):
        return Unplaced(request.id, "every place for it costs more than leaving it unplaced (weights.unplaced)",
                        "not_worth_placing")
    # Room only with a move: a move alone costs weights.move, more than leaving this one out
    if problem.unplaced_cost(request) <= problem.policy.weights.move:
        return Unplaced(request.id, "every place for it needs a move, which costs more than leaving it unplaced "
                        "(weights.unplaced)", "not_worth_placing")
    # Room appears once the movable work goes: say what keeps it from being made.
    others = _with_placements(problem, plan, FreeTime(problem, exclude=movable))
    if not _room(problem, request, others):
        return Unplaced(request.id, "the room that moving work could make is taken by other requests",
                        "other_requests")
    if len(plan.moves) >= problem.policy.max_moves:
        return Unplaced(request.id, f"room needs more moves than the limit of {problem.policy.max_moves}",
                        "move_limit")
    # how many moves the room needs is not known without finding it: the limit is named beside the flex
    return Unplaced(request.id, f"room needs more moves than the limit of {problem.policy.max_moves}, work moved "
                    "further than its flex allows, or more time to find", "moves_not_found")


def fill(problem: Problem, plan: Plan) -> Plan:
    """The requests left out placed where the plan as it stands has room for them, dearest first, each at its
    cheapest free start when that costs less than leaving it out. A search cut short by its time limit left
    requests out beside free places (a 1 s squeeze of 60 requests: four, said to be not worth placing)."""
    left = sorted((r for r in problem.requests if r.id not in plan.placements), key=lambda r: -problem.unplaced_cost(r))
    if not left:
        return plan
    standing = _standing(problem, plan)
    placements = dict(plan.placements)
    for request in left:
        best = offers_for(problem, standing, request, 1)
        if best and best[0].cost < problem.unplaced_cost(request):
            found = best[0]
            placements[request.id] = Placement(request.id, found.garage, found.technician, found.start, found.end)
            standing.occupy(found.technician, found.start, found.end, request.lift)
    if len(placements) == len(plan.placements):
        return plan
    filled = evaluate(problem, placements, dict(plan.moves))
    return filled if filled is not None and filled.cost < plan.cost - 1e-9 else plan


def _standing(problem: Problem, plan: Plan) -> FreeTime:
    """The free time of the plan as it stands: its placements and moved work taking theirs."""
    standing = _with_placements(problem, plan, FreeTime(problem, exclude=list(plan.moves)))
    lifts = {a.id: a.lift for a in problem.appointments if a.id in plan.moves}
    for mv in plan.moves.values():
        standing.occupy(mv.technician, mv.start, mv.end, lifts[mv.appointment])
    return standing


def _with_placements(problem: Problem, plan: Plan, free: FreeTime) -> FreeTime:
    """`free` with the plan's placed requests taking their time."""
    for pl in plan.placements.values():
        free.occupy(pl.technician, pl.start, pl.end, _request(problem, pl.request).lift)
    return free


def _request(problem: Problem, request_id: str) -> Request:
    return next(r for r in problem.requests if r.id == request_id)


def _room(problem: Problem, request: Request, free: FreeTime) -> bool:
    for garage, km in problem.candidate_garages(request):
        lower = garage_lower(problem, request, km)
        for tech in problem.technicians_by_garage[garage]:
            if request.skill in tech.skills and free.first_start(tech.id, request.duration, request.lift,
                                                                 lower, request.latest) is not None:
                return True
    return False
