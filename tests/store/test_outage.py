"""Nothing is lost when PostgreSQL goes down mid-run: a throwaway cluster of our own is stopped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from faqbot.config import Settings
from faqbot.dialog import Conversation
from faqbot.store import EscalationStore, open_store
from tests.store.conftest import make_turn
from tests.store.pgcluster import ThrowawayCluster, unavailable_reason

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster() -> Iterator[ThrowawayCluster]:
    """A private PostgreSQL cluster on a free port (one per module); destroyed afterwards."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    made = ThrowawayCluster()
    try:
        made.init()
        yield made
    finally:
        made.destroy()


@pytest.fixture
def settings_on_cluster(cluster: ThrowawayCluster, tmp_path) -> Settings:
    """Settings for a fresh database on the (running) throwaway cluster."""
    if not cluster.running():
        cluster.start()
    url = cluster.create_database(f"outage_{uuid.uuid4().hex[:10]}")
    return Settings(data_dir=tmp_path / "data", database_url=url, ip_hash_key="k")


def _record(store: EscalationStore, label: str) -> bool:
    number = int(label.split("-")[1])
    return store.record(make_turn(label, turn_id=number), Conversation(session_id="outage"))


def test_records_survive_a_crash_of_the_database(cluster: ThrowawayCluster, settings_on_cluster):
    settings = settings_on_cluster
    store = open_store(settings)
    store.retry_seconds = 0  # try the database on every write (no back-off), to see recovery
    labels = [f"m-{i}" for i in range(1, 31)]
    try:
        assert all(_record(store, label) for label in labels[:10])
        assert store.stats["spooled"] == 0

        cluster.stop("immediate")
        assert all(_record(store, label) for label in labels[10:20])  # still True: spooled
        assert store.stats["spooled"] == 10
        assert store.spool.count() == 10
        assert store.ping() is False

        cluster.start()
        assert store.replay_spool() == 10
        assert store.replay_spool() == 0
        assert all(_record(store, label) for label in labels[20:])

        stored = [r.message for r in store.list_escalations(newest_first=False)]
        assert sorted(stored) == sorted(labels)  # every record, each exactly once
        assert not store.spool.pending()
    finally:
        store.close()


def test_a_write_after_the_restart_replays_the_spool_first(
    cluster: ThrowawayCluster, settings_on_cluster
):
    settings = settings_on_cluster
    store = open_store(settings)
    store.retry_seconds = 0
    try:
        assert _record(store, "m-1")
        cluster.stop("immediate")
        assert _record(store, "m-2") and _record(store, "m-3")
        cluster.start()
        assert _record(store, "m-4")  # replays m-2, m-3, then stores m-4

        assert [r.message for r in store.list_escalations(newest_first=False)] == [
            "m-1",
            "m-2",
            "m-3",
            "m-4",
        ]
    finally:
        store.close()


def test_a_store_opened_while_the_database_is_down_catches_up(
    cluster: ThrowawayCluster, settings_on_cluster
):
    settings = settings_on_cluster
    cluster.stop("immediate")
    store = open_store(settings)  # down at startup: not an error, records are spooled
    try:
        assert _record(store, "m-1")
        cluster.start()
        assert store.replay_spool() == 1  # migrates the empty database first
        assert [r.message for r in store.list_escalations()] == ["m-1"]
    finally:
        store.close()
