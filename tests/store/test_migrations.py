"""The migration chain is linear and ships inside the package (later migrations append to it)."""

from __future__ import annotations

import sqlite3

from alembic.script import ScriptDirectory

from faqbot.config import Settings
from faqbot.store import open_store
from faqbot.store_db import MIGRATIONS, alembic_config


def test_migrations_live_in_the_package_and_form_one_linear_chain():
    assert MIGRATIONS.parent.name == "faqbot" and (MIGRATIONS / "env.py").is_file()
    scripts = ScriptDirectory.from_config(alembic_config())
    assert len(scripts.get_heads()) == 1
    chain = list(scripts.walk_revisions())  # head first, down to the base
    assert chain[-1].revision == "0001_escalation_log" and chain[-1].down_revision is None
    for newer, older in zip(chain, chain[1:], strict=False):
        assert newer.down_revision == older.revision


def test_first_open_creates_the_sqlite_file_in_wal_mode(tmp_path):
    settings = Settings(data_dir=tmp_path / "fresh", database_url=None)
    store = open_store(settings)
    store.close()
    database = sqlite3.connect(settings.sqlite_path())
    try:
        assert database.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        tables = {
            r[0] for r in database.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
    finally:
        database.close()
    assert {"escalations", "unanswered", "feedback", "alembic_version"} <= tables
