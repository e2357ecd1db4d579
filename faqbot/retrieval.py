"""Retrieval: fuse dense (faiss) and lexical (BM25) scores per entry, then decide what to do.

Decision: answer (confident, clear lead) | clarify (close call: up to 3 suggestions) | fallback
(on-topic, no vetted answer) | out_of_scope (not about chronic pain or kratom).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Literal

from faqbot.encoder import Vectors
from faqbot.index import Index
from faqbot.models import Hit

Decision = Literal["answer", "clarify", "fallback", "out_of_scope"]
DOMAIN = re.compile(
    r"\b(kratom|kratum|ketum|mitragyn\w*|7-?oh|opioids?|opiates?|pain\w*|ache\w*|hurts?|fibro\w*|arthritis|"
    r"back|neck|joint|nerve|sciatica|migraines?|headaches?|chronic|withdrawal|addict\w*|dependen\w*|"
    r"overdose|poison\w*|faqbot|cdc|fda|dea|nice|nccih|nida|analges\w*|painkillers?|tramadol|"
    r"oxycodone|naloxone|taper\w*|cbt|acupuncture|physio\w*|physical therapy)\b"
)


# A message that names none of faqbot's topics is answered only on a close phrasing match.
ANSWER_WITHOUT_TOPIC = 0.6


@dataclass(frozen=True)
class Thresholds:
    """Calibrated decision thresholds (see README: Retrieval calibration)."""

    answer: float
    margin: float
    clarify: float
    domain: float
    lexical_weight: float
    lexical_k: float = 6.0


@dataclass
class Outcome:
    """The decision with the scored candidates behind it."""

    decision: Decision
    hits: list[Hit] = field(default_factory=list)
    in_domain: bool = False

    @property
    def top(self) -> Hit | None:
        """The best candidate, if any."""
        return self.hits[0] if self.hits else None


def in_domain(text: str) -> bool:
    """True when the text names one of faqbot's topics."""
    return bool(DOMAIN.search(text.lower()))


def score(
    index: Index, vector: Vectors, text: str, t: Thresholds, *, mode: str = "fused"
) -> list[Hit]:
    """Per-entry hits sorted by the score the mode uses (fused, dense or lexical)."""
    dense: dict[str, tuple[float, str]] = {}
    for entry_id, cos, phrasing in index.dense(vector):
        if entry_id not in dense or cos > dense[entry_id][0]:
            dense[entry_id] = (cos, phrasing)
    lexical = {k: v / (v + t.lexical_k) for k, v in index.lexical(text).items()}
    weight = {"fused": t.lexical_weight, "dense": 0.0, "lexical": 1.0}[mode]
    hits = []
    for entry_id in set(dense) | set(lexical):
        d, phrasing = dense.get(entry_id, (0.0, ""))
        lex = lexical.get(entry_id, 0.0)
        fused = (1 - weight) * d + weight * lex
        hits.append(
            Hit(
                entry_id=entry_id,
                dense=round(d, 4),
                lexical=round(lex, 4),
                fused=round(fused, 4),
                phrasing=phrasing,
            )
        )
    return sorted(hits, key=lambda h: h.fused, reverse=True)


def decide(hits: list[Hit], text: str, t: Thresholds) -> Outcome:
    """Turn scored hits into a decision with the thresholds."""
    domain = in_domain(text) or bool(hits and hits[0].dense >= t.domain)
    if not hits:
        return Outcome("fallback" if domain else "out_of_scope", hits, domain)
    top = hits[0].fused
    runner = hits[1].fused if len(hits) > 1 else 0.0
    named = in_domain(text) or hits[0].dense >= ANSWER_WITHOUT_TOPIC
    if top >= t.answer and top - runner >= t.margin and named:
        return Outcome("answer", hits, domain)
    if top >= t.clarify and domain:
        return Outcome("clarify", hits, domain)
    return Outcome("fallback" if domain else "out_of_scope", hits, domain)


# (answer, margin, clarify) for the evaluation baselines, from `faqbot eval --calibrate` on the
# tune split; the fused mode uses the configured thresholds.
BASELINES = {"dense": (0.72, 0.02, 0.67), "lexical": (0.16, 0.01, 0.11)}


def for_mode(t: Thresholds, mode: str) -> Thresholds:
    """The configured thresholds, or a baseline mode's own calibrated ones."""
    if mode not in BASELINES:
        return t
    answer, margin, clarify = BASELINES[mode]
    return replace(t, answer=answer, margin=margin, clarify=clarify)


RANK = {"answer": 0, "clarify": 1, "fallback": 2, "out_of_scope": 3}
Scored = tuple[list[Hit], str]


def pick_outcome(plain: Scored, context: Scored | None, t: Thresholds) -> Outcome:
    """Decide on the message alone, or for a weak follow-up on the context re-query when it is
    at least as decisive (the follow-up rule in faqbot.dialog)."""
    outcome = decide(plain[0], plain[1], t)
    if context is None:
        return outcome
    other = decide(context[0], context[1], t)
    return other if RANK[other.decision] <= RANK[outcome.decision] else outcome
