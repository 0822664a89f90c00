"""Users, login sessions and API tokens."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.db import utcnow
from scheduler.errors import DomainError, NotFound
from scheduler.models import ROLES, ApiToken, Garage, User, UserSession
from scheduler.models.user import GARAGE_ROLES, digest

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
        raise DomainError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    if role in GARAGE_ROLES and not garage_id:
        raise DomainError(f"A {role} user belongs to a garage: give --garage.")
    if role not in GARAGE_ROLES and garage_id:
        raise DomainError(f"A {role} user works network-wide: do not give a garage.")
    if garage_id and session.get(Garage, garage_id) is None:
        raise NotFound(f"No garage {garage_id!r}.")
    if len(password) < 8:
        raise DomainError("The password needs at least 8 characters.")
    if session.scalar(select(User).where(User.username == username)):
        raise DomainError(f"The username {username!r} is taken.")
    user = User(username=username, role=role, garage_id=garage_id, display_name=display_name or username)
    user.set_password(password)
    session.add(user)
    session.flush()
    return user


def create_token(session: Session, username: str) -> str:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"No user {username!r}.")
    token = "fl_" + secrets.token_urlsafe(32)
    session.add(ApiToken(token_hash=digest(token), user=user))
    session.flush()
    return token


def tokens(session: Session, actor: User) -> list[ApiToken]:
    """One's own API tokens; every token for an admin."""
    query = select(ApiToken).order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    if actor.role != "admin":
        query = query.where(ApiToken.user_id == actor.id)
    return list(session.scalars(query))


def issue_token(session: Session, user: User) -> tuple[ApiToken, str]:
    """A new token for the user: the secret is shown once, only its hash is kept."""
    secret = "fl_" + secrets.token_urlsafe(32)
    row = ApiToken(token_hash=digest(secret), user=user)
    session.add(row)
    session.flush()
    return row, secret


def revoke_token(session: Session, actor: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or (actor.role != "admin" and row.user_id != actor.id):
        raise NotFound(f"No token {token_id} of yours.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        session.flush()
    return row
