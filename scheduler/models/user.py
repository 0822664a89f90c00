"""Users, their login sessions (revocable server-side) and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, String, false
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship
from werkzeug.security import check_password_hash

from scheduler.db import Base, UTCDateTime, utcnow

ROLES = ("operator", "reception", "workshop", "planner", "admin")
GARAGE_ROLES = ("reception", "workshop")


# The teams of the network-wide roles; a garage's staff are "<garage> <role>".
NETWORK_TEAMS = {"operator": "call centre", "planner": "planning", "admin": "administration"}


def team_of(role: str, garage_id: str | None) -> str:
    """The team a user of this role (at this garage) counts towards: the one naming of teams."""
    return f"{garage_id} {role}" if garage_id else NETWORK_TEAMS[role]


def teams(garage_ids: Iterable[str]) -> set[str]:
    """Every team there can be in a network of these garages."""
    return {*NETWORK_TEAMS.values(), *(team_of(role, g) for g in garage_ids for role in GARAGE_ROLES)}


# argon2id at OWASP ASVS 5.0 strength (19 MiB, 2 passes, 1 lane), stated here, not left to library defaults.
# Older hashes (werkzeug's scrypt) still verify, and are upgraded at the next successful login.
PASSWORDS = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


NOT_LOADED = object()


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(20))
    garage_id: Mapped[str | None] = mapped_column(ForeignKey("garage.id"))
    locale: Mapped[str | None] = mapped_column(String(5))
    active: Mapped[bool] = mapped_column(default=True)
    # Set by an admin who chose the password (a new user, a reset): the user picks their own at next login.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    garage: Mapped[Garage | None] = relationship()

    # The login session (or API token) this object was loaded through; set by the web layer.
    session_token = None
    via_token = False
    bearer_token = None
    # Its language as loaded with it (None: the browser's): a refusal's rollback expires the user, and wording the
    # refusal must not read it again (a new transaction only for that; on SQLite a write one, queued behind every
    # writer). NOT_LOADED when the user was not loaded through a session or a token (a login in progress).
    reads_in = NOT_LOADED
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str | None:
        return self.session_token

    def set_password(self, password: str) -> None:
        self.password_hash = PASSWORDS.hash(password)

    def check_password(self, password: str) -> bool:
        if not self.password_hash.startswith("$argon2"):
            return check_password_hash(self.password_hash, password)
        try:
            return PASSWORDS.verify(self.password_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    @property
    def password_outdated(self) -> bool:
        """Hashed another way or with weaker parameters than today's: rehash at the next login."""
        return not self.password_hash.startswith("$argon2") or PASSWORDS.check_needs_rehash(self.password_hash)

    @property
    def team(self) -> str:
        """The team whose statistics this user's actions count towards."""
        return team_of(self.role, self.garage_id)

    def can_see_garage(self, garage_id: str | None) -> bool:
        return self.role not in GARAGE_ROLES or garage_id == self.garage_id


class _Credential:
    """A secret shown once, stored as its SHA-256, revocable."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @declared_attr
    def user(cls) -> Mapped[User]:
        return relationship(User)


class UserSession(_Credential, Base):
    """One login. Logging out revokes it, so a copied session cookie stops working."""

    __tablename__ = "user_session"

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(32)


class ApiToken(_Credential, Base):
    __tablename__ = "api_token"


from scheduler.models.garage import Garage  # noqa: E402
