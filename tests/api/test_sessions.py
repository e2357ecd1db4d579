"""Session stores and rate limiters: in process and in Redis (same interface, same tests)."""

from __future__ import annotations

import asyncio
import time

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.dialog import Conversation, Turn
from faqbot.sessions import (
    KeyedLocks,
    MemoryRateLimiter,
    MemorySessionStore,
    RedisRateLimiter,
    RedisSessionStore,
    conversation_from_json,
    conversation_to_json,
    new_session_id,
    plausible_session_id,
)
from tests.api.conftest import Chat, FakeStore


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def conversation(turns: int = 3, *, max_turns: int = 10) -> Conversation:
    """A conversation with `turns` turns."""
    conv = Conversation(session_id=new_session_id(), max_turns=max_turns)
    for i in range(turns):
        conv.add(Turn(f"message {i}", "answer", None, f"entry-{i}", f"topic {i}"))
    return conv


def run(coro):
    """Run one coroutine to completion."""
    return asyncio.run(coro)


def test_session_ids_are_opaque_and_recognised() -> None:
    ids = {new_session_id() for _ in range(100)}
    assert len(ids) == 100 and all(plausible_session_id(i) for i in ids)
    assert not plausible_session_id("short") and not plausible_session_id("has spaces in it ok?")
    assert not plausible_session_id(None)


def test_conversation_round_trips_through_json() -> None:
    conv = conversation(4)
    back = conversation_from_json(conversation_to_json(conv), max_turns=10)
    assert back == conv


def test_history_is_bounded_but_turns_keep_counting() -> None:
    conv = conversation(15, max_turns=10)
    back = conversation_from_json(conversation_to_json(conv), max_turns=4)
    assert back.turn_count == 15 and len(back.turns) == 4
    assert back.turns[-1].message == "message 14"


def test_memory_sessions_expire_after_idle_ttl() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_seconds=60, max_turns=10, clock=clock)
    conv = conversation()
    run(store.save(conv))
    clock.now += 59
    assert run(store.get(conv.session_id)) == conv
    run(store.save(conv))  # activity restarts the idle timer
    clock.now += 59
    assert run(store.get(conv.session_id)) is not None
    clock.now += 61
    assert run(store.get(conv.session_id)) is None


def test_memory_sessions_are_bounded() -> None:
    store = MemorySessionStore(ttl_seconds=60, max_turns=10, max_sessions=3)
    convs = [conversation(1) for _ in range(5)]
    for conv in convs:
        run(store.save(conv))
    assert len(store) == 3
    assert run(store.get(convs[0].session_id)) is None
    assert run(store.get(convs[4].session_id)) is not None


def test_memory_store_returns_copies() -> None:
    store = MemorySessionStore(ttl_seconds=60, max_turns=10)
    conv = conversation(1)
    run(store.save(conv))
    loaded = run(store.get(conv.session_id))
    loaded.add(Turn("unsaved", "answer"))
    assert run(store.get(conv.session_id)).turn_count == 1


def test_keyed_locks_serialize_and_clean_up() -> None:
    locks = KeyedLocks()
    order: list[str] = []

    async def worker(name: str) -> None:
        async with locks.hold("s"):
            order.append(f"{name}+")
            await asyncio.sleep(0.01)
            order.append(f"{name}-")

    async def main() -> None:
        await asyncio.gather(worker("a"), worker("b"), worker("c"))

    run(main())
    assert all(order[i][0] == order[i + 1][0] for i in range(0, 6, 2))
    assert len(locks) == 0


def test_memory_rate_limiter_windows() -> None:
    clock = Clock(600.0)
    limiter = MemoryRateLimiter(limit=2, clock=clock)
    assert [run(limiter.hit("chat", "a")) for _ in range(2)] == [None, None]
    clock.now = 615.0
    assert run(limiter.hit("chat", "a")) == 45
    assert run(limiter.hit("chat", "b")) is None
    assert run(limiter.hit("feedback", "a")) is None
    clock.now = 660.0
    assert run(limiter.hit("chat", "a")) is None


# ---------------------------------------------------------------------------- Redis
def redis_client(url: str):
    """A fresh asyncio Redis client (one per event loop)."""
    import redis.asyncio

    return redis.asyncio.Redis.from_url(url, decode_responses=True)


