"""The standard rules, versioned: the version in force at a moment, and a change as a new version.

A version is never edited. The rule offer of any moment is computed with the version in force
then, so an override is judged against the rules its people were up against.
"""

from __future__ import annotations

import math
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from scheduler.errors import Conflict, Invalid
from scheduler.models import URGENCIES, Policy, User
from scheduler.models.policy import DEFAULT_NOTICE, DEFAULT_WEIGHTS
from scheduler.texts import N_
from scheduler.typed import as_number

# Every field a planner may change: its path, its kind, and its bounds. Paths are what errors name.
#   (path, attribute, type, minimum, maximum)
FIELDS: list[tuple[str, str, type, float | None, float | None]] = [
    ("rule.garages", "rule_garages", int, 1, 50),
    *[(f"rule.min_notice_minutes.{u}", f"notice.{u}", int, 0, 60 * 24 * 60) for u in URGENCIES],
    ("search_radius_km", "search_radius_km", float, 1, 500),
    ("horizon_days", "horizon_days", int, 1, 180),
    ("p1_reserve_minutes", "p1_reserve_minutes", int, 0, 24 * 60),
    ("same_day_visible", "same_day_visible", bool, None, None),
    ("max_moves", "max_moves", int, 0, 50),
    ("offers", "offers", int, 1, 20),
    ("allow_overbook", "allow_overbook", bool, None, None),
    ("direct_line_expiry_minutes", "direct_line_expiry_minutes", int, 1, 24 * 60),
    ("travel_speed_kmh", "travel_speed_kmh", float, 1, 200),
    ("time_limit_seconds", "time_limit_seconds", float, 0.1, 60),
    *[(f"weights.wait.{u}", f"weights.wait.{u}", float, 0, 1e6) for u in URGENCIES],
    *[(f"weights.{k}", f"weights.{k}", float, 0, 1e9) for k in ("travel_km", "move", "shift_minute", "unplaced")],
]
PATHS = {path: (attr, kind, low, high) for path, attr, kind, low, high in FIELDS}


def in_force_then(session: Session, at: datetime) -> Policy | None:
    """The newest version created at or before `at`; None before the first one (nothing was in force)."""
    return session.scalar(select(Policy).where(Policy.active.is_(True), Policy.created_at <= at).order_by(
        Policy.created_at.desc(), Policy.version.desc()).limit(1))


def in_force(session: Session, at: datetime) -> Policy:
    """The rules to plan by at `at`: the version in force then, or the first version if `at` is before every one
    (a replay of a period older than the first version still needs rules)."""
    return in_force_then(session, at) or session.scalar(
        select(Policy).where(Policy.active.is_(True)).order_by(Policy.version).limit(1)) or Policy(version=0)


def visible_from(same_day_visible: bool | None, urgency: str, now: datetime, zone: tzinfo) -> datetime:
    """When the call centre's offers may start: now, or, under a policy that keeps the rest of today from the call
    centre (the garages keep it for walk-ins and squeeze-ins), the next local midnight. Never for a P1: its target
    is today; nor for a walk-in, at the counter already (its callers ask for the call centre's cases only). The one
    definition, for the desk's offers and rule offer and for a replay's."""
    if same_day_visible is not False or urgency == "P1":  # unset (no policy on record): visible, as before
        return now
    return datetime.combine(now.astimezone(zone).date() + timedelta(days=1), time(0), zone)


def in_force_over(session: Session, start: datetime, end: datetime) -> list[Policy]:
    """Every version that was in force at some moment of [start, end): the one at its start, and those
    created during it."""
    first = in_force(session, start)
    return [first, *(p for p in session.scalars(select(Policy).where(
        Policy.active.is_(True), Policy.created_at > start, Policy.created_at < end).order_by(Policy.created_at))
        if p.id != first.id)]


def typed(path: str, value: str) -> Any:
    """A value typed on a page as the API takes it: yes/no in either language for a true-or-false field
    (anything else is left for `validate` to refuse)."""
    if path in PATHS and PATHS[path][1] is bool:
        return {"true": True, "vrai": True, "yes": True, "oui": True, "1": True,
                "false": False, "faux": False, "no": False, "non": False, "0": False}.get(value.strip().lower(), value.strip())
    if path in PATHS:
        return as_number(value)
    return value.strip()


def versions(session: Session) -> list[Policy]:
    return list(session.scalars(select(Policy).order_by(Policy.version.desc())))


