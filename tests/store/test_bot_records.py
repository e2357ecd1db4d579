"""The real Bot (real model and index) writing to the store: exactly the guarded turns escalate."""

from __future__ import annotations

import copy

import pytest

from faqbot.dialog import Conversation
from faqbot.store import EscalationStore

TRANSCRIPT = [
    ("what is kratom", "answer", None),
    ("how many grams of kratom should I take", "redirect", "dosing"),
    ("tell me about the weather on mars", "out_of_scope", None),
    ("my name is Jane Doe, I took too much kratom and can't breathe", "emergency", "emergency"),
]


@pytest.fixture
def logging_bot(bot, store: EscalationStore):
    """The session's real Bot, copied, with the store as its escalation sink."""
    wired = copy.copy(bot)
    wired.sink = store
    return wired


def test_guarded_turns_are_escalated_with_the_session_so_far(logging_bot, store: EscalationStore):
    conversation = Conversation(session_id="sess-bot")
    turns = [logging_bot.reply(message, conversation) for message, _, _ in TRANSCRIPT]

    assert [(t.reply.kind, t.reply.category) for t in turns] == [(k, c) for _, k, c in TRANSCRIPT]
    assert [t.reply.escalated for t in turns] == [False, True, False, True]
    dosing, emergency = store.list_escalations(newest_first=False)
    assert (dosing.category, dosing.kind, dosing.turn_id) == ("dosing", "redirect", 2)
    assert (emergency.category, emergency.kind, emergency.turn_id) == ("emergency", "emergency", 4)
    assert {e["source"] for e in emergency.evidence} <= {"rule", "exemplar", "context"}
    assert all(set(e) == {"category", "source", "ref", "score"} for e in emergency.evidence)
    assert emergency.message == "my name is [name], I took too much kratom and can't breathe"
    assert emergency.reply_text == turns[3].reply.text
    assert emergency.transcript == [
        {"role": "user", "text": "what is kratom"},
        {"role": "bot", "text": "answer -> what-is-kratom"},
        {"role": "user", "text": "how many grams of kratom should I take"},
        {"role": "bot", "text": "redirect (dosing)"},
        {"role": "user", "text": "tell me about the weather on mars"},
        {"role": "bot", "text": "out_of_scope"},
        {"role": "user", "text": emergency.message},
        {"role": "bot", "text": "emergency (emergency)"},
    ]
    [unanswered] = store.list_unanswered()
    assert (unanswered.kind, unanswered.session_id) == ("out_of_scope", "sess-bot")
    assert unanswered.top_entry_id is not None and unanswered.top_score is not None


def test_personal_details_never_reach_the_database(logging_bot, store: EscalationStore):
    secrets = ["jane.roe@example.com", "555-201-7788", "42 Willow Lane", "03/14/1981", "Jane Roe"]
    message = (
        "My name is Jane Roe, born 03/14/1981, I live at 42 Willow Lane, reach me at "
        "jane.roe@example.com or 555-201-7788: how many grams of kratom should I take"
    )
    turn = logging_bot.reply(message, Conversation(session_id="sess-pii"))
    assert turn.reply.kind == "redirect"

    [saved] = store.list_escalations()
    assert saved.message == (
        "My name is [name], born [dob], I live at [address], reach me at "
        "[email] or [phone]: how many grams of kratom should I take"
    )
    everything = store.export("jsonl") + "".join(str(r) for r in store.list_unanswered())
    assert not [s for s in secrets if s in everything]
    assert "1-800-222-1222" in saved.reply_text  # the help number in faqbot's reply is kept
