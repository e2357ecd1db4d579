"""HTTP load benchmark: a real `faqbot serve` on loopback, N concurrent closed-loop clients.

Each level (1, 4 and 16 clients by default) is bounded by a request budget and a time limit.
Clients hold multi-turn sessions and send a realistic mix: answerable questions, dosing/mixing
questions (redirects) and emergencies. Prints p50/p95/p99 latency and requests/s per level as a
markdown table, then checks that the escalations the store gained equal the redirect and
emergency replies received (exit 1 if not).

    .venv/bin/python benchmarks/http_load.py                       # SQLite in a temp data dir
    .venv/bin/python benchmarks/http_load.py --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test
    .venv/bin/python benchmarks/http_load.py --workers 2 --redis-url redis://127.0.0.1:6379/0
    FAQBOT_ENCODER=st FAQBOT_ENCODER_BATCH_MS=0 .venv/bin/python benchmarks/http_load.py  # naive reference

The server inherits this process's environment (FAQBOT_* settings included).

Traffic goes only to 127.0.0.1; the rate limit is off for the server it starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MIX = {
    "answer": [
        "what is kratom",
        "is it addictive?",
        "does exercise help chronic pain?",
        "what are the side effects of kratom?",
        "is kratom legal in the US?",
        "what is chronic pain",
        "what does kratom withdrawal feel like?",
        "can CBT help with pain?",
    ],
    "redirect": [
        "how much kratom should I take for my back pain?",
        "can I take kratom with alcohol?",
        "what dose of kratom is safe?",
        "is it ok to mix kratom with gabapentin?",
    ],
    "emergency": [
        "my friend took kratom and now he won't wake up",
        "I took too much kratom and my chest hurts and I can't breathe",
        "I want to kill myself",
    ],
}
WEIGHTS = {"answer": 0.6, "redirect": 0.25, "emergency": 0.15}
TURNS_PER_SESSION = 5
GUARDED = {"redirect", "emergency"}


@dataclass
class Tally:
    """What one level (or the warm-up) received."""

    latencies: list[float] = field(default_factory=list)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # CPU seconds the server's processes used during the level
    client_cpu: float = 0.0  # CPU seconds this load generator used

    @property
    def guarded(self) -> int:
        """Redirect and emergency replies received."""
        return sum(n for kind, n in self.kinds.items() if kind in GUARDED)


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="1,4,16", help="Comma-separated client counts.")
    parser.add_argument("--requests", type=int, default=300, help="Request budget per level.")
    parser.add_argument("--seconds", type=float, default=30.0, help="Time limit per level.")
    parser.add_argument("--workers", type=int, default=1, help="Server worker processes.")
    parser.add_argument(
        "--redis-url", default=None, help="Redis for sessions (needed for workers > 1)."
    )
    parser.add_argument(
        "--database-url", default=None, help="Escalation store URL (default: SQLite)."
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "var", help="Built index to copy.")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--client",
        choices=["raw", "httpx"],
        default="raw",
        help="Load generator: a minimal asyncio HTTP/1.1 client (default) or httpx.",
    )
    return parser.parse_args()


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare_data_dir(source: Path, target: Path) -> Path:
    """A fresh data dir with a copy of the built index and ONNX model (no database, no spool)."""
    target.mkdir(parents=True)
    for part in ("index", "onnx"):
        if (source / part).is_dir():
            shutil.copytree(source / part, target / part)
    return target


def server_env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    """The server's environment: isolated data dir, no rate limit, optional PG and Redis."""
    env = {
        **os.environ,
        "FAQBOT_DATA_DIR": str(data_dir),
        "FAQBOT_RATE_LIMIT_PER_MINUTE": "0",
        "FAQBOT_DEBUG_HEADERS": "1",  # X-Faqbot-Worker: wait_ready checks every worker listens
        "HF_HUB_OFFLINE": "1",
    }
    if args.database_url:
        env["FAQBOT_DATABASE_URL"] = args.database_url
    if args.redis_url:
        env["FAQBOT_REDIS_URL"] = args.redis_url
        env["FAQBOT_REDIS_PREFIX"] = f"faqbot-bench-{uuid.uuid4().hex[:8]}:"
    return env


def start_server(
    port: int, env: dict[str, str], workers: int, log: Path
) -> subprocess.Popen[bytes]:
    """`faqbot serve` as a subprocess on 127.0.0.1:port."""
    command = [sys.executable, "-c", "from faqbot.cli import main; main()", "serve"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with log.open("w") as stderr:
        return subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=stderr, cwd=ROOT
        )


