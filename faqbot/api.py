"""The HTTP API: `create_app(*, bot, settings, store)` and the uvicorn factory `app_factory`.

Nothing is built at import. The lifespan opens the escalation store, builds the Bot once (model
and index load at startup; /readyz turns ready only after), opens sessions and the rate limiter
(in process, or Redis when `FAQBOT_REDIS_URL` is set) and purges old records at startup and daily.

Middleware, outermost first: hardening (security headers, 413, 415, JSON 500s, request logs),
CORS for /api/ only, then FastAPI's routing with JSON error handlers (422, 404, 405).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from faqbot.api_pages import mount_docs, pages_router
from faqbot.api_routes import router
from faqbot.api_state import ApiState
from faqbot.bot import Bot
from faqbot.config import PROJECT_ROOT, Settings
from faqbot.moderate import moderation_router
from faqbot.security import ApiCors, HardeningMiddleware, TrustedProxies, error_response

HTTP_CODES = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "body_too_large",
    415: "unsupported_media_type",
}


def create_app(
    *,
    bot: Bot | None = None,
    settings: Settings | None = None,
    store: Any | None = None,
    web_dir: Path | None = None,
) -> FastAPI:
    """The faqbot ASGI app; pass `bot`/`store` to inject them (tests), else they are built."""
    settings = settings or Settings()
    state = ApiState(
        settings=settings, bot=bot, store=store, proxies=TrustedProxies(settings.trusted_proxies)
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            await state.start()
        except BaseException:
            await state.stop()  # close whatever was opened before the failure
            raise
        try:
            yield
        finally:
            await state.stop()

    app = FastAPI(
        title="faqbot",
        summary="Vetted answers about chronic pain and kratom, with safety guardrails.",
        version="0.1.0",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.faqbot = state
    app.include_router(router)
    app.include_router(pages_router(web_dir or PROJECT_ROOT / "web"))
    app.include_router(moderation_router(settings=settings, store=store))
    mount_docs(app)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_middleware(ApiCors, origins=settings.cors_origins)
    app.add_middleware(
        HardeningMiddleware,
        max_body_bytes=settings.max_body_bytes,
        cors_origins=settings.cors_origins,
        debug_headers=settings.debug_headers,
        on_error=lambda: state.metrics.count_error("server"),
    )
    return app


def app_factory() -> FastAPI:
    """What `faqbot serve` runs in each worker: JSON logs, settings from the environment."""
    from faqbot.jsonlog import configure_logging

    configure_logging()
    return create_app(settings=Settings())


def describe_error(error: dict[str, Any]) -> tuple[str, str]:
    """One validation error as (field, a sentence a person can read)."""
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "invalid JSON")
        return (
            "body",
            f"the request body is not valid JSON ({reason} at character {error['loc'][-1]})",
        )
    field = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
    return field, str(error.get("msg", "is invalid")).removeprefix("Value error, ")


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """422 with a readable message (and the field-level details for programs)."""
    assert isinstance(exc, RequestValidationError)
    problems = [describe_error(e) for e in exc.errors()]
    message = "; ".join(f"{field}: {text}" for field, text in problems) or "invalid request"
    details = [{"field": field, "problem": text} for field, text in problems]
    return JSONResponse(
        {"error": "invalid_request", "message": message, "details": details}, status_code=422
    )


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Starlette/FastAPI HTTP errors (404, 405, 413 ...) in the common JSON error shape."""
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    response = error_response(exc.status_code, code, detail)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response
