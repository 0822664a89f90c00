"""Squeeze-ins and re-plans: the optimizer proposes, reception sees the diff, then confirms or rejects.

A squeeze fits a case into a garage's day, moving at most the policy's number of movable
appointments (booked, not started, not pinned, within each customer's flex window). A re-plan
re-places booked work that can no longer stay where it is (a technician off sick, a job that
needs more time) on the same day. Both are previews first: nothing changes until a confirm,
and a confirm applies the preview only to the plan it was computed on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta

import msgspec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import optimizer.squeeze  # noqa: F401  (OR-Tools loads with the app, not within the first squeeze's time limit)
from optimizer import Answer, Location, Unplaced, make_request, solve
from scheduler import network
from scheduler.errors import Conflict, Forbidden, Invalid, NotFound, NothingFits, PlanChanged
from scheduler.models import ACTIVE, Appointment, Case, Garage, PlanPreview, User
from scheduler.models.appointment import MOVING
from scheduler.services import booking, capacity, outbox, overrides, planning, policies
from scheduler.services.engine import EngineUnavailable, ask
from scheduler.texts import N_


def squeeze_day(garage: Garage, now: datetime):
    """The day a walk-in is fitted into: today while the garage is open, else the next day it opens (a car left
    at 18:30 is squeezed into tomorrow morning, not offered a free slot two weeks out); the P1 target's day too."""
    return planning.working_day(garage, now)


def day_window(garage: Garage, now: datetime, last_day=None) -> tuple[datetime, datetime]:
    """From now to the end of the squeeze's day (or of `last_day`): what a squeeze or a re-plan may use."""
    day = last_day or squeeze_day(garage, now)
    return now, datetime.combine(day + timedelta(days=1), time(0), garage.zone)


def window_day(preview: PlanPreview):
    """The last local day a preview's window covers: the day a squeeze fits its case into."""
    _start, end = _window(preview)
    return preview.garage.local(end - timedelta(minutes=1)).date()


def fingerprint(session: Session, garage_id: str, start: datetime, end: datetime) -> str:
    """What the plan of a garage's window is, as a short digest: any booking, move or status change alters it, and
    any change to who works when (the network's stamp: hours, closed days, shifts, absences, skills, lifts). A re-plan
    confirmed after a colleague it moved work to was made absent put that work into the absence."""
    rows = session.execute(select(Appointment.id, Appointment.version, Appointment.technician_id,
                                  Appointment.start_at, Appointment.end_at, Appointment.status)
                           .where(Appointment.garage_id == garage_id, Appointment.status.in_(ACTIVE),
                                  Appointment.start_at < end, Appointment.end_at > start)
                           .order_by(Appointment.id)).all()
    return hashlib.sha256(repr([network.stamp(session), *(tuple(str(v) for v in row) for row in rows)])
                          .encode()).hexdigest()


def _at(minute: int) -> datetime:
    return planning._at(minute)


def check_garage(actor: User, garage: Garage) -> None:
    # the workshop reaches a re-plan only through its own job's more time (jobs.more_time): its own garage too
    if actor.role in ("reception", "workshop") and actor.garage_id != garage.id:
        raise Forbidden(N_("Reception plans its own garage's day only."))
    if actor.role not in ("reception", "workshop", "admin"):
        raise Forbidden(N_("Squeeze-ins and re-plans are for the garage's reception (or an admin)."))


@dataclass
class NoFit:
    """Why nothing fits on the squeeze's day, and what comes next (`nearest_today`: other garages that day)."""

    reason: str  # no_technician | lifts_full | moves_not_enough | engine_unavailable
    next_here: planning.Slot | None = None
    nearest_today: list[planning.Slot] = field(default_factory=list)


