"""Scale: faiss search time at 1k / 20k / 200k entries, and index build time (real KB, synthetic).

Search: random unit vectors (384-d, ONE vector per entry; the real KB has ~7 phrasings per entry,
so 200k vectors is ~28k real-style entries), queried with 200 near copies of stored vectors
(cosine ~0.8, like a paraphrase). Each query is searched alone for k=40, as the Bot does.
Compared: the naive reference (exact flat search with faiss' default OpenMP threads), flat on one
thread, HNSW (faiss IndexHNSWFlat, inner product; M, efConstruction, efSearch from faqbot.index),
and faqbot's choice (faqbot.index.build_faiss: flat up to HNSW_ABOVE vectors, HNSW above).
HNSW quality: share of queries whose top hit equals flat's, and recall of flat's top 10.

Build: faqbot.index.build_index (embed phrasings + guard exemplars, faiss, BM25) for the real
knowledge base (median of --runs) and for a synthetic KB of --entries entries with ~7 phrasings
each made from the real vocabulary (one run), with the ONNX encoder vs sentence-transformers.

    .venv/bin/python benchmarks/bench_scale.py [--sizes 1000,20000,200000] [--entries 20000]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, load_note, machine, median, ms, note, percentile, ratio, table

DIM = 384
K = 40


# ---------------------------------------------------------------------- search
def unit_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """n random unit vectors."""
    rows = rng.standard_normal((n, DIM)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def near_queries(base: np.ndarray, rng: np.random.Generator, n: int = 200) -> np.ndarray:
    """Queries at cosine ~0.8 from random stored rows."""
    rows = rng.integers(0, len(base), n)
    noisy = base[rows] + 0.038 * rng.standard_normal((n, DIM)).astype(np.float32)
    return (noisy / np.linalg.norm(noisy, axis=1, keepdims=True)).astype(np.float32)


def search_times(index: Any, queries: np.ndarray, threads: int) -> list[float]:
    """Seconds per single-query search on `threads` OpenMP threads (after 20 warm-up queries)."""
    import faiss

    faiss.omp_set_num_threads(threads)
    for q in queries[:20]:
        index.search(q.reshape(1, -1), K)
    out = []
    for q in queries:
        start = time.perf_counter()
        index.search(q.reshape(1, -1), K)
        out.append(time.perf_counter() - start)
    return out


def quality(hnsw: Any, flat: Any, queries: np.ndarray) -> tuple[float, float]:
    """(top-1 agreement, recall@10) of HNSW against exact search."""
    _, exact = flat.search(queries, 10)
    _, approx = hnsw.search(queries, K)
    top1 = float(np.mean(exact[:, 0] == approx[:, 0]))
    recall = float(
        np.mean([len(set(e) & set(a[:10])) / 10 for e, a in zip(exact, approx, strict=True)])
    )
    return top1, recall


def search_row(n: int, rng: np.random.Generator) -> list[str]:
    """One table row: every variant's p50/p95 at n vectors."""
    import faiss

    from faqbot.index import HNSW_ABOVE, build_faiss

    base, cores = unit_rows(rng, n), os.cpu_count() or 1
    queries = near_queries(base, rng)
    flat = faiss.IndexFlatIP(DIM)
    flat.add(base)
    naive = search_times(flat, queries, cores)
    single = search_times(flat, queries, 1)
    start = time.perf_counter()
    hnsw = build_faiss(base, hnsw_above=0)
    built = time.perf_counter() - start
    approx = search_times(hnsw, queries, 1)
    top1, recall = quality(hnsw, flat, queries)
    ours = approx if n > HNSW_ABOVE else single
    p50 = {k: percentile(v, 50) for k, v in (("n", naive), ("s", single), ("h", approx))}
    return [
        f"{n:,}",
        f"{ms(p50['n'])} / {ms(percentile(naive, 95))}",
        f"{ms(p50['s'])} / {ms(percentile(single, 95))}",
        f"{ms(p50['h'])} / {ms(percentile(approx, 95))}",
        f"{built:.1f} s",
        f"{top1:.3f} / {recall:.3f}",
        "HNSW" if n > HNSW_ABOVE else "flat",
        f"{ms(percentile(ours, 50))} ({ratio(percentile(ours, 50), p50['n'])})",
    ]


