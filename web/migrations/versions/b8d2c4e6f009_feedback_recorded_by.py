"""feedback says who typed it in for the customer (None: the customer, by their link)

Revision ID: b8d2c4e6f009
Revises: f1d7b310f767
Create Date: 2026-11-27 12:45:00

"""
import sqlalchemy as sa
from alembic import op

revision = 'b8d2c4e6f009'
down_revision = 'f1d7b310f767'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.add_column(sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_feedback_recorded_by_id_app_user'), 'app_user',
                                    ['recorded_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_feedback_recorded_by_id_app_user'), type_='foreignkey')
        batch_op.drop_column('recorded_by_id')