def preview_squeeze(session: Session, actor: User, case: Case, garage: Garage, now: datetime) -> PlanPreview:
    """Ask the optimizer to fit the case into the garage's day; store what it proposes, change nothing."""
    check_garage(actor, garage)
    booking.refuse_closed(case)
    current = booking.active_booking(case)
    if current is not None and current.status != "booked":
        raise Conflict(N_("The customer is already %(status)s: nothing to fit in."), words={"status": current.status})
    start, end = day_window(garage, now)
    snap = planning.snapshot(session, now)
    job = case.job_type
    request = make_request(id=str(case.id), duration=job.duration_minutes, skill=job.skill_code, lift=job.needs_lift,
                           urgency=case.urgency, location=Location(garage.lat, garage.lon), garages=(garage.id,),
                           now=now, earliest=now)
    problem = snap.plan("squeeze", {garage.id: end}, [request], ignore_case=case.id)
    answer, degraded = _solve(problem, snap)
    rule = planning.case_offers(session, case, now).rule if case.lat is not None else None
    plan = _plan(answer, problem, {str(case.id): case.id}, start, end)
    plan["degraded"] = degraded
    preview = PlanPreview(kind="squeeze", garage_id=garage.id, case=case, created_at=now, created_by_id=actor.id,
                          fingerprint=fingerprint(session, garage.id, start, end), plan=plan,
                          rule=_rule_fact(rule))
    session.add(preview)
    session.flush()
    return preview


def preview_replan(session: Session, actor: User, garage: Garage, appointments: list[Appointment], now: datetime,
                   reason: str = "", cause: dict | None = None) -> PlanPreview:
    """Re-place these appointments, each on its own day at this garage, moving other work if that helps.

    `reason` is what a person typed; `cause` is the fact that made the re-plan needed, kept as data so that
    each reader gets it in their own language, e.g. {"kind": "more_time", "appointment": 12, "minutes": 30}.
    """
    check_garage(actor, garage)
    movable = [a for a in appointments if a.status == "booked" and a.garage_id == garage.id and a.end_at > now]
    if not movable:
        raise Invalid(N_("Nothing to re-plan: pick booked appointments of this garage that have not started."),
                      field="appointments")
    last_day = max(garage.local(a.start_at).date() for a in movable)
    start, end = day_window(garage, now, last_day)
    snap = planning.snapshot(session, now)
    requests = []
    for a in movable:
        # Each keeps its day (the customer planned for it) and starts no earlier than its flex allows: a
        # customer told at 07:00 cannot be at the garage at 08:00 for a 15:15 booking. Later the same day is
        # the garage's to offer.
        day = garage.local(a.start_at).date()
        day_start, day_end = (datetime.combine(d, time(0), garage.zone) for d in (day, day + timedelta(days=1)))
        earliest = max(now, day_start, a.start_at - timedelta(minutes=max(0, a.flex_minutes)),
                       min(a.start_at, now + timedelta(minutes=EARLIER_NOTICE_MINUTES)))
        requests.append(make_request(id=f"a{a.id}", duration=round((a.end_at - a.start_at).total_seconds() / 60),
                                     skill=a.skill_code, lift=a.lift, urgency=a.case.urgency, location=None,
                                     garages=(garage.id,), now=now, earliest=earliest,
                                     latest=day_end - timedelta(minutes=1)))
    mode = "squeeze" if last_day == garage.today(now) else "replan"
    problem = snap.plan(mode, {garage.id: end}, requests, ignore={a.id for a in movable})
    answer, degraded = _solve(problem, snap)
    # Work the answer cannot place stays where it is booked, so its time is not the plan's to give: asked again with
    # it where it is (a job was moved onto a technician still booked then, and the database refused the confirm)
    staying: set[str] = set()
    for _again in range(ASKED_AGAIN):  # each time fewer to place; a page waits a few solves at most
        if not (answer.unplaced and answer.placements) or degraded:
            break
        staying |= {u.request for u in answer.unplaced}
        requests = [r for r in requests if r.id not in staying]
        problem = snap.plan(mode, {garage.id: end}, requests,
                            ignore={a.id for a in movable if f"a{a.id}" not in staying})
        answer, degraded = _solve(problem, snap)
    moved = {m.appointment for m in answer.moves}
    answer.unplaced += [Unplaced(r, "no room found for it: it stays where it is booked", "stays")
                        for r in sorted(staying) if r[1:] not in moved]
    plan = _plan(answer, problem, {f"a{a.id}": a.id for a in movable}, start, end)
    plan["was"] = {str(a.id): [a.technician_id, a.start_at.isoformat()] for a in movable}
    plan["degraded"] = degraded
    plan["replaced"] = [a.id for a in movable]
    if cause:
        plan["cause"] = cause
    preview = PlanPreview(kind="replan", garage_id=garage.id, created_at=now, created_by_id=actor.id,
                          fingerprint=fingerprint(session, garage.id, start, end), plan=plan, reason=reason[:1000])
    session.add(preview)
    session.flush()
    return preview


