"""Why the standard rules could not offer earlier, in the reader's language, from the optimizer's facts.

The optimizer states LateReason facts (code, free_at, garage, minutes); the scheduler keeps them as dicts
with ISO times (Slot.reason_facts, Override.reasons). Only here do they become words.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import get_locale, ngettext
from flask_babel import gettext as _

from scheduler.network import network
from web.extensions import db
from web.filters import local_datetime, minutes_label


def _garage(garage_id: str | None, garages: dict):
    return garages.get(garage_id) if garage_id else None


def _name(garage_id: str | None, garages: dict) -> str:
    garage = _garage(garage_id, garages)
    return getattr(garage, "name", garage) or garage_id or "?"


def _when(reason: dict, garages: dict) -> str:
    free_at = reason["free_at"]
    garage = _garage(reason.get("garage"), garages)
    return local_datetime(datetime.fromisoformat(free_at), garage if hasattr(garage, "local") else None)


def reason_text(reason: dict, garages: dict) -> str:
    """One reason. `garages` maps ids to Garage objects or to names.

    Older rows kept only the optimizer's note (Override.reasons reads the rule back from it): a reason without
    its time or garage is said without them, never with a "?" in their place."""
    code, minutes = reason.get("code") or "none", reason.get("minutes")
    known = bool(reason.get("free_at"))
    if code == "min_notice":
        if not minutes:
            return _("the minimum notice")
        if not known:
            return _("minimum notice of %(time)s", time=minutes_label(minutes, days=False))
        return _("minimum notice of %(time)s (free at %(when)s otherwise)", time=minutes_label(minutes, days=False),
                 when=_when(reason, garages))
    if code == "rule_garages":
        if not (known and reason.get("garage")):
            return ngettext("only the nearest garage is looked at", "only the first %(num)s garages are looked at",
                            minutes or 1)
        return ngettext("only the nearest garage is looked at (%(garage)s is free at %(when)s)",
                        "only the first %(num)s garages are looked at (%(garage)s is free at %(when)s)",
                        minutes or 1, garage=_name(reason.get("garage"), garages), when=_when(reason, garages))
    if code == "lifts_full":
        if not known:
            return _("every lift is taken until then")
        return _("every lift is taken until then (a technician is free at %(when)s)", when=_when(reason, garages))
    if code == "no_technician":
        return _("no qualified technician is free earlier")
    if code == "travel":
        if not (reason.get("garage") and minutes):
            return _("the customer cannot be there earlier")
        return _("the customer cannot be at %(garage)s earlier (%(minutes)s min away)",
                 garage=_name(reason.get("garage"), garages), minutes=minutes)
    if code == "outside_hours":
        return _("the garage is closed until then")
    if code == "same_day":
        return _("today's free time is kept for the garages' walk-ins")
    if code == "p1_reserve":
        if not minutes:
            return _("the days before keep their free time for P1 cases")
        return _("the days before keep %(time)s of free time for P1 cases", time=minutes_label(minutes, days=False))
    return _("nothing: it is the first possible slot")


def why_not_earlier(reasons, garages: dict) -> str:
    """All the reasons, as one sentence's parts."""
    separator = "\u202f; " if str(get_locale()) == "fr" else "; "
    return separator.join(reason_text(r, garages) for r in reasons) if reasons else reason_text({}, garages)


def worded(body: dict, key: str = "rule_offer") -> dict:
    """An API answer whose rule offer says why it is not earlier in the reader's language, from its stored reasons
    (the engine's own note is English prose; the reasons are the facts): the same words as the desks' pages."""
    rule = body.get(key)
    if not isinstance(rule, dict) or not rule.get("reasons"):
        return body
    return {**body, key: {**rule, "late_because": why_not_earlier(rule["reasons"], network(db.session).garages)}}
