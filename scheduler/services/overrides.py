"""Recording a human departure from the rules, with what the rules offered at that moment."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Appointment, Case, Override, Policy, User
from scheduler.services.planning import Slot


def record(session: Session, actor: User, case: Case, kind: str, reason: str, rule: Slot | None,
           policy: Policy, now: datetime, appointment: Appointment | None = None, garage_id: str | None = None,
           rule_note: str = "", rule_reasons: list | None = None) -> Override:
    """`rule_reasons`: why the rule offer was late, as the optimizer said ([LateReason] or dicts of
    {code, free_at, garage, minutes}); none given leaves it empty and readers fall back on the note."""
    override = Override(
        case=case, kind=kind, reason=reason, actor_id=actor.id, team=actor.team, urgency=case.urgency,
        created_at=now, policy_id=policy.id, garage_id=garage_id or (appointment.garage_id if appointment else None),
        rule_garage_id=rule.garage if rule else None, rule_technician_id=rule.technician if rule else None,
        rule_start=rule.start if rule else None, rule_end=rule.end if rule else None,
        rule_note=rule_note or (rule.late_because if rule else "The rules offered nothing within the horizon."),
        rule_reasons=[reason_dict(r) for r in rule_reasons or getattr(rule, "reasons", None) or []],
    )
    if appointment is not None:
        settle(override, appointment)
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


def settle(override: Override, appointment: Appointment) -> None:
    """What the decision achieved: the booking it led to."""
    override.appointment_id = appointment.id
    override.result_garage_id = appointment.garage_id
    override.result_technician_id = appointment.technician_id
    override.result_start = appointment.start_at
    override.result_end = appointment.end_at
    override.garage_id = override.garage_id or appointment.garage_id


def settle_pending(session: Session, case: Case, appointment: Appointment) -> None:
    """Overrides still waiting for a result (an urgency raise, a drive-in) get this booking as theirs."""
    for override in session.scalars(select(Override).where(Override.case_id == case.id,
                                                           Override.appointment_id.is_(None))):
        settle(override, appointment)


def knock_on(override: Override, clash, start: datetime, end: datetime) -> None:
    """An overbooking's cost to others: the customers whose work it overlaps wait for it (overlap minutes)."""
    waits = [{"appointment": a.id, "delay_minutes": int((min(end, a.end_at) - max(start, a.start_at)).total_seconds() // 60)}
             for a in clash.busy if a.start_at >= start]
    override.moved = waits
    override.knock_on_minutes = sum(w["delay_minutes"] for w in waits)
