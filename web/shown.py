"""The offers a desk was shown, sealed into the answer that shows them and handed back by the booking they lead to.

Booking has to know what the person was offered (a slot the rules did not give needs a reason, and the override
keeps the rule offer the person saw). Without this, every booking searched the network again for it. With it, a
booking that brings back the seal of the offers its desk showed a moment ago is judged on those: the same facts,
signed with the app's secret so they cannot be made up, bound to the case, the person and the moment. A seal that
does not fit (another case or person, too old, tampered with, the urgency or the rules changed since: booking
checks those two) is set aside and the booking searches as before. Capacity is never taken from it: the chosen
slot is checked against the database under the garage's lock whatever the seal says.
"""

from __future__ import annotations

from datetime import datetime

from flask import current_app
from itsdangerous import BadData, URLSafeSerializer

from scheduler.models import Case, User
from scheduler.services.planning import CaseOffers

# A call's length: offers shown longer ago than this are looked for again.
MAX_AGE_SECONDS = 600
# Another worker's clock a little behind the one that sealed: a seal "from the future" by this much is still fresh.
SKEW_SECONDS = 5


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="frontline.offers-shown")


def seal(found: CaseOffers, case_id: int, user_id: int, now: datetime) -> str:
    """The offers a person is shown for a case at `now`, as a token their booking can carry back."""
    return _serializer().dumps([case_id, user_id, int(now.timestamp()), found.sealed_facts()])


def seal_refusal(exc: Exception, user_id: int | None, now: datetime) -> str | None:
    """The seal of the fresh offers a refused booking gives instead (scheduler.errors.SlotTaken.fresh), if any."""
    fresh = getattr(exc, "fresh", None)
    if fresh is None or user_id is None:
        return None
    case_id, found = fresh
    return seal(found, case_id, user_id, now)


def unseal(token: object, case: Case, user: User, now: datetime) -> CaseOffers | None:
    """The offers sealed in `token` if it is genuine, this case's and this person's, and recent; else None."""
    if not isinstance(token, str) or not token:
        return None
    try:
        case_id, user_id, at, facts = _serializer().loads(token)
        if case_id != case.id or user_id != user.id or not -SKEW_SECONDS <= now.timestamp() - at <= MAX_AGE_SECONDS:
            return None
        return CaseOffers.from_sealed(facts)
    except (BadData, TypeError, ValueError):  # forged, cut short, or from another version of the app
        return None
