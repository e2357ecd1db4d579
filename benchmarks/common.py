"""Shared pieces of the benchmark scripts: statistics, markdown tables, the machine, the message
mix, and the faqbot Bot next to its naive reference (sentence-transformers encode + faiss search).

Nothing here is imported by faqbot itself.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# ---------------------------------------------------------------------- statistics and tables
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) by linear interpolation."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def median(values: Sequence[float]) -> float:
    """The median (nan for no values)."""
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    """Seconds as milliseconds, with sensible precision."""
    value = seconds * 1000
    return f"{value:.3f}" if value < 1 else f"{value:.2f}" if value < 100 else f"{value:.0f}"


def ratio(faqbot: float, reference: float) -> str:
    """faqbot / reference, e.g. `0.12x` (lower is better for times and memory)."""
    if not reference or reference != reference:
        return "n/a"
    return f"{faqbot / reference:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def time_calls(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[float]:
    """Seconds each call of fn(item) took."""
    from time import perf_counter

    out = []
    for item in items:
        start = perf_counter()
        fn(item)
        out.append(perf_counter() - start)
    return out


# ---------------------------------------------------------------------- the machine
def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or the platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One markdown line describing where the figures were measured."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    versions = []
    for name in ("onnxruntime", "faiss", "torch", "sentence_transformers"):
        try:
            from importlib.metadata import version

            dist = {"faiss": "faiss-cpu", "sentence_transformers": "sentence-transformers"}
            versions.append(f"{name} {version(dist.get(name, name))}")
        except Exception:  # noqa: BLE001 - a missing package is just not listed
            pass
    return (
        f"Machine: {os.cpu_count()} CPUs (`nproc`), {cpu_model()}, Python {platform.python_version()}, "
        f"{', '.join(versions)}; 1-min load average at start {load:.2f}."
    )


def load_note() -> str:
    """The 1/5/15-minute load averages now (to judge whether other work disturbed a run)."""
    if not hasattr(os, "getloadavg"):
        return ""
    one, five, fifteen = os.getloadavg()
    return f"\nLoad average at the end: {one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)."


# ---------------------------------------------------------------------- messages
def load_jsonl(name: str) -> list[dict[str, Any]]:
    """A labelled dev set from tests/data."""
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def message_mix(n: int = 200, seed: int = 7) -> list[tuple[str, str]]:
    """(group, message): a realistic single-turn mix from the dev sets.

    About 55% answerable questions, 10% on-topic without an answer or out of scope, 20% dosing
    and mixing questions (redirects), 10% emergencies and self-harm, 5% benign look-alikes.
    """
    rng = random.Random(seed)
    retrieval = [c for c in load_jsonl("retrieval_dev.jsonl") if not c.get("history")]
    guard = [c for c in load_jsonl("guard_dev.jsonl") if not c.get("history")]
    pools = {
        "answer": [c["message"] for c in retrieval if c["expected_kind"] == "answer"],
        "no answer / out of scope": [
            c["message"] for c in retrieval if c["expected_kind"] != "answer"
        ],
        "redirect": [c["message"] for c in guard if c["expected"] in {"dosing", "mixing"}],
        "emergency": [c["message"] for c in guard if c["expected"] in {"emergency", "self_harm"}],
        "benign look-alike": [c["message"] for c in guard if c["expected"] == "none"],
    }
    shares = {
        "answer": 0.55,
        "no answer / out of scope": 0.10,
        "redirect": 0.20,
        "emergency": 0.10,
        "benign look-alike": 0.05,
    }
    mix = [
        (group, rng.choice(pools[group]))
        for group, share in shares.items()
        for _ in range(round(n * share))
    ]
    rng.shuffle(mix)
    return mix


# ---------------------------------------------------------------------- bots
def settings(data_dir: Path | None = None) -> Any:
    """Settings for benchmarking: the given (or configured) data dir, batching off."""
    from faqbot.config import Settings

    overrides: dict[str, Any] = {"encoder_batch_ms": 0, "encoder": "auto"}
    if data_dir is not None:
        overrides["data_dir"] = data_dir
    return Settings(**overrides)


def fast_bot(data_dir: Path | None = None, **overrides: Any) -> Any:
    """faqbot as configured by default (ONNX when exported), index built if needed."""
    from faqbot.engine import build_bot

    config = settings(data_dir).model_copy(update=overrides)
    bot = build_bot(config, progress=lambda msg: print(f"  {msg}", file=sys.stderr))
    onnx = type(getattr(bot.encoder, "inner", bot.encoder)).__name__
    if onnx != "OnnxEncoder":
        sys.exit(f"the data dir has no ONNX export (encoder is {onnx}); run `faqbot index build`")
    return bot


def reference_bot(bot: Any, threads: int = 1) -> Any:
    """The naive reference: the same knowledge, index and guard, sentence-transformers encoder."""
    from faqbot.bot import Bot
    from faqbot.encoder import SentenceTransformerEncoder

    encoder = SentenceTransformerEncoder(threads=threads)
    encoder.warm_up()
    return Bot(
        kb=bot.kb,
        index=bot.index,
        encoder=encoder,
        guard=bot.guard,
        renderer=bot.renderer,
        thresholds=bot.thresholds,
        contact_url=bot.contact_url,
        default_locale=bot.default_locale,
    )


def note(text: str) -> None:
    """Progress on stderr (tables go to stdout)."""
    print(text, file=sys.stderr, flush=True)
