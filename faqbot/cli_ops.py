"""Operational commands: index build/status."""

from __future__ import annotations

from typing import Annotated

import typer

from faqbot.cli import JsonOpt, emit_json, fail, index_app
from faqbot.config import Settings


@index_app.command("build")
def index_build(
    no_onnx: Annotated[
        bool, typer.Option("--no-onnx", help="Skip the ONNX export (reference encoder only).")
    ] = False,
) -> None:
    """Export the ONNX encoder and build the retrieval index under the data dir."""
    from faqbot.engine import build_artifacts
    from faqbot.errors import FaqbotError
    from faqbot.kb import KnowledgeBase

    settings = Settings()
    try:
        kb = KnowledgeBase.from_path(settings.knowledge_dir)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        build_artifacts(kb, settings, onnx=not no_onnx)
    except FaqbotError as exc:
        raise fail(str(exc)) from None


@index_app.command("status")
def index_status(as_json: JsonOpt = False) -> None:
    """Show the manifest and whether the index is fresh for the current knowledge."""
    from faqbot.encoder import MODEL_NAME
    from faqbot.index import read_manifest, stale_reason
    from faqbot.kb import KnowledgeBase

    settings = Settings()
    manifest = read_manifest(settings.data_dir)
    reason = stale_reason(manifest, KnowledgeBase.from_path(settings.knowledge_dir), MODEL_NAME)
    status = {"fresh": reason is None, "reason": reason, "manifest": manifest}
    if as_json:
        emit_json(status)
    else:
        typer.echo(f"fresh: {reason is None}" + (f" ({reason})" if reason else ""))
        for key, value in (manifest or {}).items():
            typer.echo(f"  {key}: {value}")
