"""CSRF: every state-changing console route (enumerated from the app) refuses a missing or wrong token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from faqbot.moderate import PUBLIC_PATHS
from faqbot.moderate_triage import Triage
from tests.moderate.conftest import MOD, escalate, page_csrf, route_table

PARAM = re.compile(r"\{[^}]+\}")


def post_routes(app) -> list[str]:
    """Every /moderate path that accepts POST (login excluded: it has its own CSRF test)."""
    return sorted(
        PARAM.sub("1", path)
        for path, methods in route_table(app.routes)
        if path.startswith("/moderate") and "POST" in methods and path not in PUBLIC_PATHS
    )


def test_every_post_route_refuses_a_missing_or_wrong_csrf_token(
    app, admin: TestClient, store, accounts
):
    escalation = escalate(store, "how much kratom should I take")
    assert escalation == 1
    routes = post_routes(app)
    assert len(routes) >= 9 and "/moderate/logout" in routes
    fields = {
        "note": "a note",
        "username": "newbie",
        "password": "x" * 16,
        "password_again": "x" * 16,
    }
    for path in routes:
        for token in (None, "", "wrong-token", page_csrf(admin) + "x"):
            data = dict(fields) if token is None else {**fields, "csrf_token": token}
            response = admin.post(path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, token, response.status_code)
    # nothing happened: still new, no audit entries, no new account, every account enabled
    assert store.get_escalation(1).status == "new"
    assert Triage(engine=store.engine).audit_for(1) == []
    assert [a.username for a in accounts.list()] == ["ada", MOD]
    assert not any(a.disabled for a in accounts.list())
    assert admin.get("/moderate").status_code == 200  # and the session is still alive


def test_the_csrf_token_is_per_session(client: TestClient, accounts, store):
    from tests.moderate.conftest import ADMIN, ADMIN_PW, MOD_PW, login

    escalate(store, "how much kratom should I take")
    login(client, MOD, MOD_PW)
    moderator_token = page_csrf(client)
    login(client, ADMIN, ADMIN_PW)
    response = client.post(
        "/moderate/escalations/1/take",
        data={"csrf_token": moderator_token},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert page_csrf(client) != moderator_token


def test_a_valid_token_is_accepted(admin: TestClient, store):
    escalate(store, "how much kratom should I take")
    response = admin.post(
        "/moderate/escalations/1/take",
        data={"csrf_token": page_csrf(admin)},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert store.get_escalation(1).status == "in_review"
