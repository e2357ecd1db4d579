"""Guard cost per message beyond the shared embedding: Guard.check with a precomputed vector.

The Bot embeds each message once and hands the vector to the guard and to retrieval, so the
guard's own cost is rules + language check + one matrix-vector product over the exemplars.
Messages: every guard dev-set message plus the benchmark mix. Shown beside a naive reference
guard that embeds the message itself with sentence-transformers before checking (and, for
information, the same with the ONNX encoder). Medians of --runs runs of p50/p95. A second table
times long messages (tests/data/long_posts_*.jsonl, 60-160 words) with and without the passage
check, embeddings included: its cost is embedding each sentence.

    .venv/bin/python benchmarks/bench_guard.py [--runs 5]
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from common import (
    fast_bot,
    load_jsonl,
    load_note,
    machine,
    median,
    message_mix,
    ms,
    note,
    percentile,
    ratio,
    reference_bot,
    table,
    time_calls,
)


def guard_messages() -> list[str]:
    """The guard dev messages and the mix, deduplicated, in a fixed order."""
    messages = [c["message"] for c in load_jsonl("guard_dev.jsonl")]
    messages += [m for _, m in message_mix(200)]
    return list(dict.fromkeys(messages))


def shared_vector_times(guard: Any, encoder: Any, messages: list[str]) -> list[float]:
    """Guard.check with the vector computed beforehand (what the Bot does)."""
    vectors = encoder.encode([guard.semantic_text(m) for m in messages])
    pairs = list(zip(messages, vectors, strict=True))
    return time_calls(lambda p: guard.check(p[0], vector=p[1]), pairs)


def own_vector_times(guard: Any, encoder: Any, messages: list[str]) -> list[float]:
    """A guard that embeds the message itself, then checks."""

    def check(message: str) -> None:
        vector = encoder.encode([guard.semantic_text(message)])[0]
        guard.check(message, vector=vector)

    return time_calls(check, messages)


def long_message_times(
    guard: Any, encoder: Any, messages: list[str], *, split: bool
) -> list[float]:
    """Embed the message (and, with `split`, its sentences), then check: what the Bot does."""

    def check(message: str) -> None:
        vector = encoder.encode([guard.semantic_text(message)])[0]
        guard.check(message, vector=vector, embed=embed if split else None)

    def embed(texts: list[str]) -> list[Any]:
        return list(encoder.encode(texts)) if texts else []

    return time_calls(check, messages)


def rules_only_times(guard: Any, messages: list[str]) -> list[float]:
    """Guard.check without a vector: rules, language and context only."""
    return time_calls(guard.check, messages)


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    print(machine())
    note("loading faqbot and the reference (sentence-transformers) ...")
    fast = fast_bot(args.data_dir)
    st = reference_bot(fast).encoder
    guard, messages = fast.guard, guard_messages()
    shared_vector_times(guard, fast.encoder, messages[:50])  # warm (compiled rules)
    variants = {
        "guard, shared vector (faqbot)": lambda: shared_vector_times(guard, fast.encoder, messages),
        "guard, rules only (no vector)": lambda: rules_only_times(guard, messages),
        "guard + own ONNX embedding": lambda: own_vector_times(guard, fast.encoder, messages),
        "guard + own sentence-transformers embedding (naive reference)": lambda: own_vector_times(
            guard, st, messages
        ),
    }
    samples: dict[str, list[list[float]]] = {name: [] for name in variants}
    for _ in range(args.runs):
        for name, run in variants.items():
            samples[name].append(run())
    ref_name = list(variants)[-1]
    ref50 = median([percentile(r, 50) for r in samples[ref_name]])
    ref95 = median([percentile(r, 95) for r in samples[ref_name]])
    rows = []
    for name, runs in samples.items():
        p50 = median([percentile(r, 50) for r in runs])
        p95 = median([percentile(r, 95) for r in runs])
        rows.append([name, ms(p50), ratio(p50, ref50), ms(p95), ratio(p95, ref95)])
    print(f"\nGuard time per message, {len(messages)} messages x {args.runs} runs, ms\n")
    print(table(["", "p50", "vs reference", "p95", "vs reference"], rows))
    long = [c["message"] for n in ("tune", "probe") for c in load_jsonl(f"long_posts_{n}.jsonl")]
    long_rows = []
    for split in (False, True):
        runs = [
            long_message_times(guard, fast.encoder, long, split=split) for _ in range(args.runs)
        ]
        p50 = median([percentile(r, 50) for r in runs])
        p95 = median([percentile(r, 95) for r in runs])
        label = "embed + check, passage check" if split else "embed + check, whole message only"
        long_rows.append([label, ms(p50), ms(p95)])
    print(f"\nLong messages, {len(long)} messages x {args.runs} runs, ms (embedding included)\n")
    print(table(["", "p50", "p95"], long_rows))


if __name__ == "__main__":
    main()
    print(load_note())
