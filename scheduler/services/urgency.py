"""Raising or lowering a case's urgency: a human judgement the rules are measured against."""

from __future__ import annotations

from datetime import datetime

from scheduler.errors import Invalid, ReasonRequired, RuleBroken
from scheduler.models import URGENCIES, Case, Override, User
from scheduler.services import overrides, policies
from scheduler.services.booking import active_booking, note_offers_shown
from scheduler.services.planning import case_offers


def change_urgency(session, actor: User, case: Case, urgency: object, reason: str, now: datetime) -> Override:
    if urgency not in URGENCIES:
        raise Invalid(f"urgency must be one of {', '.join(URGENCIES)}.", field="urgency")
    if urgency == case.urgency:
        raise RuleBroken(f"The case is already {urgency}.")
    if not reason:
        raise ReasonRequired(f"Say why the case goes from {case.urgency} to {urgency}.")
    policy = policies.in_force(session, now)
    kind = "urgency_raise" if urgency < case.urgency else "urgency_lower"
    before, case.urgency = case.urgency, urgency
    # The rules differ by urgency (minimum notice, targets): the counterfactual is the new urgency's rule offer.
    found = case_offers(session, case, now, policy) if case.lat is not None else None
    override = overrides.record(session, actor, case, kind, reason, found.rule if found else None, policy, now,
                                appointment=active_booking(case), urgency=urgency)
    case.log("urgency", actor, now, before=before, after=urgency)
    if found is not None:
        note_offers_shown(case, found, now)
    session.flush()
    return override
