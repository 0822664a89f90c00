"""A booked piece of work. The database itself refuses two active ones on one technician at once."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import DDL, CheckConstraint, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from scheduler.db import Base, UTCDateTime, utcnow

STATUSES = ("booked", "checked_in", "in_progress", "done", "cancelled", "no_show")
# Inside one transaction only, while a plan is applied: every moved appointment leaves its old place before
# any takes its new one, so a chain of moves or a swap never meets itself half-way. Never committed.
MOVING = "moving"
ACTIVE = ("booked", "checked_in", "in_progress")
CHANNELS = ("call_centre", "direct_line", "walk_in")


class Appointment(Base):
    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint("end_at > start_at", name="positive_duration"),
        Index("ix_appointment_tech_time", "technician_id", "start_at"),
        Index("ix_appointment_garage_time", "garage_id", "start_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_file.id"), index=True)
    garage_id: Mapped[str] = mapped_column(ForeignKey("garage.id"))
    technician_id: Mapped[str] = mapped_column(ForeignKey("technician.id"))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="booked")
    channel: Mapped[str] = mapped_column(String(20), default="call_centre")
    pinned: Mapped[bool] = mapped_column(default=False)
    # An overlap a person chose, with a reason (an override): the only way past the capacity guard.
    overbooked: Mapped[bool] = mapped_column(default=False)
    flex_minutes: Mapped[int] = mapped_column(default=60)
    lift: Mapped[bool] = mapped_column(default=True)
    skill_code: Mapped[str] = mapped_column(ForeignKey("skill.code"))
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    case: Mapped[Case] = relationship(back_populates="appointments")
    garage: Mapped[Garage] = relationship()
    technician: Mapped[Technician] = relationship()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def drawn(self) -> tuple[datetime, datetime]:
        """Where a timeline draws it: finished work where it really ran (done, it no longer holds its booked time,
        and drawn there it covered the next job's plate), a booking where it is booked."""
        if self.status == "done" and self.started_at and self.finished_at and self.finished_at > self.started_at:
            return self.started_at, self.finished_at
        return self.start_at, self.end_at

    @property
    def day(self) -> date:
        """Its day at its garage: the customer is checked in and the job started from that day on, not before."""
        return self.garage.today(self.start_at)

    def to_dict(self) -> dict:
        return {
            "id": self.id, "case": self.case_id, "garage": self.garage_id, "technician": self.technician_id,
            "start": self.start_at.isoformat(), "end": self.end_at.isoformat(), "status": self.status,
            "channel": self.channel, "pinned": self.pinned, "flex_minutes": self.flex_minutes,
            "overbooked": self.overbooked, "note": self.note,
            "checked_in_at": self.checked_in_at.isoformat() if self.checked_in_at else None,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "local_start": self.garage.local(self.start_at).isoformat() if self.garage else None,
        }


# The database has the last word on capacity, whatever path writes (scheduler/services/capacity.py is the
# application's side of the same rule). An active appointment that is not a consented overbooking may overlap
# no other active appointment of its technician (overbooked ones included), and, when it needs a lift, may not
# take its garage past its lifts. Overbooked rows are a person's explicit decision and pass.
# A status change that takes no new time (check-in, start) is not re-checked: it was checked when booked.
_ACTIVE = "('booked', 'checked_in', 'in_progress')"
TECHNICIAN_BUSY = "appointment_no_double_booking"
LIFTS_FULL = "appointment_lifts_full"

# PostgreSQL: the exclusion constraint (race-free by construction) for plain bookings, and a trigger for what
# it cannot say (a plain booking on top of an overbooked one; lift capacity). The trigger takes a lock per garage,
# so two bookings at one garage are checked one after the other and each sees the other once committed.
GUARD_PG = [
    "CREATE EXTENSION IF NOT EXISTS btree_gist",
    "ALTER TABLE appointment ADD CONSTRAINT appointment_no_double_booking EXCLUDE USING gist "
    "(technician_id WITH =, tstzrange(start_at, end_at, '[)') WITH &&) "
    f"WHERE (status IN {_ACTIVE} AND NOT overbooked)",
    f"""
CREATE OR REPLACE FUNCTION appointment_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    capacity integer;
    peak integer;
BEGIN
    IF NEW.status NOT IN {_ACTIVE} THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.status IN {_ACTIVE} AND NEW.technician_id = OLD.technician_id
       AND NEW.garage_id = OLD.garage_id AND NEW.start_at = OLD.start_at AND NEW.end_at = OLD.end_at
       AND NEW.lift = OLD.lift AND NEW.overbooked = OLD.overbooked THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('frontline.garage:' || NEW.garage_id));
    IF NEW.overbooked THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM appointment o
               WHERE o.technician_id = NEW.technician_id AND o.id <> NEW.id AND o.status IN {_ACTIVE}
                 AND o.start_at < NEW.end_at AND NEW.start_at < o.end_at) THEN
        RAISE EXCEPTION '{TECHNICIAN_BUSY}' USING ERRCODE = '23P01', CONSTRAINT = '{TECHNICIAN_BUSY}';
    END IF;
    -- the same job at the same time keeps the lift it holds: a colleague taking it over takes no new lift
    IF NEW.lift AND NOT (TG_OP = 'UPDATE' AND OLD.status IN {_ACTIVE} AND OLD.lift AND NOT OLD.overbooked
                         AND NEW.garage_id = OLD.garage_id AND NEW.start_at = OLD.start_at
                         AND NEW.end_at = OLD.end_at) THEN
        SELECT g.lifts INTO capacity FROM garage g WHERE g.id = NEW.garage_id;
        SELECT COALESCE(MAX((SELECT COUNT(*) FROM appointment o
                             WHERE o.garage_id = NEW.garage_id AND o.lift AND o.id <> NEW.id
                               AND o.status IN {_ACTIVE} AND o.start_at <= p.t AND p.t < o.end_at)), 0)
          INTO peak
          FROM (SELECT NEW.start_at AS t
                UNION SELECT o.start_at FROM appointment o
                 WHERE o.garage_id = NEW.garage_id AND o.lift AND o.id <> NEW.id AND o.status IN {_ACTIVE}
                   AND o.start_at > NEW.start_at AND o.start_at < NEW.end_at) p;
        IF peak + 1 > capacity THEN
            RAISE EXCEPTION '{LIFTS_FULL}' USING ERRCODE = '23P01', CONSTRAINT = '{LIFTS_FULL}';
        END IF;
    END IF;
    RETURN NEW;
END $$""",
    "CREATE TRIGGER appointment_guard BEFORE INSERT OR UPDATE ON appointment "
    "FOR EACH ROW EXECUTE FUNCTION appointment_guard()",
]

# SQLite: one writer at a time (every write transaction is BEGIN IMMEDIATE), so a trigger's check and the
# write cannot interleave with another booking.
_SQLITE_GUARD = f"""
CREATE TRIGGER appointment_guard_{{op}} BEFORE {{event}} ON appointment
WHEN NEW.status IN {_ACTIVE} AND NOT NEW.overbooked {{changed}}
BEGIN
    SELECT RAISE(ABORT, '{TECHNICIAN_BUSY}')
    WHERE EXISTS (
        SELECT 1 FROM appointment o
        WHERE o.technician_id = NEW.technician_id AND o.id IS NOT NEW.id AND o.status IN {_ACTIVE}
          AND o.start_at < NEW.end_at AND NEW.start_at < o.end_at
    );
    SELECT RAISE(ABORT, '{LIFTS_FULL}')
    WHERE NEW.lift {{same_lift}} AND 1 + (
        SELECT COALESCE(MAX((SELECT COUNT(*) FROM appointment o
                             WHERE o.garage_id = NEW.garage_id AND o.lift AND o.id IS NOT NEW.id
                               AND o.status IN {_ACTIVE} AND o.start_at <= p.t AND p.t < o.end_at)), 0)
        FROM (SELECT NEW.start_at AS t
              UNION SELECT o.start_at FROM appointment o
               WHERE o.garage_id = NEW.garage_id AND o.lift AND o.id IS NOT NEW.id AND o.status IN {_ACTIVE}
                 AND o.start_at > NEW.start_at AND o.start_at < NEW.end_at) p
    ) > (SELECT lifts FROM garage WHERE id = NEW.garage_id);
END
"""
_CHANGED = (f"AND (OLD.status NOT IN {_ACTIVE} OR NEW.technician_id IS NOT OLD.technician_id "
            "OR NEW.garage_id IS NOT OLD.garage_id OR NEW.start_at IS NOT OLD.start_at "
            "OR NEW.end_at IS NOT OLD.end_at OR NEW.lift IS NOT OLD.lift OR NEW.overbooked IS NOT OLD.overbooked)")
# the same job at the same time keeps the lift it holds: a colleague taking it over takes no new lift
_SAME_LIFT = (f"AND NOT (OLD.status IN {_ACTIVE} AND OLD.lift AND NOT OLD.overbooked AND NEW.garage_id IS OLD.garage_id "
              "AND NEW.start_at IS OLD.start_at AND NEW.end_at IS OLD.end_at)")
GUARD_SQLITE = [
    _SQLITE_GUARD.format(op="insert", event="INSERT", changed="", same_lift=""),
    _SQLITE_GUARD.format(op="update", event="UPDATE", changed=_CHANGED, same_lift=_SAME_LIFT),
]

for _statement in GUARD_PG:
    event.listen(Appointment.__table__, "after_create", DDL(_statement).execute_if(dialect="postgresql"))
for _statement in GUARD_SQLITE:
    event.listen(Appointment.__table__, "after_create", DDL(_statement).execute_if(dialect="sqlite"))

from scheduler.models.case import Case  # noqa: E402
from scheduler.models.garage import Garage  # noqa: E402
from scheduler.models.technician import Technician  # noqa: E402