@pytest.mark.redis
def test_redis_sessions_round_trip_with_ttl(redis_url: str, redis_prefix: str) -> None:
    async def main() -> None:
        client = redis_client(redis_url)
        store = RedisSessionStore(client, prefix=redis_prefix, ttl_seconds=120, max_turns=10)
        conv = conversation(3)
        assert await store.get(conv.session_id) is None
        await store.save(conv)
        assert await store.get(conv.session_id) == conv
        ttl = await client.ttl(f"{redis_prefix}session:{conv.session_id}")
        assert 0 < ttl <= 120
        await client.delete(store.key(conv.session_id))  # what expiry does
        assert await store.get(conv.session_id) is None
        assert await store.ping()
        await store.close()

    run(main())


@pytest.mark.redis
def test_redis_lock_serializes_two_workers(redis_url: str, redis_prefix: str) -> None:
    order: list[str] = []

    async def worker(name: str) -> None:
        client = redis_client(redis_url)  # separate connections, like separate processes
        store = RedisSessionStore(client, prefix=redis_prefix, ttl_seconds=60, max_turns=10)
        async with store.lock("session-one"):
            order.append(f"{name}+")
            await asyncio.sleep(0.05)
            order.append(f"{name}-")
        await client.aclose()

    async def main() -> None:
        await asyncio.gather(worker("a"), worker("b"))

    run(main())
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])


@pytest.mark.redis
def test_redis_rate_limit_is_shared_between_workers(redis_url: str, redis_prefix: str) -> None:
    clock = Clock(float(int(time.time()) // 60 * 60))  # keys expire at real times

    async def main() -> list[int | None]:
        one, two = redis_client(redis_url), redis_client(redis_url)
        limiters = [
            RedisRateLimiter(c, prefix=redis_prefix, limit=3, clock=clock) for c in (one, two)
        ]
        results = [await limiters[i % 2].hit("chat", "client-a") for i in range(4)]
        results.append(await limiters[0].hit("chat", "client-b"))
        clock.now += 60
        results.append(await limiters[1].hit("chat", "client-a"))
        await one.aclose()
        await two.aclose()
        return results

    assert run(main()) == [None, None, None, 60, None, None]


@pytest.mark.redis
def test_conversation_continues_across_apps_sharing_redis(
    bot, api_settings, redis_url: str, redis_prefix: str
) -> None:
    settings = api_settings.model_copy(
        update={"redis_url": redis_url, "redis_prefix": redis_prefix, "rate_limit_per_minute": 2}
    )
    with (
        TestClient(create_app(bot=bot, settings=settings, store=FakeStore())) as first,
        TestClient(create_app(bot=bot, settings=settings, store=FakeStore())) as second,
    ):
        chat = Chat(first)
        chat >> "what is kratom"
        chat.client = second  # the next turn reaches another worker
        follow = chat >> "is it addictive?"
        limited = second.post("/api/chat", json={"message": "hello"})
        ready = second.get("/readyz").json()
    assert follow["turn_id"] == 2 and follow["kind"] not in {"out_of_scope", "fallback"}
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    assert ready["sessions"] is True


def test_unreachable_redis_stops_startup(bot, api_settings) -> None:
    settings = api_settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    with pytest.raises(RuntimeError, match="cannot reach Redis"):
        with TestClient(create_app(bot=bot, settings=settings, store=FakeStore())):
            pass


def test_a_failing_session_store_still_gets_a_guarded_reply(bot, api_settings) -> None:
    import redis.asyncio

    settings = api_settings.model_copy(update={"rate_limit_per_minute": 5})
    app = create_app(bot=bot, settings=settings, store=FakeStore())
    with TestClient(app) as client:
        dead = redis.asyncio.Redis.from_url("redis://127.0.0.1:1/0", decode_responses=True)
        state = app.state.faqbot
        state.sessions = RedisSessionStore(dead, prefix="x:", ttl_seconds=60, max_turns=10)
        state.limiter = RedisRateLimiter(dead, prefix="x:", limit=5)
        chat = Chat(client)
        first = chat >> "what is kratom"
        second = chat >> "my friend took kratom and won't wake up"
        ready = client.get("/readyz")
        metrics = client.get("/metrics").text
    assert first["kind"] == "answer" and second["kind"] == "emergency"
    assert second["turn_id"] == 1  # no history while the store is down, but a reply
    assert ready.status_code == 503 and ready.json()["sessions"] is False
    assert 'faqbot_errors_total{component="sessions"}' in metrics
    assert 'faqbot_errors_total{component="sessions"} 0.0' not in metrics


def test_redis_passwords_never_reach_messages() -> None:
    from faqbot.sessions import safe_url

    assert safe_url("redis://:s3cret@cache:6379/0") == "redis://:***@cache:6379/0"
    assert safe_url("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"