def flatten(fields: Any, prefix: str = "") -> dict[str, Any]:
    """{"rule": {"garages": 3}} → {"rule.garages": 3}; dotted keys are taken as they are."""
    if not isinstance(fields, dict):
        raise Invalid(N_("The policy changes must be an object of fields, e.g. {\"rule\": {\"garages\": 3}}."),
                      field=prefix or "policy")
    flat: dict[str, Any] = {}
    for key, value in fields.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, path + "."))
        else:
            flat[path] = value
    return flat


# What a version says of itself (GET shows it), not a rule: a body read, changed and posted back carries them.
ABOUT = ("version", "created_at", "created_by")


def validate(fields: Any, current: Policy | None = None) -> dict[str, Any]:
    """The changed fields, flat and typed; an unknown field or a bad value is a 400 naming it. With `current`, a
    version's description of itself and a field shown but fixed (the slot grid) are taken back as they were."""
    clean: dict[str, Any] = {}
    for path, value in flatten(fields).items():
        if current is not None and (path in ABOUT or (
                path not in PATHS and path != "note" and _shown(current, path) and value_at(current, path) == value)):
            continue
        if current is not None and path not in PATHS and path != "note" and _shown(current, path) \
                and isinstance(value_at(current, path), dict):  # "rule": null, not the rule's fields
            raise Invalid(N_("%(path)s holds fields (%(fields)s): give it as an object of them."), field=path,
                          words={"path": path, "fields": ", ".join(p for p in PATHS if p.startswith(path + "."))})
        if current is not None and path not in PATHS and path != "note" and _shown(current, path):
            raise Invalid(N_("%(path)s is fixed: it cannot be changed here."), field=path, words={"path": path})
        if path == "note":
            if not isinstance(value, str) or len(value) > 200:
                raise Invalid(N_("note must be text of at most 200 characters."), field="note")
            clean[path] = value.strip()
            continue
        if path not in PATHS:
            raise Invalid(N_("%(path)s is not a policy field (fields: %(fields)s)."), field=path,
                          words={"path": path, "fields": ", ".join(PATHS)})
        _attr, kind, low, high = PATHS[path]
        if kind is bool:
            if not isinstance(value, bool):
                raise Invalid(N_("%(path)s must be true or false."), field=path, words={"path": path})
            clean[path] = value
            continue
        if isinstance(value, str):  # the API takes JSON numbers; a page's text is read by `typed`
            raise Invalid(N_("%(path)s must be a number (got %(value)s)."), field=path,
                          words={"path": path, "value": repr(value)})
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise Invalid(N_("%(path)s must be a number."), field=path, words={"path": path})
        if isinstance(value, int) and abs(value) > 2 ** 53 or not math.isfinite(value):  # beyond any bound
            raise Invalid(N_("%(path)s must be between %(low)s and %(high)s."), field=path,
                          words={"path": path, "low": float(low), "high": float(high)})
        if kind is int and not float(value).is_integer():
            raise Invalid(N_("%(path)s must be a whole number."), field=path, words={"path": path})
        if value < low or value > high:
            raise Invalid(N_("%(path)s must be between %(low)s and %(high)s (got %(value)s)."), field=path,
                          words={"path": path, "low": float(low), "high": float(high), "value": float(value)})
        clean[path] = int(value) if kind is int else float(value)
    return clean


def apply(policy: Policy, changes: dict[str, Any]) -> Policy:
    """A copy of `policy` (not added to any session) with the validated changes."""
    copy = Policy(**{c.key: getattr(policy, c.key) for c in Policy.__table__.columns if c.key != "id"})
    copy.notice_minutes = dict(policy.notice_minutes or DEFAULT_NOTICE)
    weights = policy.weights or DEFAULT_WEIGHTS
    copy.weights = {**weights, "wait": dict(weights.get("wait", DEFAULT_WEIGHTS["wait"]))}
    for path, value in changes.items():
        if path == "note":
            copy.note = value
            continue
        attr = PATHS[path][0]
        if attr.startswith("notice."):
            copy.notice_minutes[attr.split(".")[1]] = value
        elif attr.startswith("weights.wait."):
            copy.weights["wait"][attr.split(".")[2]] = value
        elif attr.startswith("weights."):
            copy.weights[attr.split(".")[1]] = value
        else:
            setattr(copy, attr, value)
    return copy


