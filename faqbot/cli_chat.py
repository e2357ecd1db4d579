"""`faqbot ask`, `faqbot chat` and `faqbot eval`: thin clients of Bot.reply."""

from __future__ import annotations

import dataclasses
import json
import secrets
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from faqbot.cli import JsonOpt, app, emit_json, fail
from faqbot.config import Settings

ExplainOpt = Annotated[
    bool, typer.Option("--explain", help="Show the decision trace (guard, scores, thresholds).")
]
LocaleOpt = Annotated[
    str | None, typer.Option("--locale", help="Locale for help numbers, e.g. en-GB.")
]
LogOpt = Annotated[
    bool, typer.Option("--log", help="Write escalations to the store (off by default for the CLI).")
]


def load_bot(*, log: bool = False) -> Any:
    """A ready Bot (building the index on first use), or exit 1 with a one-line reason."""
    from faqbot.engine import build_bot
    from faqbot.errors import FaqbotError

    settings = Settings()
    try:
        sink = None
        if log:
            from faqbot.store import open_store

            sink = open_store(settings)
        return build_bot(settings, sink=sink)
    except FaqbotError as exc:
        raise fail(str(exc).splitlines()[0][:500]) from None


def explain(turn: Any, bot: Any) -> dict[str, Any]:
    """The decision trace of one turn."""
    t = bot.thresholds
    hits = turn.outcome.hits[:5] if turn.outcome else []
    return {
        "guard": turn.verdict.model_dump(),
        "decision": turn.outcome.decision if turn.outcome else None,
        "top": [dataclasses.asdict(h) for h in hits],
        "thresholds": {
            "answer": t.answer,
            "margin": t.margin,
            "clarify": t.clarify,
            "domain": t.domain,
            "lexical_weight": t.lexical_weight,
        },
        **turn.trace,
    }


def reply_json(turn: Any, bot: Any, with_explain: bool) -> dict[str, Any]:
    """A reply as a JSON-ready dict, with the trace under "explain" when asked."""
    data: dict[str, Any] = turn.reply.model_dump(mode="json")
    if with_explain:
        data["explain"] = explain(turn, bot)
    return data


def print_human(turn: Any, bot: Any, with_explain: bool) -> None:
    """A reply for people: its kind, then its text."""
    reply = turn.reply
    label = reply.kind + (f" ({reply.category})" if reply.category else "")
    typer.echo(f"[{label}]", err=True)
    typer.echo(reply.text)
    if with_explain:
        typer.echo(json.dumps(explain(turn, bot), indent=2, default=str), err=True)


@app.command()
def ask(
    question: Annotated[
        str | None, typer.Argument(help="The question; omit to read one per line from stdin.")
    ] = None,
    as_json: JsonOpt = False,
    with_explain: ExplainOpt = False,
    locale: LocaleOpt = None,
    log: LogOpt = False,
) -> None:
    """Answer one question, or each stdin line as an independent turn (one JSON object per line)."""
    from faqbot.bot import MessageError

    bot = load_bot(log=log)
    if question is not None:
        try:
            turn = bot.reply(question, locale=locale)
        except MessageError as exc:
            raise fail(str(exc)) from None
        emit_json(reply_json(turn, bot, with_explain)) if as_json else print_human(
            turn, bot, with_explain
        )
        return
    _reply_lines(bot, locale, with_explain, None)


def _reply_lines(bot: Any, locale: str | None, with_explain: bool, conversation: Any) -> None:
    """One compact JSON reply per stdin line (a shared conversation, or independent turns)."""
    for number, line in enumerate(sys.stdin, start=1):
        emit_json(_line_reply(bot, line.rstrip("\n"), number, locale, with_explain, conversation))
        sys.stdout.flush()


