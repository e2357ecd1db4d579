"""Request and response models of the HTTP API (kept apart from the domain models).

The chat reply's fields are a fixed contract: the widget and outside clients depend on them.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from faqbot.bot import check_message
from faqbot.models import FaqEntry, Reply, ReplyKind, ResourceRef, SourceRef, Suggestion

LOCALE_PATTERN = r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$"


class ChatRequest(BaseModel):
    """One message from a person, in a session or starting one."""

    message: str = Field(description="1 to 2000 characters after trimming.")
    session_id: str | None = Field(
        default=None,
        max_length=256,
        description="The id from the previous reply; unknown or expired ids start a new session.",
    )
    locale: str | None = Field(
        default=None,
        max_length=35,
        pattern=LOCALE_PATTERN,
        description="e.g. en-US, en-GB; picks the help numbers. Unknown locales use the default.",
    )

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        return check_message(value)


class ChatReply(BaseModel):
    """What the widget shows for one turn."""

    session_id: str
    turn_id: int
    kind: ReplyKind
    category: str | None
    text: str
    html: str
    entry_id: str | None
    sources: list[SourceRef]
    reviewed_on: dt.date | None
    resources: list[ResourceRef]
    suggestions: list[Suggestion]
    escalated: bool

    @classmethod
    def from_reply(cls, reply: Reply) -> ChatReply:
        """The API form of a domain Reply."""
        return cls.model_validate(reply.model_dump())


class FeedbackRequest(BaseModel):
    """A thumbs up or down on one turn, with an optional comment."""

    session_id: str = Field(min_length=1, max_length=256)
    turn_id: int = Field(ge=1)
    helpful: bool = Field(strict=True)
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackReply(BaseModel):
    """Whether the feedback was stored (or spooled for later)."""

    recorded: bool


class FaqSummary(BaseModel):
    """An approved entry in the list."""

    id: str
    question: str
    topic: str


class SourceOut(BaseModel):
    """A citation of an entry."""

    publisher: str
    title: str
    year: int
    url: str


class FaqDetail(BaseModel):
    """An approved entry with its sources and review date."""

    id: str
    question: str
    answer: str
    html: str
    topic: str
    sources: list[SourceOut]
    reviewed_on: dt.date
    related: list[Suggestion]

    @classmethod
    def from_entry(cls, entry: FaqEntry, *, html: str, related: list[Suggestion]) -> FaqDetail:
        """The API form of an entry."""
        sources = [
            SourceOut(publisher=s.publisher, title=s.title, year=s.year, url=str(s.url))
            for s in entry.sources
        ]
        return cls(
            id=entry.id,
            question=entry.question,
            answer=entry.answer,
            html=html,
            topic=entry.topic,
            sources=sources,
            reviewed_on=entry.review.reviewed_on,
            related=related,
        )


class Health(BaseModel):
    """The process is up."""

    status: str = "ok"


class Readiness(BaseModel):
    """Whether this worker can answer: index loaded, store and sessions reachable."""

    ready: bool
    index: bool
    store: bool
    sessions: bool


class ErrorBody(BaseModel):
    """Every error response: a machine code and a sentence for people."""

    model_config = ConfigDict(json_schema_extra={"example": {"error": "x", "message": "..."}})

    error: str
    message: str
