"""Roles and account management: moderators can't manage accounts; disable/reset end sessions."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from faqbot.moderate_accounts import AccountError, Accounts
from faqbot.moderate_triage import Triage
from tests.moderate.conftest import ADMIN, ADMIN_PW, MOD, MOD_PW, login, page_csrf, route_table

PARAM = re.compile(r"\{[^}]+\}")


@pytest.fixture
def second(app) -> TestClient:
    """Another browser on the same app (logged in as the moderator)."""
    other = TestClient(app, base_url="https://testserver")
    assert login(other, MOD, MOD_PW).status_code == 303
    return other


def account_routes(app) -> list[tuple[str, str]]:
    return [
        (method, PARAM.sub("1", path))
        for path, methods in route_table(app.routes)
        if path.startswith("/moderate/accounts")
        for method in sorted(methods - {"HEAD"})
    ]


def test_moderators_cannot_reach_any_account_route(app, moderator: TestClient, accounts):
    routes = account_routes(app)
    assert len(routes) >= 5
    token = page_csrf(moderator)
    for method, path in routes:
        data = {
            "csrf_token": token,
            "username": "x-new",
            "password": "p" * 14,
            "password_again": "p" * 14,
        }
        response = moderator.request(method, path, data=data, follow_redirects=False)
        assert response.status_code == 403, (method, path)
    assert "/moderate/accounts" not in moderator.get("/moderate").text  # not offered either
    assert [a.username for a in accounts.list()] == [ADMIN, MOD]
    assert not accounts.by_name(ADMIN).disabled


def test_admin_creates_an_account_that_can_log_in(admin: TestClient, app, accounts, store):
    page = admin.get("/moderate/accounts")
    assert page.status_code == 200 and '<th scope="row">mo</th>' in page.text
    response = admin.post(
        "/moderate/accounts",
        data={
            "csrf_token": page_csrf(admin, "/moderate/accounts"),
            "username": "newbie",
            "password": "a-fresh-long-password",
            "password_again": "a-fresh-long-password",
            "role": "moderator",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    created = accounts.by_name("newbie")
    assert created is not None and not created.is_admin
    fresh = TestClient(app, base_url="https://testserver")
    assert login(fresh, "newbie", "a-fresh-long-password").status_code == 303
    (entry,) = [e for e in Triage(engine=store.engine).recent() if e.action == "account.create"]
    assert (entry.moderator, entry.after, entry.note) == (ADMIN, "moderator", "newbie")


@pytest.mark.parametrize(
    ("username", "password", "again", "message"),
    [
        ("shorty", "short", "short", "at least 12 characters"),
        ("mismatch", "a-long-password-1", "a-long-password-2", "the two passwords differ"),
        (MOD, "a-long-password-1", "a-long-password-1", "already exists"),
        ("bad name!", "a-long-password-1", "a-long-password-1", "user names are"),
    ],
)
def test_account_creation_refusals(admin: TestClient, accounts, username, password, again, message):
    response = admin.post(
        "/moderate/accounts",
        data={
            "csrf_token": page_csrf(admin, "/moderate/accounts"),
            "username": username,
            "password": password,
            "password_again": again,
        },
    )
    assert response.status_code == 400 and message in response.text
    assert len(accounts.list()) == 2


def test_disabling_an_account_ends_its_sessions_at_once(
    admin: TestClient, second: TestClient, accounts
):
    assert second.get("/moderate").status_code == 200
    mod = accounts.by_name(MOD)
    response = admin.post(
        f"/moderate/accounts/{mod.id}/disable",
        data={"csrf_token": page_csrf(admin)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert second.get("/moderate", follow_redirects=False).status_code == 303
    assert (
        login(TestClient(second.app, base_url="https://testserver"), MOD, MOD_PW).status_code == 401
    )
    admin.post(f"/moderate/accounts/{mod.id}/enable", data={"csrf_token": page_csrf(admin)})
    assert login(second, MOD, MOD_PW).status_code == 303


def test_resetting_a_password_ends_sessions_and_only_the_new_one_works(
    admin: TestClient, second: TestClient, accounts
):
    mod = accounts.by_name(MOD)
    response = admin.post(
        f"/moderate/accounts/{mod.id}/password",
        data={
            "csrf_token": page_csrf(admin),
            "password": "brand-new-password",
            "password_again": "brand-new-password",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert second.get("/moderate", follow_redirects=False).status_code == 303
    assert login(second, MOD, MOD_PW).status_code == 401
    assert login(second, MOD, "brand-new-password").status_code == 303
    assert accounts.by_name(MOD).password_changed_at > mod.password_changed_at


def test_an_admin_cannot_disable_their_own_account(admin: TestClient, accounts):
    me = accounts.by_name(ADMIN)
    response = admin.post(
        f"/moderate/accounts/{me.id}/disable", data={"csrf_token": page_csrf(admin)}
    )
    assert response.status_code == 400 and "your own account" in response.text
    assert not accounts.by_name(ADMIN).disabled


def test_disable_and_reset_from_the_library_end_sessions_too(moderator: TestClient, accounts):
    accounts.reset_password(accounts.by_name(MOD).id, "another-long-password")
    assert moderator.get("/moderate", follow_redirects=False).status_code == 303
    assert login(moderator, MOD, "another-long-password").status_code == 303
    accounts.set_disabled(accounts.by_name(MOD).id, True)
    assert moderator.get("/moderate", follow_redirects=False).status_code == 303


def test_passwords_are_stored_as_argon2_hashes(store, accounts: Accounts):
    with store.engine.connect() as connection:
        hashes = [
            row[0] for row in connection.exec_driver_sql("SELECT password_hash FROM moderators")
        ]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert not any(ADMIN_PW in h or MOD_PW in h for h in hashes)
    with pytest.raises(AccountError):
        accounts.create("x" * 65, "a-long-password-1")
