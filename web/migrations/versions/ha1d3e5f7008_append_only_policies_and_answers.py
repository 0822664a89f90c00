"""policy versions are append-only (the database refuses UPDATE, DELETE and TRUNCATE); a direct-line request
may change while it waits, but once answered its answer stands, and no request is ever deleted

Revision ID: ha1d3e5f7008
Revises: a7c6d0b2f007
Create Date: 2026-11-25 20:15:00

"""
from alembic import op

from scheduler.db import append_only_pg, append_only_sqlite, final_once_answered_pg, final_once_answered_sqlite

revision = 'ha1d3e5f7008'
down_revision = 'a7c6d0b2f007'
branch_labels = None
depends_on = None


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return
    policy = append_only_pg if dialect == "postgresql" else append_only_sqlite
    answers = final_once_answered_pg if dialect == "postgresql" else final_once_answered_sqlite
    for statement in [*policy("policy"), *answers("direct_line_request")]:
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for trigger, table in (("policy_append_only", "policy"), ("policy_no_truncate", "policy"),
                               ("direct_line_request_answer_final", "direct_line_request"),
                               ("direct_line_request_no_delete", "direct_line_request"),
                               ("direct_line_request_no_truncate", "direct_line_request")):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS direct_line_request_refuse_changed_answer()")
    else:
        for trigger in ("policy_no_update", "policy_no_delete", "direct_line_request_answer_final",
                        "direct_line_request_no_delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
