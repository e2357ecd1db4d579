"""Packing: several texts in one sequence give each text the vector it gets alone."""

from __future__ import annotations

import numpy as np
import pytest

from faqbot.onnx_encoder import PACK_TOKENS, pack


def test_pack_keeps_order_and_fills_rows_up_to_the_limit():
    lengths = [5, 7, 3, 10, 2, 9]
    rows = pack(lengths, limit=15)
    assert rows == [[0, 1, 2], [3, 4], [5]]
    assert [i for row in rows for i in row] == list(range(len(lengths)))
    assert all(sum(lengths[i] for i in row) <= 15 for row in rows)


def test_a_text_longer_than_the_limit_gets_a_row_of_its_own():
    assert pack([4, 30, 4], limit=10) == [[0], [1], [2]]
    assert pack([]) == []


@pytest.mark.slow
def test_packed_batches_match_one_text_at_a_time(onnx_encoder, parity_texts):
    # mixed lengths, enough tokens for several packed rows, plus one text longer than a row
    texts = parity_texts[::7][:120] + [" ".join(parity_texts[:60])]
    together = onnx_encoder.encode(texts)
    alone = np.stack([onnx_encoder.encode([t])[0] for t in texts])
    tokens = sum(len(t.split()) for t in texts)
    assert tokens > 2 * PACK_TOKENS  # more than one packed row was run
    cosines = np.sum(together * alone, axis=1)
    assert float(cosines.min()) >= 0.99999, texts[int(np.argmin(cosines))][:60]
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
