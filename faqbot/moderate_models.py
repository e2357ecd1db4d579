"""SQLAlchemy tables of the moderator console: accounts, login sessions, lockouts, the audit log.

The schema is owned by migration 0002_moderation; these models mirror it for queries.
`moderator_sessions.id` is the SHA-256 of the cookie's random token (a copy of the database
does not hand out live sessions). `audit_log` is append-only: the migration installs triggers
that refuse UPDATE and DELETE, and it has no foreign key, so retention purges of escalations
leave the record of what moderators did.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from faqbot.store_models import Base, UTCDateTime, utc_now


class Moderator(Base):
    """A console account: a moderator, or an admin who also manages accounts."""

    __tablename__ = "moderators"
    __table_args__ = (UniqueConstraint("username", name="uq_moderators_username"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)


class ModeratorSession(Base):
    """A logged-in browser: keyed by the hash of its cookie token, with its CSRF token."""

    __tablename__ = "moderator_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    moderator_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("moderators.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    last_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    csrf_token: Mapped[str] = mapped_column(String(64))


class LoginAttempt(Base):
    """Failed logins per user name (known or not), and until when the name is locked."""

    __tablename__ = "login_attempts"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """One moderator action: who, when, what, on which escalation, status before -> after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utc_now)
    moderator: Mapped[str] = mapped_column(String(64))
    escalation_id: Mapped[int | None] = mapped_column(Integer, index=True)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(String(64))
    after: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)


MODERATION_TABLES = ("moderators", "moderator_sessions", "login_attempts", "audit_log")

__all__ = [
    "MODERATION_TABLES",
    "AuditEntry",
    "LoginAttempt",
    "Moderator",
    "ModeratorSession",
]
