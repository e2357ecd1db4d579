"""Conversation state and follow-up resolution (pure: no I/O, no model).

Follow-up rule: when a message is weak on its own (a pronoun such as "it"/"that", or a short
message that names none of faqbot's topics) and the previous turn was about a topic, retrieval
re-queries with the pronoun replaced by the previous turn's topic ("is it addictive?" after
"what is kratom" becomes "is kratom addictive?"), or with the topic appended when there is no
pronoun. A pronoun beside another topic that leaves the previous one unnamed also points back
("does kratom help with it" after "what is fibromyalgia" becomes "does kratom help with
fibromyalgia"). The re-query is used when it is at least as decisive as the message alone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from faqbot.guard import PastTurn
from faqbot.retrieval import in_domain

ANAPHORA = re.compile(
    r"\b(it|its|it's|this|that|these|those|they|them|their|there|one|ones|such)\b"
)
PRONOUN = re.compile(r"\b(it|this|that|they|them)\b")
TOPICS = re.compile(
    r"\b(chronic primary pain|chronic pain|low back pain|back pain|fibromyalgia|kratom withdrawal|kratom|"
    r"7-oh|7-hydroxymitragynine|mitragynine|opioids|naloxone|988|poison help|cbt|acupuncture)\b"
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


def topic_noun(text: str) -> str | None:
    """The main topic named in a text ("What is chronic pain?" -> "chronic pain")."""
    found = TOPICS.search(text.lower())
    return found.group(1) if found else None


def points_back(message: str, noun: str | None) -> bool:
    """True when a pronoun sits beside another topic and the previous topic is not named
    ("does kratom help with it" after "what is fibromyalgia")."""
    text = message.lower()
    return bool(noun and PRONOUN.search(text) and noun not in text)


def contextual_query(message: str, conversation: Conversation) -> str | None:
    """The re-query for a weak follow-up: pronouns replaced by the previous topic, or it appended."""
    topic = conversation.context_topic()
    noun = topic_noun(topic)
    if not topic or not (is_weak(message) or points_back(message, noun)):
        return None
    if noun and PRONOUN.search(message.lower()):
        return PRONOUN.sub(noun, message.lower(), count=1)
    return f"{message} {noun or topic}"
