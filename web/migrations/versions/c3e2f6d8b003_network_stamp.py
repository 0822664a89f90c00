"""network stamp: planning keeps what it derives from the network until the network changes

Revision ID: c3e2f6d8b003
Revises: b2d1e5c7a002
Create Date: 2026-11-25 18:00:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = 'c3e2f6d8b003'
down_revision = 'b2d1e5c7a002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('network_stamp',
                    sa.Column('id', sa.Integer(), nullable=False),
                    sa.Column('stamp', sa.String(length=32), nullable=False),
                    sa.Column('changed_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_network_stamp')))
    op.execute("INSERT INTO network_stamp (id, stamp, changed_at) VALUES (1, 'initial', CURRENT_TIMESTAMP)")


def downgrade():
    op.drop_table('network_stamp')
