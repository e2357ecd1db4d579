"""Live reload of the knowledge base: a new Bot from the files, or the last good one unchanged.

`try_reload(current, settings)` validates the knowledge exactly as startup does and builds a new
Bot (rebuilding the index when the knowledge changed). When the knowledge is invalid
(KnowledgeError, with `path:line` problems) or the index or model cannot be built, it logs why
and returns `current`, which keeps serving the index it already holds in memory.

Not wired yet. In the API it would be one method on ApiState, called from a SIGHUP handler or an
operator-only route, e.g.::

    async def reload(self) -> ReloadResult:
        result = await run_in_threadpool(try_reload, self.bot, self.settings)
        self.bot = result.bot  # a plain attribute swap: requests in flight keep the old Bot
        return result
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from faqbot.bot import Bot
from faqbot.config import Settings
from faqbot.errors import KnowledgeError
from faqbot.index import Progress

log = logging.getLogger("faqbot.reload")


@dataclass(frozen=True)
class ReloadResult:
    """The Bot to serve from now on, whether it is a new one, and why not when it is not."""

    bot: Bot
    reloaded: bool
    problems: list[str] = field(default_factory=list)


def try_reload(current: Bot, settings: Settings, *, progress: Progress = log.info) -> ReloadResult:
    """A Bot on the knowledge as it is now on disk, or `current` if that cannot be served."""
    from faqbot.engine import build_bot
    from faqbot.kb import KnowledgeBase

    try:
        kb = KnowledgeBase.from_path(settings.knowledge_dir)
    except KnowledgeError as exc:
        log.error("reload refused: the knowledge base is invalid", extra={"problems": exc.problems})
        return ReloadResult(current, False, list(exc.problems))
    try:
        bot = build_bot(settings, sink=current.sink, kb=kb, progress=progress)
    except Exception as exc:  # noqa: BLE001 - any failure keeps the last good Bot serving
        reason = f"{type(exc).__name__}: {exc}"
        log.error("reload failed: keeping the last good index", extra={"reason": reason})
        return ReloadResult(current, False, [reason])
    log.info("reloaded the knowledge base", extra={"entries": len(kb.served)})
    return ReloadResult(bot, True)


def reload_bot(current: Bot, settings: Settings) -> Bot:
    """The Bot to serve after a reload: a new one, or `current` when the new files are bad."""
    return try_reload(current, settings).bot


__all__ = ["ReloadResult", "reload_bot", "try_reload"]
