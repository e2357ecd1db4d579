"""Memory of the in-process session store: idle sessions must not outlive their TTL in memory.

Found by the soak benchmark (docs/robustness.md): server RSS grew ~2 MiB a minute under 16
clients even with a 2-minute session TTL, because expired sessions stay in memory until someone
asks for them again (or 50,000 sessions push them out).
"""

from __future__ import annotations

import asyncio

from faqbot.dialog import Conversation
from faqbot.sessions import MemorySessionStore, new_session_id


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def save_new(store: MemorySessionStore) -> str:
    """Save one fresh conversation; its id."""
    conversation = Conversation(session_id=new_session_id())
    await store.save(conversation)
    assert conversation.session_id is not None
    return conversation.session_id


def test_expired_sessions_are_not_served() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_seconds=60, max_turns=10, clock=clock)
    sid = asyncio.run(save_new(store))
    clock.now += 61
    assert asyncio.run(store.get(sid)) is None


def test_abandoned_sessions_leave_memory_once_expired() -> None:
    clock = Clock()
    store = MemorySessionStore(ttl_seconds=60, max_turns=10, clock=clock)

    async def scenario() -> None:
        for _ in range(100):
            await save_new(store)
        clock.now += 61
        await save_new(store)

    asyncio.run(scenario())
    assert len(store) == 1
