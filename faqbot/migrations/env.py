"""Alembic environment: uses the connection faqbot passes in, or `-x url=...` on the command line."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from faqbot.store_models import Base


def run_migrations(connection: object) -> None:
    """Run the pending revisions on one connection (batch mode so SQLite can alter tables)."""
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Entry point Alembic calls when it loads this file."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_migrations(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database with: alembic -x url=<sqlalchemy url> ...")
    engine = create_engine(url)
    with engine.begin() as conn:
        run_migrations(conn)
    engine.dispose()


run()
