"""413 / 415 / 422 / 429, CORS, security headers, the debug worker header, JSON logs."""

from __future__ import annotations

import json
import logging
import os

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.jsonlog import JsonFormatter
from faqbot.security import TrustedProxies, content_security_policy, is_json_type
from tests.api.conftest import FakeStore

ORIGIN = "https://clinic.example"


def test_body_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "x" * 20_000})
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


def test_streamed_body_over_the_limit_is_413(client: TestClient) -> None:
    def chunks():
        yield b'{"message": "'
        for _ in range(40):
            yield b"x" * 1000
        yield b'"}'

    response = client.post(
        "/api/chat", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == "body_too_large"


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None]
)
def test_non_json_bodies_are_415(client: TestClient, content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = client.post("/api/chat", content=b'{"message": "hi"}', headers=headers)
    assert response.status_code == 415
    assert "application/json" in response.json()["message"]


def test_json_with_charset_is_accepted(client: TestClient) -> None:
    response = client.post(
        "/api/chat",
        content=b'{"message": "hello"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 200


@pytest.mark.parametrize("raw", [b'{"message": "hi"', b"{message: hi}", b"\xff\xfe", b"nul"])
def test_malformed_json_is_422_with_a_readable_message(client: TestClient, raw: bytes) -> None:
    response = client.post("/api/chat", content=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert "not valid JSON" in response.json()["message"] or "body" in response.json()["message"]


def test_rate_limit_is_429_with_retry_after(bot, api_settings) -> None:
    settings = api_settings.model_copy(update={"rate_limit_per_minute": 2})
    with TestClient(create_app(bot=bot, settings=settings, store=FakeStore())) as client:
        statuses = [client.post("/api/chat", json={"message": "hello"}) for _ in range(3)]
        other = TestClient(client.app, client=("192.0.2.9", 1))
        other_status = other.post("/api/chat", json={"message": "hello"}).status_code
        metrics = client.get("/metrics").text
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[2]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["error"] == "rate_limited"
    assert other_status == 200  # the limit is per client
    assert 'faqbot_rate_limited_total{scope="chat"} 1.0' in metrics


def test_rate_limit_zero_turns_it_off(client: TestClient) -> None:
    assert all(
        client.post("/api/chat", json={"message": "hello"}).status_code == 200 for _ in range(40)
    )


def test_cors_preflight_for_an_allowed_origin(client: TestClient) -> None:
    response = client.options(
        "/api/chat",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert "content-type" in response.headers["access-control-allow-headers"].lower()


def test_cors_preflight_for_a_refused_origin(client: TestClient) -> None:
    response = client.options(
        "/api/chat",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_on_actual_requests(client: TestClient) -> None:
    allowed = client.post("/api/chat", json={"message": "hello"}, headers={"Origin": ORIGIN})
    refused = client.post(
        "/api/chat", json={"message": "hello"}, headers={"Origin": "https://evil.example"}
    )
    assert allowed.headers["access-control-allow-origin"] == ORIGIN
    assert "access-control-allow-origin" not in refused.headers


def test_cors_is_only_for_the_api(client: TestClient) -> None:
    response = client.get("/healthz", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/api/chat", {"message": "hello"}),
        ("GET", "/api/faq", None),
        ("GET", "/healthz", None),
        ("GET", "/metrics", None),
        ("GET", "/nope", None),
        ("POST", "/api/chat", {"message": ""}),
        ("GET", "/", None),
        ("GET", "/openapi.json", None),
    ],
)
def test_security_headers_on_every_response(client: TestClient, method, path, body) -> None:
    response = client.request(method, path, json=body)
    headers = response.headers
    csp = headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"connect-src 'self' {ORIGIN}",
        "frame-ancestors 'none'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "x-faqbot-worker" not in headers


def test_security_headers_on_early_rejections(client: TestClient) -> None:
    for response in (
        client.post("/api/chat", content=b"x", headers={"Content-Type": "text/plain"}),
        client.post("/api/chat", json={"message": "x" * 20_000}),
    ):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


def test_debug_headers_name_the_worker(bot, api_settings) -> None:
    settings = api_settings.model_copy(update={"debug_headers": True})
    with TestClient(create_app(bot=bot, settings=settings, store=FakeStore())) as client:
        response = client.get("/healthz")
    assert response.headers["x-faqbot-worker"] == str(os.getpid())


def test_docs_policy_allows_only_inline_styles() -> None:
    csp = content_security_policy("/docs", [])
    assert "style-src 'self' 'unsafe-inline'" in csp
    assert "script-src 'self';" in csp


def test_trusted_proxies_pick_the_nearest_untrusted_hop() -> None:
    proxies = TrustedProxies(["10.0.0.0/8", "192.0.2.1"])
    assert proxies.client_ip("198.51.100.4", "203.0.113.9") == "198.51.100.4"
    assert proxies.client_ip("10.1.2.3", "203.0.113.9, 192.0.2.1") == "203.0.113.9"
    assert proxies.client_ip("10.1.2.3", "1.1.1.1, 203.0.113.9") == "203.0.113.9"
    assert proxies.client_ip("10.1.2.3", None) == "10.1.2.3"
    assert proxies.client_ip(None, "203.0.113.9") == "unknown"


def test_json_content_types() -> None:
    assert is_json_type("application/json")
    assert is_json_type("Application/JSON; charset=utf-8")
    assert is_json_type("application/merge-patch+json")
    assert not is_json_type("text/json-ish")
    assert not is_json_type(None)


def test_logs_are_one_json_object_per_line() -> None:
    try:
        raise ValueError("boom\nwith a newline")
    except ValueError:
        import sys

        record = logging.LogRecord(
            "faqbot.api", logging.ERROR, __file__, 1, "failed %s", ("x",), sys.exc_info()
        )
    record.path = "/api/chat"
    line = JsonFormatter().format(record)
    assert "\n" not in line
    data = json.loads(line)
    assert data["message"] == "failed x" and data["level"] == "error"
    assert data["path"] == "/api/chat" and "ValueError" in data["exception"]


def test_request_log_has_no_client_address(client: TestClient, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="faqbot.http"):
        client.post("/api/chat", json={"message": "hello"})
    records = [r for r in caplog.records if r.name == "faqbot.http"]
    assert records and records[-1].status == 200 and records[-1].path == "/api/chat"
    assert "testclient" not in json.dumps([JsonFormatter().format(r) for r in records])
