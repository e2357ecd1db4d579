"""Speed-work fixtures: the reference and the ONNX encoder, and a Bot per encoder on one index.

Nothing here is timed (timings live in benchmarks/); these fixtures serve parity and wiring tests.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from faqbot.bot import Bot
from faqbot.encoder import Encoder, Vectors

DATA = Path(__file__).resolve().parent.parent / "data"
DEV_SETS = ("retrieval_dev.jsonl", "guard_dev.jsonl")


def bot_with(bot: Bot, encoder: Encoder) -> Bot:
    """A Bot sharing `bot`'s knowledge, index, guard and templates, with another encoder."""
    return Bot(
        kb=bot.kb,
        index=bot.index,
        encoder=encoder,
        guard=bot.guard,
        renderer=bot.renderer,
        thresholds=bot.thresholds,
        contact_url=bot.contact_url,
        default_locale=bot.default_locale,
    )


class MemoEncoder:
    """A real encoder with vectors computed ahead in one batch (misses go to the encoder)."""

    def __init__(self, inner: Encoder, texts: list[str]) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.vectors = dict(zip(texts, inner.encode(texts), strict=True))

    def warm_up(self) -> None:
        """Nothing beyond the inner encoder's own loading."""
        self.inner.warm_up()

    def encode(self, texts: list[str]) -> Vectors:
        """Cached rows, encoding what was not computed ahead."""
        missing = [t for t in texts if t not in self.vectors]
        if missing:
            self.vectors.update(zip(missing, self.inner.encode(missing), strict=True))
        return np.stack([self.vectors[t] for t in texts]) if texts else self.inner.encode([])


def all_texts(bot: Bot, cases: list[dict]) -> list[str]:
    """Every phrasing of the served entries and every dev message, raw and as embedded."""
    texts = [p for e in bot.kb.served for p in e.phrasings]
    for case in cases:
        for message in [*case.get("history", []), case["message"]]:
            texts += [message, bot.guard.semantic_text(message)]
    return sorted({t for t in texts if t.strip()})


@pytest.fixture(scope="session")
def dev_cases() -> list[dict]:
    """Every case of the retrieval and guard dev sets, tagged with its set."""
    cases = []
    for name in DEV_SETS:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                cases.append({**json.loads(line), "set": name})
    return cases


@pytest.fixture(scope="session")
def st_encoder():
    """The reference encoder (sentence-transformers), loaded once."""
    import os

    from faqbot.encoder import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(threads=os.cpu_count() or 1)
    encoder.warm_up()
    return encoder


@pytest.fixture(scope="session")
def onnx_encoder(built_data_dir: Path):
    """The ONNX encoder on the session's export."""
    from faqbot.onnx_encoder import OnnxEncoder, onnx_artifact

    encoder = OnnxEncoder(artifact_dir=onnx_artifact(built_data_dir))
    encoder.warm_up()
    return encoder


@pytest.fixture(scope="session")
def parity_texts(bot: Bot, dev_cases: list[dict]) -> list[str]:
    """The texts parity is checked on."""
    return all_texts(bot, dev_cases)


@pytest.fixture(scope="session")
def st_memo(st_encoder, parity_texts: list[str]) -> MemoEncoder:
    """The reference encoder with every parity text encoded ahead, in batches."""
    return MemoEncoder(st_encoder, parity_texts)


@pytest.fixture(scope="session")
def st_bot(bot: Bot, st_memo: MemoEncoder) -> Bot:
    """The shared Bot's pieces with the reference encoder."""
    return bot_with(bot, st_memo)


@pytest.fixture(scope="session")
def onnx_bot(bot: Bot, onnx_encoder) -> Bot:
    """The shared Bot's pieces with the ONNX encoder (explicitly, whatever FAQBOT_ENCODER says)."""
    return bot_with(bot, onnx_encoder)
