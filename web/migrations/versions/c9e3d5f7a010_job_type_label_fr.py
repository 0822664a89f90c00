"""a job type may carry its own French label (an admin's new job type has no entry in the translation catalog)

Revision ID: c9e3d5f7a010
Revises: b8d2c4e6f009
Create Date: 2026-11-27 12:50:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c9e3d5f7a010'
down_revision = 'b8d2c4e6f009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('job_type', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_fr', sa.String(length=120), nullable=True))


def downgrade():
    with op.batch_alter_table('job_type', schema=None) as batch_op:
        batch_op.drop_column('label_fr')
