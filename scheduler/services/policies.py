"""The policy in force: versions are never edited, so the rules of any moment can be replayed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.models import Policy


def in_force(session: Session, at: datetime) -> Policy:
    """The newest version created at or before `at`; the launch defaults when none is on record."""
    policy = session.scalar(select(Policy).where(Policy.created_at <= at).order_by(Policy.version.desc()).limit(1))
    return policy or session.scalar(select(Policy).order_by(Policy.version).limit(1)) or Policy(version=0)
