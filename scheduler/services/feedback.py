"""Customers rate the chain's stages of their case (booking, wait, reception, repair), never a person.

The customer's link carries a token made from the case id and the app's secret: no account, no
guessable URL, nothing stored. A stage rated again replaces the earlier score; a colleague may type a score in
for a customer who gives it by phone, and is named with it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Forbidden, Invalid, NotFound
from scheduler.models import STAGES, Case, Feedback, User
from scheduler.texts import N_


def token_for(case_id: int, secret: str) -> str:
    mac = hmac.new(secret.encode(), f"feedback:{case_id}".encode(), hashlib.sha256).digest()[:12]
    return f"{case_id}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def case_for_token(session: Session, token: object, secret: str, case_id: int | None = None) -> Case:
    """The case a customer's link token is for; with `case_id`, the token must be that case's (a link rates
    its own case only: another case's is not allowed, 403, like a link that is not valid)."""
    if not isinstance(token, str) or "." not in token:
        raise Forbidden(N_("This feedback link is not valid."))
    raw_id = token.split(".", 1)[0]
    if not raw_id.isdecimal() or len(raw_id) > 9 or not hmac.compare_digest(token, token_for(int(raw_id), secret)):
        raise Forbidden(N_("This feedback link is not valid."))
    if case_id is not None and int(raw_id) != case_id:
        raise Forbidden(N_("This feedback link is for another case."))
    case = session.get(Case, int(raw_id))
    if case is None:
        raise NotFound(N_("This case no longer exists."))
    return case


def given(session: Session, case: Case) -> dict[str, Feedback]:
    return {f.stage: f for f in session.scalars(select(Feedback).where(Feedback.case_id == case.id))}


def stages_reached(case: Case) -> tuple[str, ...]:
    """The stages the customer has been through, from stored facts: a stage is rated once it has happened.

    The booking is the contact that opened the case; the wait starts with an appointment; reception is the
    counter (a walk-in is received there) or a check-in, or the work starting, which a check-in may skip;
    the repair is work finished."""
    made = list(case.appointments)
    reached = {"booking"}
    if made:
        reached.add("wait")
    if case.channel == "walk_in" or any(a.checked_in_at or a.started_at for a in made):
        reached.add("reception")
    if any(a.finished_at for a in made):
        reached.add("repair")
    return tuple(s for s in STAGES if s in reached)


def give(session: Session, case: Case, stage: object, score: object, comment: object, now: datetime,
         by: User | None = None) -> Feedback:
    """The customer's score for a stage of their case: given by their link (`by` None), or typed in for them by a
    colleague (`by`, who took it by phone). A stage rated again replaces the earlier score, and keeps its comment
    when no new one is given (None); a colleague never replaces what the customer gave themselves."""
    if stage not in STAGES:
        raise Invalid(N_("stage must be one of %(stages)s."), words={"stages": ", ".join(STAGES)}, field="stage")
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise Invalid(N_("score must be a whole number from 0 to 10."), field="score")
    if comment is not None and (not isinstance(comment, str) or len(comment) > 2000):
        raise Invalid(N_("comment must be text of at most 2000 characters."), field="comment")
    # Any stage, at any time, as API.md has it (201): a customer who cancelled may well have something to say
    # of the booking. The customer's page asks only about the stages that happened (stages_reached).
    feedback = given(session, case).get(stage)
    if feedback is None:
        feedback = Feedback(case=case, stage=stage, comment="")
        session.add(feedback)
    elif by is not None and feedback.recorded_by_id is None:
        raise Conflict(N_("The customer rated this stage themselves: their score stands."), field="stage")
    feedback.score, feedback.created_at = score, now
    feedback.recorded_by_id = by.id if by is not None else None
    if comment is not None:
        feedback.comment = comment.strip()
    session.flush()
    return feedback


def to_dict(feedback: Feedback) -> dict:
    return {"id": feedback.id, "case": feedback.case_id, "stage": feedback.stage, "score": feedback.score,
            "comment": feedback.comment, "created_at": feedback.created_at.isoformat(),
            # the team that typed it in for the customer, never the person (DESIGN.md: feedback is never per
            # employee); who it was stays in the row, for the audit
            "recorded_by": feedback.recorded_by.team if feedback.recorded_by else None}
