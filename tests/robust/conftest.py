"""Robustness fixtures: a real SQLite store in a temp dir, and the API on the real Bot.

Helpers for tests that start `faqbot serve` as a subprocess live in tests/robust/server.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.config import Settings
from faqbot.store import EscalationStore, open_store

ALLOWED_ORIGIN = "https://clinic.example"


@pytest.fixture(scope="module")
def api_settings(settings: Settings) -> Settings:
    """The shared test settings (built data dir, no rate limit) with one allowed widget origin."""
    return settings.model_copy(
        update={"cors_origins": [ALLOWED_ORIGIN], "rate_limit_per_minute": 0}
    )


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EscalationStore]:
    """A real escalation store on a SQLite file in a temp data dir."""
    data_dir: Path = tmp_path_factory.mktemp("robust-store")
    store = open_store(Settings(data_dir=data_dir, ip_hash_key="robust-test"))
    yield store
    store.close()


@pytest.fixture(scope="module")
def client(bot, api_settings: Settings, sqlite_store: EscalationStore) -> Iterator[TestClient]:
    """A TestClient on the real Bot and a real SQLite store (lifespan started)."""
    app = create_app(bot=bot, settings=api_settings, store=sqlite_store)
    with TestClient(app) as test_client:
        yield test_client
