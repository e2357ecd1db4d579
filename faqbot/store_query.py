"""Filters and exports for the escalation log (SQL expressions and text formats; no connections)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, func, or_, select

from faqbot.store_models import STATUSES, Escalation
from faqbot.store_records import EscalationRecord

When = dt.datetime | dt.date | str | None
ExportFormat = Literal["csv", "jsonl"]
EXPORT_FIELDS = list(EscalationRecord.model_fields)


def as_utc(value: When, *, end: bool = False) -> dt.datetime | None:
    """A bound as an aware UTC datetime; a date means midnight UTC (`end`: the next midnight)."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = _parse(value)
    if not isinstance(value, dt.datetime):
        start = dt.datetime.combine(value, dt.time(), tzinfo=dt.UTC)
        return start + dt.timedelta(days=1) if end else start
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _parse(text: str) -> dt.datetime | dt.date:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO date-time") from None


def escalation_filters(
    *,
    category: str | None = None,
    since: When = None,
    until: When = None,
    status: str | None = None,
    search: str | None = None,
) -> list[ColumnElement[bool]]:
    """WHERE clauses: category, created_at in [since, until), status, text in message/reply."""
    clauses: list[ColumnElement[bool]] = []
    if category:
        clauses.append(Escalation.category == category)
    if status:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        clauses.append(Escalation.status == status)
    start, stop = as_utc(since), as_utc(until, end=True)
    if start is not None:
        clauses.append(Escalation.created_at >= start)
    if stop is not None:
        clauses.append(Escalation.created_at < stop)
    if search:
        needle = search.lower()
        clauses.append(
            or_(
                func.lower(Escalation.message).contains(needle, autoescape=True),
                func.lower(Escalation.reply_text).contains(needle, autoescape=True),
            )
        )
    return clauses


def escalation_query(
    filters: list[ColumnElement[bool]],
    *,
    newest_first: bool = True,
    limit: int | None = None,
    offset: int = 0,
) -> Select[Escalation]:
    """SELECT escalations matching the filters, ordered by time (then id), paged."""
    order = (
        (Escalation.created_at.desc(), Escalation.id.desc())
        if newest_first
        else (Escalation.created_at.asc(), Escalation.id.asc())
    )
    query = select(Escalation).where(*filters).order_by(*order).offset(offset or None)
    return query.limit(limit) if limit is not None else query


def to_csv(records: Iterable[EscalationRecord]) -> str:
    """CSV with a header; list fields (evidence, resources, transcript) as JSON text."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=EXPORT_FIELDS, lineterminator="\n")
    writer.writeheader()
    for record in records:
        writer.writerow({k: _cell(v) for k, v in record.model_dump(mode="json").items()})
    return buffer.getvalue()


def _cell(value: Any) -> Any:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, list | dict) else value


def to_jsonl(records: Iterable[EscalationRecord]) -> str:
    """One JSON object per line."""
    return "".join(record.model_dump_json() + "\n" for record in records)


def export_text(fmt: str, records: Iterable[EscalationRecord]) -> str:
    """The records in `fmt` (csv or jsonl)."""
    if fmt == "csv":
        return to_csv(records)
    if fmt == "jsonl":
        return to_jsonl(records)
    raise ValueError(f"unknown export format {fmt!r}: use csv or jsonl")


__all__ = ["as_utc", "escalation_filters", "escalation_query", "export_text", "to_csv", "to_jsonl"]
