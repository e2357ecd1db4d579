"""Cross-cutting web security of the moderator console AS create_app WIRES IT (no test router).

tests/moderate/ checks the console's own router in depth; these checks run on the production app
(the console behind the hardening middleware and the API's CORS), enumerating its routes:
anonymous refusal, clickjacking headers on every response, session fixation, logout, cookie
flags, CSRF on every POST, and no reflected input.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from faqbot.api import create_app
from tests.robust.conftest import ALLOWED_ORIGIN

moderate = pytest.importorskip("faqbot.moderate", reason="the moderator console is not there yet")
accounts_module = pytest.importorskip("faqbot.moderate_accounts")

ADMIN, ADMIN_PW = "robust-admin", "robust-admin-password-1"
SESSION_COOKIE = "faqbot_moderator"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')
PARAM = re.compile(r"\{[^}]+\}")
SVG = "<svg onload=alert(1)>"


def route_table(app: FastAPI) -> list[tuple[str, set[str]]]:
    """(path template, methods) of every HTTP route, inside included routers too."""
    from fastapi import routing

    flatten = getattr(routing, "iter_route_contexts", None)
    contexts = list(flatten(app.routes)) if flatten else list(app.routes)
    return [
        (c.path, set(c.methods or ()) - {"HEAD"})
        for c in contexts
        if getattr(c, "path", None) and getattr(c, "methods", None)
    ]


def console_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, concrete path) of every non-public /moderate route of the app."""
    found = []
    for template, methods in route_table(app):
        if template.startswith("/moderate") and template not in moderate.PUBLIC_PATHS:
            found += [(m, PARAM.sub("1", template)) for m in sorted(methods)]
    return found


