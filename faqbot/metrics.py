"""Prometheus metrics of one app (its own registry, so several apps can live in one process).

Each worker process counts its own requests; with `--workers N`, scrape every worker or read the
figures as a sample of one.
"""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
)
from prometheus_client.exposition import generate_latest

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class Metrics:
    """Replies by kind and category, fail-closed replies, errors by component, latency."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # *_created series are noise
        self.registry = CollectorRegistry(auto_describe=True)
        self.replies = Counter(
            "faqbot_replies_total",
            "Chat replies sent, by reply kind and guard/decision category.",
            ["kind", "category"],
            registry=self.registry,
        )
        self.fail_closed = Counter(
            "faqbot_fail_closed_total",
            "Replies where an error was caught and the safe redirect was sent instead.",
            ["error"],
            registry=self.registry,
        )
        self.errors = Counter(
            "faqbot_errors_total",
            "Errors by component: guard (caught while replying), store, sessions, server.",
            ["component"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "faqbot_rate_limited_total",
            "Requests refused with 429.",
            ["scope"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "faqbot_reply_seconds",
            "Time to compute one chat reply (guard, retrieval, rendering, escalation write).",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        for component in ("guard", "store", "sessions", "server"):
            self.errors.labels(component=component)

    def observe_turn(self, turn: Any, seconds: float) -> None:
        """Count one BotTurn and its latency."""
        reply = turn.reply
        self.replies.labels(kind=reply.kind, category=reply.category or "none").inc()
        self.latency.observe(seconds)
        error = turn.trace.get("error") if reply.category == "error" else None
        if error:
            self.fail_closed.labels(error=str(error)).inc()
            self.errors.labels(component="guard").inc()

    def count_error(self, component: str) -> None:
        """Count one error of a component (store, sessions, server)."""
        self.errors.labels(component=component).inc()

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return bytes(generate_latest(self.registry))
