"""`faqbot serve` as a real subprocess on a free loopback port (crash-restart, degraded modes).

Traffic goes only to 127.0.0.1.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.services import free_port

STARTUP_SECONDS = 180.0


def server_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a test server: its own data dir, no rate limit, offline."""
    env = {
        **os.environ,
        "FAQBOT_DATA_DIR": str(data_dir),
        "FAQBOT_RATE_LIMIT_PER_MINUTE": "0",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    env.pop("FAQBOT_DATABASE_URL", None)
    env.pop("FAQBOT_REDIS_URL", None)
    env.update(extra)
    return env


class Server:
    """One `python -m faqbot.cli serve` process; stderr goes to a log file."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None) -> None:
        self.env = env
        self.log = log
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Server:
        """Start the process (appending to the log)."""
        command = [sys.executable, "-m", "faqbot.cli", "serve", "--port", str(self.port)]
        with self.log.open("ab") as stderr:
            self.proc = subprocess.Popen(
                command, env=self.env, stdout=subprocess.DEVNULL, stderr=stderr
            )
        return self

    def wait_ready(self, seconds: float = STARTUP_SECONDS) -> None:
        """Wait until /readyz answers 200; fail with the log's tail if the server died."""
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.base}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(f"server not ready after {seconds:.0f}s:\n{self.tail()}")

    def kill9(self) -> None:
        """SIGKILL: no shutdown, no flush, like a crash."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        """Graceful stop (SIGINT), then SIGKILL if it hangs."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill9()

    def tail(self, lines: int = 30) -> str:
        """The last lines of the server's stderr."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def running(env: dict[str, str], log: Path) -> Iterator[Server]:
    """A started, ready server, stopped afterwards."""
    server = Server(env, log).start()
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()
