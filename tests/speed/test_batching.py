"""BatchingEncoder: concurrent calls merge into one encoder call, each caller gets its own rows,
errors reach every waiter, close() is clean; with the real ONNX encoder the vectors are unchanged.

Ordering is made deterministic with a gate inside the fake encoder (the first call blocks until
the test has queued the rest), not with sleeps.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from faqbot.batching import BatchingEncoder, with_batching
from faqbot.encoder import HashEncoder, Vectors
from faqbot.errors import EncoderError


class CountingEncoder:
    """An Encoder double: hashed bag of words, counting calls; can hold its first call."""

    name = "counting"
    dim = 64

    def __init__(self, *, hold_first: bool = False, fail_on_call: int | None = None) -> None:
        self.calls: list[list[str]] = []
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.hold_first = hold_first
        self.fail_on_call = fail_on_call
        self.words = HashEncoder(self.dim)

    def warm_up(self) -> None:
        """Nothing to load."""

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Record the call; hold the first one until the gate opens; maybe fail."""
        self.calls.append(list(texts))
        self.entered.set()
        if self.hold_first and len(self.calls) == 1:
            assert self.gate.wait(10)
        if self.fail_on_call == len(self.calls):
            raise RuntimeError("encoder broke")
        return self.words.encode(texts)


def queued(encoder: BatchingEncoder, n: int) -> None:
    """Wait until `n` requests sit in the batching queue."""
    deadline = time.monotonic() + 10
    while encoder._queue.qsize() < n:
        assert time.monotonic() < deadline, "requests never reached the queue"
        time.sleep(0.001)


def hold_worker(inner: CountingEncoder, batching: BatchingEncoder, pool: ThreadPoolExecutor):
    """Submit one request and wait until the worker is stuck inside the inner encoder with it."""
    first = pool.submit(batching.encode, ["first request"])
    assert inner.entered.wait(10)
    return first


def test_concurrent_single_texts_become_one_call_and_each_gets_its_row():
    inner = CountingEncoder(hold_first=True)
    batching = BatchingEncoder(inner, max_wait_ms=5, max_batch=32)
    texts = [f"question number {i} about kratom" for i in range(8)]
    with ThreadPoolExecutor(9) as pool:
        first = hold_worker(inner, batching, pool)
        futures = [pool.submit(batching.encode, [t]) for t in texts]
        queued(batching, len(texts))
        inner.gate.set()
        rows = [f.result(10) for f in futures]
        first.result(10)
    assert sorted(inner.calls[1]) == sorted(texts)  # all eight in one call
    assert len(inner.calls) == 2 and batching.calls == 2
    batching.close()  # joins the worker, so its bookkeeping is done
    assert batching._busy  # requests came together: the next gather waits for company
    expected = HashEncoder(inner.dim).encode(texts)
    for i, row in enumerate(rows):
        assert row.shape == (1, inner.dim)
        np.testing.assert_array_equal(row[0], expected[i])


def test_batches_never_exceed_max_batch():
    inner = CountingEncoder(hold_first=True)
    batching = BatchingEncoder(inner, max_wait_ms=5, max_batch=4)
    with ThreadPoolExecutor(11) as pool:
        first = hold_worker(inner, batching, pool)
        futures = [pool.submit(batching.encode, [f"text {i}"]) for i in range(10)]
        queued(batching, 10)
        inner.gate.set()
        assert all(f.result(10).shape == (1, inner.dim) for f in [first, *futures])
    assert [len(c) for c in inner.calls[1:]] == [4, 4, 2]
    batching.close()


def test_an_encoder_error_reaches_every_waiter_and_the_next_batch_still_works():
    inner = CountingEncoder(hold_first=True, fail_on_call=2)
    batching = BatchingEncoder(inner, max_wait_ms=5)
    with ThreadPoolExecutor(4) as pool:
        first = hold_worker(inner, batching, pool)
        doomed = [pool.submit(batching.encode, [f"text {i}"]) for i in range(3)]
        queued(batching, 3)
        inner.gate.set()
        first.result(10)
        for future in doomed:
            with pytest.raises(RuntimeError, match="encoder broke"):
                future.result(10)
    assert batching.encode(["after the failure"]).shape == (1, inner.dim)
    batching.close()


def test_multi_text_calls_are_split_back_in_order():
    inner = CountingEncoder()
    batching = BatchingEncoder(inner, max_wait_ms=1)
    texts = ["a b", "c d", "e f"]
    np.testing.assert_array_equal(batching.encode(texts), HashEncoder(inner.dim).encode(texts))
    assert batching.encode([]).shape == (0, inner.dim) and len(inner.calls) == 1
    batching.close()


def test_close_finishes_queued_work_then_refuses():
    inner = CountingEncoder(hold_first=True)
    batching = BatchingEncoder(inner, max_wait_ms=5)
    with ThreadPoolExecutor(3) as pool:
        first = hold_worker(inner, batching, pool)
        waiting = pool.submit(batching.encode, ["queued before close"])
        queued(batching, 1)
        closing = pool.submit(batching.close)
        inner.gate.set()
        closing.result(10)
        assert waiting.result(10).shape == (1, inner.dim) and first.result(10) is not None
    assert batching._worker is not None and not batching._worker.is_alive()
    with pytest.raises(EncoderError, match="closed"):
        batching.encode(["too late"])
    batching.close()  # a second close is harmless


def test_a_lone_request_on_an_idle_encoder_does_not_wait_for_the_window():
    inner = CountingEncoder()
    batching = BatchingEncoder(inner, max_wait_ms=600_000)  # a wait would time the result out
    batching.warm_up()
    with ThreadPoolExecutor(1) as pool:
        assert pool.submit(batching.encode, ["alone"]).result(10).shape == (1, inner.dim)
    batching.close()
    assert inner.calls == [["alone"]] and not batching._busy


def test_with_batching_is_off_at_zero():
    inner = CountingEncoder()
    assert with_batching(inner, 0) is inner
    wrapped = with_batching(inner, 3)
    assert isinstance(wrapped, BatchingEncoder) and wrapped.name == inner.name
    assert wrapped.dim == inner.dim and wrapped.max_wait == pytest.approx(0.003)


@pytest.mark.slow
def test_real_onnx_vectors_are_unchanged_by_batching(onnx_encoder, bot):
    texts = [p for e in bot.kb.served[:12] for p in e.phrasings[:2]]
    alone = np.stack([onnx_encoder.encode([t])[0] for t in texts])
    batching = BatchingEncoder(onnx_encoder, max_wait_ms=20, max_batch=64)
    with ThreadPoolExecutor(8) as pool:
        together = np.stack([r[0] for r in pool.map(lambda t: batching.encode([t]), texts)])
    batching.close()
    assert batching.calls < len(texts)  # some calls were merged
    np.testing.assert_allclose(together, alone, atol=1e-5)


@pytest.mark.slow
def test_build_bot_wraps_the_encoder_when_batching_is_on(built_data_dir, real_kb):
    from faqbot.config import Settings
    from faqbot.engine import build_bot

    settings = Settings(data_dir=built_data_dir, encoder="auto", encoder_batch_ms=2)
    batched = build_bot(settings, kb=real_kb, progress=lambda _msg: None)
    assert isinstance(batched.encoder, BatchingEncoder)
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda m: batched.reply(m).reply, ["what is kratom"] * 4))
    assert {(r.kind, r.entry_id) for r in replies} == {("answer", "what-is-kratom")}
    batched.encoder.close()
