"""One error tree for faqbot.

FaqbotError
├── KnowledgeError      a knowledge or guardrail file is missing, malformed or invalid
├── IndexError_         the retrieval index is missing, stale or unreadable
├── EncoderError        the embedding model could not be loaded or run
└── StoreError          the escalation or session store failed
"""

from __future__ import annotations


class FaqbotError(Exception):
    """Base class for every error faqbot raises on purpose."""


class KnowledgeError(FaqbotError):
    """A knowledge file is invalid; `problems` holds `path:line: message` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems) if problems else "invalid knowledge")


class IndexError_(FaqbotError):  # noqa: N801 - avoid shadowing the builtin IndexError
    """The retrieval index is missing, stale or unreadable."""


class EncoderError(FaqbotError):
    """The embedding model could not be loaded or run."""


class StoreError(FaqbotError):
    """The escalation or session store failed."""
