"""`faqbot escalations ...`: list, export and purge the escalation log."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Annotated

import typer

from faqbot.cli import JsonOpt, app, emit_json, fail
from faqbot.config import Settings

if TYPE_CHECKING:
    from faqbot.store import EscalationStore
    from faqbot.store_records import EscalationRecord

escalations_app = typer.Typer(
    no_args_is_help=True, help="List, export and purge the escalation log."
)
app.add_typer(escalations_app, name="escalations")

CategoryOpt = Annotated[
    str | None,
    typer.Option("--category", help="Only this category (dosing, emergency, feedback, ...)."),
]
SinceOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--since", formats=["%Y-%m-%d"], help="Only records from this day on (YYYY-MM-DD, UTC)."
    ),
]
UntilOpt = Annotated[
    dt.datetime | None,
    typer.Option(
        "--until", formats=["%Y-%m-%d"], help="Only records up to and including this day."
    ),
]
StatusOpt = Annotated[
    str | None,
    typer.Option("--status", help="Only this status: new, in_review, resolved, false_alarm."),
]
LimitOpt = Annotated[
    int | None, typer.Option("--limit", min=1, help="At most this many (newest first).")
]
DAYS = re.compile(r"^\s*(\d+)\s*d?\s*$")


def open_cli_store(*, retention: bool = True, strict: bool = True) -> EscalationStore:
    """The configured store, or a one-line error (exit 1)."""
    from faqbot.errors import StoreError
    from faqbot.store import open_store

    try:
        return open_store(Settings(), retention=retention, strict=strict)
    except (StoreError, OSError) as exc:
        raise fail(one_line(exc)) from None


def one_line(exc: BaseException) -> str:
    """The first line of an error message (driver errors can span many)."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def parse_days(value: str) -> int:
    """`90d` or `90` -> 90."""
    match = DAYS.match(value)
    if not match:
        raise typer.BadParameter(f"{value!r} is not a number of days such as 90d")
    return int(match.group(1))


def day(value: dt.datetime | None) -> dt.date | None:
    """The calendar day of a --since/--until option."""
    return value.date() if value else None


def summary(record: EscalationRecord) -> str:
    """One line per escalation: id, time, kind/category, status and the (redacted) message."""
    when = record.created_at.strftime("%Y-%m-%d %H:%M:%SZ")
    message = " ".join(record.message.split())
    message = message if len(message) <= 80 else message[:77] + "..."
    return f"#{record.id}\t{when}\t{record.kind}/{record.category}\t{record.status}\t{message}"


@escalations_app.command("list")
def escalations_list(
    category: CategoryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: StatusOpt = None,
    limit: LimitOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Show escalations, newest first; --json prints one JSON array of every matching record."""
    from faqbot.errors import StoreError

    store = open_cli_store()
    try:
        records = store.list_escalations(
            category=category, since=day(since), until=day(until), status=status, limit=limit
        )
    except (StoreError, ValueError) as exc:
        raise fail(one_line(exc)) from None
    finally:
        store.close()
    if as_json:
        emit_json([r.model_dump(mode="json") for r in records])
        return
    for record in records:
        typer.echo(summary(record))
    typer.echo(f"{len(records)} escalation(s)", err=True)


@escalations_app.command("export")
def escalations_export(
    fmt: Annotated[str, typer.Option("--format", help="csv or jsonl.")] = "csv",
    category: CategoryOpt = None,
    since: SinceOpt = None,
    until: UntilOpt = None,
    status: StatusOpt = None,
) -> None:
    """Write matching escalations (oldest first) to stdout as CSV or JSON Lines."""
    from faqbot.errors import StoreError

    if fmt not in ("csv", "jsonl"):
        raise typer.BadParameter(f"{fmt!r}: use csv or jsonl", param_hint="--format")
    store = open_cli_store()
    try:
        text = store.export(
            fmt, category=category, since=day(since), until=day(until), status=status
        )
    except (StoreError, ValueError) as exc:
        raise fail(one_line(exc)) from None
    finally:
        store.close()
    typer.echo(text, nl=False)


@escalations_app.command("purge")
def escalations_purge(
    older_than: Annotated[
        str, typer.Option("--older-than", help="Delete records older than this, e.g. 90d.")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Delete escalations, unanswered questions and feedback older than N days."""
    from faqbot.errors import StoreError

    days = parse_days(older_than)
    store = open_cli_store(retention=False)
    try:
        removed = store.purge(days)
    except StoreError as exc:
        raise fail(one_line(exc)) from None
    finally:
        store.close()
    if as_json:
        emit_json({"purged": removed, "older_than_days": days})
    else:
        typer.echo(f"purged {removed} record(s) older than {days} days")


@escalations_app.command("status")
def escalations_status(as_json: JsonOpt = False) -> None:
    """Database reachability, escalations per status and rows waiting in the spool."""
    from faqbot.errors import StoreError

    store = open_cli_store(retention=False, strict=False)
    try:
        reachable = store.ping()
        counts = store.count_by_status() if reachable else {}
    except StoreError as exc:
        raise fail(one_line(exc)) from None
    finally:
        store.close()
    report = {"database": reachable, "by_status": counts, "spooled": store.spool.count()}
    if as_json:
        emit_json(report)
        return
    typer.echo(f"database: {'reachable' if reachable else 'UNREACHABLE'}")
    for name, count in counts.items():
        typer.echo(f"  {name}: {count}")
    typer.echo(f"spooled (waiting for the database): {report['spooled']}")
    if not reachable:
        raise typer.Exit(1)
