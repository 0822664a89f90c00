"""Users, login sessions and API tokens."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from scheduler.db import utcnow
from scheduler.errors import (
    DomainError,
    Forbidden,
    LastAdmin,
    NotFound,
    RuleBroken,
    Said,
    refuse_fields,
)
from scheduler.models import ROLES, ApiToken, Garage, User, UserSession
from scheduler.models.user import GARAGE_ROLES, digest
from scheduler.services import audit
from scheduler.texts import N_, Phrase

_dummy_hash: str | None = None


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        _spend_one_check(password)  # an unknown name costs as much as a wrong password
        return None
    if not user.active or not user.check_password(password):
        return None
    if user.password_outdated:
        user.set_password(password)  # the one moment the password is known: upgrade its hash
    return user


def _spend_one_check(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        probe = User(username="", role="operator", display_name="")
        probe.set_password(secrets.token_hex(8))
        _dummy_hash = probe.password_hash
    User(password_hash=_dummy_hash).check_password(password)


def open_session(session: Session, user: User, now: datetime | None = None) -> str:
    """A new login; its lifetime counts from `now` (the app's clock)."""
    token = UserSession.new_token()
    session.add(UserSession(token_hash=digest(token), user=user, created_at=now or utcnow()))
    session.flush()
    return token


def revoke_session(session: Session, token: str) -> None:
    row = session.scalar(select(UserSession).where(UserSession.token_hash == digest(token)))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()


def create_user(session: Session, username: str, role: str, password: str, garage_id: str | None = None,
                display_name: str | None = None) -> User:
    if role not in ROLES:
        raise DomainError(N_("Unknown role %(role)s: choose one of %(roles)s."),
                          words={"role": repr(role), "roles": ", ".join(ROLES)})
    if role in GARAGE_ROLES and not garage_id:
        raise DomainError(N_("A %(role)s user belongs to a garage: give --garage."), words={"role": Phrase(role)})
    if role not in GARAGE_ROLES and garage_id:
        raise DomainError(N_("The %(role)s role works network-wide: do not give a garage."),
                          words={"role": Phrase(role)})
    if garage_id and session.get(Garage, garage_id) is None:
        raise NotFound(N_("No garage %(garage)s."), words={"garage": repr(garage_id)})
    if len(password) < 8:
        raise DomainError(Said(N_("The password needs at least %(least)s characters."), least=MIN_PASSWORD))
    if session.scalar(select(User).where(User.username == username)):
        raise DomainError(N_("The username %(username)s is taken."), words={"username": repr(username)})
    user = User(username=username, role=role, garage_id=garage_id, display_name=display_name or username)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, username: str, now: datetime | None = None) -> str:
    """A new token for the user of that name (the command line's), by the same rule as the API's (issue_token)."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(audit.NOT_FOUND["user"], words={"key": repr(username)})
    return issue_token(session, user, now)[1]


def tokens(session: Session, actor: User) -> list[ApiToken]:
    """One's own API tokens; every token for an admin."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if actor.role != "admin":
        query = query.where(ApiToken.user_id == actor.id)
    return list(session.scalars(query))


def issue_token(session: Session, user: User, now: datetime | None = None) -> tuple[ApiToken, str]:
    """A new token for the user: the secret is shown once, only its hash is kept. Not on a password an admin
    chose (a first one, a reset): a token would outlive it, and the change it is due would be for show."""
    if user.must_change_password:
        raise Forbidden(N_("Choose your own password first (POST /api/v1/account/password), then ask for a token."))
    secret = "fl_" + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=digest(secret), user=user, created_at=now or utcnow())
    session.add(row)
    session.flush()
    return row, secret


def revoke_token(session: Session, actor: User, token_id: int, now: datetime | None = None) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or (actor.role != "admin" and row.user_id != actor.id):
        raise NotFound(N_("No token %(token)s of yours."), words={"token": token_id})
    if row.revoked_at is None:
        row.revoked_at = now or utcnow()
        session.flush()
    return row


# -- the admin desk: people come, change jobs, leave; the last admin stays -----------------------------------

MIN_PASSWORD = 8
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,59}$")