def search_table(sizes: list[int], seed: int) -> None:
    """Print the search-time table."""
    from faqbot.index import HNSW_ABOVE, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    rng = np.random.default_rng(seed)
    rows = []
    for n in sizes:
        note(f"  search at {n:,} vectors ...")
        rows.append(search_row(n, rng))
    print(
        f"\nfaiss search, one query, k={K}, random unit vectors (one per entry), p50 / p95 ms. "
        f"HNSW: M={HNSW_M}, efConstruction={HNSW_EF_CONSTRUCTION}, efSearch={HNSW_EF_SEARCH}; "
        f"faqbot switches to HNSW above {HNSW_ABOVE:,} vectors.\n"
    )
    headers = [
        "vectors",
        "naive: flat, default threads",
        "flat, 1 thread",
        "HNSW, 1 thread",
        "HNSW build",
        "HNSW top-1 / recall@10",
        "faqbot uses",
        "faqbot p50 (vs naive)",
    ]
    print(table(headers, rows))


# ---------------------------------------------------------------------- build
def synthetic_kb(kb: Any, entries: int, seed: int) -> Any:
    """A KnowledgeBase of `entries` approved entries with ~7 phrasings each, real vocabulary."""
    from faqbot.models import FaqEntry

    rng = random.Random(seed)
    served = kb.served
    phrasings = [p for e in served for p in e.phrasings]
    words = sorted({w for p in phrasings for w in re.findall(r"[a-z]+", p.lower()) if len(w) > 3})
    answer_words = [w for e in served for w in e.answer.split()]

    def phrase() -> str:
        template = rng.choice(phrasings).split()
        return " ".join(rng.choice(words) if rng.random() < 0.5 else w for w in template)

    out = []
    for i in range(entries):
        model = served[i % len(served)]
        question = phrase()
        while len(question) < 5:
            question = phrase()
        data = model.model_dump()
        data.update(
            id=f"synthetic-{i:06d}",
            question=question[:200],
            alternates=[phrase() for _ in range(6)],
            answer=" ".join(rng.choices(answer_words, k=rng.randint(40, 100))),
            related=[],
        )
        out.append(FaqEntry.model_validate(data))
    return dataclasses.replace(kb, entries=out, digest=f"synthetic-{entries}")


def build_seconds(kb: Any, encoder: Any) -> float:
    """Seconds for faqbot.index.build_index."""
    return timed_build(kb, encoder)[0]


def timed_build(kb: Any, encoder: Any) -> tuple[float, Any]:
    """(seconds, index) of faqbot.index.build_index."""
    from faqbot.index import build_index

    start = time.perf_counter()
    index = build_index(kb, encoder, progress=lambda _msg: None)
    return time.perf_counter() - start, index


def retrieval_times(index: Any, encoder: Any) -> tuple[float, float]:
    """(p50, p95) seconds of faqbot.retrieval.score (faiss + BM25 + fusion) over the mix."""
    from common import message_mix

    from faqbot.config import Settings
    from faqbot.engine import thresholds_from
    from faqbot.retrieval import score

    thresholds = thresholds_from(Settings())
    messages = [m for _, m in message_mix(200)]
    pairs = list(zip(messages, encoder.encode(messages), strict=True))
    for text, vector in pairs[:20]:
        score(index, vector, text, thresholds)
    times = []
    for text, vector in pairs:
        start = time.perf_counter()
        score(index, vector, text, thresholds)
        times.append(time.perf_counter() - start)
    return percentile(times, 50), percentile(times, 95)