def change(session: Session, actor: User, fields: dict, now: datetime, *, restated: bool = False) -> Policy:
    """A new version: the one in force now with the changed fields, by `actor`, from `now` on.

    `restated` (the API): fields given with the values in force are a new version all the same (a planner's
    "these are the rules from now on", API.md's 201); a page refuses a save that changes nothing."""
    current = in_force(session, now)
    not_stale(fields, current)
    changes = validate(fields, current if restated else None)
    if not [p for p in changes if p != "note"]:  # a note alone changes no rule
        # {"version": 99}: a version's description of itself, given another value, is named as the field at fault
        about = next((p for p in ABOUT if p in fields and fields[p] != value_at(current, p)), None)
        if about is not None:
            raise Invalid(N_("%(path)s is given by the server with each new version: change the policy's fields "
                             "instead."), field=about, words={"path": about})
        raise Invalid(N_("Change at least one field of the policy."), field="policy")
    # a value typed another way (30.0 for 30) is no change: a version that changes nothing would say it did
    changes = {p: v for p, v in changes.items() if p == "note" or value_at(current, p) != v}
    if not [p for p in changes if p != "note"] and not restated:
        raise Invalid(N_("Nothing changed: the rules in force already say this."), field="policy")
    version = apply(current, changes)
    version.version = (session.scalar(select(func.max(Policy.version))) or 0) + 1
    version.active, version.created_at, version.created_by_id = True, now, actor.id
    # no note is no note: what changed is a fact of the versions (differences), shown in the reader's language
    version.note = changes.get("note") or ""
    try:
        with session.begin_nested():  # a colleague's save of the same number at the same moment: theirs stands
            session.add(version)
            session.flush()
    except IntegrityError:
        raise Conflict(N_("Another version was saved at the same moment: read the policy again and make the change "
                          "on it."), field="version") from None
    # the admin's trail of who changed what: each rule from and to (the versions keep the whole)
    from scheduler.services import audit

    audit.record(session, actor, "policy", version.version, "created",
                 {**{p: (value_at(current, p), v) for p, v in changes.items() if p != "note"},
                  **({"note": (None, version.note)} if version.note else {})}, now)
    return version


def not_stale(fields: Any, current: Policy) -> None:
    """A change sent with the version it was read from (the whole document of GET, edited) is made on that version
    only: two planners editing at once, the second would otherwise undo the first's change unknowing (409). A
    version that never was (later than the one in force, or no whole number) is a 400 naming it."""
    given = fields.get("version") if isinstance(fields, dict) else None
    if given is None or given == current.version:
        return
    if isinstance(given, int) and not isinstance(given, bool) and 0 < given < current.version:
        raise Conflict(N_("Version %(given)s is no longer in force: version %(current)s is. Read it again and make "
                          "the change on it."), words={"given": given, "current": current.version},
                       field="version", current=current.version)
    raise Invalid(N_("%(path)s is given by the server with each new version: change the policy's fields instead."),
                  field="version", words={"path": "version"})


def as_dict(policy: Policy, names: dict[int, str] | None = None) -> dict:
    """The version in the API's shape: the same paths a change names."""
    weights = policy.weights or DEFAULT_WEIGHTS
    return {
        "version": policy.version, "created_at": policy.created_at.isoformat() if policy.created_at else None,
        "created_by": (names or {}).get(policy.created_by_id), "note": policy.note,
        "rule": {"garages": policy.rule_garages, "min_notice_minutes": {u: policy.notice(u) for u in URGENCIES}},
        "search_radius_km": policy.search_radius_km, "horizon_days": policy.horizon_days,
        "p1_reserve_minutes": policy.p1_reserve_minutes, "same_day_visible": policy.same_day_visible,
        "max_moves": policy.max_moves, "offers": policy.offers, "allow_overbook": policy.allow_overbook,
        "direct_line_expiry_minutes": policy.direct_line_expiry_minutes, "slot_minutes": policy.slot_minutes,
        "travel_speed_kmh": policy.travel_speed_kmh, "time_limit_seconds": policy.time_limit_seconds,
        "weights": weights,
    }


def _shown(policy: Policy, path: str) -> bool:
    """Whether the version's dict (GET) has this path."""
    node: Any = as_dict(policy)
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return False
        node = node[key]
    return True


def value_at(policy: Policy, path: str) -> Any:
    node: Any = as_dict(policy)
    for key in path.split("."):
        node = node[key]
    return node


def differences(before: Policy, after: Policy) -> list[tuple[str, Any, Any]]:
    """(path, before, after) of every field the two versions disagree on: what a version changed."""
    return [(p, value_at(before, p), value_at(after, p)) for p in PATHS if value_at(before, p) != value_at(after, p)]


def creators(session: Session, policies: list[Policy], named: bool = False) -> dict[int, str]:
    """Who made each version: by username (the API's created_by), or `named` by their name (a page's "By")."""
    ids = {p.created_by_id for p in policies if p.created_by_id}
    column = User.display_name if named else User.username
    return dict(session.execute(select(User.id, column).where(User.id.in_(ids))).all()) if ids else {}