def password_problem(password: object) -> str | None:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return Said(N_("The password needs at least %(least)s characters."), least=MIN_PASSWORD)
    if len(password) > 200:
        return N_("The password is longer than 200 characters.")
    if not password.strip():
        return N_("The password cannot be spaces only.")
    return None


def name_problem(name: object) -> str | None:
    """A person's name as every list shows it: one line of text, at most 120 characters."""
    if not isinstance(name, str) or not name.strip() or len(name) > 120 \
            or any(unicodedata.category(c) == "Cc" for c in name):
        return N_("Give the person's name on one line (at most 120 characters).")
    return None


def user_dict(user: User) -> dict:
    return {"id": user.id, "username": user.username, "name": user.display_name, "role": user.role,
            "garage": user.garage_id, "active": user.active, "must_change_password": user.must_change_password,
            "created_at": user.created_at.isoformat() if user.created_at else None}


def users(session: Session, actor: User) -> list[User]:
    audit.require_admin(actor)
    return list(session.scalars(select(User).order_by(User.role, User.username)))


def get_user(session: Session, actor: User, user_id: object) -> User:
    return audit.find(session, actor, User, user_id, "user", int)


def _placement_problems(session: Session, role: object, garage_id: object) -> dict[str, str]:
    """Role and garage together: a garage-bound role needs a garage of the network, the others none."""
    if role not in ROLES:
        return {"role": Said(N_("Choose a role: %(roles)s."), roles=", ".join(ROLES))}
    if role in GARAGE_ROLES:
        if not garage_id:
            return {"garage": Said(N_("A %(role)s user belongs to a garage: choose one."), role=Phrase(role))}
        if not isinstance(garage_id, str) or session.get(Garage, garage_id) is None:
            return {"garage": Said(N_("No garage %(garage)s."), garage=repr(garage_id))}
    elif garage_id:
        return {"garage": Said(N_("The %(role)s role works network-wide: leave the garage empty."), role=Phrase(role))}
    return {}


def add_user(session: Session, actor: User, data: dict, now: datetime) -> User:
    """A new user with a first password chosen by the admin, which they must change at their first login."""
    audit.require_admin(actor)
    username = data.get("username")
    name = data.get("name") or username
    role, garage_id, password = data.get("role"), data.get("garage") or None, data.get("password")
    active = data.get("active", True)
    # as a change does: a field the user does not have (or misspelt, "actve") is said, not dropped
    problems = {field: Said(N_("%(field)s is not a user's field."), field=field)
                for field in sorted(set(data) - {"username", "name", "role", "garage", "password", "active"})}
    if not isinstance(active, bool):
        problems["active"] = N_("active is true or false.")
    if not isinstance(username, str) or not USERNAME.match(username):
        problems["username"] = N_("A username is 2 to 60 characters: lower-case letters, digits, dot, dash or "
                                  "underscore, starting with a letter or digit.")
    elif session.scalar(select(User.id).where(User.username == username)) is not None:
        problems["username"] = Said(N_("The username %(username)s is taken."), username=repr(username))
    if (why := name_problem(name)) is not None:
        problems["name"] = why
    problems.update(_placement_problems(session, role, garage_id))
    if (why := password_problem(password)) is not None:
        problems["password"] = why
    taken = {"username"} if isinstance(problems.get("username"), Said) else set()
    refuse_fields(problems, taken=taken)
    user = User(username=username, display_name=name.strip(), role=role, garage_id=garage_id, active=active,
                must_change_password=True, created_at=now)
    user.set_password(password)
    session.add(user)
    session.flush()
    audit.record(session, actor, "user", user.id, "created",
                 {"username": (None, username), "name": (None, user.display_name), "role": (None, role),
                  "garage": (None, garage_id), "active": (None, active), "password": (None, audit.SECRET)}, now)
    return user


