"""`faqbot serve`: refusals with a reason, and two real workers sharing sessions through Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from faqbot import cli_serve  # noqa: F401 - registers the command
from faqbot.cli import app
from tests.conftest import fresh_data_dir
from tests.services import free_port

runner = CliRunner()


def test_workers_without_redis_refuse_to_start_saying_why() -> None:
    result = runner.invoke(app, ["serve", "--workers", "2"], env={"FAQBOT_REDIS_URL": None})
    assert result.exit_code == 1
    assert "FAQBOT_REDIS_URL" in result.output and "another worker" in result.output


def test_invalid_knowledge_refuses_to_serve(scratch_kb: Path) -> None:
    entry = scratch_kb / "faq" / "basics" / "sample-entry.yaml"
    entry.write_text(entry.read_text().replace("year: 2024", "year: 1850"))
    result = runner.invoke(app, ["serve"], env={"FAQBOT_KNOWLEDGE_DIR": str(scratch_kb)})
    assert result.exit_code == 1
    assert "sample-entry.yaml:" in result.output and "invalid" in result.output


def post(base: str, body: dict) -> tuple[dict, str]:
    """One request on a fresh connection (so the kernel may pick either worker)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        response = client.post("/api/chat", json=body)
    response.raise_for_status()
    return response.json(), response.headers["x-faqbot-worker"]


def wait_ready(base: str, proc: subprocess.Popen, workers: int, seconds: float = 150) -> None:
    """Wait until every worker answers /readyz with 200 (or the server died).

    The first worker to load answers while the other may still be starting, and until it listens
    the kernel has one socket to give connections to; fresh connections find out when all listen.
    """
    deadline = time.monotonic() + seconds
    seen: set[str] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        try:
            response = httpx.get(f"{base}/readyz", timeout=2)
            if response.status_code == 200:
                seen.add(response.headers["x-faqbot-worker"])
                if len(seen) == workers:
                    return
        except httpx.HTTPError:
            pass
        time.sleep(0.05 if seen else 0.5)
    raise AssertionError(f"{len(seen)} of {workers} workers became ready in time")


@pytest.fixture
def two_workers(built_data_dir, tmp_path, redis_url, redis_prefix):
    """`faqbot serve --workers 2` on a free loopback port with Redis; yields (base URL, stderr)."""
    port = free_port()
    env = {
        **os.environ,
        "FAQBOT_REDIS_URL": redis_url,
        "FAQBOT_REDIS_PREFIX": redis_prefix,
        "FAQBOT_DEBUG_HEADERS": "1",
        "FAQBOT_RATE_LIMIT_PER_MINUTE": "0",
        "FAQBOT_DATA_DIR": str(fresh_data_dir(built_data_dir, tmp_path / "data")),
        "HF_HUB_OFFLINE": "1",
    }
    log = tmp_path / "server.log"
    command = [sys.executable, "-c", "from faqbot.cli import main; main()"]
    with log.open("w") as stderr:
        proc = subprocess.Popen(
            [*command, "serve", "--workers", "2", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(base, proc, workers=2)
            yield base, log
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


@pytest.mark.slow
@pytest.mark.redis
def test_conversation_continues_across_two_workers(two_workers) -> None:
    base, log = two_workers
    crossed: list[tuple[dict, str, str]] = []
    with ThreadPoolExecutor(max_workers=8) as pool:
        for _round in range(10):
            firsts = list(pool.map(lambda _: post(base, {"message": "what is kratom"}), range(8)))
            follow_bodies = [
                {"message": "is it addictive?", "session_id": reply["session_id"]}
                for reply, _pid in firsts
            ]
            follows = list(pool.map(lambda body: post(base, body), follow_bodies))
            crossed += [
                (follow, first_pid, follow_pid)
                for (_first, first_pid), (follow, follow_pid) in zip(firsts, follows, strict=True)
                if first_pid != follow_pid
            ]
            if crossed:
                break
    assert crossed, "every follow-up reached the same worker as its first turn"
    for follow, _first_pid, _follow_pid in crossed:
        assert follow["turn_id"] == 2
        assert follow["kind"] not in {"out_of_scope", "fallback"}
        assert follow["entry_id"] is not None
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines if line.startswith("{")]
    assert parsed and any(p.get("message") == "ready" for p in parsed)


@pytest.mark.slow
@pytest.mark.redis
def test_connections_opened_together_are_spread_over_both_workers(two_workers) -> None:
    """Each worker listens on its own SO_REUSEPORT socket: a burst of 16 keep-alive connections
    does not all land on whichever worker woke first (with one shared socket: 16 and 0)."""
    base, _log = two_workers  # both workers listen (the fixture waits for each)
    clients = [httpx.Client(base_url=base, timeout=30) for _ in range(16)]
    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            workers = list(
                pool.map(lambda c: c.get("/healthz").headers["x-faqbot-worker"], clients)
            )
        # the same kept-alive connection keeps reaching the same worker
        assert [c.get("/healthz").headers["x-faqbot-worker"] for c in clients] == workers
    finally:
        for client in clients:
            client.close()
    assert len(set(workers)) == 2, workers  # all 16 on one worker: probability 2 / 2**16
