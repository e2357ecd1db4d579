"""Web security of the widget endpoints: the CORS allowlist, preflights, and no reflected input.

The app runs on the real Bot and a real SQLite store with one allowed origin
(https://clinic.example). A `<script>` sent in paths, query strings, JSON fields, JSON keys and
headers must never come back unescaped in any response body.
"""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from tests.robust.conftest import ALLOWED_ORIGIN

XSS = "<script>alert(1)</script>"
SVG = "<svg onload=alert(1)>"  # no slash: fits in one path segment
REFUSED_ORIGINS = [
    "https://evil.example",
    "http://clinic.example",  # same host, other scheme
    "https://clinic.example:8443",  # other port
    "https://clinic.example.evil.example",  # allowed origin as a prefix
    "https://sub.clinic.example",
    "null",
]


# ---------------------------------------------------------------------------- CORS
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/chat", {"message": "what is kratom"}),
        ("GET", "/api/faq", None),
        ("POST", "/api/feedback", {"session_id": "s", "turn_id": 1, "helpful": True}),
    ],
)
def test_allowed_origin_gets_cors_headers(client: TestClient, method, path, body) -> None:
    response = client.request(method, path, json=body, headers={"Origin": ALLOWED_ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers.get("vary", "").lower()


@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
def test_other_origins_get_no_cors_headers(client: TestClient, origin: str) -> None:
    response = client.post(
        "/api/chat", json={"message": "what is kratom"}, headers={"Origin": origin}
    )
    assert response.status_code == 200  # the server answers; the browser withholds it
    assert "access-control-allow-origin" not in response.headers


def preflight(client: TestClient, origin: str, method: str = "POST", headers: str = "content-type"):
    """An OPTIONS preflight for /api/chat."""
    return client.options(
        "/api/chat",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def test_preflight_from_the_allowed_origin(client: TestClient) -> None:
    response = preflight(client, ALLOWED_ORIGIN)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()
    assert response.headers["access-control-max-age"] == "600"
    assert "access-control-allow-credentials" not in response.headers


@pytest.mark.parametrize("origin", REFUSED_ORIGINS)
def test_preflight_from_other_origins_is_refused(client: TestClient, origin: str) -> None:
    response = preflight(client, origin)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("method", "headers"),
    [
        ("DELETE", "content-type"),
        ("PUT", "content-type"),
        ("POST", "x-api-key"),
        ("POST", "cookie"),
    ],
)
def test_preflight_for_other_methods_or_headers_is_refused(client: TestClient, method, headers):
    response = preflight(client, ALLOWED_ORIGIN, method=method, headers=headers)
    assert response.status_code == 400


def test_pages_and_widget_files_get_no_cors_headers(client: TestClient) -> None:
    for path in ("/", "/widget.js", "/widget.css", "/healthz", "/metrics"):
        response = client.get(path, headers={"Origin": ALLOWED_ORIGIN})
        assert "access-control-allow-origin" not in response.headers, path


# ---------------------------------------------------------------------------- reflected input
def assert_not_reflected(response) -> None:
    """The body does not contain the script tag as sent (any case)."""
    body = response.text.lower()
    for marker in ("<script>alert", "<svg onload"):
        assert marker not in body, (response.status_code, response.text[:300])
    assert response.status_code < 500


@pytest.mark.parametrize(
    "path",
    [
        f"/{XSS}",
        f"/api/{XSS}",
        f"/api/faq/x{XSS}",
        f"/api/faq/{SVG}",
        f"/{SVG}",
        f"/api/{SVG}",
        f"/widget.js/{XSS}",
        f"/docs/{XSS}",
        f"/moderate/{XSS}",
        f"/?q={XSS}",
        f"/api/faq?q={XSS}",
        f"/readyz?{XSS}",
        f"/docs?url={XSS}",
        f"/metrics?name[]={XSS}",
    ],
)
def test_paths_and_query_strings_are_not_reflected(client: TestClient, path: str) -> None:
    for method in ("GET", "POST"):
        assert_not_reflected(client.request(method, path, json={"message": "hi"}))


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/chat", {"message": XSS}),
        ("/api/chat", {"message": f"how much kratom should I take {XSS}"}),
        ("/api/chat", {"message": "what is kratom", "session_id": XSS}),
        ("/api/chat", {"message": "hi", "locale": XSS}),
        ("/api/chat", {"message": XSS * 200}),  # too long: 422
        ("/api/chat", {"message": ["x", XSS]}),
        ("/api/chat", {XSS: "what is kratom"}),
        ("/api/chat", {"message": SVG, "locale": SVG, "session_id": SVG}),
        ("/api/feedback", {"session_id": XSS, "turn_id": 1, "helpful": False, "comment": XSS}),
        ("/api/feedback", {"session_id": "s", "turn_id": XSS, "helpful": XSS}),
        ("/api/feedback", {"session_id": "s", "turn_id": 1, "helpful": True, XSS: XSS}),
    ],
)
def test_json_fields_are_not_reflected(client: TestClient, path: str, body: dict) -> None:
    assert_not_reflected(client.post(path, json=body))


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (f'{{"message": "{XSS}"', "application/json"),  # truncated JSON
        (f"message={XSS}", "application/x-www-form-urlencoded"),
        (XSS, f"text/html; {XSS}"),
        (json.dumps({"message": XSS}), f"application/json; charset={XSS}"),
    ],
)
def test_malformed_bodies_are_not_reflected(client: TestClient, content, content_type) -> None:
    assert_not_reflected(
        client.post("/api/chat", content=content, headers={"Content-Type": content_type})
    )


def test_headers_are_not_reflected(client: TestClient) -> None:
    headers = {"Origin": XSS, "X-Forwarded-For": XSS, "Accept-Language": XSS, "Referer": XSS}
    for path in ("/api/chat", "/", "/nowhere"):
        assert_not_reflected(client.post(path, json={"message": "hi"}, headers=headers))
