"""a customer's name as it is searched: without accents, lower case (SQLite's lower() leaves "É" as it is)

Revision ID: d0f4e6a8b011
Revises: c9e3d5f7a010
Create Date: 2026-11-27 15:15:00

"""
import sqlalchemy as sa
from alembic import op

from scheduler.models.case import name_key

revision = 'd0f4e6a8b011'
down_revision = 'c9e3d5f7a010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=120), nullable=False, server_default=''))
    customer = sa.table('customer', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_key', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(customer.c.id, customer.c.name)).all()
    for chunk in range(0, len(rows), 1000):
        connection.execute(customer.update().where(customer.c.id == sa.bindparam('key')),
                           [{'key': i, 'name_key': name_key(name or '')[:120]} for i, name in rows[chunk:chunk + 1000]])


def downgrade():
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_column('name_key')
