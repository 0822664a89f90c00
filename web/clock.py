"""The app's notion of now: the real clock, or a fixed one a test or a demo sets as CLOCK."""

from __future__ import annotations

from datetime import datetime

from flask import current_app

from scheduler.db import utcnow


def now() -> datetime:
    return current_app.config.get("CLOCK", utcnow)()
