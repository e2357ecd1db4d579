"""The local JSONL spool: rows the database could not take, kept on disk until replayed.

Layout under `<data_dir>/spool/`:
    escalations.jsonl        new lines are appended here ({"table": ..., "row": {...}}), fsynced
    replaying-<uuid>.jsonl   a batch claimed for replay (renamed atomically); deleted after commit
    rejected.jsonl           lines that could never be stored (corrupt, or refused by the schema)

Appends and claims take an exclusive `flock` on `.lock`, so no line is ever written to a batch
after it was claimed; replays take `.replay.lock` so only one process replays at a time. The
rows carry their `dedupe_key`, so replaying a batch twice stores it once.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Row = dict[str, Any]
DATETIME_FIELDS = ("created_at",)


@dataclass
class Batch:
    """The parsed lines of one claimed spool file."""

    path: Path
    rows: list[tuple[str, Row]] = field(default_factory=list)
    bad_lines: list[str] = field(default_factory=list)

    def by_table(self) -> dict[str, list[Row]]:
        """The rows grouped per table, in file order."""
        grouped: dict[str, list[Row]] = {}
        for table, row in self.rows:
            grouped.setdefault(table, []).append(row)
        return grouped


def encode(table: str, row: Row) -> str:
    """One spool line (with its newline)."""
    return json.dumps({"table": table, "row": row}, default=_default, ensure_ascii=False) + "\n"


def decode(line: str) -> tuple[str, Row]:
    """The table and row of one spool line; ValueError/KeyError/TypeError when corrupt."""
    data = json.loads(line)
    table, row = data["table"], dict(data["row"])
    for name in DATETIME_FIELDS:
        if isinstance(row.get(name), str):
            row[name] = dt.datetime.fromisoformat(row[name])
    return str(table), row


def _default(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    raise TypeError(f"cannot spool {type(value).__name__}")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """An append-only, fsynced JSONL spool in one directory, safe across threads and processes."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "escalations.jsonl"
        self.rejected = directory / "rejected.jsonl"

    @contextmanager
    def _flock(self, name: str, *, blocking: bool = True) -> Iterator[bool]:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.directory / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)  # closing releases the lock

    def append(self, table: str, row: Row) -> None:
        """Append one row and fsync it: when this returns, the row survives a crash."""
        self._write(self.path, encode(table, row))

    def _write(self, path: Path, data: str) -> None:
        with self._flock(".lock"):
            created = not path.exists()
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":
                    data = "\n" + data  # a torn last line stays alone (and is rejected later)
                os.write(fd, data.encode())
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:
                _fsync_dir(self.directory)

    def pending(self) -> bool:
        """True when some rows wait to be replayed."""
        if not self.directory.is_dir():
            return False
        files = [self.path, *self.directory.glob("replaying-*.jsonl")]
        return any(p.is_file() and p.stat().st_size > 0 for p in files)

    def count(self) -> int:
        """How many lines wait to be replayed (for status output)."""
        if not self.directory.is_dir():
            return 0
        files = [self.path, *self.directory.glob("replaying-*.jsonl")]
        return sum(len(p.read_text().splitlines()) for p in files if p.is_file())

    @contextmanager
    def replaying(self) -> Iterator[bool]:
        """Hold the replay lock; yields False (at once) when another process is replaying."""
        with self._flock(".replay.lock", blocking=False) as acquired:
            yield acquired

    def claim(self) -> list[Path]:
        """Move the current spool file aside as a batch; every batch not yet replayed, oldest first."""
        with self._flock(".lock"):
            if self.path.is_file() and self.path.stat().st_size > 0:
                self.path.rename(self.directory / f"replaying-{uuid.uuid4().hex}.jsonl")
                _fsync_dir(self.directory)
        return sorted(self.directory.glob("replaying-*.jsonl"), key=lambda p: p.stat().st_mtime)

    def read(self, path: Path) -> Batch:
        """Parse one claimed batch; corrupt lines are kept aside as `bad_lines`."""
        batch = Batch(path)
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                batch.rows.append(decode(line))
            except (ValueError, KeyError, TypeError):
                batch.bad_lines.append(line)
        return batch

    def reject(self, lines: list[str]) -> None:
        """Keep lines that can never be stored in rejected.jsonl (never silently dropped)."""
        if lines:
            self._write(self.rejected, "".join(f"{line}\n" for line in lines))

    def finish(self, batch: Batch) -> None:
        """Delete a batch after its rows were committed."""
        batch.path.unlink(missing_ok=True)
        _fsync_dir(self.directory)


__all__ = ["Batch", "Spool", "decode", "encode"]
