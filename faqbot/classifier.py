"""A softmax-regression classifier over the guard's embeddings.

Nearest-exemplar matching fires only for a message close to one written example. The classifier
learns, from every exemplar at once, which directions of the embedding space separate a category
from benign text, so it also catches wordings unlike any single exemplar (forum-style self-harm
posts). It is trained when the index is built (numpy only: full-batch Adam from zero weights, so
the same vectors give the same weights) and stored beside the index.

It only ever adds evidence: the guard asks it for a category only where semantic.yaml gives that
category a `classifier` threshold, and only when the message is also nearer that category's
exemplars than the benign ones (see Guard.semantic_hits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faqbot.encoder import Vectors

STEPS = 800
L2 = 1e-3
LEARNING_RATE = 0.05


@dataclass(frozen=True)
class Classifier:
    """Weights of a linear softmax model; `classes[i]` is the category of output i."""

    classes: tuple[str, ...]
    weights: np.ndarray  # (dimensions, classes)
    bias: np.ndarray  # (classes,)

    def probabilities(self, vector: Vectors) -> dict[str, float]:
        """Probability of each category for one embedding."""
        z = vector.reshape(-1) @ self.weights + self.bias
        p = np.exp(z - z.max())
        p /= p.sum()
        return dict(zip(self.classes, p.tolist(), strict=True))

    def save(self, path: Path) -> None:
        np.savez(path, classes=np.array(self.classes), weights=self.weights, bias=self.bias)

    @classmethod
    def load(cls, path: Path) -> Classifier:
        with np.load(path) as f:
            return cls(tuple(str(c) for c in f["classes"]), f["weights"], f["bias"])


def train(vectors: Vectors, labels: Sequence[str], *, steps: int = STEPS) -> Classifier:
    """Fit the model to labelled embeddings, each class weighted equally (the benign class has
    several times more examples than the rarest category)."""
    if len(vectors) != len(labels):
        raise ValueError(f"{len(vectors)} vectors for {len(labels)} labels")
    classes = tuple(sorted(set(labels)))
    x = np.asarray(vectors, dtype=np.float32)
    y = np.array([classes.index(label) for label in labels])
    counts = np.bincount(y, minlength=len(classes))
    sample_weight = (len(y) / (len(classes) * counts))[y] / len(y)
    target = np.eye(len(classes), dtype=np.float32)[y]
    params = [np.zeros((x.shape[1], len(classes)), np.float32), np.zeros(len(classes), np.float32)]
    moments = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
    for step in range(1, steps + 1):
        z = x @ params[0] + params[1]
        p = np.exp(z - z.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        error = (p - target) * sample_weight[:, None].astype(np.float32)
        grads = [x.T @ error + L2 * params[0], error.sum(axis=0)]
        for param, grad, (m, v) in zip(params, grads, moments, strict=True):
            m *= 0.9
            m += 0.1 * grad
            v *= 0.999
            v += 0.001 * grad * grad
            m_hat = m / (1 - 0.9**step)
            v_hat = v / (1 - 0.999**step)
            param -= LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)
    return Classifier(classes, params[0], params[1])
