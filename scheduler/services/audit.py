"""The admin audit trail: every admin service records here what it changed, as facts {field: [from, to]}.

Values are stored as JSON (times and days as ISO text); a secret is never stored, only that it changed.
"""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, selectinload

from scheduler.errors import Forbidden, Invalid, NotFound
from scheduler.models import AuditEntry, User
from scheduler.texts import N_

SECRET = "(secret)"  # what a password "was" and "became" in the trail


def fact(value: object) -> object:
    """A value as the trail stores it: plain JSON."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [fact(v) for v in value]
    if isinstance(value, dict):
        return {str(k): fact(v) for k, v in value.items()}
    return value


def require_admin(actor: User) -> None:
    if actor.role != "admin":
        raise Forbidden(N_("Only an admin changes the network, its people and its catalogue."))


# What an admin asks for by its id, and the refusal when there is no such row (`what` as find's callers name it).
NOT_FOUND = {"user": N_("No user %(key)s."), "technician": N_("No technician %(key)s."),
             "garage": N_("No garage %(key)s."), "job type": N_("No job type %(key)s."),
             "symptom": N_("No symptom %(key)s."), "skill": N_("No skill %(key)s.")}


def find(session: Session, actor: User, model: type, key: object, what: str, kind: type = str):
    """The row an admin asks for by its id, or a 404 that names it (an id of the wrong kind is not found)."""
    require_admin(actor)
    found = session.get(model, key) if isinstance(key, kind) and not isinstance(key, bool) else None
    if found is None:
        raise NotFound(NOT_FOUND.get(what.replace("_", " "), N_("Not found: %(key)s.")), words={"key": repr(key)})
    return found


def record(session: Session, actor: User | None, entity: str, entity_id: object, action: str,
           changes: dict, now: datetime) -> AuditEntry:
    """Append one entry: `changes` maps each field to (from, to)."""
    entry = AuditEntry(at=now, actor_id=actor.id if actor else None, entity=entity, entity_id=str(entity_id),
                       action=action, changes={k: [fact(a), fact(b)] for k, (a, b) in changes.items()})
    session.add(entry)
    session.flush()
    return entry


def apply(obj: object, values: dict) -> dict:
    """Set the attributes that differ; the (from, to) of each one changed."""
    changed = {}
    for name, value in values.items():
        before = getattr(obj, name)
        if before != value:
            setattr(obj, name, value)
            changed[name] = (before, value)
    return changed


# What the trail records changes of, as `record`'s callers name them.
ENTITIES = ("user", "garage", "technician", "skill", "job_type", "symptom", "policy")


def entries(session: Session, entity: str | None = None, entity_id: str | None = None, limit: int = 200,
            actor: User | None = None, start: datetime | None = None, end: datetime | None = None,
            before: AuditEntry | None = None) -> list[AuditEntry]:
    """Newest first: of one kind of thing (or one of them), by one person, in [start, end), older than `before`
    (the last entry of the page before)."""
    query = (select(AuditEntry).options(selectinload(AuditEntry.actor))
             .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit))
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if entity_id:
        query = query.where(AuditEntry.entity_id == entity_id)
    if actor is not None:
        query = query.where(AuditEntry.actor_id == actor.id)
    if start is not None:
        query = query.where(AuditEntry.at >= start)
    if end is not None:
        query = query.where(AuditEntry.at < end)
    if before is not None:
        query = query.where(or_(AuditEntry.at < before.at, and_(AuditEntry.at == before.at, AuditEntry.id < before.id)))
    return list(session.scalars(query))


def trail_query(session: Session, args: dict) -> dict:
    """The trail's filters as an address gives them (entity, entity_id, actor: a username, before: an entry's id),
    checked: a name that matches nothing is refused naming its field, not read as an empty trail."""
    found: dict = {}
    entity = (args.get("entity") or "").strip() or None
    if entity is not None and entity not in ENTITIES:
        raise Invalid(N_("entity is one of %(names)s."), field="entity", words={"names": ", ".join(ENTITIES)})
    found["entity"] = entity
    found["entity_id"] = (args.get("entity_id") or "").strip() or None
    username = (args.get("actor") or "").strip()
    if username:
        found["actor"] = session.scalar(select(User).where(User.username == username))
        if found["actor"] is None:
            raise Invalid(N_("No user %(key)s."), field="actor", words={"key": repr(username[:60])})
    before = (args.get("before") or "").strip()
    if before:
        anchor = session.get(AuditEntry, int(before)) if before.isascii() and before.isdigit() and \
            len(before) < 12 else None
        if anchor is None:
            raise Invalid(N_("before is the id of an entry of the trail."), field="before")
        found["before"] = anchor
    return found
