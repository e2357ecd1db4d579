"""A throwaway PostgreSQL cluster (initdb + pg_ctl in a temp dir, on a free port) that tests may stop.

Run as the `postgres` OS user when the tests run as root (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path


def find_bindir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin that has initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3])
    )
    if not found:
        on_path = shutil.which("initdb")
        return Path(on_path).parent if on_path else None
    return Path(found[-1]).parent


def unavailable_reason() -> str | None:
    """Why a throwaway cluster cannot be made here (None when it can)."""
    if find_bindir() is None:
        return "initdb not found (PostgreSQL server binaries are not installed)"
    if os.geteuid() == 0 and not (shutil.which("runuser") and _has_user("postgres")):
        return "running as root without a `postgres` user and runuser to drop privileges"
    return None


def _has_user(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ThrowawayCluster:
    """One private PostgreSQL cluster: init, start, stop (immediate), restart, destroy."""

    def __init__(self) -> None:
        bindir = find_bindir()
        assert bindir is not None
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="faqbot-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")

    def _run(self, tool: str, *args: str, check: bool = True) -> int:
        command = [str(self.bindir / tool), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{tool} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.returncode

    def running(self) -> bool:
        """True when the server is up."""
        return self._run("pg_ctl", "-D", str(self.data), "status", check=False) == 0

    def create_database(self, name: str) -> str:
        """A new empty database on this cluster; its SQLAlchemy URL."""
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def init(self) -> None:
        """initdb with trust auth for the postgres role."""
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        """Start on 127.0.0.1:<port> and wait until it accepts connections.

        fsync=off only makes crash recovery fast: an immediate stop kills the server processes,
        not the machine, so nothing committed is lost from the OS page cache.
        """
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """Stop the server (immediate: like a crash, open connections just die)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        """Stop (if running) and delete everything."""
        try:
            self.stop()
        except RuntimeError:
            pass
        shutil.rmtree(self.root, ignore_errors=True)
