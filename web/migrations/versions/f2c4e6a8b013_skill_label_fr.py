"""a skill may carry its own French label (an admin's new skill has no entry in the translation catalog)

Revision ID: f2c4e6a8b013
Revises: e1a2b3c4d012
Create Date: 2026-11-27 23:20:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'f2c4e6a8b013'
down_revision = 'e1a2b3c4d012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('skill', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_fr', sa.String(length=80), nullable=True))


def downgrade():
    with op.batch_alter_table('skill', schema=None) as batch_op:
        batch_op.drop_column('label_fr')
