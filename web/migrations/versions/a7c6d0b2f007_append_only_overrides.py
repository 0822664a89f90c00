"""overrides are append-only: what they led to moves to override_outcome rows, appended as it becomes known;
the database refuses UPDATE, DELETE and TRUNCATE on both

Revision ID: a7c6d0b2f007
Revises: b7e2a9c4d512
Create Date: 2026-11-25 20:00:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db
from scheduler.db import append_only_pg, append_only_sqlite

revision = 'a7c6d0b2f007'
down_revision = 'b7e2a9c4d512'
branch_labels = None
depends_on = None

OUTCOME = ("appointment_id", "result_garage_id", "result_technician_id", "result_start", "result_end",
           "actual_start", "actual_end")


def upgrade():
    op.create_table(
        'override_outcome',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('override_id', sa.Integer(), nullable=False),
        sa.Column('recorded_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('result_garage_id', sa.String(length=40), nullable=True),
        sa.Column('result_technician_id', sa.String(length=40), nullable=True),
        sa.Column('result_start', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('result_end', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('actual_start', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('actual_end', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'],
                                name=op.f('fk_override_outcome_appointment_id_appointment')),
        sa.ForeignKeyConstraint(['override_id'], ['override.id'], name=op.f('fk_override_outcome_override_id_override')),
        sa.ForeignKeyConstraint(['result_garage_id'], ['garage.id'],
                                name=op.f('fk_override_outcome_result_garage_id_garage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_override_outcome')),
    )
    with op.batch_alter_table('override_outcome') as batch:
        batch.create_index(batch.f('ix_override_outcome_appointment_id'), ['appointment_id'], unique=False)
        batch.create_index(batch.f('ix_override_outcome_override_id'), ['override_id'], unique=False)
    columns = ", ".join(OUTCOME)
    op.execute(f"INSERT INTO override_outcome (override_id, recorded_at, {columns}) "
               f"SELECT id, created_at, {columns} FROM override "
               "WHERE appointment_id IS NOT NULL OR result_start IS NOT NULL OR actual_start IS NOT NULL")
    with op.batch_alter_table('override') as batch:
        batch.drop_constraint('fk_override_appointment_id_appointment', type_='foreignkey')
        batch.drop_constraint('fk_override_result_garage_id_garage', type_='foreignkey')
        for column in OUTCOME:
            batch.drop_column(column)
    statements = {"postgresql": append_only_pg, "sqlite": append_only_sqlite}.get(op.get_bind().dialect.name)
    for table in ("override", "override_outcome"):
        for statement in statements(table) if statements else []:
            op.execute(statement)


def downgrade():
    raise NotImplementedError("the outcomes cannot be folded back into rewritable overrides")
