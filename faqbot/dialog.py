"""Conversation state and follow-up resolution (pure: no I/O, no model).

Follow-up rule: when a message is weak on its own (a pronoun such as "it"/"that", or a short
message that names none of faqbot's topics) and the previous turn was about a topic, retrieval
re-queries with the message plus the previous turn's topic text ("is it addictive?" after
"what is kratom" becomes "is it addictive? kratom what is kratom").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from faqbot.guard import PastTurn
from faqbot.retrieval import in_domain

ANAPHORA = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|there|one|ones|such)\b"
)
CONTINUATION = re.compile(r"^\s*(and|also|what about|how about|but|so|ok|okay|then)\b")
MAX_TURNS = 10


@dataclass
class Turn:
    """One exchange: what the person said and what faqbot decided."""

    message: str
    kind: str
    category: str | None = None
    entry_id: str | None = None
    topic_text: str = ""


@dataclass
class Conversation:
    """The last turns of one session (bounded); `turn_count` keeps counting past the bound."""

    turns: list[Turn] = field(default_factory=list)
    max_turns: int = MAX_TURNS
    session_id: str | None = None
    turn_count: int = 0

    def add(self, turn: Turn) -> None:
        """Append a turn, keeping only the most recent ones."""
        self.turns.append(turn)
        self.turn_count += 1
        del self.turns[: -self.max_turns]

    def guard_history(self) -> list[PastTurn]:
        """What the guard sees of earlier turns."""
        return [PastTurn(t.message, t.category) for t in self.turns]

    def context_topic(self) -> str:
        """Topic text of the most recent turn that had one (answer, clarify or in-domain)."""
        for turn in reversed(self.turns):
            if turn.topic_text:
                return turn.topic_text
        return ""


def is_weak(message: str) -> bool:
    """True when the message needs the previous topic to be understood."""
    text = message.lower()
    words = re.findall(r"[a-z0-9'-]+", text)
    if in_domain(text) and not ANAPHORA.search(text):
        return False
    if ANAPHORA.search(text) and not re.search(
        r"\b(kratom|chronic pain|7-?oh|mitragynine)\b", text
    ):
        return True
    return bool(CONTINUATION.search(text)) and len(words) <= 8


def contextual_query(message: str, conversation: Conversation) -> str | None:
    """The re-query text for a weak follow-up, or None when the message stands alone."""
    topic = conversation.context_topic()
    if not topic or not is_weak(message):
        return None
    return f"{message} {topic}"
