"""`faqbot serve`: run the HTTP API with uvicorn (one app per worker, built by its lifespan)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from faqbot.cli import app, fail
from faqbot.config import Settings

WORKERS_NEED_REDIS = (
    "--workers {n} needs FAQBOT_REDIS_URL: without Redis every worker keeps its own sessions and "
    "rate limits, so a conversation would lose its history whenever a turn reaches another worker"
)


def check_startup(settings: Settings, workers: int) -> None:
    """Refuse configurations that cannot work, with a one-line reason (exit 1)."""
    if workers < 1:
        raise fail("--workers must be at least 1")
    if workers > 1 and not settings.redis_url:
        raise fail(WORKERS_NEED_REDIS.format(n=workers))
    from faqbot.kb import load_knowledge

    _kb, problems = load_knowledge(settings.knowledge_dir)
    errors = [p for p in problems if p.level == "error"]
    for problem in errors:
        typer.echo(str(problem), err=True)
    if errors:
        raise fail(f"the knowledge base is invalid ({len(errors)} error(s)); see above")


def prepare_index(settings: Settings) -> None:
    """Build a missing or stale index once, before workers start (so they never race)."""
    from faqbot.encoder import MODEL_NAME
    from faqbot.engine import build_artifacts
    from faqbot.index import read_manifest, stale_reason
    from faqbot.kb import KnowledgeBase

    kb = KnowledgeBase.from_path(settings.knowledge_dir)
    reason = stale_reason(read_manifest(settings.data_dir), kb, MODEL_NAME)
    if reason:
        typer.echo(f"building the index first: {reason}", err=True)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        build_artifacts(kb, settings)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    workers: Annotated[
        int, typer.Option(help="Worker processes; more than 1 needs FAQBOT_REDIS_URL.")
    ] = 1,
) -> None:
    """Serve the chat API, the widget files and the demo page."""
    import uvicorn

    from faqbot.errors import FaqbotError
    from faqbot.jsonlog import log_config
    from faqbot.serving import HTTP_PROTOCOL, run_workers

    settings = Settings()
    check_startup(settings, workers)
    if workers > 1:
        try:
            prepare_index(settings)
        except FaqbotError as exc:
            typer.echo(
                f"warning: could not build the index ({exc}); workers start degraded", err=True
            )
    options: dict[str, Any] = {
        "app": "faqbot.api:app_factory",
        "factory": True,
        "host": host,
        "port": port,
        "http": HTTP_PROTOCOL,
        "log_config": log_config(),
        "access_log": False,
        "proxy_headers": False,
        "server_header": False,
    }
    if workers > 1:
        run_workers(workers, **options)
    else:
        uvicorn.run(**options)
