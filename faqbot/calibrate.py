"""Threshold calibration on the tune split only (held-out cases are never looked at here).

Retrieval: grid search of (answer, margin, clarify) per mode maximizing correct replies, where
answering an out-of-scope or wrong entry costs twice as much as a missed answer.
Guard: per category, the lowest semantic threshold whose benign false-flag rate on the tune
split stays within budget, for the best margin.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from faqbot.bot import Bot, check_message
from faqbot.dialog import Conversation, contextual_query
from faqbot.evaluate import Case
from faqbot.models import Hit
from faqbot.retrieval import Thresholds, pick_outcome, score

GUARD_CATEGORIES = ("emergency", "self_harm", "mixing", "dosing", "sourcing", "human_request")


def _prepare(bot: Bot, case: Case, mode: str) -> dict[str, Any]:
    conversation = Conversation()
    for earlier in case.history:
        bot.reply(earlier, conversation)
    text = check_message(case.message)
    forms = bot.guard.forms(text)
    semantic = forms[2]
    vector = bot._encode(semantic)
    verdict = bot.guard.check(
        text, history=conversation.guard_history(), vector=vector, forms=forms
    )
    pre = "guard" if verdict.flagged else ("smalltalk" if bot.kb.smalltalk.match(text) else None)
    assert bot.index is not None
    plain = (score(bot.index, vector, semantic, bot.thresholds, mode=mode), semantic)
    follow = contextual_query(semantic, conversation)
    context = (
        (score(bot.index, bot._encode(follow), follow, bot.thresholds, mode=mode), follow)
        if follow
        else None
    )
    return {"case": case, "pre": pre, "plain": plain, "context": context}


def _value(prepared: list[dict[str, Any]], t: Thresholds) -> tuple[float, float]:
    points, right = 0.0, 0
    for p in prepared:
        case = p["case"]
        if p["pre"]:
            ok = p["pre"] == case.expected
            points += 1 if ok else 0
            right += ok
            continue
        out = pick_outcome(p["plain"], p["context"], t)
        entry = out.top.entry_id if out.top else None
        ok = out.decision == case.expected and (case.expected != "answer" or entry == case.entry)
        wrong_answer = out.decision == "answer" and not ok
        points += 1 if ok else (-2 if wrong_answer else 0)
        right += ok
    return points, right / max(len(prepared), 1)


def _refuse(
    prepared: list[dict[str, Any]], weight: float, k: float, *, scored_k: float
) -> list[dict[str, Any]]:
    """The same candidates re-fused with another lexical weight and saturation constant
    (`scored_k` is the constant the prepared hits were saturated with)."""

    def fuse(scored: tuple[list[Hit], str] | None) -> tuple[list[Hit], str] | None:
        if scored is None:
            return None
        hits = []
        for h in scored[0]:
            raw = scored_k * h.lexical / max(1.0 - h.lexical, 1e-9)  # undo the saturation
            lex = raw / (raw + k)
            fused = (1 - weight) * h.dense + weight * lex
            hits.append(replace(h, lexical=lex, fused=fused))
        return sorted(hits, key=lambda h: h.fused, reverse=True), scored[1]

    return [{**p, "plain": fuse(p["plain"]), "context": fuse(p["context"])} for p in prepared]


MARGINS = (0.0, 0.01, 0.02, 0.03, 0.04, 0.06, 0.08)
GAPS = (0.05, 0.1, 0.15, 0.2)  # clarify threshold = answer threshold - gap


def _search(
    tune: list[dict[str, Any]], base: Thresholds, mode: str
) -> tuple[float, float, Thresholds]:
    """(value, neighbourhood value, thresholds) of the best grid point. Ties go to the point whose
    neighbours (one step of answer threshold and margin) score best: a plateau generalizes better
    than a lone peak, and the choice no longer depends on the order of the grid."""
    grid = np.arange(0.30, 0.91, 0.02) if mode != "lexical" else np.arange(0.10, 0.91, 0.02)

    def point(a: int, m: int, g: int) -> Thresholds:
        answer = float(grid[a])
        return replace(base, answer=answer, margin=MARGINS[m], clarify=answer - GAPS[g])

    shape = (len(grid), len(MARGINS), len(GAPS))
    values = np.array([_value(tune, point(*i))[0] for i in np.ndindex(shape)]).reshape(shape)
    near = _neighbourhood(values)
    best = max(np.ndindex(shape), key=lambda i: (values[i], near[i]))
    return float(values[best]), float(near[best]), point(*best)


def _neighbourhood(values: np.ndarray) -> np.ndarray:
    """Mean of each grid point and its neighbours along the answer and margin axes."""
    padded = np.pad(values, ((1, 1), (1, 1), (0, 0)), mode="edge")
    a, m = values.shape[:2]
    shifted = [padded[i : i + a, j : j + m] for i in range(3) for j in range(3)]
    out: np.ndarray = np.mean(shifted, axis=0)
    return out


def calibrate_retrieval(bot: Bot, cases: list[Case]) -> dict[str, Any]:
    """Best thresholds per mode on tune (and the lexical weight for fused); tune and holdout accuracy."""
    return {mode: _calibrate_mode(bot, cases, mode) for mode in ("fused", "dense", "lexical")}


# (lexical weight, saturation k) pairs searched for the fused mode
FUSION_GRID = [(w, k) for w in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6) for k in (3.0, 6.0, 12.0, 24.0)]


def _calibrate_mode(bot: Bot, cases: list[Case], mode: str) -> dict[str, Any]:
    tune = [_prepare(bot, c, mode) for c in cases if c.split == "tune"]
    hold = [_prepare(bot, c, mode) for c in cases if c.split == "holdout"]
    scored_k = bot.thresholds.lexical_k
    fused = mode == "fused"
    options = FUSION_GRID if fused else [(0.0, scored_k)]

    def fuse(rows: list[dict[str, Any]], weight: float, k: float) -> list[dict[str, Any]]:
        return _refuse(rows, weight, k, scored_k=scored_k) if fused else rows

    searched = [(*_search(fuse(tune, w, k), bot.thresholds, mode), w, k) for w, k in options]
    _, _, t, weight, k = max(searched, key=lambda s: (s[0], s[1]))
    return {
        "answer": round(t.answer, 2),
        "margin": t.margin,
        "clarify": round(t.clarify, 2),
        "lexical_weight": weight,
        "lexical_k": k,
        "tune_accuracy": round(_value(fuse(tune, weight, k), t)[1], 4),
        "holdout_accuracy": round(_value(fuse(hold, weight, k), t)[1], 4),
    }


def guard_scores(bot: Bot, case: Case) -> dict[str, Any]:
    """Rule verdict (without semantics) and semantic best scores for one guard case."""
    conversation = Conversation()
    for earlier in case.history:
        bot.reply(earlier, conversation)
    text = check_message(case.message)
    forms = bot.guard.forms(text)
    rules = bot.guard.check(text, history=conversation.guard_history(), forms=forms)
    vector = bot._encode(forms[2])
    return {"case": case, "rule": rules.category, "sims": bot.guard.nearest(vector)}


def calibrate_guard(bot: Bot, cases: list[Case], *, budget: float = 0.02) -> dict[str, Any]:
    """Per-category semantic thresholds and one margin from the tune split of guard cases."""
    rows = [guard_scores(bot, c) for c in cases if c.split == "tune" and c.task == "guard"]
    benign = [
        r for r in rows if r["case"].expected in {"none", "not_self_harm"} and r["rule"] is None
    ]
    best: dict[str, Any] = {}
    for margin in (0.0, 0.02, 0.04, 0.06, 0.08):
        chosen = {
            c: _lowest_safe(c, benign, margin, budget / len(GUARD_CATEGORIES))
            for c in GUARD_CATEGORIES
        }
        recall = _recall(rows, chosen, margin)
        if not best or recall > best["recall"]:
            best = {"margin": margin, "thresholds": chosen, "recall": recall}
    return best


def _fires(sims: dict[str, float], category: str, threshold: float, margin: float) -> bool:
    score_ = sims.get(category, 0.0)
    return score_ >= threshold and score_ - sims.get("none", 0.0) >= margin


def _lowest_safe(
    category: str, benign: list[dict[str, Any]], margin: float, budget: float
) -> float:
    for threshold in np.arange(0.60, 0.99, 0.01):
        flagged = sum(_fires(r["sims"], category, float(threshold), margin) for r in benign)
        if flagged / max(len(benign), 1) <= budget:
            return round(float(threshold), 2)
    return 0.99


def _recall(rows: list[dict[str, Any]], thresholds: dict[str, float], margin: float) -> float:
    flagged = [r for r in rows if r["case"].expected in GUARD_CATEGORIES]
    hits = sum(
        r["rule"] is not None or any(_fires(r["sims"], c, t, margin) for c, t in thresholds.items())
        for r in flagged
    )
    return round(hits / max(len(flagged), 1), 4)
