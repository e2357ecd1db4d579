"""Pydantic domain types: knowledge entries, resources, guard verdicts, hits and replies."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
Status = Literal["draft", "approved", "retired"]
ReplyKind = Literal[
    "answer", "clarify", "fallback", "out_of_scope", "smalltalk", "redirect", "emergency", "error"
]
GuardCategory = Literal[
    "emergency",
    "self_harm",
    "mixing",
    "dosing",
    "sourcing",
    "human_request",
    "language",
    "harm",
    "error",
]


class Strict(BaseModel):
    """Base for data loaded from files: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(Strict):
    """A citation: the publisher's own page for a fact an answer uses."""

    publisher: str = Field(min_length=2)
    title: str = Field(min_length=2)
    year: int = Field(ge=1990, le=2100)
    url: HttpUrl


class Review(Strict):
    """Editorial review metadata; only `approved` entries are served."""

    status: Status
    reviewed_by: str = Field(min_length=2)
    reviewed_on: dt.date
    next_review_due: dt.date


class FaqEntry(Strict):
    """One vetted question and answer, stored as knowledge/faq/<topic>/<id>.yaml."""

    id: str
    question: str = Field(min_length=5, max_length=200)
    alternates: list[str] = Field(min_length=4)
    answer: str = Field(min_length=20)
    topic: str
    tags: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    review: Review
    related: list[str] = Field(default_factory=list)

    @field_validator("id", "topic")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not SLUG.match(value):
            raise ValueError(f"{value!r} is not a lowercase slug (a-z, 0-9, '-')")
        return value

    @field_validator("answer")
    @classmethod
    def _word_limit(cls, value: str) -> str:
        words = len(value.split())
        if words > 150:
            raise ValueError(f"answer has {words} words; the limit is 150")
        return value.strip()

    @property
    def phrasings(self) -> list[str]:
        """The question and every alternate: what the index embeds."""
        return [self.question, *self.alternates]

    @property
    def approved(self) -> bool:
        """True when reviewers approved this entry for serving."""
        return self.review.status == "approved"


class Resource(Strict):
    """A help line for one locale."""

    id: str
    name: str
    phone: str | None = None
    phone_digits: str | None = None
    text: str | None = None
    url: HttpUrl | None = None
    applies_to: list[
        Literal["emergency", "poisoning", "crisis", "substance_use", "non_urgent", "animal"]
    ]
    note: str = ""


class SourceRef(BaseModel):
    """A source as shown in a reply."""

    publisher: str
    title: str
    url: str


class Suggestion(BaseModel):
    """A vetted question offered to the person to click or type."""

    entry_id: str
    question: str


class ResourceRef(BaseModel):
    """A help line as shown in a reply."""

    id: str
    name: str
    phone: str | None = None
    tel: str | None = None
    text: str | None = None
    url: str | None = None


class Evidence(BaseModel):
    """Why the guard fired: the rule or exemplar id and its score."""

    category: GuardCategory
    source: Literal["rule", "exemplar", "classifier", "passage", "context", "fault"]
    ref: str
    score: float = 1.0
    matched: str = ""


class Verdict(BaseModel):
    """The guard's decision for one turn; `category` None means the message may be answered."""

    category: GuardCategory | None = None
    evidence: list[Evidence] = Field(default_factory=list)
    pet: bool = False
    intent_unknown: bool = False

    @property
    def flagged(self) -> bool:
        """True when any guard category fired."""
        return self.category is not None


@dataclass(frozen=True, slots=True)
class Hit:
    """A retrieval candidate with its scores (a plain dataclass: a reply scores ~40 of them)."""

    entry_id: str
    dense: float
    lexical: float
    fused: float
    phrasing: str = ""


class Reply(BaseModel):
    """What every channel (CLI, API, widget) shows for one turn."""

    session_id: str | None = None
    turn_id: int | None = None
    kind: ReplyKind
    category: str | None = None
    text: str
    html: str
    entry_id: str | None = None
    sources: list[SourceRef] = Field(default_factory=list)
    reviewed_on: dt.date | None = None
    resources: list[ResourceRef] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    escalated: bool = False