def wait_ready(
    base: str, proc: subprocess.Popen[bytes], workers: int = 1, seconds: float = 300
) -> None:
    """Wait until every worker answers /readyz with 200; exit if the server dies or takes too long.

    The first worker to finish loading answers while the others may still be starting; until a
    worker listens, the kernel gives it no connections, so clients connecting then would all
    land on the first (16 and 0) and stay there for the whole run. Fresh connections are spread
    over the listening workers, so /readyz is polled on new connections until each worker's pid
    (X-Faqbot-Worker) has been seen.
    """
    deadline = time.monotonic() + seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited with {proc.returncode}")
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            if response.status_code == 200:
                seen.add(response.headers.get("x-faqbot-worker", ""))
                if len(seen) >= workers:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.05 if seen else 0.5)
    sys.exit(f"only {len(seen)} of {workers} workers became ready in time")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    """Ask uvicorn to shut down, then make sure it did."""
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def clean_redis(env: dict[str, str]) -> None:
    """Delete this run's Redis keys (sessions expire anyway; this keeps Redis tidy)."""
    if "FAQBOT_REDIS_URL" not in env:
        return
    import redis

    client = redis.Redis.from_url(env["FAQBOT_REDIS_URL"])
    keys = list(client.scan_iter(match=f"{env['FAQBOT_REDIS_PREFIX']}*"))
    if keys:
        client.delete(*keys)
    client.close()


def pick_message(rng: random.Random) -> str:
    """One message from the weighted mix."""
    group = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    return rng.choice(MIX[group])


