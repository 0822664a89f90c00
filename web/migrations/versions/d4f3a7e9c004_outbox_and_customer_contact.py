"""outbox of customer messages; a customer's e-mail and language

Revision ID: d4f3a7e9c004
Revises: c3e2f6d8b003
Create Date: 2026-11-25 18:30:00

"""
import sqlalchemy as sa
from alembic import op

import scheduler.db

revision = 'd4f3a7e9c004'
down_revision = 'c3e2f6d8b003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('customer') as batch:
        batch.add_column(sa.Column('email', sa.String(length=200), nullable=True))
        batch.add_column(sa.Column('locale', sa.String(length=5), nullable=False, server_default='fr'))
    with op.batch_alter_table('customer') as batch:
        batch.alter_column('locale', server_default=None)
    op.create_table(
        'message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('appointment_id', sa.Integer(), nullable=True),
        sa.Column('garage_id', sa.String(length=40), nullable=True),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('recipient', sa.String(length=200), nullable=False),
        sa.Column('locale', sa.String(length=5), nullable=False),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('ics', sa.Text(), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=False),
        sa.Column('created_at', scheduler.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('next_attempt_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('sent_at', scheduler.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['appointment_id'], ['appointment.id'], name=op.f('fk_message_appointment_id_appointment')),
        sa.ForeignKeyConstraint(['case_id'], ['case_file.id'], name=op.f('fk_message_case_id_case_file')),
        sa.ForeignKeyConstraint(['garage_id'], ['garage.id'], name=op.f('fk_message_garage_id_garage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    )
    with op.batch_alter_table('message') as batch:
        batch.create_index(batch.f('ix_message_case_id'), ['case_id'], unique=False)
        batch.create_index(batch.f('ix_message_garage_id'), ['garage_id'], unique=False)
        batch.create_index(batch.f('ix_message_status'), ['status'], unique=False)


def downgrade():
    op.drop_table('message')
    with op.batch_alter_table('customer') as batch:
        batch.drop_column('locale')
        batch.drop_column('email')
