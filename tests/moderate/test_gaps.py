"""The content gap report: unanswered questions grouped by meaning with the real encoder and index."""

from __future__ import annotations

import datetime as dt

import numpy as np
from fastapi.testclient import TestClient

from faqbot.bot import BotTurn
from faqbot.encoder import HashEncoder
from faqbot.gaps import cluster, gap_report
from faqbot.models import Reply, Verdict
from faqbot.store_records import UnansweredRecord

QUESTIONS = [
    ("is kratom legal in japan", "fallback"),
    ("can I bring kratom to Japan legally", "fallback"),
    ("Is kratom legal in Japan?", "fallback"),
    ("can my dog eat bananas", "out_of_scope"),
    ("are bananas safe for dogs to eat", "out_of_scope"),
    ("what's the best pizza topping", "out_of_scope"),
]


def record_unanswered(store, questions) -> None:
    """Store fallback / out-of-scope turns as the Bot does."""
    for message, kind in questions:
        reply = Reply(kind=kind, text="Sorry, I don't know.", html="<p>Sorry, I don't know.</p>")
        store.record_unanswered(BotTurn(message, reply, Verdict()))


def records(questions) -> list[UnansweredRecord]:
    now = dt.datetime.now(dt.UTC)
    return [
        UnansweredRecord(
            id=n,
            created_at=now - dt.timedelta(minutes=n),
            session_id=None,
            kind=kind,
            message=message,
            top_entry_id=None,
            top_score=None,
        )
        for n, (message, kind) in enumerate(questions, start=1)
    ]


def test_similar_questions_form_groups_biggest_first(bot):
    groups = gap_report(records(QUESTIONS), encoder=bot.encoder, index=bot.index, kb=bot.kb)
    assert [g.size for g in groups] == [3, 2, 1]
    legal, dogs, pizza = groups
    assert "japan" in legal.example.lower() and len(legal.questions) == 1  # two texts fold to one
    assert {legal.example.lower().rstrip("?"), *(q.lower() for q in legal.questions)} >= {
        "is kratom legal in japan"
    }
    assert "legal" in legal.nearest_entry_id  # the nearest existing entry is about the law
    assert bot.kb.get(legal.nearest_entry_id).question == legal.nearest_question
    assert 0 < legal.nearest_score <= 1
    assert dogs.kinds == {"out_of_scope": 2} and "banana" in dogs.example
    assert pizza.size == 1 and pizza.questions == []


def test_without_an_encoder_only_identical_questions_are_grouped():
    groups = gap_report(records(QUESTIONS))
    assert [g.size for g in groups] == [2, 1, 1, 1, 1]
    assert groups[0].example.lower().rstrip("?") == "is kratom legal in japan"
    assert groups[0].nearest_entry_id is None


def test_greedy_clustering_joins_at_the_threshold_only():
    a, b = np.array([1.0, 0.0], dtype=np.float32), np.array([0.8, 0.6], dtype=np.float32)
    assert cluster(np.stack([a, b]), [1, 1], threshold=0.8) == [[0, 1]]
    assert cluster(np.stack([a, b]), [1, 1], threshold=0.81) == [[0], [1]]
    assert gap_report([]) == []


def test_fake_encoder_wiring(bot):
    groups = gap_report(records(QUESTIONS[:2]), encoder=HashEncoder(), index=None, kb=None)
    assert sum(g.size for g in groups) == 2 and all(g.nearest_entry_id is None for g in groups)


def test_gaps_page_lists_groups_with_their_nearest_entry(moderator: TestClient, store):
    record_unanswered(
        store, [*QUESTIONS, ("<script>alert(1)</script> kratom in japan?", "fallback")]
    )
    page = moderator.get("/moderate/gaps?days=30")
    assert page.status_code == 200
    assert "only identical questions" not in page.text  # the app's Bot encoder was used
    rows = page.text.split("<tbody>", 1)[1].lower()
    assert rows.index("japan") < rows.index("banana") < rows.index("pizza")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "similarity" in page.text
