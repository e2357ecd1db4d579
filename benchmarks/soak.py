"""Soak benchmark: 16 loopback clients against a real `faqbot serve` for N minutes (default 10).

Clients hold multi-turn sessions and send the realistic mix of benchmarks/http_load.py (answers,
dosing/mixing redirects, emergencies). Every minute it records requests, errors, p50/p95 latency
and the server's resident memory (VmRSS from /proc, summed over the server process and its
children). At the end it prints a markdown table and checks that

- server RSS at the end is within 10% of RSS after warm-up (memory stays flat),
- the escalations the store gained equal the redirect + emergency replies received,

and exits 1 when either check fails. It is a benchmark, not a test: run it by hand.

    .venv/bin/python benchmarks/soak.py                    # 10 minutes, SQLite in a temp dir
    .venv/bin/python benchmarks/soak.py --minutes 1 --output /tmp/soak.md
    .venv/bin/python benchmarks/soak.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test

Traffic goes only to 127.0.0.1; the rate limit is off for the server it starts; the run stops by
itself after --minutes (or after --max-requests, whichever comes first).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

from http_load import (  # noqa: E402 - the sibling benchmark, importable once its folder is on the path
    GUARDED,
    ROOT,
    TURNS_PER_SESSION,
    count_escalations,
    free_port,
    percentile,
    pick_message,
    prepare_data_dir,
    run_level,
    server_env,
    start_server,
    stop_server,
    wait_ready,
)

RSS_GROWTH_LIMIT = 0.10


@dataclass
class Minute:
    """What the clients received in one minute of the run, and the server's RSS at its end."""

    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    rss_kib: int = 0

    @property
    def requests(self) -> int:
        """Requests answered or failed in this minute."""
        return len(self.latencies) + self.errors


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="How long to run.")
    parser.add_argument("--clients", type=int, default=16, help="Concurrent loopback clients.")
    parser.add_argument(
        "--max-requests", type=int, default=500_000, help="Hard cap on requests (a safety bound)."
    )
    parser.add_argument(
        "--database-url", default=None, help="Escalation store URL (default: SQLite)."
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var", help="Built index to copy.")
    parser.add_argument(
        "--session-ttl-minutes",
        type=int,
        default=None,
        help="Server session TTL (default: the server's own, 30); idle sessions stay in memory "
        "until it passes, so a shorter TTL shows whether memory levels off.",
    )
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, default=None, help="Also write the report here.")
    args = parser.parse_args()
    args.workers, args.redis_url = 1, None  # what http_load.server_env expects
    return args


