"""Crash-restart: `kill -9` the real server mid-stream, restart it on the same data dir.

Four clients send guarded messages (dosing, mixing, emergency) in multi-turn sessions; after a
few dozen replies the server gets SIGKILL while requests are in flight. After a restart on the
same data dir (and a few more turns), the store must hold an escalation for every redirect or
emergency reply a client received (matched by session_id + turn_id), none twice, and no more
than the requests that were cut off could add; the spool must be drained. SQLite and PostgreSQL.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from faqbot.config import Settings
from faqbot.store import open_store
from faqbot.store_spool import Spool
from tests.conftest import fresh_data_dir
from tests.robust.server import Server, server_env
from tests.services import postgres_database

pytestmark = pytest.mark.slow

GUARDED_MESSAGES = [
    "how much kratom should I take for my back pain?",
    "can I take kratom with alcohol?",
    "what dose of kratom is safe for a beginner?",
    "is it ok to mix kratom with gabapentin?",
    "my friend took kratom and now he won't wake up",
    "I took too much kratom and my chest hurts and I can't breathe",
]
CLIENTS = 4
TURNS_PER_SESSION = 4
KILL_AFTER = 30  # replies received before the SIGKILL
AFTER_RESTART = 8


@dataclass
class Received:
    """What the clients saw: guarded replies (session, turn), other replies, cut-off requests."""

    guarded: list[tuple[str, int]] = field(default_factory=list)
    not_escalated: list[tuple[str, int]] = field(default_factory=list)
    other_kinds: list[str] = field(default_factory=list)
    cut_off: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, reply: dict) -> None:
        """Keep one reply."""
        with self.lock:
            key = (reply["session_id"], reply["turn_id"])
            if reply["kind"] in {"redirect", "emergency"}:
                self.guarded.append(key)
                if not reply["escalated"]:
                    self.not_escalated.append(key)
            else:
                self.other_kinds.append(reply["kind"])

    @property
    def count(self) -> int:
        """Replies received so far."""
        return len(self.guarded) + len(self.other_kinds)


def client_loop(base: str, offset: int, received: Received, stop: threading.Event) -> None:
    """Send guarded turns in sessions of a few turns until the server stops answering."""
    session_id, n = None, offset
    with httpx.Client(base_url=base, timeout=30) as http:
        while not stop.is_set():
            body = {
                "message": GUARDED_MESSAGES[n % len(GUARDED_MESSAGES)],
                "session_id": session_id,
            }
            n += 1
            try:
                response = http.post("/api/chat", json=body)
                response.raise_for_status()
            except httpx.HTTPError:
                with received.lock:
                    received.cut_off += 1
                return
            reply = response.json()
            received.add(reply)
            session_id = reply["session_id"] if n % TURNS_PER_SESSION else None


def stream_until_killed(server: Server, received: Received) -> None:
    """Run the clients and SIGKILL the server once KILL_AFTER replies have arrived."""
    stop = threading.Event()
    threads = [
        threading.Thread(target=client_loop, args=(server.base, i, received, stop))
        for i in range(CLIENTS)
    ]
    for thread in threads:
        thread.start()
    try:
        while received.count < KILL_AFTER and any(t.is_alive() for t in threads):
            threading.Event().wait(0.02)
        server.kill9()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)


def send_after_restart(base: str, received: Received) -> None:
    """A few more guarded turns on the restarted server (one session)."""
    session_id = None
    with httpx.Client(base_url=base, timeout=30) as http:
        for message in GUARDED_MESSAGES[:AFTER_RESTART]:
            response = http.post("/api/chat", json={"message": message, "session_id": session_id})
            response.raise_for_status()
            received.add(response.json())
            session_id = response.json()["session_id"]


def crash_and_restart(data_dir: Path, log: Path, database_url: str | None) -> Received:
    """The whole scenario; returns what the clients received."""
    extra = {"FAQBOT_DATABASE_URL": database_url} if database_url else {}
    env = server_env(data_dir, **extra)
    received = Received()
    first = Server(env, log).start()
    try:
        first.wait_ready()
        stream_until_killed(first, received)
    finally:
        first.stop()
    assert first.proc is not None and first.proc.returncode == -9
    second = Server(env, log, port=first.port).start()
    try:
        second.wait_ready()
        send_after_restart(second.base, received)
    finally:
        second.stop()
    return received


def check_store(settings: Settings, received: Received) -> list[tuple[str | None, int | None]]:
    """Every received guarded reply stored once; nothing beyond the cut-off requests; spool empty."""
    store = open_store(settings, retention=False)
    try:
        keys = [(r.session_id, r.turn_id) for r in store.list_escalations(newest_first=False)]
    finally:
        store.close()
    duplicates = {k: n for k, n in Counter(keys).items() if n > 1}
    assert duplicates == {}
    missing = set(received.guarded) - set(keys)
    assert missing == set(), f"received but not stored: {sorted(missing)}"
    assert len(keys) - len(received.guarded) <= received.cut_off
    assert received.not_escalated == []
    assert not Spool(settings.data_dir / "spool").pending()
    return keys


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_kill_9_mid_stream_loses_no_escalation(backend, built_data_dir, tmp_path) -> None:
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    if backend == "postgresql":
        with postgres_database("faqbot_crash") as url:
            received = crash_and_restart(data_dir, tmp_path / "server.log", url)
            keys = check_store(Settings(data_dir=data_dir, database_url=url), received)
    else:
        received = crash_and_restart(data_dir, tmp_path / "server.log", None)
        keys = check_store(Settings(data_dir=data_dir), received)
    assert len(received.guarded) >= KILL_AFTER
    print(
        f"{backend}: {len(received.guarded)} guarded replies received, {received.cut_off} "
        f"requests cut off by the kill, {len(keys)} escalations stored, 0 duplicates"
    )
