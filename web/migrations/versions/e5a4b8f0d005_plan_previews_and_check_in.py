"""plan previews (squeeze-ins and re-plans shown before they apply); an appointment's check-in time

Revision ID: e5a4b8f0d005
Revises: d4f3a7e9c004
Create Date: 2026-11-25 19:00:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = 'e5a4b8f0d005'
down_revision = 'd4f3a7e9c004'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: a batch operation would rebuild the table on SQLite and drop its guard triggers.
    op.add_column('appointment', sa.Column('checked_in_at', scheduler.db.UTCDateTime(timezone=True), nullable=True))
    op.create_table(
        'plan_preview',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('garage_id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('plan', sa.JSON(), nullable=False),
        sa.Column('rule', sa.JSON(), nullable=True),
        sa.Column('reason', sa.String(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_plan_preview_case_id_case_file')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_plan_preview_created_by_id_app_user')),
        sa.ForeignKeyConstraint(['garage_id'], ['garage.id'], name=op.f('fk_plan_preview_garage_id_garage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_plan_preview')),
    )
    with op.batch_alter_table('plan_preview') as batch:
        batch.create_index(batch.f('ix_plan_preview_case_id'), ['case_id'], unique=False)
        batch.create_index(batch.f('ix_plan_preview_garage_id'), ['garage_id'], unique=False)


def downgrade():
    op.drop_table('plan_preview')
    op.drop_column('appointment', 'checked_in_at')