class RawClient:
    """A minimal keep-alive HTTP/1.1 JSON client on asyncio streams (the load generator shares
    the server's 2 cores: httpx costs ~1.6 ms of CPU per request, this about a tenth of that)."""

    def __init__(self, base: str) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port = host, int(port)
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, path: str, body: dict) -> dict:
        """POST JSON and return the JSON reply; raises OSError/ValueError on any failure."""
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        try:
            writer.write(head.encode() + data)
            status, _, rest = (await reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
            headers = dict(line.split(b":", 1) for line in rest.split(b"\r\n") if b":" in line)
            length = int(headers[next(k for k in headers if k.lower() == b"content-length")])
            payload = await reader.readexactly(length)
        except (OSError, asyncio.IncompleteReadError, StopIteration, KeyError) as exc:
            await self.close()
            raise OSError(f"request failed: {exc!r}") from exc
        if b" 200 " not in status + b" ":
            raise ValueError(status.decode(errors="replace"))
        return json.loads(payload)

    async def close(self) -> None:
        """Drop the connection (the next post opens a new one)."""
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


class HttpxClient:
    """The same requests with httpx (`--client httpx`)."""

    def __init__(self, base: str) -> None:
        self.http = httpx.AsyncClient(base_url=base, timeout=30)

    async def post(self, path: str, body: dict) -> dict:
        """POST JSON and return the JSON reply; raises OSError on any failure."""
        try:
            response = await self.http.post(path, json=body)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise OSError(str(exc)) from exc
        return response.json()

    async def close(self) -> None:
        """Close the connection pool."""
        await self.http.aclose()


async def client_loop(
    base: str, tickets: list[int], deadline: float, tally: Tally, rng: random.Random, kind: str
) -> None:
    """One client: multi-turn sessions until the budget or the time is spent."""
    session_id, turns = None, 0
    client = RawClient(base) if kind == "raw" else HttpxClient(base)
    while tickets and time.monotonic() < deadline:
        tickets.pop()
        body = {"message": pick_message(rng), "session_id": session_id}
        started = time.perf_counter()
        try:
            reply = await asyncio.wait_for(client.post("/api/chat", body), 30)
        except (TimeoutError, OSError, ValueError):
            tally.errors += 1
            continue
        tally.latencies.append(time.perf_counter() - started)
        tally.kinds[reply["kind"]] += 1
        turns += 1
        session_id = reply["session_id"] if turns % TURNS_PER_SESSION else None
    await client.close()


async def run_level(
    base: str, clients: int, requests: int, seconds: float, seed: int, kind: str = "raw"
) -> Tally:
    """Run `clients` concurrent clients sharing a budget of `requests` and `seconds`."""
    tally = Tally()
    tickets = list(range(requests))
    deadline = time.monotonic() + seconds
    started = time.perf_counter()
    await asyncio.gather(
        *(
            client_loop(base, tickets, deadline, tally, random.Random(seed * 1000 + i), kind)
            for i in range(clients)
        )
    )
    tally.seconds = time.perf_counter() - started
    return tally


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the command name (field 3 onwards); [] if the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def tree_cpu_seconds(root: int) -> float:
    """User + system CPU seconds of `root` and its live descendants so far (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree.update(children)
        frontier += children
    ticks = 0
    for pid in tree:
        if fields := _stat_fields(pid):
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def measured_level(base: str, server_pid: int, clients: int, args: argparse.Namespace) -> Tally:
    """One level, with the CPU time the server and this client spent on it."""
    server_before, client_before = tree_cpu_seconds(server_pid), time.process_time()
    tally = asyncio.run(
        run_level(base, clients, args.requests, args.seconds, args.seed, args.client)
    )
    tally.server_cpu = tree_cpu_seconds(server_pid) - server_before
    tally.client_cpu = time.process_time() - client_before
    return tally


def percentile(values: list[float], pct: float) -> float:
    """The pct-th percentile (nearest rank) in milliseconds."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank] * 1000


def count_escalations(data_dir: Path, database_url: str | None) -> int:
    """Escalations in the store the server writes to."""
    from faqbot.config import Settings
    from faqbot.store import open_store

    store = open_store(Settings(data_dir=data_dir, database_url=database_url), retention=False)
    try:
        return store.count_escalations()
    finally:
        store.close()


def table(levels: list[tuple[int, Tally]], workers: int) -> str:
    """The markdown table of all levels."""
    lines = [
        "| workers | clients | requests | errors | req/s | p50 ms | p95 ms | p99 ms "
        "| server CPU ms/req | client CPU ms/req |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for clients, t in levels:
        done = len(t.latencies)
        rate = done / t.seconds if t.seconds else 0.0
        lines.append(
            f"| {workers} | {clients} | {done} | {t.errors} | {rate:.1f} | "
            f"{percentile(t.latencies, 50):.1f} | {percentile(t.latencies, 95):.1f} | "
            f"{percentile(t.latencies, 99):.1f} | {1000 * t.server_cpu / max(done, 1):.2f} | "
            f"{1000 * t.client_cpu / max(done, 1):.2f} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace, base: str, server_pid: int) -> list[tuple[int, Tally]]:
    """Warm up, then every level in turn; the warm-up is returned as level 0."""
    warm = asyncio.run(run_level(base, 2, 20, 60, args.seed, args.client))
    levels = [(0, warm)]
    for clients in (int(c) for c in args.clients.split(",")):
        print(f"running {clients} client(s)...", file=sys.stderr)
        levels.append((clients, measured_level(base, server_pid, clients, args)))
    return levels


def main() -> int:
    """Run the benchmark and print the report; 1 when the escalation count does not match."""
    args = parse_args()
    if args.workers > 1 and not args.redis_url:
        sys.exit("--workers > 1 needs --redis-url (sessions must be shared)")
    with tempfile.TemporaryDirectory(prefix="faqbot-bench-") as tmp:
        data_dir = prepare_data_dir(args.data_dir, Path(tmp) / "data")
        port = free_port()
        log = Path(tmp) / "server.log"
        before = count_escalations(data_dir, args.database_url)
        env = server_env(args, data_dir)
        proc = start_server(port, env, args.workers, log)
        try:
            wait_ready(f"http://127.0.0.1:{port}", proc, args.workers)
            levels = run(args, f"http://127.0.0.1:{port}", proc.pid)
        finally:
            stop_server(proc)
            clean_redis(env)
        stored = count_escalations(data_dir, args.database_url) - before
    guarded = sum(t.guarded for _, t in levels)
    kinds = sum((t.kinds for _, t in levels), Counter())
    store_name = "PostgreSQL" if args.database_url else "SQLite"
    print(f"### HTTP load ({store_name}, {args.workers} worker(s), {args.client} client)\n")
    print(table([lv for lv in levels if lv[0]], args.workers))
    print(f"\nreplies by kind (incl. warm-up): {dict(sorted(kinds.items()))}")
    verdict = "OK" if stored == guarded else "MISMATCH"
    print(f"escalations stored: {stored}; redirect + emergency replies: {guarded} -> {verdict}")
    return 0 if stored == guarded else 1


if __name__ == "__main__":
    sys.exit(main())
