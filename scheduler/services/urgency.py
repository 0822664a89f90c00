"""Raising or lowering a case's urgency: a human judgement the rules are measured against."""

from __future__ import annotations

from datetime import datetime

from scheduler.errors import Invalid, ReasonRequired, RuleBroken
from scheduler.models import URGENCIES, Case, Override, User
from scheduler.services import overrides
from scheduler.services.planning import active_policy, case_offers


def change_urgency(session, actor: User, case: Case, urgency: object, reason: str, now: datetime) -> Override:
    if urgency not in URGENCIES:
        raise Invalid(f"urgency must be one of {', '.join(URGENCIES)}.", field="urgency")
    if urgency == case.urgency:
        raise RuleBroken(f"The case is already {urgency}.")
    if not reason:
        raise ReasonRequired(f"Say why the case goes from {case.urgency} to {urgency}.")
    policy = active_policy(session)
    # The rules' offer does not depend on urgency, so "at that moment" is the same before and after.
    rule = case_offers(session, case, now, policy).rule if case.lat is not None else None
    kind = "urgency_raise" if urgency < case.urgency else "urgency_lower"
    before, case.urgency = case.urgency, urgency
    booked = next((a for a in case.appointments if a.active), None)
    override = overrides.record(session, actor, case, kind, reason, rule, policy, now, appointment=booked)
    override.urgency = urgency
    case.log("urgency", f"Urgency {before} → {urgency}", actor, now)
    session.flush()
    return override
