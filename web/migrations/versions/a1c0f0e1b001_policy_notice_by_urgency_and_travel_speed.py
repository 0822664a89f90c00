"""policy: minimum notice by urgency and the customers' travel speed (format 1.1)

Revision ID: a1c0f0e1b001
Revises: d4ca396cb31c
Create Date: 2026-11-25 16:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'a1c0f0e1b001'
down_revision = 'd4ca396cb31c'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('policy') as batch:
        batch.add_column(sa.Column('notice_minutes', sa.JSON(), nullable=True))
        batch.add_column(sa.Column('travel_speed_kmh', sa.Double(), nullable=False, server_default='30'))
    policy = sa.table('policy', sa.column('id', sa.Integer), sa.column('min_notice_minutes', sa.Integer),
                      sa.column('notice_minutes', sa.JSON))
    conn = op.get_bind()
    for row in conn.execute(sa.select(policy.c.id, policy.c.min_notice_minutes)).all():
        notice = {u: row.min_notice_minutes for u in ('P1', 'P2', 'P3')}
        conn.execute(policy.update().where(policy.c.id == row.id).values(notice_minutes=notice))
    with op.batch_alter_table('policy') as batch:
        batch.alter_column('notice_minutes', existing_type=sa.JSON(), nullable=False)
        batch.alter_column('travel_speed_kmh', server_default=None)
        batch.drop_column('min_notice_minutes')


def downgrade():
    with op.batch_alter_table('policy') as batch:
        batch.add_column(sa.Column('min_notice_minutes', sa.Integer(), nullable=False, server_default='1440'))
        batch.drop_column('travel_speed_kmh')
        batch.drop_column('notice_minutes')
