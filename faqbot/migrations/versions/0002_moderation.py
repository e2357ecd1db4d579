"""The moderator console: accounts, login sessions, login lockouts and the append-only audit log.

Revision ID: 0002_moderation
Revises: 0001_escalation_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_moderation"
down_revision = "0001_escalation_log"
branch_labels = None
depends_on = None

UTC = sa.DateTime(timezone=True)
APPEND_ONLY = "audit_log is append-only"
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log
    BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"""
    for verb in ("UPDATE", "DELETE")
]
PG_TRIGGERS = [
    f"""CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$""",
    """CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()""",
]


def upgrade() -> None:
    """Create the four moderation tables and make the audit log refuse UPDATE and DELETE."""
    op.create_table(
        "moderators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("is_admin", sa.Boolean, nullable=False),
        sa.Column("disabled", sa.Boolean, nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("password_changed_at", UTC, nullable=False),
        sa.UniqueConstraint("username", name="uq_moderators_username"),
    )
    op.create_table(
        "moderator_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "moderator_id",
            sa.Integer,
            sa.ForeignKey("moderators.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("last_seen", UTC, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
    )
    op.create_index("ix_moderator_sessions_moderator_id", "moderator_sessions", ["moderator_id"])
    op.create_table(
        "login_attempts",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("failed_count", sa.Integer, nullable=False),
        sa.Column("locked_until", UTC),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTC, nullable=False),
        sa.Column("moderator", sa.String(64), nullable=False),
        sa.Column("escalation_id", sa.Integer),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("before", sa.String(64)),
        sa.Column("after", sa.String(64)),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_audit_log_escalation_id", "audit_log", ["escalation_id"])
    triggers = PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    """Drop the moderation tables (and the audit log's trigger function on PostgreSQL)."""
    for table in ("audit_log", "login_attempts", "moderator_sessions", "moderators"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")
