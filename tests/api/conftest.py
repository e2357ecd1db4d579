"""API fixtures: a TestClient on the real Bot with an in-memory fake escalation store.

`FakeStore` is a test double of the store's interface (the EscalationSink protocol plus
record_feedback/ping/purge/replay_spool/close): it keeps every call so tests can check exactly
what the API wrote. Redis fixtures skip cleanly when 127.0.0.1:6379 does not answer and use a
unique key prefix per test, deleted afterwards.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass
class FakeStore:
    """Records every call; `up` drives ping(); `fail` makes writes raise."""

    up: bool = True
    fail: bool = False
    escalations: list[dict[str, Any]] = field(default_factory=list)
    unanswered: list[Any] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    purged: list[int] = field(default_factory=list)
    replays: int = 0
    closed: bool = False

    def record(self, turn: Any, conversation: Any, *, client_ip: str | None = None) -> bool:
        """Keep an escalation."""
        if self.fail:
            raise RuntimeError("store is broken")
        self.escalations.append(
            {"turn": turn, "turns": len(conversation.turns), "client_ip": client_ip}
        )
        return True

    def record_unanswered(self, turn: Any) -> None:
        """Keep an unanswered question."""
        self.unanswered.append(turn)

    def record_feedback(self, **kwargs: Any) -> bool:
        """Keep a vote."""
        if self.fail:
            raise RuntimeError("store is broken")
        self.feedback.append(kwargs)
        return True

    def ping(self) -> bool:
        """Reachable unless told otherwise."""
        return self.up

    def purge(self, days: int) -> int:
        """Note the retention purge."""
        self.purged.append(days)
        return 0

    def replay_spool(self) -> int:
        """Note a spool replay."""
        self.replays += 1
        return 0

    def close(self) -> None:
        """Note closing."""
        self.closed = True


class Chat:
    """A conversation over HTTP that reads like a transcript: `reply = chat >> "hi"`."""

    def __init__(self, client: TestClient, **extra: Any) -> None:
        self.client = client
        self.session_id: str | None = None
        self.extra = extra
        self.replies: list[dict[str, Any]] = []

    def __rshift__(self, message: str) -> dict[str, Any]:
        response = self.client.post(
            "/api/chat", json={"message": message, "session_id": self.session_id, **self.extra}
        )
        assert response.status_code == 200, response.text
        reply: dict[str, Any] = response.json()
        self.session_id = reply["session_id"]
        self.replies.append(reply)
        return reply


@pytest.fixture
def fake_store() -> FakeStore:
    """A fresh in-memory store double."""
    return FakeStore()


@pytest.fixture
def api_settings(settings):
    """The shared test settings (built data dir, no rate limit)."""
    return settings.model_copy(update={"cors_origins": ["https://clinic.example"]})


@pytest.fixture
def client(bot, api_settings, fake_store) -> Iterator[TestClient]:
    """A TestClient on the real Bot, writing to the fake store."""
    with TestClient(create_app(bot=bot, settings=api_settings, store=fake_store)) as test_client:
        yield test_client


@pytest.fixture
def redis_url() -> str:
    """The local Redis URL, or skip when it is not reachable."""
    redis = pytest.importorskip("redis")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.exceptions.RedisError as exc:
        pytest.skip(f"Redis at 127.0.0.1:6379 is not reachable ({exc})")
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A unique key prefix for this test; its keys are deleted afterwards."""
    import redis

    prefix = f"faqbot-test-{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()
