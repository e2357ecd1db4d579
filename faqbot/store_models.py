"""SQLAlchemy 2 tables of the escalation log: escalations, unanswered questions and feedback.

The schema itself is owned by the Alembic migrations in faqbot/migrations/versions; these models
mirror it for queries. Every table has a UNIQUE `dedupe_key` so replaying the spool is idempotent.
Later tables (moderators, notes, audit log) subclass the same `Base`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

STATUSES = ("new", "in_review", "resolved", "false_alarm")
JsonType = JSON().with_variant(JSONB(), "postgresql")


def utc_now() -> dt.datetime:
    """The current time, timezone-aware UTC."""
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timestamps in UTC: timestamptz on PostgreSQL, naive UTC text on SQLite, aware in Python."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        """Convert to UTC (and drop tzinfo where the database cannot keep it)."""
        if value is None:
            return None
        value = as_aware_utc(value)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:  # noqa: ARG002
        """Always hand back an aware UTC datetime."""
        return None if value is None else as_aware_utc(value)


def as_aware_utc(value: dt.datetime) -> dt.datetime:
    """The same instant as an aware UTC datetime (naive values are taken to be UTC already)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


class Base(DeclarativeBase):
    """Declarative base shared by every faqbot table."""


class Escalation(Base):
    """A redirect or emergency reply, or negative feedback, kept for human review."""

    __tablename__ = "escalations"
    __table_args__ = (
        CheckConstraint(
            "status IN ('new', 'in_review', 'resolved', 'false_alarm')",
            name="ck_escalations_status",
        ),
        UniqueConstraint("dedupe_key", name="uq_escalations_dedupe_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True, default=utc_now)
    session_id: Mapped[str | None] = mapped_column(String(128), index=True)
    turn_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(32), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str | None] = mapped_column(String(128))
    evidence: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    message: Mapped[str] = mapped_column(Text, default="")
    reply_text: Mapped[str | None] = mapped_column(Text)
    resources: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    transcript: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)
    status: Mapped[str] = mapped_column(String(16), index=True, default="new", server_default="new")
    client_hash: Mapped[str | None] = mapped_column(String(64))
    dedupe_key: Mapped[str] = mapped_column(String(64))


class Unanswered(Base):
    """A fallback or out-of-scope question: the content editors' gap report."""

    __tablename__ = "unanswered"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_unanswered_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True, default=utc_now)
    session_id: Mapped[str | None] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text, default="")
    top_entry_id: Mapped[str | None] = mapped_column(String(128))
    top_score: Mapped[float | None] = mapped_column(Float)
    dedupe_key: Mapped[str] = mapped_column(String(64))


class Feedback(Base):
    """A helpful / not helpful vote on one reply, with an optional (redacted) comment."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("dedupe_key", name="uq_feedback_dedupe_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True, default=utc_now)
    session_id: Mapped[str | None] = mapped_column(String(128))
    turn_id: Mapped[int | None] = mapped_column(Integer)
    helpful: Mapped[bool]
    comment: Mapped[str | None] = mapped_column(Text)
    dedupe_key: Mapped[str] = mapped_column(String(64))


TABLES = {model.__tablename__: model for model in (Escalation, Unanswered, Feedback)}

__all__ = ["STATUSES", "TABLES", "Base", "Escalation", "Feedback", "Unanswered", "utc_now"]

# The moderation tables (migration 0002) subclass the same Base: register them whenever the
# escalation-log models load, so Base.metadata always describes the whole migrated schema.
from faqbot import moderate_models  # noqa: E402, F401
