"""Recording a human departure from the rules, with what the rules offered at that moment."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Appointment, Case, Override, OverrideOutcome, Policy, User
from scheduler.services.capacity import done_in_turn, turn_order, waits_in_turn
from scheduler.services.planning import Slot
from scheduler.texts import N_

# The reason an override carries when the person gave none: stored as this English (the API's language),
# worded in the reader's language where a page shows it (web.filters.reason_text).
DRIVE_IN_ANNOUNCED = N_("Drive-in announced: customer told to come now")
WALK_IN_FITTED = N_("Walk-in fitted into today")
SQUEEZED_IN = N_("Squeezed into today")
GIVEN_BY_APP = frozenset((DRIVE_IN_ANNOUNCED, WALK_IN_FITTED, SQUEEZED_IN))


def record(session: Session, actor: User, case: Case, kind: str, reason: str, rule: Slot | None,
           policy: Policy, now: datetime, appointment: Appointment | None = None, garage_id: str | None = None,
           rule_note: str = "", rule_reasons: list | None = None, urgency: str | None = None,
           moved: list | None = None, knock_on_minutes: int = 0) -> Override:
    """The decision, whole: an override is written once and never changed (the database refuses it), so
    everything it says is given here. What it leads to is appended later (`settle`, `settle_outcome`).

    `rule_reasons`: why the rule offer was late, as the optimizer said ([LateReason] or dicts of
    {code, free_at, garage, minutes}); none given leaves it empty and readers fall back on the note.
    `moved`, `knock_on_minutes`: the work it delayed ([{appointment, delay_minutes, ...}]) and the total.
    """
    override = Override(
        case=case, kind=kind, reason=reason, actor_id=actor.id, team=actor.team, urgency=urgency or case.urgency,
        created_at=now, policy_id=policy.id, garage_id=garage_id or (appointment.garage_id if appointment else None),
        moved=moved or [], knock_on_minutes=knock_on_minutes,
        rule_garage_id=rule.garage if rule else None, rule_technician_id=rule.technician if rule else None,
        rule_start=rule.start if rule else None, rule_end=rule.end if rule else None,
        rule_note=rule_note or (rule.late_because if rule else "The rules offered nothing within the horizon."),
        rule_reasons=[reason_dict(r) for r in rule_reasons or getattr(rule, "reasons", None) or []],
    )
    if appointment is not None:
        settle(override, appointment, now)
    session.add(override)
    case.log("override", actor, now, kind=kind, reason=reason)
    return override


def reason_dict(reason) -> dict:
    """A LateReason (code, free_at, garage, minutes) or a dict of those, as stored: times as ISO text."""
    get = reason.get if isinstance(reason, dict) else lambda key: getattr(reason, key, None)
    free_at = get("free_at")
    if isinstance(free_at, datetime):
        free_at = free_at.isoformat()
    elif isinstance(free_at, int):  # the optimizer's minutes since the epoch
        free_at = datetime.fromtimestamp(free_at * 60, timezone.utc).isoformat()
    minutes = get("minutes")
    return {"code": get("code") or "none", "free_at": free_at, "garage": get("garage"),
            "minutes": int(minutes) if minutes is not None else None}


def settle(override: Override, appointment: Appointment, now: datetime, keep_result: bool = False) -> None:
    """What the decision led to, as of now: the booking, and the work's real start and end once known.
    `keep_result`: the booking it produced stays its result (since replaced), only the work's times are new."""
    result = {"appointment_id": appointment.id, "result_garage_id": appointment.garage_id,
              "result_technician_id": appointment.technician_id, "result_start": appointment.start_at,
              "result_end": appointment.end_at}
    if keep_result:
        result = {field: getattr(override.outcome, field) for field in result}
    override.outcomes.append(OverrideOutcome(recorded_at=now, **result, actual_start=appointment.started_at,
                                             actual_end=appointment.finished_at))


def settle_pending(session: Session, case: Case, appointment: Appointment, now: datetime) -> None:
    """Overrides still waiting for a result (an urgency raise, a drive-in) get this booking as theirs."""
    for override in session.scalars(select(Override).where(Override.case_id == case.id)):
        if override.outcome is None:
            settle(override, appointment, now)


def settle_outcome(session: Session, appointment: Appointment, now: datetime) -> None:
    """The case's overrides learn what actually happened to its work (it started, it finished): DESIGN.md judges
    a decision by when the work started, so one whose own booking was replaced before any work began (rebooked,
    a no-show come back as a walk-in) learns it too, keeping the booking it produced as its result."""
    for override in session.scalars(select(Override).where(Override.case_id == appointment.case_id)):
        if appointment.started_at is not None and override.created_at > appointment.started_at:
            continue  # decided once the work was under way (a drive-in announced since): not judged by it
        if override.outcome is None or override.appointment_id == appointment.id:
            settle(override, appointment, now)
        elif override.actual_start is None or override.actual_start == appointment.started_at:
            settle(override, appointment, now, keep_result=True)


def _ahead(later: list, start: datetime, turn: tuple | None) -> tuple[list, list]:
    """`later` split into the work taken before the overbooked job and the work after it, in the technician's turn
    order (capacity.turn_order, as the board reads it): with `turn`, the job's own place in that order (a car as urgent
    booked for the same time before it goes first); without, it goes before any job starting when it does."""
    ahead = [a for a in later if (turn_order(a) < turn if turn is not None else a.start_at < start)]
    return sorted(ahead, key=turn_order), sorted((a for a in later if a not in ahead), key=turn_order)


def own_wait(later: list, start: datetime, turn: tuple | None = None) -> int:
    """How long an overbooking's own customer waits: for the work taken before it and still running then
    (knock_on). Minutes; 0 when the technician is free at its start."""
    free = done_in_turn(_ahead(later, start, turn)[0])
    return max(0, int((free - start).total_seconds() // 60)) if free else 0


def knock_on(later: list, start: datetime, end: datetime, turn: tuple | None = None) -> dict:
    """An overbooking's cost to others: the customers of its technician's work from its start on (`later`:
    capacity.work_from) wait in turn, the first until it ends, each next one until the one before is done, as far
    as the delay carries (capacity.waits_in_turn); not only those whose own job overlaps it. Work taken before it
    (`_ahead`: begun before it and still running, in `later` too) goes first: the overbooked job waits for it, and so
    ends later than `end`, which the ones after it feel (a job placed by hand at 14:00 behind one running to 14:30
    pushed the next customers by 30 minutes more than its own length). The `moved` and `knock_on_minutes` of its
    override."""
    first, jobs = _ahead(later, start, turn)
    free = done_in_turn(first)
    begins = max(start, free) if free else start
    waits = []
    # what each waits behind it, less what they already waited for one another (an earlier overbooking)
    for a, behind, already in zip(jobs, waits_in_turn(jobs, begins + (end - start)), waits_in_turn(jobs, free),
                                  strict=True):
        if behind == already:  # no later: from here on the day runs as it did without this overbooking
            break
        # delay: what this decision adds (its knock-on); wait: all the customer now waits (what they are told)
        waits.append({"appointment": a.id, "delay_minutes": behind - already, "wait_minutes": behind})
    return {"moved": waits, "knock_on_minutes": sum(w["delay_minutes"] for w in waits)}
