"""JSON routes: chat, feedback, the FAQ list, health, readiness and metrics."""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from faqbot.api_models import (
    ChatReply,
    ChatRequest,
    ErrorBody,
    FaqDetail,
    FaqSummary,
    FeedbackReply,
    FeedbackRequest,
    Health,
    Readiness,
)
from faqbot.api_state import CLIENT_IP, ApiState, accepts_keyword
from faqbot.bot import Bot, BotTurn
from faqbot.dialog import Conversation, Turn
from faqbot.errors import StoreError
from faqbot.metrics import CONTENT_TYPE
from faqbot.models import Suggestion, Verdict
from faqbot.render import to_html
from faqbot.security import client_key, error_response
from faqbot.sessions import new_session_id, plausible_session_id

log = logging.getLogger("faqbot.api")
router = APIRouter()
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 413, 415, 422, 429)
}


def get_state(request: Request) -> ApiState:
    """The worker's state (built by the lifespan)."""
    state: ApiState = request.app.state.faqbot
    return state


StateDep = Annotated[ApiState, Depends(get_state)]


def client_address(request: Request, state: ApiState) -> str:
    """The client's address, believing X-Forwarded-For only from trusted proxies."""
    peer = request.client.host if request.client else None
    return state.proxies.client_ip(peer, request.headers.get("x-forwarded-for"))


async def rate_limited(scope: str, request: Request, state: ApiState) -> JSONResponse | None:
    """A 429 response when this client has used up its minute, else None."""
    if state.limiter is None:
        return None
    client = client_key(client_address(request, state), state.settings.ip_hash_key)
    try:
        wait = await state.limiter.hit(scope, client)
    except StoreError as exc:  # a limiter outage must not take the chat down: let it through
        state.metrics.count_error("sessions")
        log.error("rate limiter failed", extra={"reason": str(exc)})
        return None
    if wait is None:
        return None
    state.metrics.rate_limited.labels(scope=scope).inc()
    return error_response(
        429,
        "rate_limited",
        f"Too many requests; please wait {wait} seconds and try again.",
        **{"Retry-After": str(wait)},
    )


# ---------------------------------------------------------------------------- chat
@router.post("/api/chat", response_model=ChatReply, responses=ERRORS, tags=["chat"])
async def chat(body: ChatRequest, request: Request, state: StateDep) -> Any:
    """Reply to one message; an unknown or expired session_id starts a new session."""
    refused = await rate_limited("chat", request, state)
    if refused is not None:
        return refused
    assert state.bot is not None
    sid = body.session_id or ""
    token = CLIENT_IP.set(client_address(request, state))
    try:
        async with contextlib.AsyncExitStack() as stack:
            if plausible_session_id(sid):
                await hold_session(stack, state, sid)
                conversation = await load_conversation(state, sid)
            else:  # a new session: its fresh random id is nobody else's, nothing to lock or load
                conversation = new_conversation(state)
            locale = canonical_locale(state.bot, body.locale)
            turn = await run_in_threadpool(answer, state, conversation, body.message, locale)
            await save_conversation(state, conversation)
    finally:
        CLIENT_IP.reset(token)
    return ChatReply.from_reply(turn.reply)


def session_trouble(state: ApiState, exc: StoreError) -> None:
    """Count and log a session-store failure (the person still gets a guarded reply)."""
    state.metrics.count_error("sessions")
    log.error("session store failed; answering without history", extra={"reason": str(exc)})


async def hold_session(stack: contextlib.AsyncExitStack, state: ApiState, sid: str) -> None:
    """Take the session's lock for the rest of the request, unless the store is failing."""
    assert state.sessions is not None
    try:
        await stack.enter_async_context(state.sessions.lock(sid))
    except StoreError as exc:
        session_trouble(state, exc)


async def load_conversation(state: ApiState, sid: str) -> Conversation:
    """The session's conversation, or a new one (unknown, expired, or the store is failing)."""
    assert state.sessions is not None
    try:
        found = await state.sessions.get(sid)
    except StoreError as exc:
        session_trouble(state, exc)
        found = None
    return found or new_conversation(state)


def new_conversation(state: ApiState) -> Conversation:
    """A conversation under a fresh session id."""
    return Conversation(session_id=new_session_id(), max_turns=state.settings.history_turns)


async def save_conversation(state: ApiState, conversation: Conversation) -> None:
    """Keep the conversation for the next turn (a failure only loses the history)."""
    assert state.sessions is not None
    try:
        await state.sessions.save(conversation)
    except StoreError as exc:
        session_trouble(state, exc)


def canonical_locale(bot: Bot, locale: str | None) -> str | None:
    """The knowledge base's spelling of `locale`, or None (the default) when it has none."""
    if locale is None:
        return None
    codes = {c.lower(): c for loc in bot.kb.resources.locales.values() for c in loc.codes}
    return codes.get(locale.lower())


