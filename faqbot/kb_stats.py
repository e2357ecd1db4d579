"""`faqbot kb stats`: counts per topic and status, oldest review, entries due for review."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from faqbot.kb import KnowledgeBase


def compute_stats(kb: KnowledgeBase, *, today: dt.date | None = None) -> dict[str, Any]:
    """A JSON-ready summary of the knowledge base."""
    today = today or dt.date.today()
    by_topic = Counter(e.topic for e in kb.entries)
    by_status = Counter(e.review.status for e in kb.entries)
    oldest = min(kb.entries, key=lambda e: e.review.reviewed_on, default=None)
    due = sorted(
        (e for e in kb.served if e.review.next_review_due <= today),
        key=lambda e: e.review.next_review_due,
    )
    return {
        "total": len(kb.entries),
        "approved": len(kb.served),
        "by_topic": dict(sorted(by_topic.items())),
        "by_status": dict(sorted(by_status.items())),
        "oldest_review": {"id": oldest.id, "reviewed_on": oldest.review.reviewed_on}
        if oldest
        else None,
        "due_for_review": [{"id": e.id, "next_review_due": e.review.next_review_due} for e in due],
    }


def format_stats(stats: dict[str, Any]) -> str:
    """Human-readable stats."""
    lines = [f"{stats['approved']} approved of {stats['total']} entries", "", "by topic:"]
    lines += [f"  {topic:<16} {n}" for topic, n in stats["by_topic"].items()]
    lines += ["by status:"] + [f"  {s:<16} {n}" for s, n in stats["by_status"].items()]
    if stats["oldest_review"]:
        oldest = stats["oldest_review"]
        lines.append(f"oldest review: {oldest['id']} ({oldest['reviewed_on']})")
    due = stats["due_for_review"]
    lines.append(f"due for review: {len(due)}")
    lines += [f"  warning: {d['id']} was due {d['next_review_due']}" for d in due]
    return "\n".join(lines)
