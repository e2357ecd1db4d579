"""Database plumbing for the escalation log: engines, migrations at startup, idempotent inserts.

SQLite files run in WAL mode with `synchronous=FULL` (a commit is on disk when it returns) and
take the write lock up front (`BEGIN IMMEDIATE`) on write connections, so concurrent writers wait
for each other instead of failing. PostgreSQL connections are checked before use, so the pool
recovers by itself after a server restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL
from sqlalchemy.exc import ArgumentError
from sqlalchemy.pool import StaticPool

from faqbot.errors import StoreError
from faqbot.store_models import Base

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE = "faqbot_write"  # execution option: this connection will write (SQLite: BEGIN IMMEDIATE)
MIGRATION_LOCK = 0x66617162  # pg advisory lock id ("faqb"): one process migrates at a time
CONNECT_TIMEOUT = 3  # seconds; a down database must not stall replies for long


def make_engine(url: str) -> Engine:
    """An engine for this URL, tuned for the escalation log (SQLite or PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StoreError(f"invalid database URL: {exc}") from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend != "postgresql":
        raise StoreError(
            f"unsupported database {backend!r}: use sqlite:/// or postgresql+psycopg://"
        )
    return create_engine(
        parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT}
    )


def _sqlite_engine(url: URL) -> Engine:
    memory = url.database in (None, "", ":memory:")
    if not memory:
        Path(str(url.database)).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        poolclass=StaticPool if memory else None,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun below, explicitly
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        if not memory:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        write = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def writer(engine: Engine) -> Engine:
    """The same engine, marked so that its transactions take the write lock first."""
    return engine.execution_options(**{WRITE: True})


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configured in code: the migrations inside the package, on this connection."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str | None:
    """The newest migration shipped with this faqbot."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine) -> None:
    """Apply every pending migration; safe when several processes start at once."""
    with writer(engine).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
        command.upgrade(alembic_config(connection), "head")


def insert_ignore(
    connection: Connection, table_name: str, rows: Iterable[Mapping[str, Any]]
) -> None:
    """Insert rows, silently skipping any whose dedupe_key is already stored."""
    rows = list(rows)
    if not rows:
        return
    insert = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    table = Base.metadata.tables[table_name]
    statement = insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
    connection.execute(statement, rows)


__all__ = [
    "alembic_config",
    "current_revision",
    "head_revision",
    "insert_ignore",
    "make_engine",
    "migrate",
    "writer",
]
