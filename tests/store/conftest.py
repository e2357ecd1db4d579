"""Store fixtures: the same tests run on a SQLite file and on the machine's PostgreSQL.

PostgreSQL: one uniquely named database per test session on 127.0.0.1:5432 (trust auth, user
postgres), dropped at the end; tables are emptied before each test. Those cases skip, saying why,
when the server is unreachable.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faqbot.bot import BotTurn
from faqbot.config import Settings
from faqbot.models import Evidence, Reply, ResourceRef, Verdict
from faqbot.store import EscalationStore, open_store
from tests.services import postgres_database

HELP = "If someone may have taken too much, call Poison Help at 1-800-222-1222, or 911."


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL for this test session (dropped afterwards)."""
    with postgres_database("faqbot_store") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Which database the store test runs on."""
    return str(request.param)


@pytest.fixture
def store_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings for an isolated store: its own data dir, and SQLite or the session's PG database."""
    url = request.getfixturevalue("pg_database_url") if backend == "postgresql" else None
    return Settings(
        data_dir=tmp_path / "data", database_url=url, ip_hash_key="test-key", retention_days=90
    )


@pytest.fixture
def store(store_settings: Settings) -> Iterator[EscalationStore]:
    """An open store with empty tables."""
    opened = open_store(store_settings)
    if opened.engine.dialect.name == "postgresql":
        with opened.engine.begin() as connection:
            connection.exec_driver_sql(
                "TRUNCATE escalations, unanswered, feedback RESTART IDENTITY CASCADE"
            )
    yield opened
    opened.close()


def make_turn(
    message: str,
    *,
    kind: str = "redirect",
    category: str | None = "dosing",
    session_id: str | None = "sess-1",
    turn_id: int | None = 1,
) -> BotTurn:
    """A guarded BotTurn as the Bot would produce it (for tests that need no model)."""
    evidence = (
        [Evidence(category=category, source="rule", ref=f"{category}-rule", matched=message)]  # type: ignore[arg-type]
        if category
        else []
    )
    reply = Reply(
        kind=kind,  # type: ignore[arg-type]
        category=category,
        text=HELP,
        html=f"<p>{HELP}</p>",
        session_id=session_id,
        turn_id=turn_id,
        resources=[ResourceRef(id="poison-help", name="Poison Help", phone="1-800-222-1222")],
    )
    return BotTurn(message, reply, Verdict(category=category, evidence=evidence))  # type: ignore[arg-type]
