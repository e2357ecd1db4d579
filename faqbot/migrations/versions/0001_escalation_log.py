"""The escalation log: escalations, unanswered questions and feedback.

Revision ID: 0001_escalation_log
Revises: (none; first revision)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001_escalation_log"
down_revision = None
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(JSONB(), "postgresql")
UTC = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the three escalation-log tables and their indexes."""
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("turn_id", sa.Integer),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("entry_id", sa.String(128)),
        sa.Column("evidence", JSON, nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("reply_text", sa.Text),
        sa.Column("resources", JSON, nullable=False),
        sa.Column("transcript", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="new"),
        sa.Column("client_hash", sa.String(64)),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'in_review', 'resolved', 'false_alarm')",
            name="ck_escalations_status",
        ),
        sa.UniqueConstraint("dedupe_key", name="uq_escalations_dedupe_key"),
    )
    for column in ("created_at", "session_id", "category", "status"):
        op.create_index(f"ix_escalations_{column}", "escalations", [column])
    op.create_table(
        "unanswered",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("top_entry_id", sa.String(128)),
        sa.Column("top_score", sa.Float),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_unanswered_dedupe_key"),
    )
    op.create_index("ix_unanswered_created_at", "unanswered", ["created_at"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("session_id", sa.String(128)),
        sa.Column("turn_id", sa.Integer),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("dedupe_key", sa.String(64), nullable=False),
        sa.UniqueConstraint("dedupe_key", name="uq_feedback_dedupe_key"),
    )
    op.create_index("ix_feedback_created_at", "feedback", ["created_at"])


def downgrade() -> None:
    """Drop the escalation-log tables."""
    for table in ("feedback", "unanswered", "escalations"):
        op.drop_table(table)
