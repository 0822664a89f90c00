"""admin desk: the audit trail (append-only), a first password to change, part-day absences, lunch closures,
closed days

Revision ID: ad1a0e5c3008
Revises: a7c6d0b2f007
Create Date: 2026-11-25 20:00:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db
from scheduler.db import append_only_pg, append_only_sqlite

revision = 'ad1a0e5c3008'
down_revision = 'a7c6d0b2f007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'audit_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('entity', sa.String(length=40), nullable=False),
        sa.Column('entity_id', sa.String(length=60), nullable=False),
        sa.Column('action', sa.String(length=30), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_audit_entry_actor_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_entry')),
    )
    with op.batch_alter_table('audit_entry') as batch:
        batch.create_index(batch.f('ix_audit_entry_at'), ['at'], unique=False)
    statements = {"postgresql": append_only_pg, "sqlite": append_only_sqlite}.get(op.get_bind().dialect.name)
    for statement in statements("audit_entry") if statements else []:
        op.execute(statement)
    op.create_table(
        'closed_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.String(length=40), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('reason', sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(['garage_id'], ['garage.id'], name=op.f('fk_closed_day_garage_id_garage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_closed_day')),
        sa.UniqueConstraint('garage_id', 'day', name=op.f('uq_closed_day_garage_id')),
    )
    with op.batch_alter_table('app_user') as batch:
        batch.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))
    with op.batch_alter_table('absence') as batch:
        batch.add_column(sa.Column('start_at', scheduler.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column('end_at', scheduler.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table('opening_hours') as batch:
        batch.add_column(sa.Column('lunch_starts', sa.Time(), nullable=True))
        batch.add_column(sa.Column('lunch_ends', sa.Time(), nullable=True))


def downgrade():
    with op.batch_alter_table('opening_hours') as batch:
        batch.drop_column('lunch_ends')
        batch.drop_column('lunch_starts')
    with op.batch_alter_table('absence') as batch:
        batch.drop_column('end_at')
        batch.drop_column('start_at')
    with op.batch_alter_table('app_user') as batch:
        batch.drop_column('must_change_password')
    op.drop_table('closed_day')
    op.drop_table('audit_entry')
