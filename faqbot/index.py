"""The retrieval index: one dense vector per phrasing (faiss, inner product) plus BM25 per entry.

The index is an artifact under the data dir with a manifest (knowledge hash, model, time). `load`
refuses a stale index; `ensure_index` rebuilds it when the knowledge changed or it is missing.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faqbot.classifier import Classifier
from faqbot.classifier import train as train_classifier
from faqbot.encoder import Encoder, Vectors
from faqbot.errors import IndexError_
from faqbot.kb import KnowledgeBase
from faqbot.models import FaqEntry

FORMAT_VERSION = 4  # 4: the guard classifier (classifier.npz); 3: packed ONNX sequences
# Flat search is exact and costs ~0.07 ms per 1,000 phrasings on one core (benchmarks/README.md):
# about 3.5 ms at 50,000. Above that, HNSW (approximate, ~1.4 ms at 200,000, saved with the index).
HNSW_ABOVE = 50_000
HNSW_M = 32  # graph neighbours per node
HNSW_EF_CONSTRUCTION = 80
HNSW_EF_SEARCH = 256  # candidates per search (>= k=40): top hit = exact 99% at 200k random vectors
HNSW_FILE = "hnsw.faiss"
CLASSIFIER_FILE = "classifier.npz"
# BM25 entries a query keeps (best first). Above the real KB's size, so it only matters for very
# large ones, where a common word otherwise makes thousands of candidates to fuse (measured:
# ~90 ms per query at 20,000 entries, benchmarks/bench_scale.py).
LEXICAL_TOP = 200
Progress = Callable[[str], None]
# per thread: .single (OpenMP already limited to 1 thread here), .stemmer (see _stemmer)
_searching_thread = threading.local()


def stderr_progress(message: str) -> None:
    """Default progress reporter: one line on stderr."""
    print(f"faqbot: {message}", file=sys.stderr, flush=True)


def index_dir(data_dir: Path) -> Path:
    """Where the index artifact lives."""
    return data_dir / "index"


@dataclass
class Index:
    """Phrasing vectors, their entry ids, guard exemplar vectors, and the BM25 retriever."""

    manifest: dict[str, Any]
    entry_ids: list[str]  # one per phrasing
    phrasings: list[str]
    vectors: Vectors
    exemplar_vectors: Vectors
    classifier: Classifier
    faiss_index: Any
    bm25: Any
    bm25_ids: list[str]  # one per entry, BM25 document order

    def dense(self, query: Vectors, k: int = 40) -> list[tuple[str, float, str]]:
        """(entry id, cosine, phrasing) of the nearest phrasings."""
        import faiss

        # one query at a time: OpenMP workers only contend with the server's other threads. The
        # setting is per calling thread, so it is made here, once in each thread that searches.
        if not getattr(_searching_thread, "single", False):
            faiss.omp_set_num_threads(1)
            _searching_thread.single = True

        k = min(k, len(self.entry_ids))
        scores, rows = self.faiss_index.search(np.ascontiguousarray(query.reshape(1, -1)), k)
        return [
            (self.entry_ids[r], float(s), self.phrasings[r])
            for s, r in zip(scores[0], rows[0], strict=True)
            if r >= 0
        ]

    def lexical(self, text: str) -> dict[str, float]:
        """Raw BM25 score per entry id: the LEXICAL_TOP best entries that score above zero."""
        tokens = tokenize_query(text)
        if not tokens:
            return {}
        known = [t for t in tokens if t in self.bm25.vocab_dict]
        if not known:
            return {}
        scores = self.bm25.get_scores(known)
        rows = (
            np.argpartition(-scores, LEXICAL_TOP)[:LEXICAL_TOP]
            if len(scores) > LEXICAL_TOP
            else range(len(scores))
        )
        return {self.bm25_ids[i]: float(scores[i]) for i in rows if scores[i] > 0}


def _stemmer() -> Any:
    """This thread's Snowball stemmer (PyStemmer objects are not thread-safe). Kept, not made
    per call: a stemmer caches the words it has stemmed, which halves a query's tokenizing."""
    stemmer = getattr(_searching_thread, "stemmer", None)
    if stemmer is None:
        import Stemmer

        stemmer = _searching_thread.stemmer = Stemmer.Stemmer("english")
    return stemmer


def tokenize_docs(texts: list[str]) -> Any:
    """BM25 tokens (English stopwords removed, Snowball-stemmed)."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)


def tokenize_query(text: str) -> list[str]:
    """A query's stemmed tokens, as strings."""
    import bm25s

    out = bm25s.tokenize(
        [text], stopwords="en", stemmer=_stemmer(), show_progress=False, return_ids=False
    )
    return list(out[0])


def entry_document(kb: KnowledgeBase, entry_id: str) -> str:
    """The text BM25 indexes for an entry: its phrasings, tags and answer."""
    entry = kb.get(entry_id)
    assert entry is not None
    return entry_text(entry)


def entry_text(entry: FaqEntry) -> str:
    """The BM25 document of one entry (see entry_document)."""
    return " ".join([*entry.phrasings, " ".join(entry.tags), entry.answer])


def guard_exemplars(kb: KnowledgeBase) -> list[tuple[str, str, str]]:
    """(id, category, text) of every guard exemplar, plus each vetted question as a benign one.

    Vetted FAQ questions are, by definition, informational: adding them as `none` keeps the
    semantic check from flagging the very questions the knowledge base answers.
    """
    own: list[tuple[str, str, str]] = [
        (x.id, x.category, x.text) for x in kb.guard.exemplars.exemplars
    ]
    return own + [(f"kb:{e.id}", "none", e.question) for e in kb.served]


