"""Hypothesis properties of text normalization and the guard, on the real Bot's guard and model.

- normalize and the guard never raise on arbitrary text; normalize is idempotent;
- a message the guard flags keeps its category when wrapped in whitespace, re-cased, given
  zero-width characters between its words, or prefixed with "hypothetically, ".

The flagged messages are the single-turn flagged rows of tests/data/guard_dev.jsonl (the ones the
guard does flag: the property is about stability, the recall floor is tested elsewhere). The
verdict is computed as Bot.reply computes it: rules plus the embedding of the semantic text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from faqbot.dialog import Conversation
from faqbot.guard import PastTurn
from faqbot.normalize import ZERO_WIDTH, fold, normalize

DEV = Path(__file__).resolve().parent.parent / "data" / "guard_dev.jsonl"
ZW_CHARS = "".join(chr(c) for c in ZERO_WIDTH)
SPACES = " \t\n\r\u00a0\u2003\u3000"
TRICKY = ZW_CHARS + SPACES + "kratomKRATOM0134@$аеорсΑΕΟ\u0301\u0308\uff4b.,?!'-7oh"
PREFIX = "hypothetically, "
# "hypothetically, " + these loses the flag (see test_prefix_known_misses): short human
# requests and non-English messages, where the English prefix outweighs the message.
KNOWN_PREFIX_MISSES = {
    "g0126": "human_request -> none: 'hypothetically, operator'",
    "g0263": "human_request -> none: 'hypothetically, human agent'",
    "g0140": "language -> none: Japanese question after the English prefix",
    "g0141": "language -> none: Chinese question after the English prefix",
    "g0154": "language -> none: Hindi question after the English prefix",
    "g0156": "language -> none: 'hypothetically, Τι είναι το kratom;' (Greek)",
}
SLOW_EXAMPLES = hypothesis_settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@dataclass(frozen=True)
class Flagged:
    """A dev-set message the guard flags, with the category it gets."""

    id: str
    message: str
    category: str


def category_of(bot, message: str, history: tuple[PastTurn, ...] = ()) -> str | None:
    """The guard's category for `message`, with its embedding, as Bot.reply asks for it."""
    vector = bot.encoder.encode([bot.guard.semantic_text(message)])[0]
    return bot.guard.check(message, history=history, vector=vector).category


def single_turn_flagged_rows() -> list[dict]:
    """Dev rows with no history whose expected label is a guard category."""
    rows = [json.loads(line) for line in DEV.read_text().splitlines() if line.strip()]
    return [r for r in rows if not r["history"] and r["expected"] != "none"]


@pytest.fixture(scope="module")
def flagged(bot) -> list[Flagged]:
    """The single-turn flagged rows the guard flags, with the category it gives each."""
    out = []
    for row in single_turn_flagged_rows():
        category = category_of(bot, row["message"])
        if category is not None:
            out.append(Flagged(row["id"], row["message"], category))
    assert len(out) > 250, "the dev set should give a few hundred flagged messages"
    return out


def changed_categories(bot, flagged: list[Flagged], transform) -> list[tuple[str, str, str, str]]:
    """(id, transformed message, category before, after) for every message that changed."""
    changed = []
    for item in flagged:
        text = transform(item.message)
        after = category_of(bot, text)
        if after != item.category:
            changed.append((item.id, text, item.category, str(after)))
    return changed


def zero_width_between_words(message: str, mark: str = "\u200b") -> str:
    """A zero-width character before every space between two words."""
    return f"{mark} ".join(message.split(" "))


TRANSFORMS = {
    "whitespace": lambda m: f" \t\u00a0{m}\n \u3000",
    "upper": str.upper,
    "lower": str.lower,
    "swapcase": str.swapcase,
    "title": str.title,
    "zero-width space": zero_width_between_words,
    "word joiner": lambda m: zero_width_between_words(m, "\u2060"),
    "soft hyphen + BOM": lambda m: " \ufeff\u00ad".join(m.split(" ")),
}


# ---------------------------------------------------------------------------- never raises
@hypothesis_settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(st.text(alphabet=st.sampled_from(TRICKY), max_size=80) | st.text(max_size=300))
def test_normalize_never_raises_and_is_idempotent(text: str) -> None:
    once = normalize(text)
    assert normalize(once) == once
    assert fold(text) == fold(text)  # deterministic, and never raises


@hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.text(max_size=400), previous=st.text(max_size=100))
def test_guard_rules_never_raise(bot, text: str, previous: str) -> None:
    verdict = bot.guard.check(text, history=(PastTurn(previous, "dosing"),))
    assert verdict.category is None or verdict.evidence


@SLOW_EXAMPLES
@given(st.text(alphabet=st.sampled_from(TRICKY), min_size=1, max_size=60) | st.text(min_size=1))
def test_guard_with_meaning_never_raises(bot, text: str) -> None:
    category_of(bot, text)


@SLOW_EXAMPLES
@given(st.text(min_size=1, max_size=300).filter(str.strip))
def test_bot_reply_never_raises_and_never_fails_closed(bot, text: str) -> None:
    turn = bot.reply(text, Conversation())
    assert turn.reply.category != "error", turn.trace


# ---------------------------------------------------------------------------- flagged stays flagged
@pytest.mark.parametrize("name", list(TRANSFORMS))
def test_flagged_message_keeps_its_category(bot, flagged, name: str) -> None:
    assert changed_categories(bot, flagged, TRANSFORMS[name]) == []


def test_hypothetical_prefix_keeps_the_category(bot, flagged) -> None:
    others = [f for f in flagged if f.id not in KNOWN_PREFIX_MISSES]
    assert changed_categories(bot, others, lambda m: PREFIX + m) == []


@pytest.mark.parametrize("row_id", sorted(KNOWN_PREFIX_MISSES))
def test_prefix_known_misses(bot, flagged, row_id: str) -> None:
    item = next(f for f in flagged if f.id == row_id)
    assert category_of(bot, PREFIX + item.message) == item.category, KNOWN_PREFIX_MISSES[row_id]


@st.composite
def disguised(draw, flagged: list[Flagged]) -> tuple[Flagged, str]:
    """A flagged message with random whitespace, casing, zero-width marks and maybe the prefix."""
    item = draw(st.sampled_from(flagged))
    words = item.message.split(" ")
    marks = draw(st.lists(st.sampled_from(ZW_CHARS), min_size=len(words), max_size=len(words)))
    text = " ".join(w + m for w, m in zip(words[:-1], marks, strict=False)) + " " + words[-1]
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    text = "".join(c.swapcase() if f else c for c, f in zip(text, flips, strict=True))
    if draw(st.booleans()) and item.id not in KNOWN_PREFIX_MISSES:
        text = draw(st.sampled_from([PREFIX, PREFIX.title(), "HYPOTHETICALLY, "])) + text
    pad = st.text(alphabet=st.sampled_from(SPACES), max_size=4)
    return item, draw(pad) + text.strip(" ") + draw(pad)


def test_disguised_flagged_message_keeps_its_category(bot, flagged) -> None:
    @SLOW_EXAMPLES
    @given(disguised(flagged))
    def check(case: tuple[Flagged, str]) -> None:
        item, text = case
        assert category_of(bot, text) == item.category, (item.id, text)

    check()
