"""Packing: several texts in one sequence give each text the vector it gets alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faqbot.errors import EncoderError
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


def old_layout_export(target: Path, tokenizer: Path) -> Path:
    """An ONNX graph with the padded layout's inputs (what faqbot exported before packing)."""
    import onnx
    from onnx import TensorProto, helper

    names = ("input_ids", "attention_mask", "token_type_ids")
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, ["b", "s"]) for n in names]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.INT64, ["b", "s"])
    node = helper.make_node("Identity", ["input_ids"], ["last_hidden_state"])
    graph = helper.make_graph([node], "old", inputs, [output])
    target.mkdir(parents=True)
    onnx.save(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8),
        target / "model.onnx",
    )
    shutil.copy(tokenizer, target / "tokenizer.json")
    return target


def test_an_export_from_before_packing_is_refused_with_what_to_do(built_data_dir, tmp_path):
    from faqbot.onnx_encoder import OnnxEncoder, onnx_artifact

    old = old_layout_export(tmp_path / "onnx", onnx_artifact(built_data_dir) / "tokenizer.json")
    with pytest.raises(EncoderError, match=r"attention_mask.*older faqbot.*faqbot index build"):
        OnnxEncoder(artifact_dir=old).warm_up()


def test_a_failed_export_removes_the_earlier_one(built_data_dir, real_kb, tmp_path, monkeypatch):
    from faqbot import engine
    from faqbot.config import Settings
    from faqbot.onnx_encoder import onnx_artifact

    data_dir = tmp_path / "data"
    old_layout_export(onnx_artifact(data_dir), onnx_artifact(built_data_dir) / "tokenizer.json")

    def no_torch(target: Path) -> Path:
        raise ImportError("No module named 'torch'")

    monkeypatch.setattr(engine, "export_onnx", no_torch)
    said: list[str] = []
    engine.build_artifacts(
        real_kb, Settings(data_dir=data_dir, encoder="hash"), progress=said.append
    )
    assert any("ONNX export failed" in line for line in said)
    assert not onnx_artifact(data_dir).exists()  # `auto` now picks sentence-transformers