def answer(
    state: ApiState, conversation: Conversation, message: str, locale: str | None
) -> BotTurn:
    """Bot.reply in a worker thread, timed and counted; fails closed if the Bot itself breaks."""
    assert state.bot is not None
    started = time.perf_counter()
    try:
        turn = state.bot.reply(message, conversation, locale=locale)
    except Exception as exc:  # noqa: BLE001 - the Bot should never raise; fail closed if it does
        log.exception("Bot.reply raised; sending the safe redirect")
        turn = fail_closed(state.bot, message, locale, conversation, exc)
    state.metrics.observe_turn(turn, time.perf_counter() - started)
    log.info(
        "reply",
        extra={
            "kind": turn.reply.kind,
            "category": turn.reply.category,
            "turn": turn.reply.turn_id,
        },
    )
    return turn


def fail_closed(
    bot: Bot, message: str, locale: str | None, conversation: Conversation, exc: Exception
) -> BotTurn:
    """The Bot's safe error redirect for this turn, remembered and escalated like any other."""
    replies = getattr(bot, "error_replies", {})
    base = replies.get(locale) or replies.get(getattr(bot, "default_locale", ""))
    if base is None:
        raise exc
    reply = base.model_copy(
        update={"session_id": conversation.session_id, "turn_id": conversation.turn_count + 1}
    )
    turn = BotTurn(message, reply, Verdict(category="error"), trace={"error": type(exc).__name__})
    conversation.add(Turn(message, reply.kind, "error"))
    sink = getattr(bot, "sink", None)
    if sink is not None:
        try:
            reply.escalated = sink.record(turn, conversation)
        except Exception:  # noqa: BLE001 - logging never breaks the reply
            log.exception("could not record the fail-closed turn")
    return turn


# ---------------------------------------------------------------------------- feedback
@router.post("/api/feedback", response_model=FeedbackReply, responses=ERRORS, tags=["chat"])
async def feedback(body: FeedbackRequest, request: Request, state: StateDep) -> Any:
    """Record whether a reply helped; negative feedback is logged for review."""
    refused = await rate_limited("feedback", request, state)
    if refused is not None:
        return refused
    assert state.sessions is not None
    conversation = None
    if plausible_session_id(body.session_id):
        try:
            conversation = await state.sessions.get(body.session_id)
        except StoreError:
            state.metrics.count_error("sessions")
    if conversation is not None and body.turn_id > conversation.turn_count:
        return error_response(
            422, "invalid_request", f"turn_id: this session has no turn {body.turn_id} yet."
        )
    if not body.helpful:
        log.info("negative feedback", extra={"turn": body.turn_id})
    recorded = await run_in_threadpool(
        store_feedback, state, body, conversation, client_address(request, state)
    )
    return FeedbackReply(recorded=recorded)


def store_feedback(
    state: ApiState, body: FeedbackRequest, conversation: Conversation | None, address: str
) -> bool:
    """Pass feedback to the store; False (and a counted error) when it could not be kept."""
    if state.store is None:
        return False
    extra = (
        {"client_ip": address} if accepts_keyword(state.store.record_feedback, "client_ip") else {}
    )
    try:
        kept = bool(
            state.store.record_feedback(
                session_id=body.session_id,
                turn_id=body.turn_id,
                helpful=body.helpful,
                comment=body.comment,
                conversation=conversation,
                **extra,
            )
        )
    except Exception:  # noqa: BLE001 - feedback must never produce a 500
        log.exception("could not record feedback")
        kept = False
    if not kept:
        state.metrics.count_error("store")
    return kept


# ---------------------------------------------------------------------------- knowledge
@router.get("/api/faq", response_model=list[FaqSummary], tags=["faq"])
async def faq_list(state: StateDep) -> list[FaqSummary]:
    """Every approved entry: id, question and topic."""
    assert state.bot is not None
    return [FaqSummary(id=e.id, question=e.question, topic=e.topic) for e in state.bot.kb.served]


@router.get(
    "/api/faq/{entry_id}",
    response_model=FaqDetail,
    responses={404: {"model": ErrorBody}},
    tags=["faq"],
)
async def faq_entry(entry_id: str, state: StateDep) -> Any:
    """One approved entry with its sources and review date."""
    assert state.bot is not None
    kb = state.bot.kb
    entry = kb.get(entry_id)
    if entry is None:
        # the id is not echoed back: error bodies never reflect input
        return error_response(404, "not_found", "There is no approved entry with that id.")
    related = [kb.get(i) for i in entry.related]
    suggestions = [Suggestion(entry_id=e.id, question=e.question) for e in related if e]
    return FaqDetail.from_entry(entry, html=to_html(entry.answer), related=suggestions)


# ---------------------------------------------------------------------------- operations
@router.get("/healthz", response_model=Health, tags=["operations"])
async def healthz() -> Health:
    """The process is up (says nothing about the model or the database)."""
    return Health()


@router.get(
    "/readyz", response_model=Readiness, responses={503: {"model": Readiness}}, tags=["operations"]
)
async def readyz(state: StateDep) -> Any:
    """Ready when the index is loaded and the store (and shared sessions) are reachable."""
    parts = await state.is_ready()
    return JSONResponse(parts, status_code=200 if parts["ready"] else 503)


@router.get("/metrics", tags=["operations"], response_class=Response)
async def metrics(state: StateDep) -> Response:
    """Prometheus text: replies by kind and category, fail-closed replies, errors, latency."""
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