# ---------------------------------------------------------------------------- memory
def children(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc/<pid>/task/*/children)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in tasks.read_text().split()]
        except OSError:
            continue
    return found


def process_tree(pid: int) -> list[int]:
    """`pid` and all its descendants (uvicorn workers, if any)."""
    tree, queue = [], [pid]
    while queue:
        current = queue.pop()
        tree.append(current)
        queue += children(current)
    return tree


def vm_rss_kib(pid: int) -> int:
    """VmRSS of one process in KiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def server_rss_kib(pid: int) -> int:
    """Resident memory of the server: VmRSS summed over its process tree."""
    return sum(vm_rss_kib(p) for p in process_tree(pid))


# ---------------------------------------------------------------------------- traffic
class Soak:
    """The clients and the per-minute record of one run."""

    def __init__(self, base: str, pid: int, args: argparse.Namespace) -> None:
        self.base = base
        self.pid = pid
        self.args = args
        self.started = 0.0
        self.deadline = 0.0
        self.sent = 0
        self.minutes: list[Minute] = []

    def bucket(self) -> Minute:
        """The record of the current minute."""
        last = max(math.ceil(self.args.minutes) - 1, 0)
        index = min(int((time.monotonic() - self.started) // 60), last)
        while len(self.minutes) <= index:
            self.minutes.append(Minute())
        return self.minutes[index]

    def more(self) -> bool:
        """True while there is time and request budget left."""
        return time.monotonic() < self.deadline and self.sent < self.args.max_requests

    async def client(self, rng: random.Random) -> None:
        """One client: sessions of a few turns, until time runs out."""
        session_id, turns = None, 0
        async with httpx.AsyncClient(base_url=self.base, timeout=30) as http:
            while self.more():
                self.sent += 1
                body = {"message": pick_message(rng), "session_id": session_id}
                minute = self.bucket()  # a request counts in the minute it was sent
                started = time.perf_counter()
                try:
                    response = await http.post("/api/chat", json=body)
                    response.raise_for_status()
                    kind = response.json()["kind"]
                except (httpx.HTTPError, ValueError, KeyError):
                    minute.errors += 1
                    session_id, turns = None, 0
                    continue
                minute.latencies.append(time.perf_counter() - started)
                minute.kinds[kind] += 1
                turns += 1
                session_id = response.json()["session_id"] if turns % TURNS_PER_SESSION else None

    async def sample_memory(self) -> None:
        """Record the server's RSS at the end of every minute (and once more at the end)."""
        while self.more():
            await asyncio.sleep(min(1.0, max(0.0, self.deadline - time.monotonic())))
            self.bucket().rss_kib = server_rss_kib(self.pid)

    async def run(self) -> None:
        """Run every client and the memory sampler until the deadline."""
        self.started = time.monotonic()
        self.deadline = self.started + self.args.minutes * 60
        clients = [
            self.client(random.Random(self.args.seed * 1000 + i)) for i in range(self.args.clients)
        ]
        await asyncio.gather(self.sample_memory(), *clients)
        self.minutes[-1].rss_kib = server_rss_kib(self.pid)


# ---------------------------------------------------------------------------- report
def minute_rows(minutes: list[Minute]) -> list[str]:
    """One markdown row per minute."""
    rows = []
    for number, m in enumerate(minutes, start=1):
        rate = 100 * m.errors / m.requests if m.requests else 0.0
        rows.append(
            f"| {number} | {m.requests} | {m.errors} | {rate:.2f}% | "
            f"{percentile(m.latencies, 50):.1f} | {percentile(m.latencies, 95):.1f} | "
            f"{m.rss_kib / 1024:.0f} |"
        )
    return rows


def report(soak: Soak, rss_start: int, stored: int) -> tuple[str, bool]:
    """The markdown report and whether every check passed."""
    minutes = soak.minutes
    total = sum(m.requests for m in minutes)
    errors = sum(m.errors for m in minutes)
    kinds = sum((m.kinds for m in minutes), Counter())
    guarded = sum(n for kind, n in kinds.items() if kind in GUARDED)
    latencies = [x for m in minutes for x in m.latencies]
    rss_end = minutes[-1].rss_kib
    growth = (rss_end - rss_start) / rss_start if rss_start else 0.0
    flat = growth <= RSS_GROWTH_LIMIT
    matched = stored == guarded
    ttl = soak.args.session_ttl_minutes
    lines = [
        f"### Soak: {soak.args.clients} clients, {soak.args.minutes:g} min, 1 worker, "
        f"{'PostgreSQL' if soak.args.database_url else 'SQLite'}, session TTL "
        f"{'default' if ttl is None else f'{ttl} min'}",
        "",
        "| minute | requests | errors | error rate | p50 ms | p95 ms | server RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        *minute_rows(minutes),
        "",
        f"- total: {total} requests, {errors} errors "
        f"({100 * errors / total if total else 0:.3f}%), overall p95 "
        f"{percentile(latencies, 95):.1f} ms",
        f"- server RSS after warm-up {rss_start / 1024:.0f} MiB, at the end "
        f"{rss_end / 1024:.0f} MiB ({100 * growth:+.1f}%): "
        f"{'flat (within 10%)' if flat else 'GREW MORE THAN 10%'}",
        f"- replies by kind: {dict(sorted(kinds.items()))}",
        f"- escalations stored: {stored}; redirect + emergency replies: {guarded} -> "
        f"{'OK' if matched else 'MISMATCH'}",
    ]
    return "\n".join(lines), flat and matched


def main() -> int:
    """Start the server, warm it up, soak, and print the report; 1 when a check fails."""
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="faqbot-soak-") as tmp:
        data_dir = prepare_data_dir(args.data_dir, Path(tmp) / "data")
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = server_env(args, data_dir)
        if args.session_ttl_minutes is not None:
            env["FAQBOT_SESSION_TTL_MINUTES"] = str(args.session_ttl_minutes)
        before = count_escalations(data_dir, args.database_url)
        proc = start_server(port, env, 1, Path(tmp) / "server.log")
        try:
            wait_ready(base, proc)
            warm = asyncio.run(run_level(base, 4, 200, 120, args.seed))
            rss_start = server_rss_kib(proc.pid)
            print(f"soaking {args.clients} clients for {args.minutes:g} min...", file=sys.stderr)
            soak = Soak(base, proc.pid, args)
            asyncio.run(soak.run())
        finally:
            stop_server(proc)
        stored = count_escalations(data_dir, args.database_url) - before - warm.guarded
    text, passed = report(soak, rss_start, stored)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
