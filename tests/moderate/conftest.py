"""Moderator-console fixtures: the real app (real Bot) with a real store on a temporary SQLite file.

The app is `create_app(bot=..., settings=..., store=...)` with the console's router included by
the test (replacing any /moderate routes the app already has, so the injected clock is used).
`clock` is a settable clock for idle timeouts, lockouts and the overview; escalations are
recorded through the store's own `record` (the same rows the Bot writes).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.bot import BotTurn
from faqbot.config import Settings
from faqbot.dialog import Conversation, Turn
from faqbot.models import Evidence, Reply, ResourceRef, Verdict
from faqbot.moderate import moderation_router
from faqbot.moderate_accounts import Accounts
from faqbot.store import EscalationStore, open_store

ADMIN, ADMIN_PW = "ada", "ada-long-password-1"
MOD, MOD_PW = "mo", "mo-long-password-22"
HELP = "If someone may have taken too much, call Poison Help at 1-800-222-1222, or 911."
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Clock:
    """A clock tests can move forward."""

    now: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.UTC))

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        """Move the clock forward by a timedelta's keyword arguments."""
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    """The console's clock, starting now."""
    return Clock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EscalationStore]:
    """A real store (migrated to head) on a fresh SQLite file."""
    opened = open_store(Settings(data_dir=tmp_path / "store", ip_hash_key="test-key"))
    yield opened
    opened.close()


# cheap argon2 parameters for tests (production uses argon2-cffi's defaults)
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def accounts(store: EscalationStore) -> Accounts:
    """The account manager on the test store, with an admin and a moderator."""
    manager = Accounts(engine=store.engine, hasher=FAST_HASHER)
    manager.create(ADMIN, ADMIN_PW, admin=True)
    manager.create(MOD, MOD_PW)
    return manager


@pytest.fixture
def console_settings(settings: Settings) -> Settings:
    """The session settings (built index, no rate limit) with the console's defaults."""
    return settings.model_copy(update={"moderator_idle_minutes": 30, "secure_cookies": None})


def route_table(routes) -> list[tuple[str, set[str]]]:
    """(path, methods) of every HTTP route, looking inside included routers.

    FastAPI >= 0.16x keeps included routers as nested objects; `iter_route_contexts` flattens
    them (older versions copy routes into `app.routes`, which need no flattening).
    """
    from fastapi import routing

    flatten = getattr(routing, "iter_route_contexts", None)
    contexts = list(flatten(routes)) if flatten else list(routes)
    return [
        (c.path, set(c.methods or ()))
        for c in contexts
        if getattr(c, "path", None) and getattr(c, "methods", None)
    ]


def is_console(route) -> bool:
    """True for a route (or included router) that serves only /moderate paths."""
    paths = [path for path, _methods in route_table([route])]
    return bool(paths) and all(p.startswith("/moderate") for p in paths)


def with_console(app: FastAPI, **options) -> FastAPI:
    """The app with THIS console router (any /moderate routes it already had are replaced)."""
    app.router.routes = [r for r in app.router.routes if not is_console(r)]
    options.setdefault("hasher", FAST_HASHER)
    app.include_router(moderation_router(**options))
    return app


@pytest.fixture
def app(bot, console_settings, store, accounts, clock) -> FastAPI:
    """The real faqbot app with the moderator console on the test store."""
    base = create_app(bot=bot, settings=console_settings, store=store)
    return with_console(base, settings=console_settings, store=store, clock=clock)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous browser on https://testserver (so Secure cookies are sent back)."""
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The first CSRF token in a page."""
    match = CSRF.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def login(client: TestClient, username: str, password: str):
    """Fill in the login form as a browser would; the POST's response (not followed)."""
    form = client.get("/moderate/login")
    assert form.status_code == 200, form.text
    data = {"username": username, "password": password, "csrf_token": csrf_from(form.text)}
    return client.post("/moderate/login", data=data, follow_redirects=False)


@pytest.fixture
def admin(client: TestClient) -> TestClient:
    """The client, logged in as the admin."""
    assert login(client, ADMIN, ADMIN_PW).status_code == 303
    return client


@pytest.fixture
def moderator(client: TestClient) -> TestClient:
    """The client, logged in as a (non-admin) moderator."""
    assert login(client, MOD, MOD_PW).status_code == 303
    return client


def page_csrf(client: TestClient, path: str = "/moderate") -> str:
    """The session's CSRF token, read from a page as the browser would."""
    response = client.get(path)
    assert response.status_code == 200, response.text
    return csrf_from(response.text)


def escalate(
    store: EscalationStore,
    message: str,
    *,
    category: str = "dosing",
    kind: str = "redirect",
    history: tuple[str, ...] = (),
    ref: str | None = None,
    score: float = 0.91,
) -> int:
    """Record an escalation like the Bot does (a "feedback" one as a negative vote); its id."""
    if category == "feedback":
        assert store.record_feedback(
            session_id="sess-mod", turn_id=1, helpful=False, comment=message
        )
        return store.list_escalations(limit=1)[0].id
    conversation = Conversation(session_id="sess-mod")
    for earlier in history:
        conversation.add(Turn(earlier, "answer", None, "what-is-kratom"))
    source = "rule" if ref is None else "exemplar"
    evidence = [
        Evidence(category=category, source=source, ref=ref or f"{category}-rule", score=score)
    ]
    reply = Reply(
        kind=kind,
        category=category,
        text=HELP,
        html=f"<p>{HELP}</p>",
        session_id="sess-mod",
        turn_id=len(history) + 1,
        resources=[ResourceRef(id="poison-help", name="Poison Help", phone="1-800-222-1222")],
    )
    assert store.record(
        BotTurn(message, reply, Verdict(category=category, evidence=evidence)), conversation
    )
    newest = store.list_escalations(limit=1)[0]
    return newest.id