# How many times a re-plan that leaves work where it is booked is asked again with that work there (each a solve).
ASKED_AGAIN = 3

# A customer not yet at the garage is never brought earlier than this from now: they must be told, and come. The
# problem format lets booked work move by its flex either way; a re-plan at 13:12 moved a 14:30 customer to 13:30.
EARLIER_NOTICE_MINUTES = 60


def _too_soon(problem, answer: Answer) -> set[str]:
    """The appointments the answer brings earlier than booked and sooner than EARLIER_NOTICE_MINUTES from now."""
    floor = problem.now + EARLIER_NOTICE_MINUTES
    was = {a.id: a.start for a in problem.appointments}
    return {m.appointment for m in answer.moves if m.start < was[m.appointment] and m.start < floor}


def _held_back(problem, ids: set[str] | None):
    """The problem with these appointments' flex (all of them that could come too soon, with None) cut so that none
    can start before the notice: the format's flex is the same both ways, so one brought too close loses some of
    its room to go later too, which is why only those the answer moved are held back first."""
    floor = problem.now + EARLIER_NOTICE_MINUTES
    out = []
    for a in problem.appointments:
        if (a.id in ids if ids is not None else a.start - a.flex_minutes < floor):
            room = max(0, (a.start - floor) // problem.slot * problem.slot)
            a = msgspec.structs.replace(a, flex_minutes=min(a.flex_minutes, room))
        out.append(a)
    return replace(problem, appointments=out, _candidates=problem._candidates)


def _solve(problem, snap) -> tuple[Answer, str | None]:
    seconds = snap.policy.time_limit_seconds or 1.0
    # The solver keeps its own limit; this is the backstop. As much again and two seconds: on a busy server a 2 s
    # squeeze of a full day now and then took longer than 4 s to come back (the model built, the threads scheduled),
    # and reception was told the optimizer did not answer when it was about to.
    limit = 2 * seconds + 2.0
    try:
        answer = ask(lambda: solve(problem, time_limit=seconds), limit)
        # held back where the answer brought someone too soon: those first, then every one who could be (certain)
        soon = _too_soon(problem, answer)
        for held in (soon, None):
            if not soon:
                break
            problem = _held_back(problem, held)
            answer = ask(lambda p=problem: solve(p, time_limit=seconds), limit)
            soon = _too_soon(problem, answer)
        return answer, None
    except EngineUnavailable as exc:
        return Answer(status="FEASIBLE"), exc.code


def _plan(answer: Answer, problem, requests: dict[str, int], start: datetime, end: datetime) -> dict:
    """The answer as the preview keeps it: ISO times, database ids, and where moved work was."""
    was = {a.id: a for a in problem.appointments}
    return {
        "window": [start.isoformat(), end.isoformat()],
        "status": answer.status, "cost": answer.cost, "fallback": answer.fallback,
        "placements": [{"request": requests[p.request], "garage": p.garage, "technician": p.technician,
                        "start": _at(p.start).isoformat(), "end": _at(p.end).isoformat()} for p in answer.placements],
        "moves": [{"appointment": int(m.appointment), "technician": m.technician, "start": _at(m.start).isoformat(),
                   "end": _at(m.end).isoformat(), "from": _at(was[m.appointment].start).isoformat(),
                   "technician_from": was[m.appointment].technician} for m in answer.moves],
        "unplaced": [requests[u.request] for u in answer.unplaced],
    }


def _rule_fact(rule: planning.Slot | None) -> dict | None:
    if rule is None:
        return None
    return {**rule.to_dict(), "late_because": rule.late_because, "reasons": rule.reason_facts()}


def get_preview(session: Session, actor: User, preview_id: int) -> PlanPreview:
    preview = session.get(PlanPreview, preview_id)
    if preview is None:
        raise NotFound(N_("No preview %(id)s."), words={"id": preview_id})
    check_garage(actor, preview.garage)
    return preview


def _window(preview: PlanPreview) -> tuple[datetime, datetime]:
    start, end = (datetime.fromisoformat(t) for t in preview.plan["window"])
    return start, end


def is_current(session: Session, preview: PlanPreview) -> bool:
    """Whether the garage's plan is still the one the preview was computed on: only then does a confirm apply it
    (otherwise the confirm supersedes it and proposes a fresh one)."""
    start, end = _window(preview)
    return fingerprint(session, preview.garage_id, start, end) == preview.fingerprint


@dataclass
class Waiting:
    """A re-plan waiting for reception's decision, as the board lists it."""

    preview: PlanPreview
    cause: dict  # the fact behind it (plan["cause"]), {} when a person typed a reason (preview.reason) instead
    because: Appointment | None  # the job the cause names: the one that needs more time
    replaced: list[Appointment]  # the work to re-place that is still booked
    current: bool  # computed on the plan as it still is; else a confirm proposes a fresh re-plan

    def to_dict(self) -> dict:
        p = self.preview
        return {"preview": p.id, "kind": p.kind, "created_at": p.created_at.isoformat(),
                "created_by": p.created_by_id, "cause": self.cause or None, "reason": p.reason or None,
                "appointments": [a.id for a in self.replaced], "current": self.current}


def waiting_replans(session: Session, garage: Garage, now: datetime) -> list[Waiting]:
    """The re-plans of a garage that wait for a decision, oldest first. One definition of "waiting":

    still open (neither confirmed, rejected nor superseded), its window not over (a re-plan of a day gone by is
    moot), the job whose extra time made it still under way (finished, it overlaps nothing), and some of the work
    it re-places still booked (nothing started, cancelled or moved by hand can be
    re-placed). The plan having changed since does not end the wait: the overlap is still there, and a confirm
    answers with a fresh re-plan. A read: nothing is written.
    """
    found = []
    for p in session.scalars(select(PlanPreview).where(PlanPreview.garage_id == garage.id, PlanPreview.kind == "replan",
                                                       PlanPreview.status == "open")
                             .order_by(PlanPreview.created_at, PlanPreview.id)):
        if _window(p)[1] <= now:
            continue
        ids = p.plan.get("replaced", [])
        replaced = list(session.scalars(select(Appointment).where(
            Appointment.id.in_(ids), Appointment.status == "booked", Appointment.end_at > now)
            .order_by(Appointment.start_at))) if ids else []
        if not replaced:
            continue
        cause, because = cause_of(session, p)
        if cause.get("kind") == "more_time" and because is not None and because.status not in ACTIVE:
            continue  # the job that needed more time is over: the overlap it made is gone with it
        found.append(Waiting(p, cause, because, replaced, is_current(session, p)))
    return found


def cause_of(session: Session, preview: PlanPreview) -> tuple[dict, Appointment | None]:
    """The fact that made a re-plan needed ({} when a person typed a reason instead), and the job it names."""
    cause = preview.plan.get("cause") or {}
    return cause, session.get(Appointment, cause["appointment"]) if cause.get("appointment") else None


@dataclass
class Diff:
    """A preview as a person reads it: where the new work goes, who moves, what it gains and costs."""

    preview: PlanPreview
    placed: list[dict]  # {request, appointment (replan), technician, start, end}
    moved: list[dict]  # {appointment (object), from, to, technician_from, technician_to, delay_minutes, told}
    unplaced: list[int]
    rule: dict | None
    saved_minutes: int | None  # against the rule offer
    delay_minutes: int  # imposed on moved customers (later only)
    left: list[Appointment] = field(default_factory=list)  # a re-plan's work that finds no place: it stays as booked
    # a squeeze of a case booked already (a customer booked for Thursday at the counter today): that booking, which
    # a confirm cancels; said while the preview is open, so nobody confirms a move without knowing it is one
    replaces: Appointment | None = None

    @property
    def fits(self) -> bool:
        return bool(self.placed) and not self.unplaced

    def to_dict(self) -> dict:
        p = self.preview

        def placement(entry: dict) -> dict:
            out = {**entry, "start": entry["start"].isoformat(), "end": entry["end"].isoformat()}
            if "appointment" in out:
                out["appointment"] = out["appointment"].id
            return out

        placed = [placement(e) for e in self.placed]
        return {
            "id": p.id, "kind": p.kind, "garage": p.garage_id, "case": p.case_id, "status": p.status,
            "created_at": p.created_at.isoformat(), "fits": self.fits, "degraded": p.plan.get("degraded"),
            "placement": placed[0] if p.kind == "squeeze" and placed else None,
            "placements": placed,
            "moves": [{"appointment": m["appointment"].id, "case": m["appointment"].case_id,
                       "from": m["from"].isoformat(), "to": m["to"].isoformat(),
                       "technician_from": m["technician_from"], "technician_to": m["technician_to"],
                       "delay_minutes": m["delay_minutes"], "told": m["told"]} for m in self.moved],
            "unplaced": self.unplaced, "cost": p.plan.get("cost"), "rule_offer": self.rule,
            "saved_minutes": self.saved_minutes, "delay_minutes": self.delay_minutes,
            "replaces": self.replaces.to_dict() if self.replaces else None,
        }


def _touched(plan: dict) -> list[int]:
    """The appointments a preview's plan changes: the work it moves, and for a re-plan the work it re-places."""
    return [m["appointment"] for m in plan["moves"]] + plan.get("replaced", [])


def diff(session: Session, preview: PlanPreview) -> Diff:
    plan = preview.plan
    ids = _touched(plan)
    # read afresh: a confirm reads them after the locks that keep others' changes to them wholly before or after
    rows = {a.id: a for a in session.scalars(select(Appointment).where(Appointment.id.in_(ids))
                                             .execution_options(populate_existing=True))} if ids else {}
    placed = []
    for p in plan["placements"]:
        entry = {**p, "start": datetime.fromisoformat(p["start"]), "end": datetime.fromisoformat(p["end"])}
        if preview.kind == "replan":
            entry["appointment"] = rows[p["request"]]
        placed.append(entry)
    moved = []
    # Where each moved appointment was when the preview was made (a confirmed preview reads the same after).
    for m in plan["moves"]:
        was, to = datetime.fromisoformat(m["from"]), datetime.fromisoformat(m["start"])
        moved.append({"appointment": rows[m["appointment"]], "from": was, "to": to,
                      "technician_from": m["technician_from"], "technician_to": m["technician"],
                      "delay_minutes": round((to - was).total_seconds() / 60)})
    if preview.kind == "replan":  # the re-placed work itself moves too
        for p in placed:
            a = p["appointment"]
            tech, was = plan["was"][str(a.id)]
            was = datetime.fromisoformat(was)
            moved.append({"appointment": a, "from": was, "to": p["start"], "technician_from": tech,
                          "technician_to": p["technician"],
                          "delay_minutes": round((p["start"] - was).total_seconds() / 60)})
    saved = None
    if preview.rule and placed and preview.kind == "squeeze":
        saved = round((datetime.fromisoformat(preview.rule["start"]) - placed[0]["start"]).total_seconds() / 60)
    for m in moved:
        m["told"] = _told(m["appointment"], m["from"], m["to"])
    delay = sum(max(0, m["delay_minutes"]) for m in moved)
    left = [rows[i] for i in plan["unplaced"] if i in rows] if preview.kind == "replan" else []
    replaces = booking.active_booking(preview.case) if preview.kind == "squeeze" and preview.status == "open" \
        and preview.case is not None else None
    return Diff(preview, placed, moved, plan["unplaced"], preview.rule, saved, delay, left, replaces)


def _told(appointment: Appointment, was: datetime, to: datetime) -> str | None:
    """How the customer of moved work hears of it (the outbox's "email" or "phone"), None when they are not told;
    work moves within its garage."""
    if not outbox.tells_of_move(appointment.garage_id, was, appointment.garage_id, to):
        return None
    return outbox.how_told(appointment.case.customer)


def no_fit(session: Session, case: Case, garage: Garage, now: datetime, degraded: bool = False, day=None) -> NoFit:
    """Why the squeeze found no place on its day (`day`, the preview's: else today, or after closing the next day
    the garage opens), and the next best: later here, or a garage that can that day."""
    day = max(day, garage.today(now)) if day else squeeze_day(garage, now)  # a preview of a day gone: from today
    start, end = day_window(garage, now, day)
    job = case.job_type
    if degraded:
        later = [s for s in planning.garage_slots(session, case, garage, now, count=1) if s.start >= end]
        return NoFit("engine_unavailable", later[0] if later else None)
    working = [t for t in garage.qualified(job.skill_code)
               if any(e - max(s, now) >= timedelta(minutes=job.duration_minutes)
                      for s, e in capacity.shifts(t, day))]
    if not working:
        reason = "no_technician"
    elif job.needs_lift and _fits_without_lift(session, case, garage, now, end):
        reason = "lifts_full"
    else:
        reason = "moves_not_enough"
    later = [s for s in planning.garage_slots(session, case, garage, now, count=1) if s.start >= end]
    found = planning.case_offers(session, case, now) if case.lat is not None else None
    today = {}
    for o in found.offers if found else []:  # the earliest of each other garage
        if o.garage != garage.id and o.start < end:
            today.setdefault(o.garage, o)
    return NoFit(reason, later[0] if later else None, list(today.values())[:3])


def _fits_without_lift(session: Session, case: Case, garage: Garage, now: datetime, end: datetime) -> bool:
    snap = planning.snapshot(session, now)
    job = case.job_type
    request = make_request(id=str(case.id), duration=job.duration_minutes, skill=job.skill_code, lift=False,
                           urgency=case.urgency, location=None, garages=(garage.id,), now=now, earliest=now)
    answer, _ = _solve(snap.plan("squeeze", {garage.id: end}, [request], ignore_case=case.id), snap)
    return bool(answer.placements)


@dataclass
class Outcome:
    applied: bool
    preview: PlanPreview  # the confirmed one, or the fresh one when the plan had changed
    appointment: Appointment | None = None
    moved: list[Appointment] = field(default_factory=list)
    told: int = 0  # of the moved, how many customers are told (their time or garage changed)
    phoned: list[Appointment] = field(default_factory=list)  # of those, the ones reception has to call


def check_decider(actor: User, preview: PlanPreview) -> None:
    """Who decides a preview: a walk-in's squeeze-in is the garage's reception's (API.md); a re-plan of work a
    change hit, also the admin's who made the change."""
    check_garage(actor, preview.garage)
    if preview.kind == "squeeze" and actor.role != "reception":
        raise Forbidden(N_("Squeezing a customer in is the garage's reception's decision."))


def confirm(session: Session, actor: User, preview: PlanPreview, now: datetime, reason: str = "") -> Outcome:
    """Apply the preview atomically, if the plan is still the one it was computed on.

    Otherwise nothing is applied: the preview is superseded and a fresh one is proposed.
    """
    check_decider(actor, preview)
    if preview.status != "open":
        raise Conflict(N_("This preview is already %(status)s."), words={"status": preview.status}, status=preview.status)
    garage = preview.garage
    # The case placed and the cases of the work moved, then the garage, as every desk action takes its case before
    # the garage: a check-in or a cancellation of work the preview moves is wholly before this confirm reads the plan,
    # or after it. A check-in committed between the two was undone by the move (booked again), and the two orders
    # of locks deadlocked.
    plan = preview.plan
    touched = _touched(plan)
    cases = set(session.scalars(select(Appointment.case_id).where(Appointment.id.in_(touched)))) if touched else set()
    booking.lock_cases(session, cases | ({preview.case_id} if preview.case_id else set()))
    if preview.case is not None:
        session.expire(preview.case)
        if preview.case.status in ("done", "cancelled"):  # closed meanwhile (a walk-in who left): nobody to place
            raise Conflict(N_("Case %(case)s is %(status)s: nothing was applied."),
                           words={"case": preview.case.id, "status": preview.case.status})
    capacity.lock_garage(session, garage.id)
    start, end = _window(preview)
    if not is_current(session, preview):
        preview.status, preview.decided_at = "superseded", now
        if preview.kind == "squeeze":
            fresh = preview_squeeze(session, actor, preview.case, garage, now)
        else:
            try:
                fresh = preview_replan(session, actor, garage, list(session.scalars(select(Appointment).where(
                    Appointment.id.in_(plan["replaced"])))), now, preview.reason, plan.get("cause"))
            except Invalid:  # all of it checked in, started or cancelled meanwhile: nothing left to propose
                raise PlanChanged(N_("The work this re-plan placed was checked in, started or cancelled meanwhile: "
                                     "nothing was applied.")) from None
        return Outcome(False, fresh)
    seen = diff(session, preview)
    if not seen.placed:
        options = {}
        if preview.case is not None:  # the options the refusal speaks of, as its preview's page shows them
            nf = no_fit(session, preview.case, garage, now, bool(preview.plan.get("degraded")), window_day(preview))
            options = {"no_fit": nf.reason, "next_here": nf.next_here.to_dict() if nf.next_here else None,
                       "nearest_today": [s.to_dict() for s in nf.nearest_today]}
        # 422, not API.md's 409 "the plan changed since the preview": it did not, the preview itself placed nothing
        raise NothingFits(N_("Nothing fits in this preview: place the job by hand, or take the next options."),
                          **options)
    policy = policies.in_force(session, now)
    moved = _apply_moves(session, seen.moved, actor, now, preview)
    appointment = None
    if preview.kind == "squeeze":
        appointment = _place_case(session, actor, preview, seen, policy, now, reason)
    _unflag_resolved(session, garage.id, start, end)
    preview.status, preview.decided_at = "confirmed", now
    session.flush()
    return Outcome(True, preview, appointment, moved, sum(1 for m in seen.moved if m["told"]),
                   [m["appointment"] for m in seen.moved if m["told"] == "phone"])


def _unflag_resolved(session: Session, garage_id: str, start: datetime, end: datetime) -> None:
    """An overbooking the plan no longer has (the later work moved away) is a plain booking again."""
    flagged = session.scalars(select(Appointment).where(
        Appointment.garage_id == garage_id, Appointment.overbooked.is_(True), Appointment.status.in_(ACTIVE),
        Appointment.start_at < end, Appointment.end_at > start))
    for a in flagged:
        if not capacity.clash(session, a.technician, a.start_at, a.end_at, a.lift, (a.id,)):
            a.overbooked = False
    session.flush()


def _apply_moves(session: Session, moves: list[dict], actor: User, now: datetime,
                 preview: PlanPreview) -> list[Appointment]:
    """Move appointments to their new places. All leave their old places first, so that two swapping
    technicians or a chain of moves never meet each other half-way (the database guard checks each row)."""
    for m in moves:
        m["appointment"].status = MOVING
    session.flush()
    moved = []
    for m in moves:
        a: Appointment = m["appointment"]
        duration = a.end_at - a.start_at
        a.technician_id, a.start_at, a.end_at, a.status = m["technician_to"], m["to"], m["to"] + duration, "booked"
        try:
            session.flush()
        except IntegrityError as exc:  # the database refused: the plan changed under us after all
            if capacity.refused_by_guard(exc):
                raise Conflict(N_("The plan changed while it was being applied: nothing was changed; preview again.")) \
                    from None
            raise
        a.case.log("moved", actor, now, appointment=a.id, garage=a.garage_id, before=m["from"].isoformat(),
                   start=m["to"].isoformat(), technician_before=m["technician_from"], technician=m["technician_to"],
                   preview=preview.id, cause=preview.case_id)
        moved.append(a)
    for m in moves:
        if m["told"]:  # once every move is in place: where it went, work taken before it in turn may still run then
            a = m["appointment"]
            # what was still to go about it (its confirmation, a delay counted from its old time) is no longer true
            outbox.supersede_unsent(session, [a])
            # a re-plan moved a customer to 17:15 behind an overbooking that ran to 18:00 and told them "17:15":
            # told, as an overbooking's customer is, how long at most they may wait (overrides.own_wait)
            waits = overrides.own_wait(capacity.work_from(session, a.technician_id, a.start_at, (a.id,)), a.start_at,
                                       capacity.turn_order(a))
            outbox.queue(session, "moved", a, now, before=m["from"], minutes=waits)
    for m in moves:  # the work after where it was may wait no more, nor itself where it went
        booking.tell_who_waits_no_more(session, m["technician_from"], m["from"])
        booking.tell_who_waits_no_more(session, m["technician_to"], m["to"])
    return moved


def _place_case(session: Session, actor: User, preview: PlanPreview, seen: Diff, policy, now: datetime,
                reason: str) -> Appointment:
    case = preview.case
    place = seen.placed[0]
    technician = booking.technician_for(session, case, place["garage"], place["technician"])
    current = booking.active_booking(case)
    appointment = booking.place(session, case, technician, place["start"], channel="walk_in", pinned=True,
                                clash=capacity.Clash(), actor=actor, replacing=current)
    rule = None
    if preview.rule:
        rule = planning.Slot(preview.rule["garage"], preview.rule["technician"],
                             datetime.fromisoformat(preview.rule["start"]), datetime.fromisoformat(preview.rule["end"]),
                             late_because=preview.rule.get("late_because", ""))
    kind = "walk_in" if case.channel == "walk_in" else "squeeze_in"
    overrides.record(session, actor, case, kind, reason or _default_reason(case), rule, policy, now,
                     appointment=appointment, rule_reasons=(preview.rule or {}).get("reasons"),
                     moved=[{"appointment": m["appointment"].id, "from": m["from"].isoformat(),
                             "to": m["to"].isoformat(), "technician_from": m["technician_from"],
                             "technician_to": m["technician_to"], "delay_minutes": m["delay_minutes"]}
                            for m in seen.moved],
                     knock_on_minutes=seen.delay_minutes)
    overrides.settle_pending(session, case, appointment, now)
    # booked, then checked in: the timeline tells it in that order
    booking.confirm(session, case, appointment, [current] if current else [], actor, now, reason)
    booking.checked_in_if_here(session, case, appointment, actor, now)
    return appointment


def _default_reason(case: Case) -> str:
    return overrides.WALK_IN_FITTED if case.channel == "walk_in" else overrides.SQUEEZED_IN


def reject(session: Session, actor: User, preview: PlanPreview, now: datetime) -> PlanPreview:
    check_decider(actor, preview)
    if preview.status != "open":
        raise Conflict(N_("This preview is already %(status)s."), words={"status": preview.status}, status=preview.status)
    preview.status, preview.decided_at = "rejected", now
    cause = preview.plan.get("cause") or {}
    if cause.get("kind") == "more_time":
        tell_who_waits_for(session, session.get(Appointment, cause.get("appointment")), now)
    session.flush()
    return preview


def tell_who_waits_for(session: Session, longer: Appointment | None, now: datetime,
                       ended_before: datetime | None = None) -> None:
    """Nothing moves for a job that takes longer: the customers booked after it wait for it in turn, and are told
    so, as the customers an overbooking delays are (booking.tell_who_waits, with the same knock-on figures). With
    `ended_before` (its end before more time was given), only those whose wait grows are told, of all they now
    wait: 15 more minutes on a job already overrunning into the next one clashed with no booking of its own, and
    the next customer, told 60 minutes, waited 75 unknowing."""
    if longer is None or not longer.active:
        return
    later = capacity.work_from(session, longer.technician_id, longer.start_at, (longer.id,))
    turn = capacity.turn_order(longer)
    waits = overrides.knock_on(later, longer.start_at, longer.end_at, turn)
    if ended_before is not None:
        was = {w["appointment"]: w["wait_minutes"]
               for w in overrides.knock_on(later, longer.start_at, ended_before, turn)["moved"]}
        waits["moved"] = [w for w in waits["moved"] if w["wait_minutes"] > was.get(w["appointment"], 0)]
    booking.tell_who_waits(session, later, waits, now, why="overrun")
