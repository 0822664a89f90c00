"""Raising or lowering a case's urgency: a human judgement the rules are measured against."""

from __future__ import annotations

from datetime import datetime

from scheduler.errors import Invalid, ReasonRequired, RuleBroken
from scheduler.models import URGENCIES, Case, Override, User
from scheduler.services import overrides, policies
from scheduler.services.booking import active_booking, lock_case, note_offers_shown, refuse_closed
from scheduler.services.planning import case_offers
from scheduler.texts import N_


def change_urgency(session, actor: User, case: Case, urgency: object, reason: str, now: datetime) -> Override:
    if urgency not in URGENCIES:
        raise Invalid(N_("urgency must be one of %(urgencies)s."), field="urgency",
                      words={"urgencies": ", ".join(URGENCIES)})
    lock_case(session, case)
    refuse_closed(case)
    if urgency == case.urgency:
        raise RuleBroken(N_("The case is already %(urgency)s."), words={"urgency": urgency})
    if not reason:
        raise ReasonRequired(N_("Say why the case goes from %(before)s to %(after)s."),
                             words={"before": case.urgency, "after": urgency})
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
