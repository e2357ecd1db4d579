"""Login, lockout, logout, session fixation, idle timeout, cookie flags and the login form's CSRF."""

from __future__ import annotations

from fastapi.testclient import TestClient

from faqbot.moderate_accounts import LOCKOUT, MAX_FAILURES
from tests.moderate.conftest import ADMIN, ADMIN_PW, MOD, MOD_PW, csrf_from, login, page_csrf

SESSION = "faqbot_moderator"


def set_cookie_header(response, name: str) -> str:
    """The Set-Cookie header for one cookie name."""
    headers = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(headers) == 1, response.headers.get_list("set-cookie")
    return headers[0]


def test_login_starts_a_session_and_opens_the_queue(client: TestClient):
    response = login(client, MOD, MOD_PW)
    assert response.status_code == 303 and response.headers["location"] == "/moderate"
    queue = client.get("/moderate")
    assert queue.status_code == 200
    assert "Escalation queue" in queue.text and f"Signed in as <strong>{MOD}</strong>" in queue.text


def test_session_cookie_is_httponly_samesite_strict_and_secure_by_default(client: TestClient):
    header = set_cookie_header(login(client, MOD, MOD_PW), SESSION).lower()
    assert "httponly" in header and "samesite=strict" in header and "path=/moderate" in header
    assert "secure" in header  # served as https://testserver: not loopback
    assert "max-age" not in header and "expires" not in header  # ends with the browser session


def test_cookie_is_not_secure_on_loopback_unless_configured(app, console_settings):
    with TestClient(app, base_url="http://127.0.0.1:8000") as local:
        header = set_cookie_header(login(local, MOD, MOD_PW), SESSION).lower()
        assert "secure" not in header.replace("samesite", "")
        assert local.get("/moderate").status_code == 200  # the plain-http loopback session works
    with TestClient(app, base_url="http://localhost") as local:
        header = set_cookie_header(login(local, MOD, MOD_PW), SESSION).lower()
        assert "; secure" not in header


def test_secure_cookies_setting_forces_the_flag_on_loopback(
    bot, store, accounts, clock, console_settings
):
    from faqbot.api import create_app
    from tests.moderate.conftest import with_console

    forced = console_settings.model_copy(update={"secure_cookies": True})
    app = with_console(
        create_app(bot=bot, settings=forced, store=store), settings=forced, store=store, clock=clock
    )
    with TestClient(app, base_url="https://127.0.0.1") as local:
        header = set_cookie_header(login(local, MOD, MOD_PW), SESSION).lower()
        assert "; secure" in header


def test_wrong_password_and_unknown_name_get_the_same_answer(client: TestClient):
    wrong = login(client, MOD, "not-the-password-at-all")
    unknown = login(client, "nobody-here", "not-the-password-at-all")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "Wrong user name or password." in response.text
        assert SESSION not in client.cookies
    assert client.get("/moderate", follow_redirects=False).status_code == 303


def test_five_failures_lock_the_name_for_15_minutes(client: TestClient, clock):
    for attempt in range(1, MAX_FAILURES + 1):
        response = login(client, MOD, f"wrong-password-{attempt:03d}")
        assert response.status_code == (429 if attempt == MAX_FAILURES else 401), attempt
    locked = login(client, MOD, MOD_PW)  # the RIGHT password, refused while locked
    assert locked.status_code == 429 and "Too many failed logins" in locked.text
    assert SESSION not in client.cookies
    assert login(client, ADMIN, ADMIN_PW).status_code == 303  # other names are not locked
    client.cookies.clear()
    clock.advance(seconds=LOCKOUT.total_seconds() - 60)
    assert login(client, MOD, MOD_PW).status_code == 429  # still locked a minute before the end
    clock.advance(seconds=61)
    assert login(client, MOD, MOD_PW).status_code == 303


def test_a_successful_login_resets_the_failure_count(client: TestClient):
    for attempt in range(MAX_FAILURES - 1):
        assert login(client, MOD, f"wrong-password-{attempt:03d}").status_code == 401
    assert login(client, MOD, MOD_PW).status_code == 303
    client.cookies.clear()
    for attempt in range(MAX_FAILURES - 1):
        assert login(client, MOD, f"wrong-password-{attempt:03d}").status_code == 401
    assert login(client, MOD, MOD_PW).status_code == 303


def test_logout_ends_the_session_on_the_server(client: TestClient):
    login(client, MOD, MOD_PW)
    token = client.cookies.get(SESSION)
    response = client.post(
        "/moderate/logout", data={"csrf_token": page_csrf(client)}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/moderate/login"
    client.cookies.set(SESSION, token, domain="testserver.local", path="/moderate")  # replay it
    assert client.get("/moderate", follow_redirects=False).status_code == 303


def test_login_always_issues_a_new_session_id(client: TestClient):
    login(client, MOD, MOD_PW)
    first = client.cookies.get(SESSION)
    response = login(client, MOD, MOD_PW)  # logging in again with the old cookie present
    second = set_cookie_header(response, SESSION).split(";")[0].split("=", 1)[1]
    assert second != first
    client.cookies.set(SESSION, first, domain="testserver.local", path="/moderate")
    assert client.get("/moderate", follow_redirects=False).status_code == 303  # old id is dead


def test_a_planted_session_id_is_never_adopted(client: TestClient):
    client.cookies.set(SESSION, "attacker-chosen-id", domain="testserver.local", path="/moderate")
    response = login(client, MOD, MOD_PW)
    assert "attacker-chosen-id" not in set_cookie_header(response, SESSION)


def test_idle_sessions_expire(client: TestClient, clock, console_settings):
    login(client, MOD, MOD_PW)
    clock.advance(minutes=console_settings.moderator_idle_minutes - 1)
    assert client.get("/moderate").status_code == 200  # activity keeps it alive
    clock.advance(minutes=console_settings.moderator_idle_minutes - 1)
    assert client.get("/moderate").status_code == 200
    clock.advance(minutes=console_settings.moderator_idle_minutes + 1)
    response = client.get("/moderate", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/moderate/login"


def test_login_form_without_or_with_a_wrong_csrf_token_is_refused(client: TestClient):
    form = client.get("/moderate/login")
    token = csrf_from(form.text)
    for data in (
        {"username": MOD, "password": MOD_PW},
        {"username": MOD, "password": MOD_PW, "csrf_token": "wrong"},
        {"username": MOD, "password": MOD_PW, "csrf_token": ""},
    ):
        response = client.post("/moderate/login", data=data, follow_redirects=False)
        assert response.status_code == 403
        assert SESSION not in client.cookies
    client.cookies.clear()  # the token alone, without its signed cookie, is not enough
    response = client.post(
        "/moderate/login",
        data={"username": MOD, "password": MOD_PW, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_login_csrf_cookie_must_carry_a_valid_signature(client: TestClient):
    client.cookies.set(
        "faqbot_login_csrf", "chosen.0000", domain="testserver.local", path="/moderate/login"
    )
    response = client.post(
        "/moderate/login",
        data={"username": MOD, "password": MOD_PW, "csrf_token": "chosen"},
        follow_redirects=False,
    )
    assert response.status_code == 403


def test_disabled_accounts_cannot_log_in(client: TestClient, accounts):
    accounts.set_disabled(accounts.by_name(MOD).id, True)
    assert login(client, MOD, MOD_PW).status_code == 401


def test_user_input_on_the_login_page_is_escaped(client: TestClient):
    response = login(client, '"><script>alert(1)</script>', "whatever-password")
    assert response.status_code == 401
    assert "<script>alert(1)</script>" not in response.text
    assert "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
