"""The guard's shortcuts give exactly the answers of the plain computation they replace.

`Guard.substances` searches only the lexicon terms whose leading word run occurs in the text,
`Guard.rule_hits` evaluates each distinct form once, and `Guard.check` can take the forms the
Bot already computed. Each is compared here with the straightforward version on every message
of the dev sets and on hand-picked edge cases (multi-word, hyphenated and digit-led terms).
"""

from __future__ import annotations

import json

from faqbot.guard import PastTurn
from tests.evalkit import DEV_GUARD, DEV_RETRIEVAL

EDGES = [
    "st john's wort and 7-oh with co-codamol",
    "7-oh7-oh 7-ohx x7-oh",
    "kratom-tea or kratom tea? kratom's",
    "mixing lisinopril + atorvastatin, amlodipine",
    "",
    "   ",
    "a b c d e",
    "ibuprofenibuprofen ibuprofen-ish tylenol_pm",
]


def every_message() -> list[tuple[str, list[str]]]:
    """(message, earlier messages) of every dev case, plus the edge cases."""
    out = [(text, []) for text in EDGES]
    for path in (DEV_GUARD, DEV_RETRIEVAL):
        for line in path.read_text().splitlines():
            case = json.loads(line)
            history = [h if isinstance(h, str) else h.get("message", "") for h in case["history"]]
            out.append((case["message"], history))
    return out


def test_indexed_substance_search_finds_exactly_what_searching_every_term_finds(bot):
    guard = bot.guard
    checked = 0
    for message, history in every_message():
        for text in {f for m in (message, *history) for f in guard.forms(m)}:
            assert guard.substances(text) == guard.substances(text, every_term=True), text
            checked += 1
    assert checked > 1000


def test_distinct_forms_once_gives_the_same_rule_hits(bot):
    guard = bot.guard
    for message, _history in every_message():
        forms = guard.forms(message)
        once = guard.rule_hits(*forms)
        twice = guard.rule_hits(*forms, *forms)  # duplicates must not change the evidence
        assert [e.ref for e in once] == [e.ref for e in twice], message


def test_check_with_precomputed_forms_matches_check_without(bot):
    guard = bot.guard
    for message, history in every_message():
        past = [PastTurn(h) for h in history]
        plain = guard.check(message, history=past)
        given = guard.check(message, history=past, forms=guard.forms(message))
        assert plain == given, message


def test_remembered_previous_turns_give_the_verdict_of_a_fresh_check(bot, monkeypatch):
    guard = bot.guard
    cases = [(m, h) for m, h in every_message() if h]
    assert len(cases) > 50
    guard._recent.clear()
    cold = [guard.check(m, history=[PastTurn(x) for x in h]) for m, h in cases]
    assert guard._recent  # the previous messages were remembered ...
    warm = [guard.check(m, history=[PastTurn(x) for x in h]) for m, h in cases]
    assert warm == cold  # ... and remembering changes nothing
    monkeypatch.setattr("faqbot.guard.RECENT", 3)  # the memo is bounded: it starts over when full
    guard._recent.clear()
    full = [guard.check(m, history=[PastTurn(x) for x in h]) for m, h in cases]
    assert len(guard._recent) <= 3
    assert full == cold