@pytest.fixture(scope="module")
def admin_account(sqlite_store) -> str:
    """An admin account in the module's store (cheap argon2 parameters)."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    accounts_module.Accounts(engine=sqlite_store.engine, hasher=hasher).create(
        ADMIN, ADMIN_PW, admin=True
    )
    return ADMIN


@pytest.fixture
def app(bot, api_settings, sqlite_store, admin_account) -> FastAPI:
    """The production app: create_app with its own console router."""
    made = create_app(bot=bot, settings=api_settings, store=sqlite_store)
    if not console_routes(made):
        pytest.skip("create_app does not mount the moderator console yet")
    return made


@pytest.fixture
def browser(app: FastAPI) -> Iterator[TestClient]:
    """An anonymous browser on https (the console's cookies are Secure off loopback)."""
    with TestClient(app, base_url="https://testserver") as test_client:
        yield test_client


def csrf_of(page: str) -> str:
    """The first CSRF token of a form."""
    match = CSRF_FIELD.search(page)
    assert match, "no csrf_token field on the page"
    return match.group(1)


def log_in(browser: TestClient):
    """Log in through the form like a person; the POST's response."""
    token = csrf_of(browser.get("/moderate/login").text)
    data = {"username": ADMIN, "password": ADMIN_PW, "csrf_token": token}
    return browser.post("/moderate/login", data=data, follow_redirects=False)


def assert_not_framable(response) -> None:
    """Clickjacking defence: no framing by anyone."""
    assert response.headers.get("x-frame-options") == "DENY", response.headers
    assert "frame-ancestors 'none'" in response.headers.get("content-security-policy", "")


def assert_refused(response, method: str, path: str) -> None:
    """Anonymous: a page view goes to the login page, anything else is 401."""
    if method == "GET":
        assert response.status_code == 303, (method, path, response.status_code)
        assert response.headers["location"] == "/moderate/login"
    else:
        assert response.status_code == 401, (method, path, response.status_code)
    assert "csrf_token" not in response.text


# ---------------------------------------------------------------------------- anonymous
def test_the_production_app_mounts_the_whole_console(app: FastAPI) -> None:
    routes = console_routes(app)
    assert {"GET", "POST"} == {m for m, _ in routes} and len(routes) >= 14


def test_every_console_route_refuses_anonymous_requests(app: FastAPI, browser, sqlite_store):
    before = sqlite_store.count_escalations()
    for method, path in console_routes(app):
        response = browser.request(
            method,
            path,
            data={"csrf_token": "x"},
            headers={"Origin": ALLOWED_ORIGIN},
            follow_redirects=False,
        )
        assert_refused(response, method, path)
        assert_not_framable(response)
        assert "access-control-allow-origin" not in response.headers  # CORS is for /api/ only
    assert sqlite_store.count_escalations() == before


# ---------------------------------------------------------------------------- sessions
def cookie_attributes(response, name: str) -> dict[str, str]:
    """The Set-Cookie attributes of `name` in a response (lower-case keys)."""
    for header in response.headers.get_list("set-cookie"):
        jar = SimpleCookie()
        jar.load(header)
        if name in jar:
            morsel = jar[name]
            attributes = {k: str(v) for k, v in morsel.items() if v}
            flags = {f.strip().lower() for f in header.split(";")[1:]}
            attributes.update({f: "true" for f in flags if "=" not in f})
            return {"value": morsel.value, **attributes}
    raise AssertionError(f"no Set-Cookie for {name}")


def test_login_issues_a_new_session_id_with_strict_cookie_flags(browser) -> None:
    browser.cookies.set(SESSION_COOKIE, "planted-by-an-attacker", path="/moderate")
    response = log_in(browser)
    assert response.status_code == 303
    cookie = cookie_attributes(response, SESSION_COOKIE)
    assert cookie["value"] != "planted-by-an-attacker" and len(cookie["value"]) >= 32
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"].lower() == "strict" and cookie["path"] == "/moderate"
    assert_not_framable(response)


def test_each_login_gets_a_different_session_id(app: FastAPI) -> None:
    seen = set()
    for _ in range(2):
        with TestClient(app, base_url="https://testserver") as browser:
            seen.add(cookie_attributes(log_in(browser), SESSION_COOKIE)["value"])
    assert len(seen) == 2


def test_logout_invalidates_the_session_on_the_server(browser) -> None:
    log_in(browser)
    token = browser.cookies.get(SESSION_COOKIE)
    page = browser.get("/moderate")
    assert page.status_code == 200
    logout = browser.post(
        "/moderate/logout", data={"csrf_token": csrf_of(page.text)}, follow_redirects=False
    )
    assert logout.status_code == 303
    browser.cookies.set(SESSION_COOKIE, token, path="/moderate")  # replay the old cookie
    replay = browser.get("/moderate", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"] == "/moderate/login"


# ---------------------------------------------------------------------------- CSRF and framing
def test_every_post_needs_the_sessions_csrf_token(app: FastAPI, browser, sqlite_store) -> None:
    log_in(browser)
    statuses = {r.status for r in sqlite_store.list_escalations()}
    posts = [path for method, path in console_routes(app) if method == "POST"]
    assert "/moderate/logout" in posts
    for path in posts:
        for data in ({}, {"csrf_token": "not-the-token"}, {"csrf_token": ""}):
            response = browser.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data, response.status_code)
            assert_not_framable(response)
    assert browser.get("/moderate").status_code == 200  # still logged in: logout was refused
    assert {r.status for r in sqlite_store.list_escalations()} == statuses


def test_every_console_page_forbids_framing(app: FastAPI, browser) -> None:
    for path in sorted(moderate.PUBLIC_PATHS) + ["/moderate/nowhere"]:
        assert_not_framable(browser.get(path, follow_redirects=False))
    log_in(browser)
    pages = [path for method, path in console_routes(app) if method == "GET"]
    for path in pages:
        assert_not_framable(browser.get(path, follow_redirects=False))


# ---------------------------------------------------------------------------- reflected input
@pytest.mark.parametrize(
    "path",
    [
        f"/moderate?q={SVG}&category={SVG}&status={SVG}&since={SVG}",
        f"/moderate/escalations/{SVG}",
        f"/moderate/{SVG}",
        f"/moderate/overview?days={SVG}",
        f"/moderate/export.csv?q={SVG}",
    ],
)
def test_console_does_not_reflect_input(browser, path: str) -> None:
    log_in(browser)
    response = browser.get(path, follow_redirects=False)
    assert response.status_code < 500
    assert "<svg onload" not in response.text.lower(), (response.status_code, response.text[:300])


def test_login_form_does_not_reflect_input(browser) -> None:
    token = csrf_of(browser.get("/moderate/login").text)
    data = {"username": SVG, "password": SVG, "csrf_token": token}
    response = browser.post("/moderate/login", data=data, follow_redirects=False)
    assert "<svg onload" not in response.text.lower()