def encoders(onnx_dir: Path, threads: int) -> dict[str, Any]:
    """The fast and the reference encoder, loaded."""
    from faqbot.encoder import SentenceTransformerEncoder
    from faqbot.onnx_encoder import OnnxEncoder

    out = {
        "faqbot": OnnxEncoder(artifact_dir=onnx_dir, threads=threads),
        "reference": SentenceTransformerEncoder(threads=threads),
    }
    for encoder in out.values():
        encoder.warm_up()
    return out


def build_table(args: argparse.Namespace) -> None:
    """Print the index build table."""
    from faqbot.config import Settings
    from faqbot.kb import KnowledgeBase
    from faqbot.onnx_encoder import onnx_artifact

    settings = Settings(**({"data_dir": args.data_dir} if args.data_dir else {}))
    onnx_dir = onnx_artifact(settings.data_dir)
    if not (onnx_dir / "model.onnx").exists():
        raise SystemExit(f"no ONNX export in {settings.data_dir}: run `faqbot index build` first")
    kb = KnowledgeBase.from_path(settings.knowledge_dir)
    n_phr = sum(len(e.phrasings) for e in kb.served)
    rows: list[list[str]] = []
    scoring: list[list[str]] = []
    for threads in sorted({1, os.cpu_count() or 1}):
        enc = encoders(onnx_dir, threads)
        note(f"  real KB, {threads} thread(s) ...")
        real = {k: median([build_seconds(kb, e) for _ in range(args.runs)]) for k, e in enc.items()}
        rows.append(
            [
                f"real KB: {len(kb.served)} entries, {n_phr} phrasings ({threads} thread(s), median of {args.runs})",
                f"{real['faqbot']:.1f} s",
                f"{real['reference']:.1f} s",
                ratio(real["faqbot"], real["reference"]),
            ]
        )
    if args.entries:
        threads = os.cpu_count() or 1
        enc = encoders(onnx_dir, threads)
        synthetic = synthetic_kb(kb, args.entries, args.seed)
        n_syn = sum(len(e.phrasings) for e in synthetic.served)
        note(f"  synthetic KB of {args.entries:,} entries ({n_syn:,} phrasings) ...")
        fast, index = timed_build(synthetic, enc["faqbot"])
        note(f"    faqbot: {fast:.0f} s")
        real_index = timed_build(kb, enc["faqbot"])[1]
        for label, built in (("real KB", real_index), (f"synthetic {args.entries:,}", index)):
            p50, p95 = retrieval_times(built, enc["faqbot"])
            scoring.append([label, f"{len(built.entry_ids):,}", ms(p50), ms(p95)])
        ref = build_seconds(synthetic, enc["reference"]) if args.synthetic_reference else 0.0
        rows.append(
            [
                f"synthetic KB: {args.entries:,} entries, {n_syn:,} phrasings ({threads} threads, one run)",
                f"{fast:.0f} s",
                f"{ref:.0f} s" if ref else "skipped",
                ratio(fast, ref) if ref else "n/a",
            ]
        )
    print(
        "\nIndex build (faqbot.index.build_index: embed phrasings and guard exemplars, faiss, "
        "BM25; the one-time ONNX export of `faqbot index build` is not included)\n"
    )
    print(
        table(
            ["knowledge base", "faqbot (ONNX)", "reference (sentence-transformers)", "ratio"], rows
        )
    )
    if scoring:
        print(
            "\nRetrieval per query after the embedding (faiss + BM25 + fusion), 200 messages, ms\n"
        )
        print(table(["knowledge base", "phrasings", "p50", "p95"], scoring))


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,20000,200000")
    parser.add_argument("--entries", type=int, default=20000, help="Synthetic KB size; 0 skips.")
    parser.add_argument(
        "--no-synthetic-reference", dest="synthetic_reference", action="store_false"
    )
    parser.add_argument("--runs", type=int, default=3, help="Runs of the real-KB build.")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    os.chdir(ROOT)
    print(machine())
    if args.sizes:
        search_table([int(x) for x in args.sizes.split(",")], args.seed)
    if not args.skip_build:
        build_table(args)


if __name__ == "__main__":
    main()
    print(load_note())