def build_faiss(vectors: Vectors, *, hnsw_above: int = HNSW_ABOVE) -> Any:
    """Exact inner-product search; HNSW (inner product too) above `hnsw_above` phrasings."""
    import faiss

    dim = vectors.shape[1]
    index: Any
    if len(vectors) <= hnsw_above:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
    faiss.omp_set_num_threads(os.cpu_count() or 1)  # building the graph: every core helps
    _searching_thread.single = False  # the next search in this thread limits it again
    index.add(vectors)
    index.hnsw.efSearch = HNSW_EF_SEARCH
    return index


def load_faiss(root: Path, vectors: Vectors) -> Any:
    """The saved HNSW graph when there is one for these vectors, else a freshly built index."""
    import faiss

    path = root / HNSW_FILE
    if path.exists():
        index: Any = faiss.read_index(str(path))
        if index.ntotal == len(vectors):
            index.hnsw.efSearch = HNSW_EF_SEARCH
            return index
    return build_faiss(vectors)


def build_index(
    kb: KnowledgeBase, encoder: Encoder, *, progress: Progress = stderr_progress
) -> Index:
    """Embed every approved phrasing and guard exemplar; index the entries for BM25."""
    import bm25s

    served = kb.served
    entry_ids = [e.id for e in served for _ in e.phrasings]
    phrasings = [p for e in served for p in e.phrasings]
    progress(f"embedding {len(phrasings)} phrasings of {len(served)} approved entries")
    vectors = encoder.encode(phrasings)
    labelled = guard_exemplars(kb)
    exemplars = [text for _, _, text in labelled]
    progress(f"embedding {len(exemplars)} guard exemplars")
    exemplar_vectors = encoder.encode(exemplars)
    background = kb.guard.background.messages
    progress(f"training the guard classifier ({len(background)} background messages)")
    background_vectors = encoder.encode(background)
    # every approved phrasing is a benign example too: the bot answers it
    classifier = train_classifier(
        np.vstack([exemplar_vectors, vectors, background_vectors]),
        [category for _, category, _ in labelled] + ["none"] * (len(vectors) + len(background)),
    )
    bm25 = bm25s.BM25()
    bm25.index(tokenize_docs([entry_text(e) for e in served]), show_progress=False)
    manifest = {
        "format": FORMAT_VERSION,
        "knowledge_hash": kb.digest,
        "model": encoder.name,
        "encoder": type(encoder).__name__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "entries": len(served),
        "phrasings": len(phrasings),
        "exemplars": len(exemplars),
    }
    return Index(
        manifest,
        entry_ids,
        phrasings,
        vectors,
        exemplar_vectors,
        classifier,
        build_faiss(vectors),
        bm25,
        [e.id for e in served],
    )


def save_index(index: Index, data_dir: Path, *, extra: dict[str, Any] | None = None) -> Path:
    """Write the artifact atomically (a temp folder renamed into place)."""
    target = index_dir(data_dir)
    tmp = target.with_name("index.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    np.save(tmp / "vectors.npy", index.vectors)
    np.save(tmp / "exemplars.npy", index.exemplar_vectors)
    index.classifier.save(tmp / CLASSIFIER_FILE)
    (tmp / "phrasings.json").write_text(
        json.dumps(
            {"entry_ids": index.entry_ids, "phrasings": index.phrasings, "bm25_ids": index.bm25_ids}
        )
    )
    index.bm25.save(str(tmp / "bm25"))
    if hasattr(index.faiss_index, "hnsw"):  # a graph takes seconds to minutes to build: keep it
        import faiss

        faiss.write_index(index.faiss_index, str(tmp / HNSW_FILE))
    index.manifest.update(extra or {})
    (tmp / "manifest.json").write_text(json.dumps(index.manifest, indent=2))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def read_manifest(data_dir: Path) -> dict[str, Any] | None:
    """The saved manifest, or None when there is no (readable) index."""
    path = index_dir(data_dir) / "manifest.json"
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


def stale_reason(manifest: dict[str, Any] | None, kb: KnowledgeBase, model: str) -> str | None:
    """Why a saved index cannot be served for this knowledge and model, or None."""
    if manifest is None:
        return "no index yet"
    if manifest.get("format") != FORMAT_VERSION:
        return "index format changed"
    if manifest.get("knowledge_hash") != kb.digest:
        return "knowledge changed since the index was built"
    if manifest.get("model") != model:
        return f"index was built with {manifest.get('model')}, not {model}"
    return None


def load_index(data_dir: Path, kb: KnowledgeBase, model: str) -> Index:
    """Load a fresh index; raise IndexError_ if it is missing, stale or unreadable."""
    import bm25s

    manifest = read_manifest(data_dir)
    reason = stale_reason(manifest, kb, model)
    if reason:
        raise IndexError_(reason)
    assert manifest is not None
    root = index_dir(data_dir)
    try:
        meta = json.loads((root / "phrasings.json").read_text())
        vectors = np.load(root / "vectors.npy")
        exemplar_vectors = np.load(root / "exemplars.npy")
        classifier = Classifier.load(root / CLASSIFIER_FILE)
        bm25 = bm25s.BM25.load(str(root / "bm25"))
        faiss_index = load_faiss(root, vectors)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise IndexError_(f"index at {root} is unreadable: {exc}") from exc
    return Index(
        manifest,
        meta["entry_ids"],
        meta["phrasings"],
        vectors,
        exemplar_vectors,
        classifier,
        faiss_index,
        bm25,
        meta["bm25_ids"],
    )
