"""Packing: several texts in one sequence give each text the vector it gets alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from faqbot.errors import EncoderError
from faqbot.onnx_encoder import PACK_TOKENS, pack
from tests.conftest import fresh_data_dir


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


def loads_recorded(monkeypatch) -> list[tuple[str, object]]:
    """(thread name, encoder) of every `load_encoder` call `build_bot` makes."""
    import threading

    from faqbot import engine

    calls: list[tuple[str, object]] = []
    real = engine.load_encoder

    def recording(*args, **kwargs):
        encoder = real(*args, **kwargs)
        calls.append((threading.current_thread().name, encoder))
        return encoder

    monkeypatch.setattr(engine, "load_encoder", recording)
    return calls


def test_the_onnx_export_loads_in_a_thread_while_the_knowledge_is_read(
    built_data_dir, real_kb, monkeypatch
):
    from faqbot.config import Settings
    from faqbot.engine import build_bot

    calls = loads_recorded(monkeypatch)
    bot = build_bot(Settings(data_dir=built_data_dir), kb=real_kb, progress=lambda _m: None)
    assert [name.startswith("faqbot-preload") for name, _ in calls] == [True]
    assert getattr(bot.encoder, "inner", bot.encoder) is calls[0][1]
    assert bot.reply("is kratom addictive").reply.entry_id == "is-kratom-addictive"


def test_a_rebuild_replaces_the_preloaded_encoder_with_the_new_export(
    built_data_dir, real_kb, tmp_path, monkeypatch
):
    from faqbot import engine
    from faqbot.config import Settings
    from faqbot.index import read_manifest

    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    manifest = data_dir / "index" / "manifest.json"
    fresh = manifest.read_text()
    manifest.write_text(fresh.replace(real_kb.digest, "0" * 16))  # knowledge "changed"
    assert read_manifest(data_dir)["knowledge_hash"] != real_kb.digest
    rebuilt: list[bool] = []

    def rebuild(kb, settings, *, progress):  # the real one re-exports the model (about a minute)
        rebuilt.append(True)
        manifest.write_text(fresh)

    monkeypatch.setattr(engine, "build_artifacts", rebuild)
    calls = loads_recorded(monkeypatch)
    bot = engine.build_bot(Settings(data_dir=data_dir), kb=real_kb, progress=lambda _m: None)
    assert rebuilt == [True]
    assert [name.startswith("faqbot-preload") for name, _ in calls] == [True, False]
    assert (
        getattr(bot.encoder, "inner", bot.encoder) is calls[1][1]
    )  # loaded after the rebuild, from the new files
