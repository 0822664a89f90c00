"""planner desk: why each rule offer was late, drive-ins as their own kind, what-if replays

Revision ID: b7e2a9c4d512
Revises: f6b5c9a1e006
Create Date: 2026-11-25 16:40:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = 'b7e2a9c4d512'
down_revision = 'f6b5c9a1e006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('override') as batch:
        batch.add_column(sa.Column('rule_reasons', sa.JSON(), nullable=True))
    override = sa.table('override', sa.column('rule_reasons', sa.JSON), sa.column('kind', sa.String),
                        sa.column('team', sa.String))
    conn = op.get_bind()
    conn.execute(override.update().values(rule_reasons=[]))
    # A drive-in announced by the call centre was logged as a walk-in: it is a kind of its own.
    conn.execute(override.update().where(override.c.kind == 'walk_in', override.c.team == 'call centre')
                 .values(kind='drive_in'))
    with op.batch_alter_table('override') as batch:
        batch.alter_column('rule_reasons', existing_type=sa.JSON(), nullable=False)

    op.create_table(
        'replay',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('params', sa.JSON(), nullable=False),
        sa.Column('result', sa.JSON(), nullable=True),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('runner', sa.String(length=10), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('finished_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_replay_created_by_id_app_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replay')),
    )
    with op.batch_alter_table('replay') as batch:
        batch.create_index(batch.f('ix_replay_created_at'), ['created_at'], unique=False)
    op.create_table(
        'replay_part',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('replay_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('progress', sa.Double(), nullable=False),
        sa.Column('starts', sa.JSON(), nullable=True),
        sa.Column('started_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('finished_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['replay_id'], ['replay.id'], name=op.f('fk_replay_part_replay_id_replay')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_replay_part')),
        sa.UniqueConstraint('replay_id', 'name', name=op.f('uq_replay_part_replay_id')),
    )
    with op.batch_alter_table('replay_part') as batch:
        batch.create_index(batch.f('ix_replay_part_replay_id'), ['replay_id'], unique=False)


def downgrade():
    with op.batch_alter_table('replay_part') as batch:
        batch.drop_index(batch.f('ix_replay_part_replay_id'))
    op.drop_table('replay_part')
    with op.batch_alter_table('replay') as batch:
        batch.drop_index(batch.f('ix_replay_created_at'))
    op.drop_table('replay')
    override = sa.table('override', sa.column('kind', sa.String))
    op.get_bind().execute(override.update().where(override.c.kind == 'drive_in').values(kind='walk_in'))
    with op.batch_alter_table('override') as batch:
        batch.drop_column('rule_reasons')
