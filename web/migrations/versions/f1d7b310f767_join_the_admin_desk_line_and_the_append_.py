"""join the admin/desk line and the append-only policy line

Revision ID: f1d7b310f767
Revises: 2d025b010f10, ha1d3e5f7008
Create Date: 2026-11-26 00:40:22.092070

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f1d7b310f767'
down_revision = ('2d025b010f10', 'ha1d3e5f7008')
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
