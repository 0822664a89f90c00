"""garage notices: a garage is told in its inbox when the call centre moves a booking away from it

Revision ID: de1b0c2a9008
Revises: a7c6d0b2f007
Create Date: 2026-11-25 20:00:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = 'de1b0c2a9008'
down_revision = 'a7c6d0b2f007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'garage_notice',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('garage_id', sa.String(length=40), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('data', sa.JSON(), nullable=False),
        sa.Column('created_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_garage_notice_case_id_case_file')),
        sa.ForeignKeyConstraint(['created_by_id'], ['app_user.id'], name=op.f('fk_garage_notice_created_by_id_app_user')),
        sa.ForeignKeyConstraint(['garage_id'], ['garage.id'], name=op.f('fk_garage_notice_garage_id_garage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_garage_notice')),
    )
    with op.batch_alter_table('garage_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_garage_notice_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_garage_notice_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_garage_notice_garage_id'), ['garage_id'], unique=False)


def downgrade():
    with op.batch_alter_table('garage_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_garage_notice_garage_id'))
        batch_op.drop_index(batch_op.f('ix_garage_notice_created_at'))
        batch_op.drop_index(batch_op.f('ix_garage_notice_case_id'))
    op.drop_table('garage_notice')
