"""Database down: the API keeps replying, escalations go to the spool, and are replayed once.

A throwaway PostgreSQL cluster of our own (tests/store/pgcluster.py) is stopped like a crash
while the real app (real Bot, its own store) takes guarded messages, then started again.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.config import Settings
from tests.conftest import fresh_data_dir
from tests.store.pgcluster import ThrowawayCluster, unavailable_reason

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

GUARDED = [
    "how much kratom should I take?",
    "can I take kratom with alcohol?",
    "my friend took kratom and won't wake up",
]


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    """A private, running PostgreSQL cluster on a free port; destroyed afterwards."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(f"no throwaway PostgreSQL cluster: {reason}")
    made = ThrowawayCluster()
    try:
        made.init()
        made.start()
        yield made
    finally:
        made.destroy()


class Session:
    """One chat session over the TestClient; keeps every reply."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.session_id: str | None = None
        self.replies: list[dict] = []

    def send(self, message: str) -> dict:
        """Send one message; the reply must be a 200."""
        response = self.client.post(
            "/api/chat", json={"message": message, "session_id": self.session_id}
        )
        assert response.status_code == 200, response.text
        reply = response.json()
        self.session_id = reply["session_id"]
        self.replies.append(reply)
        return reply


def test_replies_continue_while_the_database_is_down_and_the_spool_replays(
    cluster: ThrowawayCluster, built_data_dir: Path, tmp_path: Path
) -> None:
    url = cluster.create_database(f"down_{uuid.uuid4().hex[:10]}")
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    app = create_app(
        settings=Settings(data_dir=data_dir, database_url=url, rate_limit_per_minute=0)
    )
    with TestClient(app) as client:
        store = app.state.faqbot.store
        chat = Session(client)
        for message in GUARDED:
            chat.send(message)
        assert store.count_escalations() == len(GUARDED) and store.spool.count() == 0

        cluster.stop("immediate")
        spooled = []
        for message in GUARDED * 2:
            reply = chat.send(message)
            assert reply["escalated"] and reply["resources"], reply
            spooled.append(store.spool.count())
        assert spooled == list(range(1, len(GUARDED) * 2 + 1))  # the spool grows by one each
        down = client.get("/readyz")
        assert chat.send("what is kratom")["kind"] == "answer"  # answers continue too

        cluster.start()
        time.sleep(store.retry_seconds)  # the store's back-off before it tries the database again
        chat.send(GUARDED[0])  # the next write replays the spool first
        up = client.get("/readyz")
        stored = store.list_escalations(newest_first=False)

    assert down.status_code == 503 and down.json()["store"] is False
    assert up.status_code == 200
    keys = [(r.session_id, r.turn_id) for r in stored]
    guarded = [(r["session_id"], r["turn_id"]) for r in chat.replies if r["kind"] != "answer"]
    assert Counter(keys) == Counter(guarded)  # every guarded turn exactly once
    assert len(keys) == len(GUARDED) * 3 + 1
    assert not store.spool.pending()
