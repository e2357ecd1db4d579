"""The content gap report: questions faqbot could not answer, grouped by meaning.

Fallback and out-of-scope questions (the store's `unanswered` rows) are embedded with the bot's
own encoder and grouped greedily: each question joins the group whose centroid is most similar
(cosine >= `threshold`, 0.75 by default) or starts a new one. Groups come biggest first, each
with an example question (the one closest to the centroid) and the nearest existing entry from
the index: what editors should write (or extend) next. Without an encoder, only identical
questions (ignoring case, punctuation and spacing) are grouped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faqbot.encoder import Encoder
    from faqbot.index import Index
    from faqbot.kb import KnowledgeBase
    from faqbot.store_records import UnansweredRecord

PUNCTUATION = re.compile(r"[^\w\s]+")
THRESHOLD = 0.75
MAX_SHOWN = 5  # other phrasings listed per group


@dataclass
class GapGroup:
    """Similar unanswered questions: how many, an example, and the nearest existing entry."""

    size: int
    example: str
    questions: list[str]
    kinds: dict[str, int]
    last_seen: dt.datetime
    nearest_entry_id: str | None = None
    nearest_question: str | None = None
    nearest_score: float | None = None

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        data = asdict(self)
        data["last_seen"] = self.last_seen.isoformat()
        return data


@dataclass
class _Cluster:
    members: list[int] = field(default_factory=list)  # indexes into the distinct texts
    total: Any = None  # sum of member vectors (weighted by repeats)


def fold(text: str) -> str:
    """Case-, punctuation- and space-folded text: identical questions count as one phrasing."""
    return " ".join(PUNCTUATION.sub(" ", text.lower()).split())


def distinct_texts(records: Sequence[UnansweredRecord]) -> dict[str, list[UnansweredRecord]]:
    """Records by folded text, most frequent first (ties: most recent first)."""
    by_text: dict[str, list[UnansweredRecord]] = {}
    for record in records:
        if record.message.strip():
            by_text.setdefault(fold(record.message), []).append(record)
    ranked = sorted(
        by_text.items(), key=lambda item: (-len(item[1]), -max_time(item[1]).timestamp())
    )
    return dict(ranked)


def max_time(records: Sequence[UnansweredRecord]) -> dt.datetime:
    """The latest created_at of some records."""
    return max(r.created_at for r in records)


def cluster(vectors: Any, weights: Sequence[int], threshold: float = THRESHOLD) -> list[list[int]]:
    """Greedy grouping of unit vectors: join the most similar centroid at >= threshold."""
    clusters: list[_Cluster] = []
    for row, vector in enumerate(vectors):
        best, best_score = None, threshold
        for candidate in clusters:
            centroid = candidate.total / np.linalg.norm(candidate.total)
            similarity = float(np.dot(centroid, vector))
            if similarity >= best_score:
                best, best_score = candidate, similarity
        if best is None:
            best = _Cluster(total=np.zeros_like(vector))
            clusters.append(best)
        best.members.append(row)
        best.total = best.total + vector * weights[row]
    return [c.members for c in clusters]


def gap_report(
    records: Sequence[UnansweredRecord],
    *,
    encoder: Encoder | None = None,
    index: Index | None = None,
    kb: KnowledgeBase | None = None,
    threshold: float = THRESHOLD,
) -> list[GapGroup]:
    """Groups of similar unanswered questions, biggest first (then most recent)."""
    texts = distinct_texts(records)
    if not texts:
        return []
    keys = list(texts)
    weights = [len(texts[k]) for k in keys]
    if encoder is None:
        return _ranked([_group(keys, [i], texts, None, None, None) for i in range(len(keys))])
    samples = [texts[k][0].message for k in keys]
    vectors = np.asarray(encoder.encode(samples), dtype=np.float32)
    groups = []
    for members in cluster(vectors, weights, threshold):
        centroid = np.sum([vectors[i] * weights[i] for i in members], axis=0)
        centroid = (centroid / np.linalg.norm(centroid)).astype(np.float32)
        groups.append(_group(keys, members, texts, centroid, vectors, (index, kb)))
    return _ranked(groups)


def _ranked(groups: list[GapGroup]) -> list[GapGroup]:
    return sorted(groups, key=lambda g: (-g.size, -g.last_seen.timestamp()))


def _group(
    keys: list[str],
    members: list[int],
    texts: dict[str, list[UnansweredRecord]],
    centroid: Any,
    vectors: Any,
    lookup: tuple[Index | None, KnowledgeBase | None] | None,
) -> GapGroup:
    records = [r for i in members for r in texts[keys[i]]]
    if centroid is not None:
        members = sorted(members, key=lambda i: -float(np.dot(vectors[i], centroid)))
    phrasings = [texts[keys[i]][0].message for i in members]
    group = GapGroup(
        size=len(records),
        example=phrasings[0],
        questions=phrasings[1 : MAX_SHOWN + 1],
        kinds=dict(Counter(r.kind for r in records)),
        last_seen=max_time(records),
    )
    if lookup is not None and centroid is not None:
        nearest_entry(group, centroid, *lookup)
    return group


def nearest_entry(
    group: GapGroup, centroid: Any, index: Index | None, kb: KnowledgeBase | None
) -> None:
    """Fill in the existing entry closest in meaning to the group (when there is an index)."""
    if index is None:
        return
    hits = index.dense(centroid, k=1)
    if not hits:
        return
    entry_id, score, phrasing = hits[0]
    entry = kb.get(entry_id) if kb is not None else None
    group.nearest_entry_id = entry_id
    group.nearest_question = entry.question if entry is not None else phrasing
    group.nearest_score = round(score, 3)


__all__ = ["THRESHOLD", "GapGroup", "cluster", "fold", "gap_report"]
