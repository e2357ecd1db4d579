"""Server-side chat sessions and per-client rate limits, in process or in Redis.

Both live behind small protocols (`SessionStore`, `RateLimiter`); `FAQBOT_REDIS_URL` selects the
Redis versions so several workers or hosts share them. Redis keys, all under
`settings.redis_prefix` (default `faqbot:`):

    {prefix}session:{session_id}             the Conversation as JSON; expires after the idle TTL
    {prefix}lock:{session_id}                held while one turn of that session is answered
    {prefix}rate:{scope}:{client}:{minute}   requests of one client in one fixed minute window

`client` is a keyed hash of the address, never the address itself.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import math
import re
import secrets
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from faqbot.config import Settings
from faqbot.dialog import Conversation, Turn
from faqbot.errors import StoreError

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,128}$")
Clock = Callable[[], float]


def new_session_id() -> str:
    """A fresh opaque, unguessable session id."""
    return secrets.token_urlsafe(24)


def plausible_session_id(value: str | None) -> bool:
    """True when `value` looks like an id we issued (anything else is simply unknown)."""
    return bool(value) and SESSION_ID.match(value or "") is not None


def safe_url(url: str) -> str:
    """A URL without its password, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def conversation_to_json(conversation: Conversation) -> str:
    """A conversation as compact JSON (what both stores keep)."""
    return json.dumps(dataclasses.asdict(conversation), separators=(",", ":"))


def conversation_from_json(text: str, *, max_turns: int) -> Conversation:
    """The conversation stored by `conversation_to_json`, with today's history bound."""
    data = json.loads(text)
    conversation = Conversation(
        turns=[Turn(**turn) for turn in data["turns"]],
        max_turns=max_turns,
        session_id=data["session_id"],
        turn_count=data["turn_count"],
    )
    del conversation.turns[:-max_turns]
    return conversation


class SessionStore(Protocol):
    """Where conversations live between requests."""

    async def get(self, session_id: str) -> Conversation | None:
        """The live conversation with this id, or None when unknown or expired."""
        ...

    async def save(self, conversation: Conversation) -> None:
        """Store the conversation and restart its idle timer."""
        ...

    def lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """Serialize turns of one session (across workers for shared stores)."""
        ...

    async def ping(self) -> bool:
        """True when the store is reachable."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


class RateLimiter(Protocol):
    """Counts requests per client; same interface in process and in Redis."""

    async def hit(self, scope: str, client: str) -> int | None:
        """Count one request; None when allowed, else the seconds until it would be."""
        ...


class KeyedLocks:
    """In-process asyncio locks per key, dropped once nobody holds or waits for them."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the lock for `key`."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


