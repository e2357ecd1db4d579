"""Rendering for the moderator console: the jinja2 environment, headers, and the queue filters.

Templates live in web/templates/moderate/ and always autoescape (a message such as
`<script>alert(1)</script>` shows as text). Every page is sent with no-store caching and the
same strict security headers as the API: no inline script or style, no framing, no referrer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from starlette.datastructures import QueryParams
from starlette.responses import HTMLResponse, Response

from faqbot.moderate_overview import CATEGORIES
from faqbot.store_models import STATUSES

PAGE_SIZE = 25
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; "
    "object-src 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
STATUS_LABELS = {
    "new": "new",
    "in_review": "in review",
    "resolved": "resolved",
    "false_alarm": "false alarm",
}
CATEGORY_LABELS = {c: c.replace("_", " ") for c in CATEGORIES}


def environment(templates_dir: Path) -> jinja2.Environment:
    """The console's jinja2 environment: autoescape on for every template, strict undefined."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_time
    env.filters["status_label"] = lambda s: STATUS_LABELS.get(s, s)
    env.filters["category_label"] = lambda c: CATEGORY_LABELS.get(c, c)
    env.globals.update(statuses=STATUS_LABELS, categories=CATEGORY_LABELS)
    return env


def format_time(value: dt.datetime | None) -> str:
    """A timestamp in UTC, to the minute."""
    if value is None:
        return ""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def secured(response: Response) -> Response:
    """The response with the console's security and caching headers."""
    for name, value in HEADERS.items():
        response.headers[name] = value
    return response


def render(env: jinja2.Environment, name: str, status: int = 200, **context: Any) -> Response:
    """A template rendered into a secured HTML response."""
    html = env.get_template(name).render(**context)
    return secured(HTMLResponse(html, status_code=status))


def parse_day(value: str, label: str, errors: list[str]) -> dt.date | None:
    """A YYYY-MM-DD date, or None (with a message in `errors` when it is not one)."""
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label} must be a date (YYYY-MM-DD)")
        return None


@dataclass
class QueueFilters:
    """The queue's filters from the query string; `errors` lists what could not be used."""

    category: str = ""
    status: str = ""
    since: str = ""
    until: str = ""
    q: str = ""
    page: int = 1
    errors: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, params: QueryParams) -> QueueFilters:
        """Read and check category, status, since, until, q and page."""

        def text(name: str) -> str:
            return params.get(name, "").strip()

        filters = cls(
            category=text("category"),
            status=text("status"),
            since=text("since"),
            until=text("until"),
            q=text("q")[:200],
        )
        filters.page = max(1, int(p)) if (p := params.get("page", "1")).isdigit() else 1
        filters.check()
        return filters

    def check(self) -> None:
        """Drop (and report) values that are not allowed."""
        if self.category and self.category not in CATEGORY_LABELS:
            self.errors.append(f"unknown category {self.category!r}")
            self.category = ""
        if self.status and self.status not in STATUSES:
            self.errors.append(f"unknown status {self.status!r}")
            self.status = ""
        since = parse_day(self.since, "From", self.errors)
        until = parse_day(self.until, "To", self.errors)
        self.since = since.isoformat() if since else ""
        self.until = until.isoformat() if until else ""

    def store_filters(self) -> dict[str, Any]:
        """Keyword arguments for the store's list/count/export."""
        return {
            "category": self.category or None,
            "status": self.status or None,
            "since": self.since or None,
            "until": self.until or None,
            "search": self.q or None,
        }

    def query(self, **changes: Any) -> str:
        """The query string of these filters (with `changes`), empty values left out."""
        values = {k: getattr(self, k) for k in ("category", "status", "since", "until", "q")}
        values.update(changes)
        return urlencode({k: v for k, v in values.items() if v not in ("", None, 1)})

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return any((self.category, self.status, self.since, self.until, self.q))


__all__ = [
    "HEADERS",
    "PAGE_SIZE",
    "QueueFilters",
    "environment",
    "format_time",
    "render",
    "secured",
]
