"""Micro-batching: concurrent encode calls from several threads become one encoder call.

On a small server most of a turn's CPU is the encoder, and one graph run over 4 short questions
costs far less than 4 runs over one. `BatchingEncoder` wraps any Encoder: each `encode()` call
queues its texts and waits; one worker thread takes the first waiting request plus every request
already queued, and, while requests are arriving together (the previous batch had company or more
were queued when it finished), also waits up to `max_wait_ms` for more (at most `max_batch`
texts). It encodes them all in one inner call and hands each caller its rows. A lone request on
an idle server is therefore not delayed by the window. An exception from the inner encoder
reaches every waiter. Enabled by FAQBOT_ENCODER_BATCH_MS > 0 (see `with_batching`).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from faqbot.encoder import Encoder, Vectors
from faqbot.errors import EncoderError


@dataclass
class _Request:
    """Texts from one caller and the future its rows arrive on."""

    texts: list[str]
    future: Future[Vectors] = field(default_factory=Future)
    queued: float = field(default_factory=time.monotonic)


class BatchingEncoder:
    """An Encoder that merges concurrent calls into one call of `inner` (thread-safe)."""

    def __init__(self, inner: Encoder, *, max_wait_ms: float = 3, max_batch: int = 32) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.max_wait = max(0.0, max_wait_ms) / 1000
        self.max_batch = max(1, max_batch)
        self.calls = 0  # inner encode calls made (for benchmarks and tests)
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._busy = False  # the previous batch had company: worth waiting for more

    def warm_up(self) -> None:
        """Load the inner encoder and start the worker thread."""
        self.inner.warm_up()
        with self._lock:
            self._start()

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Queue `texts`, wait for the batch they join, and return their rows."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        request = _Request(list(texts))
        with self._lock:  # nothing is queued after close()'s sentinel, so no caller waits forever
            if self._closed:
                raise EncoderError("the batching encoder is closed")
            self._start()
            self._queue.put(request)
        return request.future.result()

    def close(self) -> None:
        """Finish the requests already queued, then stop the worker; later calls raise."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put(None)
            worker = self._worker
        if worker is not None:
            worker.join()

    def _start(self) -> None:
        if self._worker is None:
            self._worker = threading.Thread(
                target=self._run, name="faqbot-encoder-batch", daemon=True
            )
            self._worker.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch, stop = self._gather(first)
            self._encode(batch)
            if stop:
                return

    def _gather(self, first: _Request) -> tuple[list[_Request], bool]:
        """`first` plus whatever arrives before the deadline; True when close() was seen."""
        batch, size = [first], len(first.texts)
        deadline = first.queued + (self.max_wait if self._busy else 0.0)
        while size < self.max_batch:
            try:
                item = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if item is None:
                return batch, True
            batch.append(item)
            size += len(item.texts)
        return batch, False

    def _note_load(self, batch: list[_Request]) -> None:
        """Remember whether requests are arriving together (then the next gather waits)."""
        self._busy = len(batch) > 1 or self._queue.qsize() > 0

    def _encode(self, batch: list[_Request]) -> None:
        texts = [t for r in batch for t in r.texts]
        try:
            self.calls += 1
            vectors = self.inner.encode(texts)
            if len(vectors) != len(texts):
                raise EncoderError(f"encoder returned {len(vectors)} rows for {len(texts)} texts")
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            self._note_load(batch)
            for request in batch:
                request.future.set_exception(exc)
            return
        self._note_load(batch)  # before waking the callers, whose next requests are not "company"
        start = 0
        for request in batch:
            end = start + len(request.texts)
            request.future.set_result(vectors[start:end])
            start = end


def with_batching(encoder: Encoder, wait_ms: int, *, max_batch: int = 32) -> Encoder:
    """`encoder` wrapped in a BatchingEncoder when `wait_ms` > 0, else unchanged."""
    if wait_ms <= 0:
        return encoder
    return BatchingEncoder(encoder, max_wait_ms=wait_ms, max_batch=max_batch)
