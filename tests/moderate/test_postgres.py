"""The console on the machine's PostgreSQL: migration, lockout upsert, triage, append-only audit log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from faqbot.api import create_app
from faqbot.config import Settings
from faqbot.moderate_accounts import MAX_FAILURES, Accounts
from faqbot.moderate_triage import Triage
from faqbot.store import EscalationStore, open_store
from tests.moderate.conftest import (
    FAST_HASHER,
    MOD,
    MOD_PW,
    escalate,
    login,
    page_csrf,
    with_console,
)
from tests.services import postgres_database

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A fresh database on the local PostgreSQL for this module (dropped afterwards)."""
    with postgres_database("faqbot_moderate") as url:
        yield url


@pytest.fixture
def pg_store(pg_url: str, tmp_path) -> Iterator[EscalationStore]:
    store = open_store(Settings(data_dir=tmp_path / "pg", database_url=pg_url, ip_hash_key="k"))
    with store.engine.begin() as connection:
        connection.execute(
            text(
                "TRUNCATE escalations, unanswered, feedback, moderators, moderator_sessions, audit_log, "
                "login_attempts RESTART IDENTITY CASCADE"
            )
        )
    yield store
    store.close()


def test_lockout_counts_failures_on_postgres(pg_store: EscalationStore):
    accounts = Accounts(engine=pg_store.engine, hasher=FAST_HASHER)
    accounts.create(MOD, MOD_PW)
    results = [accounts.authenticate(MOD, "wrong-password-xx").status for _ in range(MAX_FAILURES)]
    assert results == ["bad"] * (MAX_FAILURES - 1) + ["locked"]
    assert accounts.authenticate(MOD, MOD_PW).status == "locked"


def test_audit_log_is_append_only_on_postgres(pg_store: EscalationStore):
    Triage(engine=pg_store.engine).record(moderator="ada", action="export.csv")
    for statement in ("UPDATE audit_log SET moderator = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with pg_store.engine.begin() as connection:
                connection.execute(text(statement))


def test_console_flow_on_postgres(bot, console_settings, pg_store: EscalationStore, clock):
    Accounts(engine=pg_store.engine, hasher=FAST_HASHER).create(MOD, MOD_PW)
    escalation = escalate(pg_store, "how much kratom should I take")
    app = with_console(
        create_app(bot=bot, settings=console_settings, store=pg_store),
        settings=console_settings,
        store=pg_store,
        clock=clock,
    )
    with TestClient(app, base_url="https://testserver") as client:
        assert login(client, MOD, MOD_PW).status_code == 303
        token = page_csrf(client, f"/moderate/escalations/{escalation}")
        response = client.post(
            f"/moderate/escalations/{escalation}/resolve",
            data={"csrf_token": token, "note": "ok"},
            follow_redirects=False,
        )
        assert response.status_code == 303
        assert (
            client.get("/moderate?q=kratom&status=resolved").text.count("/moderate/escalations/")
            >= 1
        )
    (entry,) = Triage(engine=pg_store.engine).audit_for(escalation)
    assert (entry.moderator, entry.before, entry.after, entry.note) == (
        MOD,
        "new",
        "resolved",
        "ok",
    )
