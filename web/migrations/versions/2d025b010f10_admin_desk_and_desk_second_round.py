"""Merge the admin desk and the desk's second round (two heads from a7c6d0b2f007)

Revision ID: 2d025b010f10
Revises: ad1a0e5c3008, de1b0c2a9008
Create Date: 2026-11-25 20:03:27.957645

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '2d025b010f10'
down_revision = ('ad1a0e5c3008', 'de1b0c2a9008')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
