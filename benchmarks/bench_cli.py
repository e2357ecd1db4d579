"""Cold CLI: wall time and peak RSS of `faqbot ask --json QUESTION` as a fresh process.

faqbot (ONNX encoder, the default once `faqbot index build` exported it) runs side by side with
the naive reference (FAQBOT_ENCODER=st: sentence-transformers, which imports torch). Runs are
interleaved; each figure is the median of --runs runs after one untimed run per variant (so
the index exists and the OS file cache is warm: "cold" means a new process, not a cold disk).
Peak RSS is the child's own ru_maxrss (os.wait4). A second table breaks the fast path's cold
start into phases, measured inside fresh processes.

    .venv/bin/python benchmarks/bench_cli.py [--runs 5] [--data-dir var]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, load_note, machine, median, ratio, table

QUESTIONS = ("is kratom addictive", "what is kratom")
VARIANTS = {"faqbot": "auto", "reference": "st"}

PHASES = r"""
import json, sys, time
marks = [("start", time.perf_counter())]
def mark(name):
    marks.append((name, time.perf_counter()))
from faqbot.config import Settings
from faqbot import engine, cli_chat
mark("import faqbot (cli, engine, config)")
from faqbot.kb import KnowledgeBase
settings = Settings()
kb = KnowledgeBase.from_path(settings.knowledge_dir)
mark("load + validate knowledge (YAML)")
from faqbot.encoder import load_encoder
from faqbot.index import load_index
encoder = load_encoder(settings.encoder, data_dir=settings.data_dir, threads=settings.encoder_threads)
index = load_index(settings.data_dir, kb, encoder.name)
mark("load index (faiss, BM25)")
encoder.warm_up()
mark("load encoder (ONNX session, tokenizer)")
bot = engine.build_bot(settings, kb=kb)
mark("(build_bot again, excluded)")
bot.reply(sys.argv[1])
mark("first reply (compiles guard rules)")
bot.reply(sys.argv[1])
mark("second reply")
out = {b[0]: b[1] - a[1] for a, b in zip(marks, marks[1:])}
print(json.dumps(out))
"""


def faqbot_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m faqbot.cli`."""
    script = Path(sys.executable).parent / "faqbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "faqbot.cli"]


def run_once(question: str, encoder: str, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one cold `faqbot ask --json`."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        [*faqbot_command(), "ask", "--json", question],
        env={**env, "FAQBOT_ENCODER": encoder},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not json.loads(output).get("kind"):
        sys.exit(f"faqbot ask failed ({encoder}): exit {proc.returncode}")
    return wall, usage.ru_maxrss / 1024


def measure(question: str, runs: int, env: dict[str, str]) -> dict[str, dict[str, list[float]]]:
    """Interleaved runs of both variants for one question."""
    out = {name: {"wall": [], "rss": []} for name in VARIANTS}
    for encoder in VARIANTS.values():
        run_once(question, encoder, env)  # untimed: builds the index if needed, warms the cache
    for _ in range(runs):
        for name, encoder in VARIANTS.items():
            wall, rss = run_once(question, encoder, env)
            out[name]["wall"].append(wall)
            out[name]["rss"].append(rss)
    return out


def phases(question: str, runs: int, env: dict[str, str]) -> dict[str, float]:
    """Median seconds per cold-start phase of the fast path."""
    samples: dict[str, list[float]] = {}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", PHASES, question],
            env={**env, "FAQBOT_ENCODER": "auto"},
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        for name, seconds in json.loads(result.stdout.splitlines()[-1]).items():
            samples.setdefault(name, []).append(seconds)
    return {name: median(values) for name, values in samples.items()}


def main() -> None:
    """Measure and print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", type=Path, default=None, help="Default: FAQBOT_DATA_DIR.")
    args = parser.parse_args()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    if args.data_dir:
        env["FAQBOT_DATA_DIR"] = str(args.data_dir.resolve())
    print(machine() + "\n")
    rows = []
    for question in QUESTIONS:
        m = measure(question, args.runs, env)
        fast_wall, ref_wall = median(m["faqbot"]["wall"]), median(m["reference"]["wall"])
        fast_rss, ref_rss = median(m["faqbot"]["rss"]), median(m["reference"]["rss"])
        rows.append(
            [
                f'`faqbot ask --json "{question}"`',
                f"{fast_wall:.2f} s",
                f"{ref_wall:.2f} s",
                ratio(fast_wall, ref_wall),
                f"{fast_rss:.0f} MB",
                f"{ref_rss:.0f} MB",
                ratio(fast_rss, ref_rss),
            ]
        )
    print(f"Cold CLI, median of {args.runs} runs (reference: FAQBOT_ENCODER=st)\n")
    headers = ["command", "faqbot wall", "reference wall", "ratio"]
    print(table(headers + ["faqbot peak RSS", "reference peak RSS", "ratio"], rows))
    split = phases(QUESTIONS[0], args.runs, env)
    print(f"\nWhere the fast path's cold start goes (median of {args.runs} fresh processes)\n")
    print(
        table(
            ["phase", "ms"],
            [[name, f"{1000 * s:.0f}"] for name, s in split.items() if "excluded" not in name],
        )
    )


if __name__ == "__main__":
    main()
    print(load_note())
