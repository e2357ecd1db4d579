"""The fast encoder: the bundled model exported to ONNX, run with onnxruntime + tokenizers.

`export_onnx()` needs torch (it runs at `faqbot index build`); `OnnxEncoder` does not.

Packing: texts are not padded to a common length. Several texts share one sequence, each with
position ids that restart at 0 and an attention bias that lets a token attend only to tokens of
its own text (block-diagonal; elsewhere float32's minimum, which softmax turns into exactly 0).
Every text then gets the same vector as alone (cosine 1.0 to float rounding), and a batch costs
what its real tokens cost: the server's micro-batches of short questions of mixed lengths padded
to the longest wasted a third of the work, and one long sequence also multiplies faster.
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

MAX_TOKENS = 256  # one text's tokens (truncated beyond)
PACK_TOKENS = 256  # tokens per packed sequence: attention cost grows with its square
BLOCKED = float(np.finfo(np.float32).min)  # the bias between tokens of different texts
INPUTS = ("input_ids", "attention_bias", "position_ids")  # the packed graph's inputs


def onnx_artifact(data_dir: Path) -> Path:
    """Where the exported model lives: next to the index."""
    return data_dir / "onnx"


def pack(lengths: Sequence[int], limit: int = PACK_TOKENS) -> list[list[int]]:
    """Consecutive runs of text indexes whose lengths sum to at most `limit` (a longer text alone)."""
    rows: list[list[int]] = []
    used = limit
    for i, n in enumerate(lengths):
        if used + n > limit:
            rows.append([])
            used = 0
        rows[-1].append(i)
        used += n
    return rows


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
            inputs = tuple(i.name for i in session.get_inputs())
            if sorted(inputs) != sorted(INPUTS):
                raise EncoderError(
                    f"{model} takes {', '.join(inputs)}, not the packed inputs "
                    f"{', '.join(INPUTS)}: it was exported by an older faqbot; "
                    "run `faqbot index build` to export it again"
                )
            tokenizer = Tokenizer.from_file(str(self.artifact_dir / "tokenizer.json"))
            tokenizer.no_padding()  # the bundled file pads every input to 128 tokens
            tokenizer.enable_truncation(MAX_TOKENS)
            return session, tokenizer
        except EncoderError:
            raise
        except Exception as exc:
            raise EncoderError(
                f"could not load the ONNX encoder from {self.artifact_dir}: {exc}"
            ) from exc

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Tokenize, run packed sequences, mean-pool each text's tokens, normalize."""
        self.warm_up()
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        ids = [e.ids for e in self._tokenizer.encode_batch(list(texts))]
        out = np.zeros((len(ids), self.dim), dtype=np.float32)
        for row in pack([len(i) for i in ids]):
            out[row] = self._run_packed([ids[i] for i in row])
        return normalize_rows(out)

    def _run_packed(self, ids: list[list[int]]) -> Vectors:
        """Mean token vectors of several texts run as one sequence."""
        lengths = np.array([len(i) for i in ids])
        segment = np.repeat(np.arange(len(ids)), lengths)
        bias = np.where(segment[:, None] == segment[None, :], 0.0, BLOCKED).astype(np.float32)
        feeds = {
            "input_ids": np.array([np.concatenate(ids)], dtype=np.int64),
            "attention_bias": bias[None, None],
            "position_ids": np.concatenate([np.arange(n) for n in lengths])[None].astype(np.int64),
        }
        (hidden,) = self._session.run(["last_hidden_state"], feeds)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        means: Vectors = np.add.reduceat(hidden[0], starts, axis=0) / lengths[:, None]
        return means.astype(np.float32)


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
    # eager attention takes the additive 4-D bias as given (the packed layout needs it)
    bert = AutoModel.from_pretrained(
        str(source), local_files_only=True, attn_implementation="eager"
    ).eval()

    class Hidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.bert = bert

        def forward(
            self,
            input_ids: torch.Tensor,
            attention_bias: torch.Tensor,
            position_ids: torch.Tensor,
        ) -> torch.Tensor:
            out = self.bert(
                input_ids=input_ids,
                attention_mask=attention_bias,
                position_ids=position_ids,
                token_type_ids=torch.zeros_like(input_ids),
            )
            return out.last_hidden_state  # type: ignore[no-any-return]

    sample = torch.ones((1, 8), dtype=torch.int64)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden().eval(),
            (sample, torch.zeros((1, 1, 8, 8)), torch.arange(8)[None]),
            str(tmp / "model.onnx"),
            input_names=list(INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "seq"},
                "attention_bias": {0: "batch", 2: "seq", 3: "keys"},
                "position_ids": {0: "batch", 1: "seq"},
                "last_hidden_state": {0: "batch", 1: "seq"},
            },
            opset_version=17,
            dynamo=False,
        )
    shutil.copy(source / "tokenizer.json", tmp / "tokenizer.json")
    (tmp / "export.json").write_text(json.dumps({"model": MODEL_NAME, "source": str(source)}))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target
