"""A stamp that changes whenever the network does (garages, hours, closed days, technicians, shifts, absences).

Planning keeps what it derives from the network (shift times, skills) between requests and asks
the stamp, one cheap read, whether that is still true. The stamp changes in the same transaction
as the change itself, so a reader never pairs new data with an old stamp.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DDL, String, event, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from scheduler.db import Base, UTCDateTime, utcnow


class NetworkStamp(Base):
    __tablename__ = "network_stamp"

    id: Mapped[int] = mapped_column(primary_key=True)
    stamp: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# The one row exists from the start, so that stamping is always an update.
event.listen(NetworkStamp.__table__, "after_create",
             DDL("INSERT INTO network_stamp (id, stamp, changed_at) VALUES (1, 'initial', CURRENT_TIMESTAMP)"))


def network_models() -> tuple[type, ...]:
    """What planning derives from: a change to any of these changes the stamp."""
    from scheduler.models import Absence, ClosedDay, Garage, OpeningHours, ShiftPattern, Skill, Technician

    return (Garage, OpeningHours, ClosedDay, Technician, ShiftPattern, Absence, Skill)


def touch(session: Session) -> None:
    """Mark the network changed (also for writes that bypass the ORM, e.g. bulk SQL)."""
    session.execute(update(NetworkStamp).values(stamp=uuid.uuid4().hex, changed_at=utcnow()))


@event.listens_for(Session, "before_flush")
def _restamp(session: Session, _context, _instances) -> None:
    # At every flush that changes the network, not once per transaction: what was derived between
    # two changes of one transaction must not pass for what holds after the second.
    models = network_models()
    if any(isinstance(o, models) for o in (*session.new, *session.deleted)) or any(
            isinstance(o, models) and session.is_modified(o) for o in session.dirty):
        touch(session)
