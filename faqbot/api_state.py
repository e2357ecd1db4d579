"""What one API worker holds: the Bot, the escalation store, sessions, limiter and metrics.

Built by the app's lifespan, never at import: the model and index load once at startup.
Invalid knowledge stops startup; an index or model that cannot load starts a degraded Bot
(rules still guard, everything else gets the fail-closed reply) and /readyz says not ready.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import inspect
import logging
import signal
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.concurrency import run_in_threadpool

from faqbot.bot import Bot, BotTurn
from faqbot.config import Settings
from faqbot.dialog import Conversation
from faqbot.errors import KnowledgeError
from faqbot.metrics import Metrics
from faqbot.security import TrustedProxies
from faqbot.sessions import RateLimiter, SessionStore, open_session_backends, safe_url

log = logging.getLogger("faqbot.api")
CLIENT_IP: ContextVar[str | None] = ContextVar("faqbot_client_ip", default=None)
SPOOL_EVERY = 300.0
PURGE_EVERY = 24 * 3600.0


def accepts_keyword(func: Any, name: str) -> bool:
    """True when `func` takes keyword `name` (or **kwargs)."""
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


class RequestSink:
    """The Bot's escalation sink in the API: forwards to the store with the client's address."""

    def __init__(self, store: Any, metrics: Metrics) -> None:
        self.store = store
        self.metrics = metrics
        self._record_ip = accepts_keyword(store.record, "client_ip")
        self._unanswered_ip = accepts_keyword(store.record_unanswered, "client_ip")

    def record(self, turn: BotTurn, conversation: Conversation) -> bool:
        """Write an escalation; count a store error when it could not be kept."""
        extra = {"client_ip": CLIENT_IP.get()} if self._record_ip else {}
        try:
            kept = bool(self.store.record(turn, conversation, **extra))
        except Exception:
            self.metrics.count_error("store")
            raise
        if not kept:
            self.metrics.count_error("store")
        return kept

    def record_unanswered(self, turn: BotTurn) -> None:
        """Write a fallback/out-of-scope question for the gap report."""
        extra = {"client_ip": CLIENT_IP.get()} if self._unanswered_ip else {}
        try:
            self.store.record_unanswered(turn, **extra)
        except Exception:
            self.metrics.count_error("store")
            raise


def with_sink(bot: Bot, sink: RequestSink) -> Bot:
    """A shallow copy of `bot` (sharing model, index and knowledge) that writes to `sink`."""
    wired = copy.copy(bot)
    wired.sink = sink
    return wired


def load_bot(settings: Settings, sink: RequestSink | None) -> tuple[Bot, str | None]:
    """The real Bot, or a degraded one and the reason; KnowledgeError stops startup."""
    from faqbot.engine import build_bot, build_degraded_bot
    from faqbot.kb import KnowledgeBase

    kb = KnowledgeBase.from_path(settings.knowledge_dir)
    try:
        return build_bot(settings, sink=sink, kb=kb, progress=log.info), None
    except Exception as exc:  # noqa: BLE001 - IndexError_, EncoderError or anything else
        reason = f"{type(exc).__name__}: {exc}"
        log.error("starting degraded: index or model could not load", extra={"reason": reason})
        return build_degraded_bot(settings, kb, sink=sink), reason


def open_default_store(settings: Settings) -> Any:
    """The configured escalation store (SQLite under the data dir, or FAQBOT_DATABASE_URL)."""
    from faqbot.store import open_store

    return open_store(settings)


@dataclass
class ApiState:
    """Everything one worker needs to answer requests."""

    settings: Settings
    bot: Bot | None = None
    store: Any | None = None
    metrics: Metrics = field(default_factory=Metrics)
    proxies: TrustedProxies = field(default_factory=lambda: TrustedProxies([]))
    sessions: SessionStore | None = None
    limiter: RateLimiter | None = None
    degraded_reason: str | None = None
    ready: bool = False
    owns_store: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def start(self) -> None:
        """Open the store, build the Bot, open sessions; purge old records; start upkeep."""
        if self.bot is None and self.store is None:
            self.store = await run_in_threadpool(open_default_store, self.settings)
            self.owns_store = True
        sink = RequestSink(self.store, self.metrics) if self.store is not None else None
        await self._build_bot(sink)
        self.sessions, self.limiter = open_session_backends(self.settings)
        if self.settings.redis_url and not await self.sessions.ping():
            raise RuntimeError(f"cannot reach Redis at {safe_url(self.settings.redis_url)}")
        await self.upkeep(purge=True)
        self.tasks.append(asyncio.create_task(self.upkeep_loop()))
        self._reload_on_sighup()
        self.ready = True
        log.info("ready", extra={"degraded": self.degraded_reason is not None})

    async def reload(self) -> None:
        """Reload the knowledge (SIGHUP); invalid files keep the last good Bot serving."""
        from faqbot.reload import try_reload

        if self.bot is None:
            return
        result = await run_in_threadpool(try_reload, self.bot, self.settings)
        self.bot = result.bot  # requests in flight keep the Bot they started with
        log.info("reload", extra={"reloaded": result.reloaded, "problems": result.problems[:5]})

    def _reload_on_sighup(self) -> None:
        try:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(
                signal.SIGHUP, lambda: self.tasks.append(loop.create_task(self.reload()))
            )
        except (RuntimeError, NotImplementedError, ValueError):
            pass  # not the main thread (e.g. in-process test clients): no signal handling

    async def _build_bot(self, sink: RequestSink | None) -> None:
        if self.bot is None:
            try:
                self.bot, self.degraded_reason = await run_in_threadpool(
                    load_bot, self.settings, sink
                )
            except KnowledgeError as exc:
                log.error(
                    "cannot start: the knowledge base is invalid", extra={"problems": exc.problems}
                )
                raise
        elif sink is not None:
            self.bot = with_sink(self.bot, sink)

    async def stop(self) -> None:
        """Stop upkeep; close sessions and the store this app opened."""
        self.ready = False
        for task in self.tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.sessions is not None:
            await self.sessions.close()
        if self.owns_store and self.store is not None:
            await run_in_threadpool(self.store.close)

    async def upkeep(self, *, purge: bool) -> None:
        """Replay spooled records when the store is back; purge past the retention period."""
        if self.store is None:
            return
        try:
            if await run_in_threadpool(self.store.ping):
                await run_in_threadpool(self.store.replay_spool)
            if purge:
                removed = await run_in_threadpool(self.store.purge, self.settings.retention_days)
                log.info("retention purge", extra={"removed": removed})
        except Exception:  # noqa: BLE001 - upkeep must never stop the server
            self.metrics.count_error("store")
            log.exception("store upkeep failed")

    async def upkeep_loop(self) -> None:
        """Every few minutes replay the spool; once a day purge old records."""
        since_purge = 0.0
        while True:
            await asyncio.sleep(SPOOL_EVERY)
            since_purge += SPOOL_EVERY
            purge = since_purge >= PURGE_EVERY
            since_purge = 0.0 if purge else since_purge
            await self.upkeep(purge=purge)

    async def is_ready(self) -> dict[str, bool]:
        """Readiness parts: index loaded, store and sessions reachable."""
        index = bool(self.ready and self.bot is not None and self.bot.ready)
        store = True
        if self.store is not None:
            try:
                store = bool(await run_in_threadpool(self.store.ping))
            except Exception:  # noqa: BLE001 - a failing ping means not ready
                store = False
        sessions = self.sessions is not None and await self.sessions.ping()
        return {
            "ready": index and store and sessions,
            "index": index,
            "store": store,
            "sessions": sessions,
        }
