"""the case timeline is append-only: the database refuses UPDATE, DELETE and TRUNCATE on case_event

Revision ID: f6b5c9a1e006
Revises: e5a4b8f0d005
Create Date: 2026-11-25 19:30:00

"""
from alembic import op

from scheduler.db import append_only_pg, append_only_sqlite

revision = 'f6b5c9a1e006'
down_revision = 'e5a4b8f0d005'
branch_labels = None
depends_on = None


def upgrade():
    statements = {"postgresql": append_only_pg, "sqlite": append_only_sqlite}.get(op.get_bind().dialect.name)
    for statement in statements("case_event") if statements else []:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS case_event_append_only ON case_event")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_truncate ON case_event")
    else:
        op.execute("DROP TRIGGER IF EXISTS case_event_no_update")
        op.execute("DROP TRIGGER IF EXISTS case_event_no_delete")
