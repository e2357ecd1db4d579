"""Row building (pure): transcripts, feedback rows, client hashes."""

from __future__ import annotations

from faqbot.dialog import Conversation, Turn
from faqbot.store_records import (
    CLIENT_IP,
    client_context,
    escalation_row,
    feedback_escalation_row,
    feedback_row,
    hash_client,
    turn_at,
)
from tests.store.conftest import make_turn


def _conversation(*messages: str) -> Conversation:
    conversation = Conversation(session_id="s")
    for message in messages:
        conversation.add(Turn(message, "answer", None, "entry"))
    return conversation


def test_transcript_is_the_same_whether_the_current_turn_was_remembered_or_not():
    turn = make_turn("how much for my name is Al", turn_id=3)
    before = _conversation("one", "two")
    after = _conversation("one", "two")
    after.add(Turn(turn.message, "redirect", "dosing"))

    expected = escalation_row(turn, before, client_hash=None)["transcript"]
    assert escalation_row(turn, after, client_hash=None)["transcript"] == expected
    assert [line["text"] for line in expected if line["role"] == "user"] == [
        "one",
        "two",
        "how much for my name is [name]",
    ]


def test_transcript_of_a_long_session_keeps_the_bounded_history():
    conversation = _conversation(*[f"m{i}" for i in range(1, 15)])  # 14 turns, last 10 kept
    row = escalation_row(make_turn("now", turn_id=15), conversation, client_hash=None)
    users = [line["text"] for line in row["transcript"] if line["role"] == "user"]
    assert users == [f"m{i}" for i in range(5, 15)] + ["now"]


def test_turn_at_finds_remembered_turns_only():
    conversation = _conversation(*[f"m{i}" for i in range(1, 13)])
    assert turn_at(conversation, 12).message == "m12"  # type: ignore[union-attr]
    assert turn_at(conversation, 3).message == "m3"  # type: ignore[union-attr]
    assert turn_at(conversation, 2) is None  # fell out of the bounded history
    assert turn_at(conversation, 13) is None


def test_feedback_without_a_conversation_shows_the_comment():
    vote = feedback_row(session_id="s", turn_id=4, helpful=False, comment="I'm called Lee, bad")
    row = feedback_escalation_row(vote, None, client_hash=None)
    assert row["message"] == "I'm called [name], bad"
    assert row["transcript"] == [{"role": "feedback", "text": "I'm called [name], bad"}]


def test_identical_votes_share_a_key_and_different_ones_do_not():
    def key(**changes: object) -> str:
        args = {"session_id": "s", "turn_id": 1, "helpful": False, "comment": "no"} | changes
        return feedback_row(**args)["dedupe_key"]  # type: ignore[arg-type]

    assert key() == key()
    assert len({key(), key(comment="other"), key(turn_id=2), key(helpful=True)}) == 4
    assert key(session_id=None) != key(session_id=None)  # no session: nothing to dedupe on


def test_client_hash_is_keyed_and_context_scoped():
    assert hash_client(None, "k") is None
    assert hash_client("10.0.0.1", "k") != hash_client("10.0.0.1", "other")
    assert len(hash_client("10.0.0.1", "k") or "") == 64
    with client_context("10.0.0.1"):
        assert CLIENT_IP.get() == "10.0.0.1"
    assert CLIENT_IP.get() is None


def test_evidence_keeps_ids_and_scores_but_not_the_matched_text():
    row = escalation_row(make_turn("secret words"), Conversation(), client_hash=None)
    assert "secret words" not in str(row["evidence"])
