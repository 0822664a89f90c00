"""capacity guard: a job taken over by a colleague at the same time keeps the lift it holds (only a new time, a
new garage or a new lift is checked against the lifts)

Revision ID: e1a2b3c4d012
Revises: d0f4e6a8b011
Create Date: 2026-11-27 21:40:00

"""
from alembic import op

from scheduler.models.appointment import GUARD_PG, GUARD_SQLITE

revision = 'e1a2b3c4d012'
down_revision = 'd0f4e6a8b011'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(next(s for s in GUARD_PG if "CREATE OR REPLACE FUNCTION appointment_guard" in s))
    elif dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS appointment_guard_update")
        op.execute(next(s for s in GUARD_SQLITE if "appointment_guard_update" in s))


def downgrade():
    pass  # the stricter guard of before refused hand-overs the lifts never changed for: not restored