def lock_admins(session: Session) -> None:
    """Admin demotions and deactivations in turn, so two at once cannot leave the network without an admin.

    PostgreSQL: a transaction-level advisory lock. SQLite runs one writer at a time (BEGIN IMMEDIATE).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('frontline.admins'))"))


def change_user(session: Session, actor: User, user: User, data: dict, now: datetime) -> User:
    """Role, garage, name, active; a password given here is a reset. Deactivation ends sessions and tokens."""
    audit.require_admin(actor)
    unknown = set(data) - {"name", "role", "garage", "active", "password"}
    problems = {field: Said(N_("%(field)s cannot be changed here."), field=field) for field in sorted(unknown)}
    role = data.get("role", user.role)
    garage_id = data.get("garage", user.garage_id) or None
    if "role" in data and role not in GARAGE_ROLES and "garage" not in data:
        garage_id = None  # promoted off the garage floor: no garage any more
    if "role" in data or "garage" in data:
        problems.update(_placement_problems(session, role, garage_id))
    name = data.get("name", user.display_name)
    if (why := name_problem(name)) is not None:
        problems["name"] = why
    active = data.get("active", user.active)
    if not isinstance(active, bool):
        problems["active"] = N_("active is true or false.")
    if "password" in data and (why := password_problem(data["password"])) is not None:
        problems["password"] = why
    refuse_fields(problems)
    if user.role == "admin" and user.active and (role != "admin" or not active):
        lock_admins(session)
        others = session.scalar(select(func.count(User.id)).where(
            User.role == "admin", User.active.is_(True), User.id != user.id))
        if not others:
            raise LastAdmin(N_("This is the last active admin: make another user admin first."),
                            field="role" if role != "admin" else "active")
    if user.id == actor.id and user.active and not active:
        # an admin who unticked their own "active" was shut out at once, mid-form; stepping down a role stays theirs
        raise RuleBroken(N_("You cannot deactivate your own account: another admin can."), field="active")
    changes = audit.apply(user, {"role": role, "garage_id": garage_id, "display_name": name.strip(),
                                 "active": active})
    changes = {{"garage_id": "garage", "display_name": "name"}.get(k, k): v for k, v in changes.items()}
    if "password" in data:
        user.set_password(data["password"])
        user.must_change_password = True
        changes["password"] = (audit.SECRET, audit.SECRET)
    if not active or "password" in data or "role" in changes or "garage" in changes:
        # what they could reach has changed: they log in again, under the new rules; a password reset (a leak
        # feared) ends their API tokens too, as leaving does
        end_sessions(session, user, now, tokens=not active or "password" in data)
    if changes:
        session.flush()
        action = "deactivated" if changes.get("active") == (True, False) else \
            "reactivated" if changes.get("active") == (False, True) else \
            "password_reset" if list(changes) == ["password"] else "changed"
        audit.record(session, actor, "user", user.id, action, changes, now)
    return user


def end_sessions(session: Session, user: User, now: datetime, keep: str | None = None, tokens: bool = False) -> int:
    """Revoke the user's live sessions, and their API tokens if asked: all but `keep`, the session or token
    the request came with."""
    models = (UserSession, ApiToken) if tokens else (UserSession,)
    ended = 0
    for model in models:
        query = select(model).where(model.user_id == user.id, model.revoked_at.is_(None))
        if keep:
            query = query.where(model.token_hash != digest(keep))
        for row in session.scalars(query):
            row.revoked_at = now
            ended += 1
    session.flush()
    return ended


def change_own_password(session: Session, user: User, current: object, new: object, keep: str | None,
                        now: datetime) -> User:
    """The user's own new password: their other sessions and API tokens end (a stolen one with them, or a token
    made with a leaked password); `keep` is the session or token the change came through."""
    problems = {}
    if not isinstance(current, str) or not user.check_password(current):
        problems["current_password"] = N_("That is not your current password.")
    if (why := password_problem(new)) is not None:
        problems["new_password"] = why
    elif isinstance(current, str) and new == current:
        problems["new_password"] = N_("Choose a password different from the current one.")
    refuse_fields(problems)
    user.set_password(new)
    user.must_change_password = False
    ended = end_sessions(session, user, now, keep=keep, tokens=True)
    audit.record(session, user, "user", user.id, "password_changed",
                 {"password": (audit.SECRET, audit.SECRET), "other_sessions_ended": (None, ended)}, now)
    return user
