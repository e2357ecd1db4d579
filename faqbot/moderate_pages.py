"""The review pages: queue, escalation detail and its triage actions, exports, overview, gaps.

Added to the console's private router (see faqbot.moderate), so each needs a live session and
each POST its CSRF token. Filters reach SQL only as bound parameters (through the store).
"""

# No `from __future__ import annotations`: FastAPI must evaluate the route signatures'
# closure-local `Annotated[..., Depends(...)]` aliases at definition time.

import datetime as dt
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from starlette.responses import RedirectResponse, Response

from faqbot.moderate_auth import ModeratorSessionInfo
from faqbot.moderate_overview import (
    build_chart,
    daily_counts,
    human_duration,
    median_duration,
    resolution_times,
)
from faqbot.moderate_triage import ACTIONS, TriageError, guard_cases_jsonl
from faqbot.moderate_views import PAGE_SIZE, QueueFilters, render, secured

if TYPE_CHECKING:
    from faqbot.moderate import Console

OVERVIEW_DAYS = 30
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
ACTION_PATHS = {"take": "take", "resolve": "resolve", "false-alarm": "false_alarm", "note": "note"}


def download(text: str, filename: str, media_type: str) -> Response:
    """A file download (Content-Disposition: attachment)."""
    response = Response(text, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return secured(response)


def stamp(now: dt.datetime) -> str:
    """A compact UTC timestamp for file names."""
    return now.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def add_review_routes(
    router: APIRouter,
    console_dep: Callable[..., "Console"],
    moderator_dep: Callable[..., ModeratorSessionInfo],
) -> None:
    """Register the queue, detail, action, export, overview and gap-report routes."""
    ConsoleDep = Annotated[Any, Depends(console_dep)]
    Me = Annotated[ModeratorSessionInfo, Depends(moderator_dep)]

    @router.get("/moderate")
    def queue(request: Request, console: ConsoleDep, me: Me) -> Response:
        """Escalations, newest first, filtered and paged; counts per status on top."""
        filters = QueueFilters.from_query(request.query_params)
        store_filters = filters.store_filters()
        total = console.store.count_escalations(**store_filters)
        pages = max(1, math.ceil(total / PAGE_SIZE))
        filters.page = min(filters.page, pages)
        records = console.store.list_escalations(
            **store_filters, limit=PAGE_SIZE, offset=(filters.page - 1) * PAGE_SIZE
        )
        return render(
            console.env,
            "queue.html",
            400 if filters.errors else 200,
            me=me,
            filters=filters,
            records=records,
            total=total,
            pages=pages,
            counts=console.store.count_by_status(),
        )

    @router.get("/moderate/escalations/{escalation_id}")
    def detail(escalation_id: int, console: ConsoleDep, me: Me) -> Response:
        """One escalation: transcript, the reply sent, the guard's evidence, actions, audit."""
        return detail_page(console, me, escalation_id)

    for path, action in ACTION_PATHS.items():
        router.add_api_route(
            f"/moderate/escalations/{{escalation_id}}/{path}",
            action_endpoint(action, console_dep, moderator_dep),
            methods=["POST"],
            name=f"escalation_{action}",
        )

    @router.get("/moderate/export.{fmt}")
    def export(fmt: str, request: Request, console: ConsoleDep, me: Me) -> Response:
        """The filtered queue as CSV or JSON Lines: the same data as `faqbot escalations export`."""
        if fmt not in EXPORT_TYPES:
            return secured(Response("Export as .csv or .jsonl.", status_code=404))
        filters = QueueFilters.from_query(request.query_params)
        if filters.errors:
            return secured(Response("; ".join(filters.errors), status_code=400))
        text = console.store.export(fmt, **filters.store_filters())
        console.triage.record(moderator=me.username, action=f"export.{fmt}", note=filters.query())
        return download(text, f"escalations-{stamp(console.now())}.{fmt}", EXPORT_TYPES[fmt])

    @router.get("/moderate/false-alarms.jsonl")
    def false_alarms(console: ConsoleDep, me: Me) -> Response:
        """Every false alarm as a guard dev-set case (expected "none"), to label the guard."""
        records = console.store.list_escalations(status="false_alarm", newest_first=False)
        console.triage.record(moderator=me.username, action="export.false_alarms")
        name = f"false-alarms-{stamp(console.now())}.jsonl"
        return download(guard_cases_jsonl(records), name, EXPORT_TYPES["jsonl"])

    @router.get("/moderate/overview")
    def overview(console: ConsoleDep, me: Me) -> Response:
        """Escalations per category per day (30 days) and the median time to resolution."""
        now = console.now()
        counts = daily_counts(console.store.engine, days=OVERVIEW_DAYS, today=now.date())
        chart = build_chart(counts, days=OVERVIEW_DAYS, today=now.date())
        since = now - dt.timedelta(days=OVERVIEW_DAYS)
        durations = resolution_times(console.store.engine, since=since)
        median = human_duration(median_duration(durations))
        return render(
            console.env, "overview.html", me=me, chart=chart, median=median, closed=len(durations)
        )

    @router.get("/moderate/gaps")
    def gaps(request: Request, console: ConsoleDep, me: Me) -> Response:
        """Unanswered questions of the last N days grouped by meaning, biggest groups first."""
        raw = request.query_params.get("days", "30")
        days = min(max(int(raw), 1), 365) if raw.isdigit() else 30
        groups, grouped = gap_groups(console, days)
        return render(console.env, "gaps.html", me=me, days=days, groups=groups, grouped=grouped)


def gap_groups(console: "Console", days: int) -> tuple[list[Any], bool]:
    """The gap report for the last `days` days; False when only identical texts were grouped."""
    from faqbot.gaps import gap_report

    since = console.now() - dt.timedelta(days=days)
    records = console.store.list_unanswered(since=since)
    bot = console.bot
    if bot is None or not getattr(bot, "ready", False):
        return gap_report(records), False
    return gap_report(records, encoder=bot.encoder, index=bot.index, kb=bot.kb), True


def detail_page(
    console: "Console",
    me: ModeratorSessionInfo,
    escalation_id: int,
    *,
    error: str = "",
    status: int = 200,
) -> Response:
    """The detail page (404 page when there is no such escalation)."""
    record = console.store.get_escalation(escalation_id)
    if record is None:
        return render(console.env, "missing.html", 404, me=me, escalation_id=escalation_id)
    return render(
        console.env,
        "detail.html",
        status,
        me=me,
        record=record,
        audit=console.triage.audit_for(escalation_id),
        actions=ACTIONS,
        error=error,
        escalated_line=escalated_line(record.transcript),
    )


def escalated_line(transcript: list[dict[str, str]]) -> int:
    """The index of the escalated user turn in the transcript (the last user line), or -1."""
    users = [i for i, line in enumerate(transcript) if line.get("role") == "user"]
    return users[-1] if users else -1


def action_endpoint(
    action: str,
    console_dep: Callable[..., "Console"],
    moderator_dep: Callable[..., ModeratorSessionInfo],
) -> Callable[..., Response]:
    """The POST endpoint of one triage action: apply it, then back to the detail page."""

    def endpoint(
        escalation_id: int,
        console: Annotated[Any, Depends(console_dep)],
        me: Annotated[ModeratorSessionInfo, Depends(moderator_dep)],
        note: Annotated[str, Form()] = "",
    ) -> Response:
        try:
            console.triage.act(escalation_id, moderator=me.username, action=action, note=note)
        except TriageError as exc:
            return detail_page(console, me, escalation_id, error=str(exc), status=exc.status)
        location = f"/moderate/escalations/{escalation_id}#audit"
        return secured(RedirectResponse(location, 303))

    endpoint.__doc__ = f"Triage action {ACTIONS[action].label!r} (written to the audit log)."
    endpoint.__name__ = f"escalation_{action}"
    return endpoint


__all__ = ["add_review_routes"]
