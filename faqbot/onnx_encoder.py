"""The fast encoder: the bundled model exported to ONNX, run with onnxruntime + tokenizers.

`export_onnx()` needs torch (it runs at `faqbot index build`); `OnnxEncoder` does not.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from faqbot.encoder import MODEL_NAME, Vectors, bundled_model_dir, normalize_rows
from faqbot.errors import EncoderError

MAX_TOKENS = 256
BATCH = 64  # texts per graph run when encoding many (index build); sorted by length to pad less


def onnx_artifact(data_dir: Path) -> Path:
    """Where the exported model lives: next to the index."""
    return data_dir / "onnx"


class OnnxEncoder:
    """Mean-pooled, normalized MiniLM embeddings from an exported ONNX graph."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, *, artifact_dir: Path, threads: int = 1) -> None:
        self.artifact_dir = artifact_dir
        self.threads = threads
        self._session: Any = None  # onnxruntime.InferenceSession once loaded
        self._tokenizer: Any = None  # tokenizers.Tokenizer once loaded
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the ONNX session and tokenizer now."""
        with self._lock:
            if self._session is None:
                self._session, self._tokenizer = self._load()

    def _load(self) -> tuple[object, object]:
        # tokenizers otherwise starts a pool of one thread per core for every encode_batch call
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer

            options = ort.SessionOptions()
            options.intra_op_num_threads = max(1, self.threads)
            options.inter_op_num_threads = 1
            options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            model = str(self.artifact_dir / "model.onnx")
            session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(self.artifact_dir / "tokenizer.json"))
            tokenizer.no_padding()  # the bundled file pads every input to 128 tokens
            tokenizer.enable_truncation(MAX_TOKENS)
            return session, tokenizer
        except Exception as exc:
            raise EncoderError(
                f"could not load the ONNX encoder from {self.artifact_dir}: {exc}"
            ) from exc

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Tokenize, run the graph, mean-pool over real tokens, normalize (BATCH texts per run)."""
        self.warm_up()
        if len(texts) <= BATCH:
            return self._encode_batch(list(texts))
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for start in range(0, len(order), BATCH):
            rows = order[start : start + BATCH]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        encodings = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, enc in enumerate(encodings):
            ids[row, : len(enc.ids)] = enc.ids
            mask[row, : len(enc.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return normalize_rows(pooled)


def export_onnx(target: Path) -> Path:
    """Export the bundled transformer to `target`/model.onnx with its tokenizer (needs torch)."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    source = bundled_model_dir()
    tmp = target.with_name(target.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    bert = AutoModel.from_pretrained(str(source), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_mask: torch.Tensor,
            token_type_ids: torch.Tensor,
        ) -> torch.Tensor:
            out = self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    sample = torch.ones((1, 8), dtype=torch.int64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden().eval(),
            (sample, sample, torch.zeros_like(sample)),
            str(tmp / "model.onnx"),
            input_names=["input_ids", "attention_mask", "token_type_ids"],
            output_names=["last_hidden_state"],
            dynamic_axes={
                n: {0: "batch", 1: "seq"}
                for n in ("input_ids", "attention_mask", "token_type_ids", "last_hidden_state")
            },
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(source / "tokenizer.json", tmp / "tokenizer.json")
    (tmp / "export.json").write_text(json.dumps({"model": MODEL_NAME, "source": str(source)}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
