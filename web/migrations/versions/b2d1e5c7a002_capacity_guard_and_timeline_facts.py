"""capacity guard: overbooked rows no longer hide plain bookings, lifts are capped by the database;
the case timeline stores facts (data) instead of English text

Revision ID: b2d1e5c7a002
Revises: a1c0f0e1b001
Create Date: 2026-11-25 17:00:00

"""
import sqlalchemy as sa
from alembic import op

from scheduler.models.appointment import GUARD_PG, GUARD_SQLITE

revision = 'b2d1e5c7a002'
down_revision = 'a1c0f0e1b001'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("ALTER TABLE appointment DROP CONSTRAINT IF EXISTS appointment_no_double_booking")
        for statement in GUARD_PG:
            op.execute(statement)
    elif dialect == "sqlite":
        for name in ("appointment_no_double_booking_insert", "appointment_no_double_booking_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        for statement in GUARD_SQLITE:
            op.execute(statement)

    with op.batch_alter_table('case_event') as batch:
        batch.add_column(sa.Column('data', sa.JSON(), nullable=True))
    event = sa.table('case_event', sa.column('id', sa.Integer), sa.column('text', sa.Text),
                     sa.column('data', sa.JSON))
    conn = op.get_bind()
    # Older entries were written as English sentences: they are kept as they were said.
    for row in conn.execute(sa.select(event.c.id, event.c.text)).all():
        conn.execute(event.update().where(event.c.id == row.id).values(data={"text": row.text}))
    with op.batch_alter_table('case_event') as batch:
        batch.alter_column('data', existing_type=sa.JSON(), nullable=False)
        batch.drop_column('text')


def downgrade():
    with op.batch_alter_table('case_event') as batch:
        batch.add_column(sa.Column('text', sa.Text(), nullable=False, server_default=''))
        batch.drop_column('data')
