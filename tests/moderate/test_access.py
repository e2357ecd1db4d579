"""Access control: every /moderate route but the login page (and its stylesheet) needs a session.

The routes are ENUMERATED from the app, so a route added later is covered automatically.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from faqbot.moderate import PUBLIC_PATHS
from tests.moderate.conftest import ADMIN, ADMIN_PW, login, route_table

PARAM = re.compile(r"\{[^}]+\}")


def moderation_routes(app) -> list[tuple[str, str]]:
    """(method, concrete path) for every /moderate route except the public ones."""
    found = []
    for template, methods in route_table(app.routes):
        if not template.startswith("/moderate") or template in PUBLIC_PATHS:
            continue
        path = PARAM.sub("1", template)
        found.extend((method, path) for method in sorted(methods - {"HEAD"}))
    return found


def assert_refused(response, method: str, path: str) -> None:
    if response.status_code == 303:
        assert response.headers["location"] == "/moderate/login", (method, path)
    else:
        assert response.status_code == 401, (method, path, response.status_code, response.text)
    assert "csrf_token" not in response.text, (method, path)


def test_only_the_login_page_and_its_stylesheet_are_public():
    assert PUBLIC_PATHS == {"/moderate/login", "/moderate/static/console.css"}


def test_the_enumeration_sees_every_kind_of_console_route(app):
    paths = {path for _method, path in moderation_routes(app)}
    methods = {method for method, _path in moderation_routes(app)}
    assert {"/moderate", "/moderate/escalations/1", "/moderate/overview", "/moderate/gaps"} <= paths
    assert {"/moderate/accounts", "/moderate/logout", "/moderate/escalations/1/resolve"} <= paths
    assert methods == {"GET", "POST"} and len(paths) >= 14


def test_every_moderator_route_refuses_anonymous_requests(app, client: TestClient, store):
    routes = moderation_routes(app)
    for method, path in routes:
        response = client.request(method, path, data={"csrf_token": "x"}, follow_redirects=False)
        assert_refused(response, method, path)
    assert store.count_escalations() == 0  # nothing was done on anyone's behalf


def test_every_moderator_route_refuses_a_forged_or_ended_session(app, client: TestClient):
    assert login(client, ADMIN, ADMIN_PW).status_code == 303
    real = client.cookies.get("faqbot_moderator")
    client.post("/moderate/logout", data={"csrf_token": csrf(client)}, follow_redirects=False)
    for cookie in (real, "forged-session-token"):
        client.cookies.set("faqbot_moderator", cookie, domain="testserver.local", path="/moderate")
        for method, path in moderation_routes(app):
            response = client.request(
                method, path, data={"csrf_token": "x"}, follow_redirects=False
            )
            assert_refused(response, method, path)


def csrf(client: TestClient) -> str:
    from tests.moderate.conftest import page_csrf

    return page_csrf(client)


def test_the_login_page_is_open_and_styled_without_inline_css(client: TestClient):
    page = client.get("/moderate/login")
    assert page.status_code == 200
    assert 'name="username"' in page.text and 'name="password"' in page.text
    assert 'href="/moderate/static/console.css"' in page.text
    assert "style=" not in page.text and "<style" not in page.text and "<script" not in page.text
    css = client.get("/moderate/static/console.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/moderate/login", "/moderate", "/moderate/overview"])
def test_pages_send_strict_security_headers(admin: TestClient, path: str):
    response = admin.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert "script-src 'self'" in csp and "style-src 'self'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert response.headers["cache-control"] == "no-store"


def test_no_console_page_uses_inline_script_or_style(admin: TestClient, store):
    from tests.moderate.conftest import escalate

    escalation = escalate(store, "how much kratom should I take")
    for path in [
        "/moderate",
        f"/moderate/escalations/{escalation}",
        "/moderate/overview",
        "/moderate/gaps",
        "/moderate/accounts",
    ]:
        html = admin.get(path).text
        assert "<script" not in html and "<style" not in html and " style=" not in html, path
        assert "http://" not in html and "https://" not in html, path  # no CDN, nothing external


def test_the_one_line_wiring_uses_the_apps_own_store_and_bot(
    bot, console_settings, store, accounts
):
    """As the lead wires it: `app.include_router(moderation_router(settings=..., store=store))`
    where create_app's `store` may be None (then the app's lifespan-opened store is used)."""
    from faqbot.api import create_app
    from faqbot.moderate import moderation_router
    from tests.moderate.conftest import FAST_HASHER, MOD, MOD_PW

    app = create_app(bot=bot, settings=console_settings, store=store)
    app.include_router(moderation_router(settings=console_settings, store=None, hasher=FAST_HASHER))
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/moderate", follow_redirects=False).status_code == 303
        assert login(client, MOD, MOD_PW).status_code == 303
        assert "only identical questions" not in client.get("/moderate/gaps").text


def test_without_a_database_the_console_says_so(bot, console_settings):
    from faqbot.api import create_app
    from faqbot.moderate import moderation_router

    app = create_app(bot=bot, settings=console_settings, store=None)  # a bot but no store
    app.include_router(moderation_router(settings=console_settings))
    with TestClient(app, base_url="https://testserver") as client:
        assert client.get("/moderate/login").status_code == 503
        assert client.get("/moderate", follow_redirects=False).status_code == 503
