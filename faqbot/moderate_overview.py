"""The console's overview: escalations per category per day (a server-drawn SVG bar chart) and
the median time from an escalation to its resolution. Pure geometry; the template draws it.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, func, select

from faqbot.moderate_models import AuditEntry
from faqbot.moderate_triage import CLOSED
from faqbot.store_models import Escalation

CATEGORIES = ("emergency", "self_harm", "dosing", "mixing", "feedback", "human_request", "error")
COLORS = {  # colour-blind-safe (Okabe-Ito), each readable on white
    "emergency": "#D55E00",
    "self_harm": "#CC79A7",
    "dosing": "#0072B2",
    "mixing": "#009E73",
    "feedback": "#E69F00",
    "human_request": "#56B4E9",
    "error": "#555555",
}
OTHER_COLOR = "#999999"
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 640, 220, 36, 24, 10


@dataclass(frozen=True)
class Bar:
    """One stacked segment: category, day, count and its rectangle."""

    category: str
    day: dt.date
    count: int
    x: float
    y: float
    width: float
    height: float
    color: str


@dataclass
class Chart:
    """Everything the template needs to draw the chart and its data table."""

    days: list[dt.date]
    categories: list[str]
    counts: dict[str, dict[dt.date, int]]
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[float, int]] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT
    top: int = TOP
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM

    @property
    def total(self) -> int:
        """All escalations in the period."""
        return sum(sum(per_day.values()) for per_day in self.counts.values())

    def color(self, category: str) -> str:
        """The fill colour of a category."""
        return COLORS.get(category, OTHER_COLOR)


def daily_counts(engine: Engine, *, days: int, today: dt.date) -> dict[str, dict[dt.date, int]]:
    """Escalations per category per UTC day over the last `days` days (today included)."""
    start = dt.datetime.combine(today - dt.timedelta(days=days - 1), dt.time(), tzinfo=dt.UTC)
    query = select(Escalation.category, Escalation.created_at).where(Escalation.created_at >= start)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    counts: dict[str, Counter[dt.date]] = {}
    for category, created in rows:
        counts.setdefault(category, Counter())[created.astimezone(dt.UTC).date()] += 1
    return {category: dict(per_day) for category, per_day in counts.items()}


def build_chart(counts: dict[str, dict[dt.date, int]], *, days: int, today: dt.date) -> Chart:
    """Stacked bars per day (known categories first, in their fixed order), axis ticks, labels."""
    day_list = [today - dt.timedelta(days=n) for n in range(days - 1, -1, -1)]
    order = [c for c in CATEGORIES if c in counts] + sorted(set(counts) - set(CATEGORIES))
    chart = Chart(day_list, order, counts)
    peak = max((sum(counts[c].get(d, 0) for c in order) for d in day_list), default=0)
    scale_max = max(peak, 1)
    plot_height = chart.baseline - TOP
    slot = (WIDTH - LEFT) / days
    for index, day in enumerate(day_list):
        y = chart.baseline
        for category in order:
            count = counts[category].get(day, 0)
            if count:
                height = plot_height * count / scale_max
                y -= height
                x = LEFT + index * slot + slot * 0.15
                bar = Bar(category, day, count, x, y, slot * 0.7, height, chart.color(category))
                chart.bars.append(bar)
        if (days - 1 - index) % 7 == 0:  # today, and every 7 days back
            chart.labels.append((LEFT + (index + 0.5) * slot, day.strftime("%b %d")))
    chart.ticks = [(chart.baseline - plot_height * v / scale_max, v) for v in tick_values(peak)]
    return chart


def tick_values(peak: int) -> list[int]:
    """0, the peak, and a midpoint when it is a whole number worth showing."""
    if peak <= 0:
        return [0]
    ticks = [0, peak]
    if peak >= 4 and peak % 2 == 0:
        ticks.insert(1, peak // 2)
    return ticks


def resolution_times(engine: Engine, *, since: dt.datetime) -> list[dt.timedelta]:
    """For escalations created since `since`: time until first resolved / marked false alarm."""
    closed = (
        select(AuditEntry.escalation_id, func.min(AuditEntry.at).label("closed_at"))
        .where(AuditEntry.after.in_(CLOSED), AuditEntry.escalation_id.is_not(None))
        .group_by(AuditEntry.escalation_id)
        .subquery()
    )
    query = (
        select(Escalation.created_at, closed.c.closed_at)
        .join(closed, closed.c.escalation_id == Escalation.id)
        .where(Escalation.created_at >= since)
    )
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    return [aware(closed_at) - created for created, closed_at in rows]


def aware(value: dt.datetime | str) -> dt.datetime:
    """An aggregate's timestamp (MIN() loses the column type on SQLite) as aware UTC."""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def median_duration(durations: list[dt.timedelta]) -> dt.timedelta | None:
    """The median, or None without data."""
    if not durations:
        return None
    seconds = statistics.median(d.total_seconds() for d in durations)
    return dt.timedelta(seconds=round(seconds))


def human_duration(value: dt.timedelta | None) -> str:
    """A duration people read at a glance: "2 d 3 h", "3 h 12 min", "45 min", "30 s"."""
    if value is None:
        return "no data yet"
    seconds = int(value.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min" if minutes else f"{secs} s"


__all__ = [
    "CATEGORIES",
    "Chart",
    "build_chart",
    "daily_counts",
    "human_duration",
    "median_duration",
    "resolution_times",
]
