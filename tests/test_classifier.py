"""The guard classifier: training, storage, and how the guard uses it."""

from __future__ import annotations

import numpy as np
import pytest

from faqbot.classifier import Classifier, train
from faqbot.guard import Guard
from faqbot.models import Evidence


def clusters(seed: int = 0) -> tuple[np.ndarray, list[str]]:
    """Three well-separated groups of unit vectors in 16 dimensions."""
    rng = np.random.default_rng(seed)
    centres = np.eye(16, dtype=np.float32)[:3]
    labels = ["none"] * 60 + ["self_harm"] * 20 + ["dosing"] * 20
    rows = [centres[["none", "self_harm", "dosing"].index(c)] for c in labels]
    x = np.array(rows) + rng.normal(0, 0.25, (len(labels), 16)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True), labels


def test_learns_each_class_and_is_deterministic():
    x, labels = clusters()
    model = train(x, labels, steps=300)
    again = train(x, labels, steps=300)
    assert np.array_equal(model.weights, again.weights)
    assert model.classes == ("dosing", "none", "self_harm")
    for vector, label in zip(x, labels, strict=True):
        p = model.probabilities(vector)
        assert max(p, key=lambda c: p[c]) == label
        assert sum(p.values()) == pytest.approx(1.0, abs=1e-5)
    fresh, fresh_labels = clusters(seed=1)  # unseen points of the same groups
    right = []
    for vector, label in zip(fresh, fresh_labels, strict=True):
        p = model.probabilities(vector)
        right.append(max(p, key=lambda c: p[c]) == label)
    assert np.mean(right) >= 0.95


def test_classes_are_weighted_equally():
    # 60 benign rows against 20: unweighted, a point halfway between would lean benign
    x, labels = clusters()
    model = train(x, labels, steps=300)
    midway = (np.eye(16)[0] + np.eye(16)[1]).astype(np.float32) / np.sqrt(2)
    p = model.probabilities(midway)
    assert abs(p["none"] - p["self_harm"]) < 0.25


def test_saves_and_loads(tmp_path):
    x, labels = clusters()
    model = train(x, labels, steps=50)
    model.save(tmp_path / "c.npz")
    loaded = Classifier.load(tmp_path / "c.npz")
    assert loaded.classes == model.classes
    assert loaded.probabilities(x[0]) == pytest.approx(model.probabilities(x[0]))


def test_vectors_and_labels_must_match():
    with pytest.raises(ValueError, match="3 vectors for 2 labels"):
        train(np.zeros((3, 4), np.float32), ["none", "dosing"])


# ------------------------------------------------------------------ in the guard (real index)
# no rule and no single exemplar catches these; the classifier does
FORUM_STYLE = [
    "the scars on my arms are getting hard to hide again",
    "gave my guitar and my dog to my brother this week, won't be needing them",
]


def test_real_index_carries_a_trained_classifier(bot):
    classifier = bot.index.classifier
    assert set(classifier.classes) == set(bot.guard.labels)
    assert bot.guard.classifier is classifier


@pytest.mark.parametrize("message", FORUM_STYLE)
def test_classifier_alone_gives_the_crisis_reply(bot, message):
    turn = bot.reply(message)
    assert (turn.reply.kind, turn.reply.category) == ("emergency", "self_harm")
    assert {e.source for e in turn.verdict.evidence} == {"classifier"}
    assert "988" in turn.reply.text


def test_classifier_alone_gives_the_emergency_reply(bot):
    """A situation no rule or single exemplar names (round 6: the emergency threshold)."""
    turn = bot.reply("my buddy fell off the scaffolding and hes lying there making weird noises")
    assert (turn.reply.kind, turn.reply.category) == ("emergency", "emergency")
    assert [e.ref for e in turn.verdict.evidence] == ["classifier:emergency"]
    assert turn.reply.text.index("911") < turn.reply.text.index("1-800-222-1222")


def test_classifier_adds_self_harm_only_where_configured(bot, real_kb):
    vector = bot._encode(bot.guard.semantic_text(FORUM_STYLE[0]))
    hits = bot.guard.semantic_hits(vector)
    assert [(e.category, e.source) for e in hits] == [("self_harm", "classifier")]
    settings = real_kb.guard.semantic.classifier
    assert set(settings.thresholds) == {"self_harm", "emergency"}
    off = settings.model_copy(update={"thresholds": {}})
    data = real_kb.guard
    data.semantic = data.semantic.model_copy(update={"classifier": off})
    try:
        assert all(e.source != "classifier" for e in bot.guard.semantic_hits(vector))
    finally:
        data.semantic = data.semantic.model_copy(update={"classifier": settings})


def test_classifier_never_overrides_a_rule(bot):
    guard: Guard = bot.guard
    # a dosing rule fires; classifier evidence for another category must not join it
    rule = Evidence(category="dosing", source="rule", ref="ds-how-much")
    learned = Evidence(category="self_harm", source="classifier", ref="classifier:self_harm")
    strong = Evidence(category="self_harm", source="exemplar", ref="self_harm-001", score=0.99)
    assert guard._semantic_policy([rule], [learned, strong]) == [strong]
    assert guard._semantic_policy([], [learned]) == [learned]


# Goodbye exemplars and farewell posts taught the classifier that "bye" can be a farewell; closing
# a chat must still get a plain reply, while a final farewell gets the crisis reply.
@pytest.mark.parametrize(
    "message", ["bye", "ok goodbye", "ok thanks bye!", "alright goodbye then", "bye for now"]
)
def test_closing_a_chat_is_not_a_crisis(bot, message):
    assert bot.reply(message).reply.kind != "emergency"


@pytest.mark.parametrize("message", ["bye forever", "goodbye. i wont be around tomorrow"])
def test_a_final_farewell_is(bot, message):
    assert bot.reply(message).reply.category == "self_harm"
