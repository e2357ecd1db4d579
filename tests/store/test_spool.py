"""When the database is down, records go to the fsynced spool and are replayed exactly once."""

from __future__ import annotations

import json
import shutil

import pytest

from faqbot.dialog import Conversation
from faqbot.store import EscalationStore, open_store
from faqbot.store_db import make_engine
from faqbot.store_spool import Spool, encode
from tests.store.conftest import make_turn

UNREACHABLE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"  # nothing listens on port 1


@pytest.fixture
def down_store(store_settings) -> EscalationStore:
    """A store whose database is unreachable, spooling into the test's data dir."""
    down = EscalationStore(
        engine=make_engine(UNREACHABLE),
        spool=Spool(store_settings.data_dir / "spool"),
        ip_hash_key="test-key",
    )
    down.start()  # a down database at start is a warning, not an error
    return down


def _write(sink: EscalationStore, prefix: str, count: int) -> None:
    for i in range(count):
        turn = make_turn(f"{prefix} {i} mail me at x{i}@example.com", turn_id=i + 1)
        assert sink.record(turn, Conversation(session_id=prefix)) is True


def test_down_database_spools_redacted_rows_and_open_replays_them_once(
    store: EscalationStore, down_store: EscalationStore, store_settings
):
    _write(down_store, "spooled", 3)
    down_store.record_feedback(session_id="f", turn_id=1, helpful=False, comment="bad")
    down_store.record_unanswered(make_turn("gap", kind="fallback", category=None))

    assert down_store.stats["spooled"] == 6  # 3 escalations, vote + its escalation, 1 gap
    spooled = down_store.spool.path.read_text()
    assert "@example.com" not in spooled and "[email]" in spooled
    batch_copy = store_settings.data_dir / "copy.jsonl"
    shutil.copy(down_store.spool.path, batch_copy)

    reopened = open_store(store_settings)  # replays at open
    assert not reopened.spool.pending()
    messages = sorted(r.message for r in reopened.list_escalations())
    assert messages == ["bad", *[f"spooled {i} mail me at [email]" for i in range(3)]]
    assert len(reopened.list_unanswered()) == 1

    # a crash after the commit but before the batch was deleted: the batch is replayed again
    shutil.copy(batch_copy, down_store.spool.directory / "replaying-crashed.jsonl")
    assert reopened.replay_spool() == 6
    assert sorted(r.message for r in reopened.list_escalations()) == messages
    assert len(reopened.list_unanswered()) == 1
    reopened.close()


def test_writes_replay_the_spool_first_when_the_database_is_back(
    store: EscalationStore, down_store: EscalationStore
):
    _write(down_store, "early", 2)
    _write(store, "late", 1)  # same spool dir: this write replays the two before storing

    assert [r.message.split()[0] for r in store.list_escalations(newest_first=False)] == [
        "early",
        "early",
        "late",
    ]
    assert not store.spool.pending()


def test_corrupt_and_refused_lines_are_set_aside_not_lost(store: EscalationStore, down_store):
    _write(down_store, "good", 2)
    path = down_store.spool.path
    with path.open("a") as spool:
        spool.write("{not json}\n")
        refused = json.loads(encode("escalations", {"dedupe_key": "x"}))  # required columns missing
        spool.write(json.dumps(refused) + "\n")
        spool.write('{"table": "escalations", "row": {"torn')  # a crash mid-write
    _write(down_store, "after-torn", 1)  # starts on a fresh line

    assert store.replay_spool() == 3
    assert sorted(r.message.split()[0] for r in store.list_escalations()) == [
        "after-torn",
        "good",
        "good",
    ]
    rejected = store.spool.rejected.read_text().splitlines()
    assert len(rejected) == 3
    assert rejected[0] == "{not json}"
    assert not store.spool.pending()


def test_only_one_replayer_at_a_time(store: EscalationStore, down_store):
    _write(down_store, "held", 1)
    with store.spool.replaying() as mine:
        assert mine
        assert store.replay_spool() == 0  # someone else is replaying: leave it to them
    assert store.replay_spool() == 1


def test_replay_keeps_the_spool_while_the_database_is_down(down_store: EscalationStore):
    from faqbot.errors import StoreError

    _write(down_store, "kept", 2)
    with pytest.raises(StoreError):
        down_store.replay_spool()
    assert down_store.spool.count() == 2
    assert down_store.ping() is False