def _line_reply(
    bot: Any,
    line: str,
    number: int,
    locale: str | None,
    with_explain: bool,
    conversation: Any = None,
) -> dict[str, Any]:
    from faqbot.bot import MessageError

    try:
        return reply_json(bot.reply(line, conversation, locale=locale), bot, with_explain)
    except MessageError as exc:
        return {"kind": "error", "line": number, "message": f"line {number}: {exc}"}


@app.command()
def chat(
    as_json: JsonOpt = False,
    with_explain: ExplainOpt = False,
    locale: LocaleOpt = None,
    log: LogOpt = False,
) -> None:
    """Talk to faqbot turn by turn; with --json, stdin lines are ONE conversation, one JSON reply each."""
    from faqbot.dialog import Conversation

    bot = load_bot(log=log)
    conversation = Conversation(session_id=f"cli-{secrets.token_urlsafe(8)}")
    if as_json:
        _reply_lines(bot, locale, with_explain, conversation)
        return
    _repl(bot, conversation, locale, with_explain)


def _repl(bot: Any, conversation: Any, locale: str | None, with_explain: bool) -> None:
    from faqbot.bot import MessageError

    try:
        import readline  # noqa: F401 - line editing and history for input()
    except ImportError:  # pragma: no cover
        pass
    typer.echo(
        "faqbot chat. Ask about chronic pain or kratom. Ctrl-D or 'quit' to leave.", err=True
    )
    while True:
        try:
            line = input("you> ")
        except (EOFError, KeyboardInterrupt):
            typer.echo("", err=True)
            return
        if line.strip().lower() in {"quit", "exit"}:
            return
        try:
            print_human(bot.reply(line, conversation, locale=locale), bot, with_explain)
        except MessageError as exc:
            typer.echo(f"error: {exc}", err=True)


@app.command("eval")
def evaluate(
    files: Annotated[
        list[Path],
        typer.Argument(help="Labelled sets (.jsonl dev sets or the public .csv/.jsonl sets)."),
    ],
    as_json: JsonOpt = False,
    modes: Annotated[
        str, typer.Option("--modes", help="Retrieval modes to compare, comma-separated.")
    ] = "fused,dense,lexical",
    calibrate: Annotated[
        bool, typer.Option("--calibrate", help="Search thresholds on the tune split and report.")
    ] = False,
    hint_review: Annotated[
        Path | None,
        typer.Option(
            "--hint-review",
            help="Reviewed MedicationQA hints (JSONL of id + reviewed); MedicationQA is then"
            " reported twice, with its derived hints and with the reviewed ones.",
        ),
    ] = None,
) -> None:
    """Accuracy per kind, entry accuracy and confusion (retrieval); recall/precision (guard)."""
    from faqbot.evaluate import format_report, load_cases, load_hint_review, run_eval

    try:
        review = load_hint_review(hint_review) if hint_review else None
        sets = {str(f): load_cases(f) for f in files}
        if review:
            for f in files:
                reviewed = load_cases(f, hint_review=review)
                if [c.expected for c in reviewed] != [c.expected for c in sets[str(f)]]:
                    sets[f"{f} [hint review]"] = reviewed
    except (OSError, ValueError) as exc:
        raise fail(str(exc)) from None
    bot = load_bot()
    report = run_eval(
        bot, sets, modes=[m.strip() for m in modes.split(",") if m.strip()], calibrate=calibrate
    )
    emit_json(report) if as_json else typer.echo(format_report(report))


@app.command("calibrate-guard")
def calibrate_guard_cmd(
    files: Annotated[
        list[Path], typer.Argument(help="Guard-labelled sets; only their tune split is used.")
    ],
    budget: Annotated[
        float, typer.Option(help="Allowed benign false-flag rate from semantics (all categories).")
    ] = 0.02,
) -> None:
    """Suggest semantic guard thresholds (tune split only); copy them into semantic.yaml."""
    from faqbot.calibrate import calibrate_guard
    from faqbot.evaluate import load_cases

    bot = load_bot()
    cases = [c for f in files for c in load_cases(f)]
    emit_json(calibrate_guard(bot, cases, budget=budget))
