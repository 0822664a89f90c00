"""a direct-line request keeps why the rule offer was late as facts (the override read them back from its note)

Revision ID: c3d5e7f9a114
Revises: f2c4e6a8b013
Create Date: 2026-11-28 11:35:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'c3d5e7f9a114'
down_revision = 'f2c4e6a8b013'
branch_labels = None
depends_on = None


def upgrade():
    # a plain ALTER TABLE ADD COLUMN on SQLite too: the table keeps its answered-rows-are-final triggers
    op.add_column('direct_line_request', sa.Column('rule_reasons', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('direct_line_request', schema=None) as batch_op:
        batch_op.drop_column('rule_reasons')
