"""The escalation log on SQLite and PostgreSQL: schema, records, filters, export, purge, threads."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import json
import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from faqbot.dialog import Conversation, Turn
from faqbot.store import EscalationStore, client_context, open_store
from faqbot.store_db import current_revision, head_revision
from faqbot.store_models import Base
from tests.store.conftest import HELP, make_turn


def test_schema_is_migrated_to_head_and_matches_the_models(store: EscalationStore):
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_record_stores_every_field_at_once(store: EscalationStore):
    conversation = Conversation(session_id="sess-1")
    conversation.add(Turn("what is kratom", "answer", None, "what-is-kratom"))
    turn = make_turn("how much kratom should I take? email me at ann@example.org", turn_id=2)

    assert store.record(turn, conversation) is True

    [saved] = store.list_escalations()
    assert (saved.session_id, saved.turn_id, saved.category, saved.kind) == (
        "sess-1",
        2,
        "dosing",
        "redirect",
    )
    assert saved.status == "new"
    assert saved.created_at.tzinfo is not None
    assert abs(saved.created_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    assert saved.message == "how much kratom should I take? email me at [email]"
    assert saved.evidence == [
        {"category": "dosing", "source": "rule", "ref": "dosing-rule", "score": 1.0}
    ]
    assert saved.reply_text == HELP  # help numbers in faqbot's own reply are kept
    assert saved.resources[0]["phone"] == "1-800-222-1222"
    assert saved.transcript == [
        {"role": "user", "text": "what is kratom"},
        {"role": "bot", "text": "answer -> what-is-kratom"},
        {"role": "user", "text": "how much kratom should I take? email me at [email]"},
        {"role": "bot", "text": "redirect (dosing)"},
    ]


def test_client_address_is_stored_only_as_a_keyed_hash(store: EscalationStore):
    expected = hmac.new(b"test-key", b"203.0.113.7", hashlib.sha256).hexdigest()
    store.record(
        make_turn("how much", turn_id=1), Conversation(session_id="a"), client_ip="203.0.113.7"
    )
    with client_context("203.0.113.7"):
        store.record(make_turn("how much", turn_id=2), Conversation(session_id="a"))
    store.record(make_turn("how much", turn_id=3), Conversation(session_id="a"))

    hashes = [r.client_hash for r in store.list_escalations(newest_first=False)]
    assert hashes == [expected, expected, None]
    assert "203.0.113.7" not in store.export("jsonl")


def test_unanswered_questions_are_kept_apart(store: EscalationStore):
    turn = make_turn("my name is Zed Quill, what about mars", kind="out_of_scope", category=None)
    store.record_unanswered(turn)

    [saved] = store.list_unanswered()
    assert (saved.kind, saved.message) == ("out_of_scope", "my name is [name], what about mars")
    assert store.list_escalations() == []


def test_negative_feedback_is_an_escalation_and_positive_is_not(store: EscalationStore):
    conversation = Conversation(session_id="s")
    conversation.add(Turn("what is kratom", "answer", None, "what-is-kratom"))
    conversation.add(Turn("is it addictive", "answer", None, "is-kratom-addictive"))

    assert store.record_feedback(session_id="s", turn_id=1, helpful=True, comment=None)
    assert store.record_feedback(
        session_id="s",
        turn_id=2,
        helpful=False,
        comment="wrong! call me at 555-867-5309",
        conversation=conversation,
    )
    store.record_feedback(  # the same vote again (a double click) is one record
        session_id="s", turn_id=2, helpful=False, comment="wrong! call me at 555-867-5309"
    )

    [escalation] = store.list_escalations()
    assert (escalation.category, escalation.kind, escalation.turn_id) == ("feedback", "feedback", 2)
    assert (escalation.message, escalation.entry_id) == ("is it addictive", "is-kratom-addictive")
    assert escalation.transcript[-1] == {"role": "feedback", "text": "wrong! call me at [phone]"}
    assert [t["text"] for t in escalation.transcript if t["role"] == "user"] == [
        "what is kratom",
        "is it addictive",
    ]
    with store.engine.connect() as connection:
        votes = connection.execute(text("SELECT helpful, comment FROM feedback ORDER BY id")).all()
    assert [tuple(v) for v in votes] == [(True, None), (False, "wrong! call me at [phone]")]


def _seed(store: EscalationStore) -> None:
    for i, category in enumerate(["dosing", "mixing", "dosing", "emergency"], start=1):
        message = f"message {i} about {category}"
        store.record(make_turn(message, category=category, turn_id=i), Conversation(session_id="s"))


def test_filters_paging_and_status(store: EscalationStore):
    _seed(store)
    assert [r.turn_id for r in store.list_escalations()] == [4, 3, 2, 1]
    assert [r.turn_id for r in store.list_escalations(category="dosing")] == [3, 1]
    assert [r.turn_id for r in store.list_escalations(limit=2, offset=1)] == [3, 2]
    assert [r.turn_id for r in store.list_escalations(search="ABOUT MIX")] == [2]
    assert store.list_escalations(search="100%") == []  # wildcards are literal
    today = dt.datetime.now(dt.UTC).date()
    assert len(store.list_escalations(since=today, until=today)) == 4
    assert store.list_escalations(since=today + dt.timedelta(days=1)) == []
    assert store.list_escalations(until=today - dt.timedelta(days=1)) == []
    assert store.count_escalations(category="dosing") == 2

    first = store.list_escalations(newest_first=False)[0]
    assert store.set_status(first.id, "resolved") is True
    assert store.set_status(999_999, "resolved") is False
    with pytest.raises(ValueError, match="status must be one of"):
        store.set_status(first.id, "closed")
    assert store.count_by_status() == {"new": 3, "in_review": 0, "resolved": 1, "false_alarm": 0}
    assert [r.id for r in store.list_escalations(status="resolved")] == [first.id]
    assert store.get_escalation(first.id).status == "resolved"  # type: ignore[union-attr]
    assert store.get_escalation(999_999) is None


def test_export_csv_and_jsonl_round_trip(store: EscalationStore):
    _seed(store)
    rows = list(csv.DictReader(io.StringIO(store.export("csv", category="dosing"))))
    assert [r["message"] for r in rows] == ["message 1 about dosing", "message 3 about dosing"]
    assert json.loads(rows[0]["evidence"])[0]["ref"] == "dosing-rule"

    lines = store.export("jsonl").splitlines()
    assert [json.loads(line)["turn_id"] for line in lines] == [1, 2, 3, 4]  # oldest first
    with pytest.raises(ValueError, match="unknown export format"):
        store.export("xml")


def _age_everything(store: EscalationStore, days: int) -> None:
    old = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
    value = (
        old.replace(tzinfo=None).isoformat(" ") if store.engine.dialect.name == "sqlite" else old
    )
    with store.engine.begin() as connection:
        for table in ("escalations", "unanswered", "feedback"):
            connection.execute(text(f"UPDATE {table} SET created_at = :old"), {"old": value})


def test_purge_removes_old_rows_from_every_table(store: EscalationStore, store_settings):
    store.record(make_turn("old"), Conversation(session_id="s"))
    store.record_unanswered(make_turn("old", kind="fallback", category=None))
    store.record_feedback(session_id="s", turn_id=1, helpful=False, comment="old")
    _age_everything(store, 120)
    store.record(make_turn("new", turn_id=2), Conversation(session_id="s"))

    assert store.purge(90) == 4  # 2 escalations (one from feedback), 1 unanswered, 1 feedback
    assert [r.message for r in store.list_escalations()] == ["new"]
    assert store.list_unanswered() == []
    assert store.purge(90) == 0
    with pytest.raises(ValueError):
        store.purge(-1)


def test_retention_is_applied_when_the_store_opens(store: EscalationStore, store_settings):
    store.record(make_turn("old"), Conversation(session_id="s"))
    _age_everything(store, 91)
    store.record(make_turn("recent", turn_id=2), Conversation(session_id="s"))
    store.close()

    reopened = open_store(store_settings)
    try:
        assert [r.message for r in reopened.list_escalations()] == ["recent"]
    finally:
        reopened.close()


def test_concurrent_writers_lose_nothing(store: EscalationStore):
    threads, per_thread = 8, 20
    results: list[bool] = []

    def write(worker: int) -> None:
        for i in range(per_thread):
            turn = make_turn(f"w{worker} m{i}", session_id=f"w{worker}", turn_id=i + 1)
            results.append(store.record(turn, Conversation(session_id=f"w{worker}")))

    workers = [threading.Thread(target=write, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    assert results == [True] * threads * per_thread
    assert store.stats["spooled"] == 0  # all committed directly, none needed the spool
    messages = [r.message for r in store.list_escalations()]
    assert sorted(messages) == sorted(
        f"w{w} m{i}" for w in range(threads) for i in range(per_thread)
    )


def test_ping(store: EscalationStore):
    assert store.ping() is True
