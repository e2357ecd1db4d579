"""Parity: the ONNX fast path embeds and decides like the sentence-transformers reference.

Embeddings: cosine >= 0.999 for every knowledge-base phrasing and every dev-set message (as typed
and as the guard's semantic text, which is what the Bot embeds). Decisions: the same (kind, entry,
category) on >= 99.5% of the retrieval and guard dev cases; any difference must sit within 0.01 of
a threshold (retrieval thresholds on the turn's hits, guard thresholds on guard.nearest).
"""

from __future__ import annotations

import numpy as np
import pytest

from faqbot.bot import Bot, BotTurn, MessageError
from faqbot.dialog import Conversation
from faqbot.retrieval import ANSWER_WITHOUT_TOPIC

pytestmark = pytest.mark.slow

MIN_COSINE = 0.999
MIN_AGREEMENT = 0.995
NEAR = 0.01


def test_encoders_agree_on_every_phrasing_and_dev_message(parity_texts, st_memo, onnx_encoder):
    texts = parity_texts
    reference = st_memo.encode(texts)
    fast = onnx_encoder.encode(texts)
    cosines = np.sum(reference * fast, axis=1)
    worst = np.argsort(cosines)[:5]
    report = [(texts[i][:60], round(float(cosines[i]), 5)) for i in worst]
    assert len(texts) > 1500
    assert float(cosines.min()) >= MIN_COSINE, report


def run(bot: Bot, case: dict) -> BotTurn | None:
    """The turn for a case's message after replaying its history (None for an invalid message)."""
    conversation = Conversation()
    try:
        for earlier in case.get("history", []):
            bot.reply(earlier, conversation)
        return bot.reply(case["message"], conversation)
    except MessageError:
        return None


def decision(turn: BotTurn | None) -> tuple[str | None, ...]:
    """What the parity compares: kind, entry and category of the reply."""
    if turn is None:
        return ("invalid", None, None)
    return (turn.reply.kind, turn.reply.entry_id, turn.reply.category)


def threshold_gaps(bot: Bot, turn: BotTurn | None) -> list[float]:
    """Distance of each deciding score of a turn from the threshold it is compared with."""
    if turn is None:
        return []
    gaps = retrieval_gaps(bot, turn)
    assert bot.encoder is not None
    vector = bot.encoder.encode([bot.guard.semantic_text(turn.message)])[0]
    nearest = bot.guard.nearest(vector)
    semantic = bot.guard.data.semantic
    benign = nearest.get("none", 0.0)
    for category, threshold in semantic.thresholds.items():
        score = nearest.get(category, 0.0)
        gaps += [
            abs(score - threshold),
            abs(score - benign - semantic.margin),
            abs(score - semantic.override),
        ]
    return gaps


def retrieval_gaps(bot: Bot, turn: BotTurn) -> list[float]:
    """Gaps of the top hit's scores to the answer, margin, clarify and domain thresholds."""
    if turn.outcome is None or not turn.outcome.hits:
        return []
    t = bot.thresholds
    hits = turn.outcome.hits
    top = hits[0]
    runner = hits[1].fused if len(hits) > 1 else 0.0
    return [
        abs(top.fused - t.answer),
        abs(top.fused - runner - t.margin),
        abs(top.fused - t.clarify),
        abs(top.dense - t.domain),
        abs(top.dense - ANSWER_WITHOUT_TOPIC),
        abs(top.fused - runner),  # the two best entries swap places
    ]


def test_same_decisions_on_dev_sets(st_bot, onnx_bot, dev_cases):
    differences = []
    for case in dev_cases:
        fast, reference = run(onnx_bot, case), run(st_bot, case)
        if decision(fast) != decision(reference):
            gap = min(threshold_gaps(onnx_bot, fast) + threshold_gaps(st_bot, reference))
            differences.append((case["id"], decision(fast), decision(reference), round(gap, 4)))
    agreement = 1 - len(differences) / len(dev_cases)
    assert len(dev_cases) > 900
    assert agreement >= MIN_AGREEMENT, differences
    far = [d for d in differences if d[3] > NEAR]
    assert not far, far
