"""The lifespan: invalid knowledge stops startup, a broken index starts degraded, the real
store and Bot are built once (and the real SQLite store receives exactly the guarded turns).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.config import Settings
from faqbot.errors import KnowledgeError
from tests.api.conftest import Chat, FakeStore
from tests.conftest import fresh_data_dir

GUARDED = {"redirect", "emergency"}


def test_invalid_knowledge_stops_startup_naming_file_and_line(
    scratch_kb: Path, tmp_path: Path
) -> None:
    entry = scratch_kb / "faq" / "basics" / "sample-entry.yaml"
    entry.write_text(entry.read_text().replace("year: 2024", "year: 1850"))
    settings = Settings(knowledge_dir=scratch_kb, data_dir=tmp_path / "data")
    with pytest.raises(KnowledgeError) as caught:
        with TestClient(create_app(settings=settings, store=FakeStore())):
            pass
    assert "sample-entry.yaml:" in str(caught.value)
    assert any(":" in p and "year" in p for p in caught.value.problems)


def test_model_that_cannot_load_starts_degraded(built_data_dir: Path, tmp_path: Path) -> None:
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    settings = Settings(data_dir=data_dir, encoder="no-such-encoder", rate_limit_per_minute=0)
    store = FakeStore()
    app = create_app(settings=settings, store=store)
    with TestClient(app) as client:
        ready = client.get("/readyz")
        emergency = client.post("/api/chat", json={"message": "I want to kill myself"}).json()
        other = client.post("/api/chat", json={"message": "what is kratom"}).json()
        health = client.get("/healthz")
    assert ready.status_code == 503 and ready.json()["index"] is False
    assert health.status_code == 200
    assert emergency["kind"] == "emergency"
    assert (other["kind"], other["category"]) == ("redirect", "error")
    assert "EncoderError" in (app.state.faqbot.degraded_reason or "")


@pytest.fixture
def real_store_settings(built_data_dir: Path, tmp_path: Path) -> Settings:
    """Settings on a fresh copy of the built data dir (the SQLite file goes there)."""
    pytest.importorskip("faqbot.store", reason="faqbot.store is not available yet")
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    return Settings(data_dir=data_dir, rate_limit_per_minute=0, ip_hash_key="test-key")


def test_production_path_builds_bot_and_store_once(real_store_settings: Settings) -> None:
    app = create_app(settings=real_store_settings)
    with TestClient(app) as client:
        state = app.state.faqbot
        assert client.get("/readyz").json() == {
            "ready": True,
            "index": True,
            "store": True,
            "sessions": True,
        }
        chat = Chat(client)
        for message in ("what is kratom", "how much kratom should I take?", "is it addictive?"):
            chat >> message
        guarded = [r for r in chat.replies if r["kind"] in GUARDED]
        assert len(guarded) == 1 and guarded[0]["escalated"]
        records = state.store.list_escalations()
        assert [(r.session_id, r.turn_id) for r in records] == [
            (chat.session_id, guarded[0]["turn_id"])
        ]
        assert records[0].client_hash and "testclient" not in records[0].client_hash
    assert real_store_settings.sqlite_path().exists()


def test_real_sqlite_store_gets_exactly_the_guarded_turns(
    bot, real_store_settings: Settings
) -> None:
    from faqbot.store import open_store

    store = open_store(real_store_settings)
    try:
        app = create_app(bot=bot, settings=real_store_settings, store=store)
        with TestClient(app) as client:
            chat = Chat(client)
            for message in (
                "what is kratom",
                "can I take kratom with alcohol?",
                "my friend took kratom and now he won't wake up",
                "hello",
                "how much kratom is safe?",
            ):
                chat >> message
            feedback = client.post(
                "/api/feedback",
                json={"session_id": chat.session_id, "turn_id": 1, "helpful": False},
            )
        guarded = {r["turn_id"] for r in chat.replies if r["kind"] in GUARDED}
        records = store.list_escalations()
        replies = {r.turn_id for r in records if r.category != "feedback"}
        assert len(guarded) >= 2 and replies == guarded
        assert feedback.json() == {"recorded": True}
        assert store.count_escalations(category="feedback") == 1
    finally:
        store.close()
