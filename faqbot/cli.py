"""The `faqbot` command line: a thin client of Bot and the stores (Typer).

Exit codes: 0 for any reply (a redirect is a successful reply), 1 for an error, 2 for usage.
Heavy libraries are imported inside commands, so `faqbot --help` stays instant.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from faqbot.config import Settings

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="faqbot: vetted answers about chronic pain and kratom.",
)
kb_app = typer.Typer(no_args_is_help=True, help="Validate and inspect the knowledge base.")
index_app = typer.Typer(no_args_is_help=True, help="Build or inspect the retrieval index.")
app.add_typer(kb_app, name="kb")
app.add_typer(index_app, name="index")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def fail(message: str) -> typer.Exit:
    """Print a one-line error to stderr and return the exit to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def emit_json(value: Any) -> None:
    """Print one compact JSON document to stdout."""
    typer.echo(json.dumps(value, ensure_ascii=False, default=str))


@kb_app.command("validate")
def kb_validate(
    path: Annotated[
        Path | None, typer.Argument(help="Knowledge folder (default: configured).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Check every entry, resource and guard file; print `path:line: message` per problem."""
    from faqbot.kb import load_knowledge

    root = path or Settings().knowledge_dir
    kb, problems = load_knowledge(root)
    errors = [p for p in problems if p.level == "error"]
    if as_json:
        emit_json(
            {
                "ok": not errors,
                "problems": [p.__dict__ for p in problems],
                "approved": len(kb.served) if kb else 0,
            }
        )
    else:
        for problem in problems:
            typer.echo(str(problem), err=problem.level == "error")
        served = len(kb.served) if kb else 0
        typer.echo(
            f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s); {served} approved entries",
            err=True,
        )
    if errors:
        raise typer.Exit(1)


@kb_app.command("stats")
def kb_stats(as_json: JsonOpt = False) -> None:
    """Counts per topic and status, the oldest review, and entries due for review."""
    from faqbot.kb import KnowledgeBase
    from faqbot.kb_stats import compute_stats, format_stats

    try:
        kb = KnowledgeBase.from_path(Settings().knowledge_dir)
    except Exception as exc:  # noqa: BLE001 - report any load failure as one line
        raise fail(f"knowledge base is invalid; run `faqbot kb validate` ({exc})") from None
    stats = compute_stats(kb)
    if as_json:
        emit_json(stats)
    else:
        typer.echo(format_stats(stats))


def main() -> None:
    """Console-script entry point."""
    from faqbot import cli_chat, cli_moderators, cli_ops, cli_serve, cli_store  # noqa: F401 - registers commands

    app()


if __name__ == "__main__":  # pragma: no cover
    # `python -m faqbot.cli`: run the imported module's app, where the cli_* modules register
    from faqbot.cli import main as package_main

    package_main()