class MemorySessionStore:
    """Sessions in this process: an LRU of JSON blobs with an idle deadline each."""

    def __init__(
        self,
        *,
        ttl_seconds: float,
        max_turns: int,
        max_sessions: int = 50_000,
        clock: Clock = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_turns = max_turns
        self.max_sessions = max_sessions
        self.clock = clock
        self._items: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._locks = KeyedLocks()

    async def get(self, session_id: str) -> Conversation | None:
        """The conversation, unless unknown or idle past the TTL."""
        item = self._items.get(session_id)
        if item is None:
            return None
        deadline, blob = item
        if deadline <= self.clock():
            del self._items[session_id]
            return None
        return conversation_from_json(blob, max_turns=self.max_turns)

    async def save(self, conversation: Conversation) -> None:
        """Store it as the most recent session, evicting the least recent beyond the bound."""
        assert conversation.session_id is not None
        sid = conversation.session_id
        now = self.clock()
        self._items[sid] = (now + self.ttl, conversation_to_json(conversation))
        self._items.move_to_end(sid)
        # every save moves its key to the end, so the dict is ordered by deadline: drop expired ones
        while self._items and next(iter(self._items.values()))[0] <= now:
            self._items.popitem(last=False)
        while len(self._items) > self.max_sessions:
            self._items.popitem(last=False)

    def lock(self, session_id: str) -> AbstractAsyncContextManager[None]:
        """An in-process lock for this session."""
        return self._locks.hold(session_id)

    async def ping(self) -> bool:
        """Always reachable."""
        return True

    async def close(self) -> None:
        """Nothing to release."""

    def __len__(self) -> int:
        return len(self._items)


class RedisSessionStore:
    """Sessions in Redis, shared by every worker; the idle TTL is the key's expiry."""

    def __init__(self, redis: Any, *, prefix: str, ttl_seconds: int, max_turns: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl = ttl_seconds
        self.max_turns = max_turns

    def key(self, session_id: str) -> str:
        """The Redis key of a session."""
        return f"{self.prefix}session:{session_id}"

    async def get(self, session_id: str) -> Conversation | None:
        """The conversation, or None once Redis has expired it."""
        blob = await _call(self.redis.get(self.key(session_id)))
        if blob is None:
            return None
        return conversation_from_json(blob, max_turns=self.max_turns)

    async def save(self, conversation: Conversation) -> None:
        """Write it with a fresh expiry."""
        assert conversation.session_id is not None
        key = self.key(conversation.session_id)
        await _call(self.redis.set(key, conversation_to_json(conversation), ex=self.ttl))

    @asynccontextmanager
    async def lock(self, session_id: str) -> AsyncIterator[None]:
        """A Redis lock, so two workers never answer the same session at once."""
        from redis.exceptions import LockError, RedisError

        lock = self.redis.lock(f"{self.prefix}lock:{session_id}", timeout=60, blocking_timeout=30)
        try:
            acquired = await lock.acquire()
        except RedisError as exc:
            raise StoreError(f"session lock failed: {exc}") from exc
        if not acquired:
            raise StoreError("session is busy: another turn is still being answered")
        try:
            yield
        finally:
            try:
                await lock.release()
            except (LockError, RedisError):
                pass  # expired or Redis gone: the key's timeout frees it

    async def ping(self) -> bool:
        """True when Redis answers."""
        try:
            return bool(await self.redis.ping())
        except Exception:  # noqa: BLE001 - any failure means not reachable
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self.redis.aclose()


class MemoryRateLimiter:
    """Fixed one-minute windows per client, in this process."""

    def __init__(self, *, limit: int, clock: Clock = time.time) -> None:
        self.limit = limit
        self.clock = clock
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}

    async def hit(self, scope: str, client: str) -> int | None:
        """Count a request; seconds to wait when this window's budget is spent."""
        now = self.clock()
        minute = int(now // 60)
        if len(self._counts) > 10_000:
            self._counts = {k: v for k, v in self._counts.items() if v[0] == minute}
        window, count = self._counts.get((scope, client), (minute, 0))
        count = count + 1 if window == minute else 1
        self._counts[(scope, client)] = (minute, count)
        return None if count <= self.limit else _retry_after(now, minute)


class RedisRateLimiter:
    """Fixed one-minute windows per client in Redis (INCR + EXPIREAT), shared by workers."""

    def __init__(self, redis: Any, *, prefix: str, limit: int, clock: Clock = time.time) -> None:
        self.redis = redis
        self.prefix = prefix
        self.limit = limit
        self.clock = clock

    async def hit(self, scope: str, client: str) -> int | None:
        """Count a request; seconds to wait when this window's budget is spent."""
        now = self.clock()
        minute = int(now // 60)
        key = f"{self.prefix}rate:{scope}:{client}:{minute}"
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.incr(key)
            pipe.expireat(key, (minute + 1) * 60 + 1)
            count, _ = await _call(pipe.execute())
        return None if int(count) <= self.limit else _retry_after(now, minute)


def _retry_after(now: float, minute: int) -> int:
    return max(1, math.ceil((minute + 1) * 60 - now))


async def _call(awaitable: Any) -> Any:
    """Await a Redis call, turning its errors into StoreError."""
    from redis.exceptions import RedisError

    try:
        return await awaitable
    except RedisError as exc:
        raise StoreError(f"Redis: {exc}") from exc


def open_session_backends(settings: Settings) -> tuple[SessionStore, RateLimiter | None]:
    """The session store and rate limiter the settings ask for (limiter None when off)."""
    ttl = settings.session_ttl_minutes * 60
    limit = settings.rate_limit_per_minute
    if not settings.redis_url:
        limiter = MemoryRateLimiter(limit=limit) if limit > 0 else None
        return MemorySessionStore(ttl_seconds=ttl, max_turns=settings.history_turns), limiter
    import redis.asyncio

    client = redis.asyncio.Redis.from_url(settings.redis_url, decode_responses=True)
    prefix = settings.redis_prefix
    sessions = RedisSessionStore(
        client, prefix=prefix, ttl_seconds=ttl, max_turns=settings.history_turns
    )
    redis_limiter = RedisRateLimiter(client, prefix=prefix, limit=limit) if limit > 0 else None
    return sessions, redis_limiter
