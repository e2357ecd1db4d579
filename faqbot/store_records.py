"""Rows for the escalation log, built from a BotTurn and its Conversation (pure: no I/O).

Every user-side text goes through `redact` here, before a row exists, so nothing unredacted can
reach the database or the spool. Client addresses are reduced to a keyed hash. The API passes
the client's address with `client_context(ip)` around `bot.reply(...)` (a context variable, so
the Bot needs no extra parameter); `record(..., client_ip=...)` takes precedence over it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from faqbot.redact import redact
from faqbot.store_models import utc_now

if TYPE_CHECKING:  # faqbot.dialog pulls in the guard; the store needs only the shapes
    from faqbot.bot import BotTurn
    from faqbot.dialog import Conversation, Turn

Row = dict[str, Any]
CLIENT_IP: ContextVar[str | None] = ContextVar("faqbot_client_ip", default=None)


@contextmanager
def client_context(ip: str | None) -> Iterator[None]:
    """Make `ip` the client address of escalations recorded inside this block (same thread)."""
    token = CLIENT_IP.set(ip)
    try:
        yield
    finally:
        CLIENT_IP.reset(token)


def hash_client(ip: str | None, key: str) -> str | None:
    """HMAC-SHA256 of the client address under the configured key; raw addresses are never kept."""
    if not ip:
        return None
    return hmac.new(key.encode(), ip.strip().encode(), hashlib.sha256).hexdigest()


class EscalationRecord(BaseModel):
    """One stored escalation, as the CLI, exports and moderator pages show it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime
    session_id: str | None
    turn_id: int | None
    category: str
    kind: str
    entry_id: str | None
    evidence: list[dict[str, Any]]
    message: str
    reply_text: str | None
    resources: list[dict[str, Any]]
    transcript: list[dict[str, str]]
    status: str
    client_hash: str | None


class UnansweredRecord(BaseModel):
    """One stored fallback / out-of-scope question (the gap report's raw material)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: dt.datetime
    session_id: str | None
    kind: str
    message: str
    top_entry_id: str | None
    top_score: float | None


# ---------------------------------------------------------------------- transcripts
def turns_before(conversation: Conversation, turn_id: int | None) -> list[Turn]:
    """The remembered turns that came before `turn_id` (whether or not it was added yet)."""
    turns = list(conversation.turns)
    if turn_id is None:
        return turns
    later = conversation.turn_count - (turn_id - 1)  # turns numbered turn_id or above
    return turns[: max(len(turns) - later, 0)] if later > 0 else turns


def turn_at(conversation: Conversation, turn_id: int) -> Turn | None:
    """The remembered turn with this number, if it is still in the bounded history."""
    if not 1 <= turn_id <= conversation.turn_count:
        return None
    back = conversation.turn_count - turn_id  # 0 for the most recent turn
    return conversation.turns[-1 - back] if back < len(conversation.turns) else None


def bot_line(kind: str, category: str | None, entry_id: str | None) -> str:
    """How a bot turn appears in a transcript: its kind, category and entry (not its text)."""
    parts = [kind, f"({category})" if category else "", f"-> {entry_id}" if entry_id else ""]
    return " ".join(p for p in parts if p)


def transcript_of(turns: list[Turn]) -> list[dict[str, str]]:
    """A redacted transcript: the user's words (redacted) and what faqbot decided."""
    lines: list[dict[str, str]] = []
    for turn in turns:
        lines.append({"role": "user", "text": redact(turn.message)})
        lines.append({"role": "bot", "text": bot_line(turn.kind, turn.category, turn.entry_id)})
    return lines


# ---------------------------------------------------------------------- rows
def escalation_row(turn: BotTurn, conversation: Conversation, *, client_hash: str | None) -> Row:
    """The escalations row for a redirect / emergency turn."""
    reply = turn.reply
    transcript = transcript_of(turns_before(conversation, reply.turn_id))
    transcript.append({"role": "user", "text": redact(turn.message)})
    transcript.append({"role": "bot", "text": bot_line(reply.kind, reply.category, reply.entry_id)})
    evidence = [
        e.model_dump(include={"category", "source", "ref", "score"}) for e in turn.verdict.evidence
    ]
    return {
        "created_at": utc_now(),
        "session_id": reply.session_id or conversation.session_id,
        "turn_id": reply.turn_id,
        "category": reply.category or turn.verdict.category or "unknown",
        "kind": reply.kind,
        "entry_id": reply.entry_id,
        "evidence": evidence,
        "message": redact(turn.message),
        "reply_text": reply.text,
        "resources": [r.model_dump() for r in reply.resources],
        "transcript": transcript,
        "status": "new",
        "client_hash": client_hash,
        "dedupe_key": uuid.uuid4().hex,
    }


def unanswered_row(turn: BotTurn) -> Row:
    """The unanswered row for a fallback / out-of-scope turn."""
    top = turn.outcome.top if turn.outcome is not None else None
    return {
        "created_at": utc_now(),
        "session_id": turn.reply.session_id,
        "kind": turn.reply.kind,
        "message": redact(turn.message),
        "top_entry_id": top.entry_id if top else None,
        "top_score": float(top.fused) if top else None,
        "dedupe_key": uuid.uuid4().hex,
    }


def feedback_key(session_id: str | None, turn_id: int | None, helpful: bool, comment: str) -> str:
    """Repeated identical votes on one turn are one record; anything else gets a fresh key."""
    if session_id is None or turn_id is None:
        return uuid.uuid4().hex
    raw = f"feedback\x00{session_id}\x00{turn_id}\x00{helpful}\x00{comment}"
    return hashlib.sha256(raw.encode()).hexdigest()


def feedback_row(
    *, session_id: str | None, turn_id: int | None, helpful: bool, comment: str | None
) -> Row:
    """The feedback row (the comment redacted)."""
    text = redact(comment) if comment else None
    return {
        "created_at": utc_now(),
        "session_id": session_id,
        "turn_id": turn_id,
        "helpful": helpful,
        "comment": text,
        "dedupe_key": feedback_key(session_id, turn_id, helpful, text or ""),
    }


def feedback_escalation_row(
    feedback: Row, conversation: Conversation | None, *, client_hash: str | None
) -> Row:
    """The escalation for a negative vote: the rated turn, the transcript up to it, the comment.

    `message` is the rated turn's message when the conversation still holds it, else the comment.
    """
    turn_id = feedback["turn_id"]
    rated = turn_at(conversation, turn_id) if conversation and turn_id else None
    history = turns_before(conversation, turn_id + 1) if conversation and turn_id else []
    transcript = transcript_of(history)
    transcript.append({"role": "feedback", "text": feedback["comment"] or "(not helpful)"})
    return {
        "created_at": feedback["created_at"],
        "session_id": feedback["session_id"],
        "turn_id": turn_id,
        "category": "feedback",
        "kind": "feedback",
        "entry_id": rated.entry_id if rated else None,
        "evidence": [],
        "message": redact(rated.message) if rated else (feedback["comment"] or ""),
        "reply_text": None,
        "resources": [],
        "transcript": transcript,
        "status": "new",
        "client_hash": client_hash,
        "dedupe_key": hashlib.sha256(
            f"escalation\x00{feedback['dedupe_key']}".encode()
        ).hexdigest(),
    }


__all__ = [
    "CLIENT_IP",
    "EscalationRecord",
    "UnansweredRecord",
    "client_context",
    "escalation_row",
    "feedback_escalation_row",
    "feedback_row",
    "hash_client",
    "transcript_of",
    "unanswered_row",
]
