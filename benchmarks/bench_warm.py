"""Warm replies in-process: Bot.reply (guard + retrieval + render) p50/p95, faqbot vs reference.

faqbot = the Bot `faqbot serve` builds (ONNX encoder, one intra-op thread). The naive reference
is the same Bot with the sentence-transformers encoder (same index, guard and templates). The
message mix (~200 single-turn messages from the dev sets: answers, no-answer/out-of-scope,
redirects, emergencies, benign look-alikes) is replied to --runs times per variant, interleaved;
p50/p95 are computed per run and the table shows their medians.

A second table runs N threads in one process, closed loop, to show what micro-batching
(FAQBOT_ENCODER_BATCH_MS) buys when requests arrive together; the HTTP figures come from
benchmarks/http_load.py.

    .venv/bin/python benchmarks/bench_warm.py [--runs 5] [--threads 1,4,16] [--batch-ms 1,2]
"""

from __future__ import annotations

import argparse
import itertools
import threading
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from common import (
    fast_bot,
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


def reply_times(bot: Any, messages: list[str]) -> list[float]:
    """Seconds per Bot.reply, each message a new conversation."""
    return time_calls(bot.reply, messages)


def encode_times(bot: Any, messages: list[str]) -> list[float]:
    """Seconds per single-message encode (what the Bot embeds: the guard's semantic text)."""
    texts = [bot.guard.semantic_text(m) for m in messages]
    return time_calls(lambda t: bot.encoder.encode([t]), texts)


def summary(runs: list[list[float]]) -> tuple[float, float]:
    """(median of per-run p50, median of per-run p95)."""
    return median([percentile(r, 50) for r in runs]), median([percentile(r, 95) for r in runs])


def single_thread(bots: dict[str, Any], mix: list[tuple[str, str]], runs: int) -> None:
    """Print the warm-reply and encode-only tables."""
    messages = [m for _, m in mix]
    for bot in bots.values():
        reply_times(bot, messages[:30])  # warm caches (compiled rules, templates)
    replies: dict[str, list[list[float]]] = defaultdict(list)
    encodes: dict[str, list[list[float]]] = defaultdict(list)
    for _ in range(runs):
        for name, bot in bots.items():
            replies[name].append(reply_times(bot, messages))
            encodes[name].append(encode_times(bot, messages))
    rows = []
    for label, data in (("reply (guard + retrieval + render)", replies), ("encode only", encodes)):
        (f50, f95), (r50, r95) = summary(data["faqbot"]), summary(data["reference"])
        rows.append([label, ms(f50), ms(r50), ratio(f50, r50), ms(f95), ms(r95), ratio(f95, r95)])
    print(f"\nWarm reply in-process, {len(messages)} messages x {runs} runs, ms\n")
    headers = ["", "faqbot p50", "reference p50", "ratio", "faqbot p95", "reference p95", "ratio"]
    print(table(headers, rows))
    by_group(mix, replies)


def by_group(mix: list[tuple[str, str]], replies: dict[str, list[list[float]]]) -> None:
    """p50 per kind of message (pooled over runs)."""
    rows = []
    for group in dict.fromkeys(g for g, _ in mix):
        idx = [i for i, (g, _) in enumerate(mix) if g == group]
        pooled = {k: [run[i] for run in v for i in idx] for k, v in replies.items()}
        f50, r50 = percentile(pooled["faqbot"], 50), percentile(pooled["reference"], 50)
        rows.append([group, len(idx), ms(f50), ms(r50), ratio(f50, r50)])
    print("\nBy kind of message (p50 pooled over runs), ms\n")
    print(table(["messages", "n", "faqbot p50", "reference p50", "ratio"], rows))


def closed_loop(bot: Any, messages: list[str], threads: int, total: int) -> dict[str, float]:
    """`threads` callers replying back to back until `total` replies: throughput and latency."""
    counter = itertools.count()
    lock = threading.Lock()
    latencies: list[float] = []

    def worker() -> None:
        while (i := next(counter)) < total:
            start = time.perf_counter()
            bot.reply(messages[i % len(messages)])
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)

    start = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        for future in [pool.submit(worker) for _ in range(threads)]:
            future.result()
    wall = time.perf_counter() - start
    return {
        "rps": total / wall,
        "p50": percentile(latencies, 50),
        "p95": percentile(latencies, 95),
    }


def repeated(bots: dict[str, Any], messages: list[str], threads: int, runs: int) -> dict:
    """Median throughput and latency of `runs` interleaved closed-loop runs per variant."""
    total = max(200, 40 * threads)
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in bots}
    batchers = {name: bot.encoder for name, bot in bots.items() if hasattr(bot.encoder, "calls")}
    before = {name: b.calls for name, b in batchers.items()}
    for _ in range(runs):
        for name, bot in bots.items():
            samples[name].append(closed_loop(bot, messages, threads, total))
    for name, b in batchers.items():
        calls = (b.calls - before[name]) / runs
        note(f"  {threads} threads, {name}: {total} replies per run, {calls:.0f} encoder calls")
    return {
        name: {key: median([r[key] for r in runs_]) for key in ("rps", "p50", "p95")}
        for name, runs_ in samples.items()
    }


def concurrency(
    bots: dict[str, Any], mix: list[tuple[str, str]], levels: list[int], runs: int
) -> None:
    """Print throughput and latency per thread count for every variant."""
    messages = [m for _, m in mix]
    rows = []
    for threads in levels:
        results = repeated(bots, messages, threads, runs)
        ref = results["reference"]
        for name, r in results.items():
            rows.append(
                [
                    threads,
                    name,
                    f"{r['rps']:.0f}",
                    ratio(r["rps"], ref["rps"]),
                    ms(r["p50"]),
                    ms(r["p95"]),
                ]
            )
    print(f"\nConcurrent callers in one process (closed loop), medians of {runs} runs, ms\n")
    headers = ["threads", "variant", "replies/s", "vs reference", "p50", "p95"]
    print(table(headers, rows))


def main() -> None:
    """Measure and print."""
    from faqbot.batching import BatchingEncoder
    from faqbot.bot import Bot

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--messages", type=int, default=200)
    parser.add_argument("--threads", default="1,4,16", help="Thread counts; empty to skip.")
    parser.add_argument("--loop-runs", type=int, default=3, help="Runs per thread count.")
    parser.add_argument("--batch-ms", default="1,2", help="Batching windows to compare.")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    print(machine())
    note("loading faqbot and the reference (sentence-transformers) ...")
    fast = fast_bot(args.data_dir)
    reference = reference_bot(fast, threads=fast_settings_threads(fast))
    mix = message_mix(args.messages)
    single_thread({"faqbot": fast, "reference": reference}, mix, args.runs)
    if args.threads:
        variants = {"faqbot": fast}
        for window in [int(x) for x in args.batch_ms.split(",") if x]:
            variants[f"faqbot + batching {window} ms"] = Bot(
                kb=fast.kb,
                index=fast.index,
                encoder=BatchingEncoder(fast.encoder, max_wait_ms=window),
                guard=fast.guard,
                renderer=fast.renderer,
                thresholds=fast.thresholds,
            )
        variants["reference"] = reference
        levels = [int(x) for x in args.threads.split(",")]
        concurrency(variants, mix, levels, args.loop_runs)
        print("\n(batching N ms = FAQBOT_ENCODER_BATCH_MS=N, at most 32 texts per encoder call)")


def fast_settings_threads(bot: Any) -> int:
    """The intra-op threads the fast encoder uses, so the reference gets the same."""
    return int(getattr(bot.encoder, "threads", 1))


if __name__ == "__main__":
    main()
    print(load_note())
