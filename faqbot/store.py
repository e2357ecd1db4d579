"""The escalation log: `open_store(settings)` -> EscalationStore (SQLite by default, or PostgreSQL).

EscalationStore is the Bot's `EscalationSink`. A record is committed before `record()` returns;
when the database is down or fails, the row is fsynced to the local spool instead (still True:
it is safe on disk) and replayed, exactly once thanks to its `dedupe_key`, when the database is
back: at open, before later writes, and whenever `replay_spool()` is called. Everything a person
typed is redacted before a row is built; client addresses are stored only as a keyed hash.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, delete, func, select, text, update
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from faqbot.errors import StoreError
from faqbot.store_db import insert_ignore, make_engine, migrate, writer
from faqbot.store_models import STATUSES, TABLES, Escalation, Unanswered, utc_now
from faqbot.store_query import When, as_utc, escalation_filters, escalation_query, export_text
from faqbot.store_records import (
    CLIENT_IP,
    EscalationRecord,
    Row,
    UnansweredRecord,
    client_context,
    escalation_row,
    feedback_escalation_row,
    feedback_row,
    hash_client,
    unanswered_row,
)
from faqbot.store_spool import Batch, Spool, encode

if TYPE_CHECKING:
    from faqbot.bot import BotTurn
    from faqbot.config import Settings
    from faqbot.dialog import Conversation

log = logging.getLogger("faqbot.store")
Item = tuple[str, Row]
TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PoolTimeout)


def _transient(exc: BaseException) -> bool:
    """True when the database is unreachable (try later), not when a row is at fault."""
    return isinstance(exc, TRANSIENT) or bool(getattr(exc, "connection_invalidated", False))


class EscalationStore:
    """Escalations, unanswered questions and feedback in SQL, with a local spool as the fallback."""

    def __init__(
        self, *, engine: Engine, spool: Spool, ip_hash_key: str, retry_seconds: float = 5.0
    ) -> None:
        self.engine = engine
        self.spool = spool
        self.retry_seconds = retry_seconds
        self.stats = {"stored": 0, "spooled": 0, "replayed": 0, "errors": 0}
        self._ip_key = ip_hash_key
        self._migrated = False
        self._down_until = 0.0
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ lifecycle
    def start(self, *, retention_days: int = 0, strict: bool = False) -> None:
        """Migrate, replay the spool and apply retention; a down database only logs a warning.

        With `strict`, a down database raises StoreError instead (the CLI wants to say so).
        """
        try:
            self.ensure_schema()
            self.replay_spool()
            if retention_days > 0:
                self.purge(retention_days)
        except StoreError as exc:
            if strict:
                raise
            self._mark_down(exc)

    def ensure_schema(self) -> None:
        """Apply pending migrations once per process (StoreError when the database is down)."""
        with self._lock:
            if self._migrated:
                return
            try:
                migrate(self.engine)
            except Exception as exc:  # noqa: BLE001 - alembic and drivers raise many types
                raise StoreError(f"could not migrate the database: {exc}") from exc
            self._migrated = True

    def ping(self) -> bool:
        """True when the database answers (for /readyz)."""
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False
        return True

    def close(self) -> None:
        """Release the connection pool."""
        self.engine.dispose()

    # ------------------------------------------------------------------ the sink protocol
    def record(
        self, turn: BotTurn, conversation: Conversation, *, client_ip: str | None = None
    ) -> bool:
        """Store an escalation for a redirect/emergency turn; True once committed or spooled."""
        ip = client_ip if client_ip is not None else CLIENT_IP.get()
        row = escalation_row(turn, conversation, client_hash=hash_client(ip, self._ip_key))
        return self._store([("escalations", row)])

    def record_unanswered(self, turn: BotTurn) -> None:
        """Store a fallback/out-of-scope question for the gap report."""
        self._store([("unanswered", unanswered_row(turn))])

    def record_feedback(
        self,
        *,
        session_id: str | None,
        turn_id: int | None,
        helpful: bool,
        comment: str | None = None,
        conversation: Conversation | None = None,
        client_ip: str | None = None,
    ) -> bool:
        """Store a vote; a negative one is also an escalation (category and kind "feedback")."""
        vote = feedback_row(
            session_id=session_id, turn_id=turn_id, helpful=helpful, comment=comment
        )
        items: list[Item] = [("feedback", vote)]
        if not helpful:
            ip = client_ip if client_ip is not None else CLIENT_IP.get()
            client_hash = hash_client(ip, self._ip_key)
            items.append(
                (
                    "escalations",
                    feedback_escalation_row(vote, conversation, client_hash=client_hash),
                )
            )
        return self._store(items)

    # ------------------------------------------------------------------ writing
    def _store(self, items: list[Item]) -> bool:
        if time.monotonic() >= self._down_until:
            try:
                self._replay_pending()
                self._commit(items)
                self.stats["stored"] += len(items)
                return True
            except Exception as exc:  # noqa: BLE001 - any database failure falls back to the spool
                self._mark_down(exc)
        return self._spool(items)

    def _commit(self, items: list[Item]) -> None:
        self.ensure_schema()
        with writer(self.engine).begin() as connection:
            for table, row in items:
                insert_ignore(connection, table, [row])

    def _spool(self, items: list[Item]) -> bool:
        try:
            for table, row in items:
                self.spool.append(table, row)
        except OSError:
            log.exception("could not spool %d escalation-log row(s): they are lost", len(items))
            self.stats["errors"] += 1
            return False
        self.stats["spooled"] += len(items)
        return True

    def _mark_down(self, exc: BaseException) -> None:
        self.stats["errors"] += 1
        self._down_until = time.monotonic() + self.retry_seconds
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        log.warning(
            "escalation database unavailable (%s); spooling for %.0fs", reason, self.retry_seconds
        )

    # ------------------------------------------------------------------ the spool
    def _replay_pending(self) -> None:
        if self.spool.pending():
            self.replay_spool()

    def replay_spool(self) -> int:
        """Store every spooled row (each once), deleting spooled lines only after commit.

        Returns how many rows were replayed (0 when another process is replaying right now);
        raises StoreError, keeping the spool, when the database is still unreachable.
        """
        self.ensure_schema()
        replayed = 0
        with self.spool.replaying() as mine:
            if not mine:
                return 0
            for path in self.spool.claim():
                batch = self.spool.read(path)
                replayed += self._replay_batch(batch)
                self.spool.reject(batch.bad_lines)
                self.spool.finish(batch)
        if replayed:
            log.info("replayed %d spooled escalation-log row(s)", replayed)
        self.stats["replayed"] += replayed
        return replayed

    def _replay_batch(self, batch: Batch) -> int:
        try:
            with writer(self.engine).begin() as connection:
                for table, rows in batch.by_table().items():
                    insert_ignore(connection, table, rows)
            return len(batch.rows)
        except Exception as exc:  # noqa: BLE001 - sorted below into "down" and "bad row"
            if _transient(exc):
                raise StoreError(f"could not replay the spool: {exc}") from exc
        return self._replay_rows(batch)

    def _replay_rows(self, batch: Batch) -> int:
        """Row by row, so one row the schema refuses does not hold back the others."""
        stored = 0
        for table, row in batch.rows:
            try:
                with writer(self.engine).begin() as connection:
                    insert_ignore(connection, table, [row])
                stored += 1
            except Exception as exc:  # noqa: BLE001 - sorted into "down" and "bad row"
                if _transient(exc):
                    raise StoreError(f"could not replay the spool: {exc}") from exc
                log.error("spooled %s row refused (%s); kept in rejected.jsonl", table, exc)
                batch.bad_lines.append(encode(table, row).rstrip("\n"))
        return stored

    # ------------------------------------------------------------------ reading
    def _read(self, query: Any) -> list[Any]:
        self.ensure_schema()
        try:
            with self.engine.connect() as connection:
                return list(connection.execute(query).all())
        except Exception as exc:  # noqa: BLE001 - one error type for callers
            raise StoreError(f"could not read the escalation log: {exc}") from exc

    def list_escalations(
        self,
        *,
        category: str | None = None,
        since: When = None,
        until: When = None,
        status: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[EscalationRecord]:
        """Escalations matching the filters, newest first; `until` is exclusive (a date: that day included)."""
        filters = escalation_filters(
            category=category, since=since, until=until, status=status, search=search
        )
        query = escalation_query(filters, newest_first=newest_first, limit=limit, offset=offset)
        return [EscalationRecord.model_validate(row._mapping) for row in self._read(query)]

    def count_escalations(self, **filters: Any) -> int:
        """How many escalations match the same filters as list_escalations."""
        query = select(func.count()).select_from(Escalation).where(*escalation_filters(**filters))
        return int(self._read(query)[0][0])

    def count_by_status(self) -> dict[str, int]:
        """Escalations per status (every status present, zero when none)."""
        query = select(Escalation.status, func.count()).group_by(Escalation.status)
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({status: int(n) for status, n in self._read(query)})
        return counts

    def get_escalation(self, escalation_id: int) -> EscalationRecord | None:
        """One escalation by id, or None."""
        rows = self._read(select(Escalation).where(Escalation.id == escalation_id))
        return EscalationRecord.model_validate(rows[0]._mapping) if rows else None

    def set_status(self, escalation_id: int, status: str) -> bool:
        """Move an escalation to new|in_review|resolved|false_alarm; False when there is no such id."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        statement = update(Escalation).where(Escalation.id == escalation_id).values(status=status)
        return self._execute(statement) > 0

    def list_unanswered(
        self, *, since: When = None, until: When = None, limit: int | None = None, offset: int = 0
    ) -> list[UnansweredRecord]:
        """Fallback/out-of-scope questions in [since, until), newest first."""
        query = select(Unanswered).order_by(Unanswered.created_at.desc(), Unanswered.id.desc())
        start, stop = as_utc(since), as_utc(until, end=True)
        if start is not None:
            query = query.where(Unanswered.created_at >= start)
        if stop is not None:
            query = query.where(Unanswered.created_at < stop)
        query = query.offset(offset or None).limit(limit)
        return [UnansweredRecord.model_validate(row._mapping) for row in self._read(query)]

    def export(self, fmt: str, **filters: Any) -> str:
        """Matching escalations, oldest first, as CSV or JSON Lines text."""
        filters.setdefault("newest_first", False)
        return export_text(fmt, self.list_escalations(**filters))

    # ------------------------------------------------------------------ retention
    def purge(self, older_than_days: int) -> int:
        """Delete escalations, unanswered questions and feedback older than N days; rows deleted."""
        if older_than_days < 0:
            raise ValueError("older_than_days must be 0 or more")
        cutoff = utc_now() - dt.timedelta(days=older_than_days)
        statements = [delete(m).where(m.created_at < cutoff) for m in TABLES.values()]
        deleted = self._execute(*statements)
        if deleted:
            log.info("retention: purged %d row(s) older than %d days", deleted, older_than_days)
        return deleted

    def _execute(self, *statements: Any) -> int:
        self.ensure_schema()
        try:
            with writer(self.engine).begin() as connection:
                return sum(connection.execute(s).rowcount for s in statements)
        except Exception as exc:  # noqa: BLE001 - one error type for callers
            raise StoreError(f"could not update the escalation log: {exc}") from exc


def open_store(
    settings: Settings, *, retention: bool = True, strict: bool = False
) -> EscalationStore:
    """The store for these settings: created and migrated on first use, spool replayed, old rows purged.

    A database that is down at open is not an error (records are spooled until it is back)
    unless `strict`; `retention=False` skips the purge of rows older than settings.retention_days.
    """
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = EscalationStore(
        engine=make_engine(settings.effective_database_url()),
        spool=Spool(settings.data_dir / "spool"),
        ip_hash_key=settings.ip_hash_key,
    )
    store.start(retention_days=settings.retention_days if retention else 0, strict=strict)
    return store


__all__ = [
    "EscalationRecord",
    "EscalationStore",
    "UnansweredRecord",
    "client_context",
    "open_store",
]
