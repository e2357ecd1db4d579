"""Health, readiness, metrics, the FAQ routes, feedback, OpenAPI, offline docs, pages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.engine import build_degraded_bot
from tests.api.conftest import Chat, FakeStore


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_readyz_when_index_and_store_are_up(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"ready": True, "index": True, "store": True, "sessions": True}


def test_readyz_false_when_the_store_is_down(bot, api_settings) -> None:
    store = FakeStore(up=False)
    with TestClient(create_app(bot=bot, settings=api_settings, store=store)) as client:
        response = client.get("/readyz")
        answered = client.post("/api/chat", json={"message": "what is kratom"})
    assert response.status_code == 503
    assert response.json()["store"] is False and response.json()["index"] is True
    assert answered.status_code == 200  # not ready for the balancer, but still answering


def test_degraded_bot_is_not_ready_but_still_guards(settings, real_kb) -> None:
    degraded = build_degraded_bot(settings, real_kb)
    store = FakeStore()
    with TestClient(create_app(bot=degraded, settings=settings, store=store)) as client:
        ready = client.get("/readyz")
        emergency = client.post(
            "/api/chat", json={"message": "my friend took kratom and won't wake up"}
        ).json()
        other = client.post("/api/chat", json={"message": "what is kratom"}).json()
    assert ready.status_code == 503 and ready.json()["index"] is False
    assert emergency["kind"] == "emergency"
    assert (other["kind"], other["category"]) == ("redirect", "error")
    assert len(store.escalations) == 2


def test_startup_purges_old_records(client: TestClient, fake_store: FakeStore, settings) -> None:
    assert fake_store.purged == [settings.retention_days]
    assert fake_store.replays == 1


def test_store_opened_elsewhere_is_not_closed(bot, api_settings) -> None:
    store = FakeStore()
    with TestClient(create_app(bot=bot, settings=api_settings, store=store)):
        pass
    assert store.closed is False


def test_metrics_count_replies_by_kind_and_category(client: TestClient) -> None:
    chat = Chat(client)
    chat >> "what is kratom"
    chat >> "how much kratom should I take?"
    response = client.get("/metrics")
    text = response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert 'faqbot_replies_total{category="none",kind="answer"} 1.0' in text
    assert 'faqbot_replies_total{category="dosing",kind="redirect"} 1.0' in text
    assert "faqbot_reply_seconds_count 2.0" in text
    assert 'faqbot_errors_total{component="store"} 0.0' in text
    assert "# TYPE faqbot_fail_closed_total counter" in text


def test_store_errors_are_counted_and_never_break_the_reply(bot, api_settings) -> None:
    store = FakeStore(fail=True)
    with TestClient(create_app(bot=bot, settings=api_settings, store=store)) as client:
        reply = client.post("/api/chat", json={"message": "how much kratom should I take?"})
        metrics = client.get("/metrics").text
    assert reply.status_code == 200
    assert reply.json()["kind"] == "redirect" and reply.json()["escalated"] is False
    assert 'faqbot_errors_total{component="store"} 1.0' in metrics


def test_faq_list_has_every_approved_entry(client: TestClient, real_kb) -> None:
    entries = client.get("/api/faq").json()
    assert {e["id"] for e in entries} == {e.id for e in real_kb.served}
    assert set(entries[0]) == {"id", "question", "topic"}


def test_faq_entry_has_sources_and_review_date(client: TestClient, real_kb) -> None:
    entry = real_kb.served[0]
    data = client.get(f"/api/faq/{entry.id}").json()
    assert data["id"] == entry.id and data["answer"] == entry.answer
    assert data["reviewed_on"] == entry.review.reviewed_on.isoformat()
    assert data["sources"][0]["url"].startswith("https://")
    assert "<script" not in data["html"]


def test_unknown_faq_entry_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/faq/no-such-entry")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "no-such-entry" not in response.json()["message"]  # input is never reflected


def test_unknown_route_and_wrong_method_are_json(client: TestClient) -> None:
    missing = client.get("/api/nothing-here")
    wrong = client.get("/api/chat")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert (wrong.status_code, wrong.json()["error"]) == (405, "method_not_allowed")


# ---------------------------------------------------------------------------- feedback
def test_feedback_reaches_the_store_with_the_conversation(
    client: TestClient, fake_store: FakeStore
) -> None:
    chat = Chat(client)
    chat >> "what is kratom"
    body = {"session_id": chat.session_id, "turn_id": 1, "helpful": False, "comment": "too vague"}
    response = client.post("/api/feedback", json=body)
    assert response.json() == {"recorded": True}
    (call,) = fake_store.feedback
    assert {k: call[k] for k in ("session_id", "turn_id", "helpful", "comment")} == body
    assert call["conversation"].turn_count == 1


def test_feedback_for_an_unknown_session_is_still_recorded(
    client: TestClient, fake_store: FakeStore
) -> None:
    body = {"session_id": "expired-session-id-0000000", "turn_id": 3, "helpful": True}
    assert client.post("/api/feedback", json=body).json() == {"recorded": True}
    assert fake_store.feedback[0]["conversation"] is None
    assert fake_store.feedback[0]["comment"] is None


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"session_id": "s" * 20, "turn_id": 1, "helpful": "yes"}, "helpful"),
        ({"session_id": "s" * 20, "turn_id": 0, "helpful": True}, "turn_id"),
        ({"session_id": "s" * 20, "helpful": True}, "turn_id: Field required"),
        ({"session_id": "s" * 20, "turn_id": 1, "helpful": True, "comment": "c" * 2001}, "comment"),
    ],
)
def test_invalid_feedback_is_422(client: TestClient, body: dict, says: str) -> None:
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 422
    assert says in response.json()["message"]


def test_feedback_on_a_turn_that_does_not_exist_is_422(client: TestClient) -> None:
    chat = Chat(client)
    chat >> "hello"
    body = {"session_id": chat.session_id, "turn_id": 5, "helpful": True}
    response = client.post("/api/feedback", json=body)
    assert response.status_code == 422 and "turn_id" in response.json()["message"]


def test_feedback_store_failure_is_recorded_false(bot, api_settings) -> None:
    with TestClient(
        create_app(bot=bot, settings=api_settings, store=FakeStore(fail=True))
    ) as client:
        body = {"session_id": "s" * 20, "turn_id": 1, "helpful": False}
        response = client.post("/api/feedback", json=body)
    assert response.status_code == 200 and response.json() == {"recorded": False}


# ---------------------------------------------------------------------------- docs and pages
def test_openapi_lists_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {
        "/api/chat",
        "/api/feedback",
        "/api/faq",
        "/api/faq/{entry_id}",
        "/healthz",
        "/readyz",
        "/metrics",
    } <= set(spec["paths"])
    reply = spec["components"]["schemas"]["ChatReply"]
    assert set(reply["properties"]) == {
        "session_id", "turn_id", "kind", "category", "text", "html", "entry_id", "sources",
        "reviewed_on", "resources", "suggestions", "escalated",
    }  # fmt: skip


def test_docs_work_offline(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert urls and all(u.startswith("/docs/") for u in urls)  # nothing from a CDN
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert "<script>" not in page.text  # no inline script: works under script-src 'self'
    assert "/openapi.json" in client.get("/docs/init.js").text


@pytest.fixture
def web_dir(tmp_path: Path) -> Path:
    """An empty web/ folder with only our placeholder template."""
    from faqbot.config import PROJECT_ROOT

    (tmp_path / "templates").mkdir()
    (tmp_path / "widget").mkdir()
    placeholder = PROJECT_ROOT / "web" / "templates" / "placeholder.html"
    (tmp_path / "templates" / "placeholder.html").write_text(placeholder.read_text())
    return tmp_path


def test_pages_before_and_after_the_widget_exists(bot, api_settings, web_dir: Path) -> None:
    app = create_app(bot=bot, settings=api_settings, store=FakeStore(), web_dir=web_dir)
    with TestClient(app) as client:
        placeholder = client.get("/")
        missing_js = client.get("/widget.js")
        missing_css = client.get("/widget.css")
        missing_demo_css = client.get("/demo.css")
        (web_dir / "widget" / "widget.js").write_text("console.log('w');")
        (web_dir / "widget" / "widget.css").write_text("body{}")
        (web_dir / "templates" / "demo.css").write_text("main{}")
        (web_dir / "templates" / "demo.html").write_text("<p>{{ widget_js }} {{ '<b>' }}</p>")
        js, css, demo = client.get("/widget.js"), client.get("/widget.css"), client.get("/")
        demo_css = client.get("/demo.css")
    assert placeholder.status_code == 200 and "/docs" in placeholder.text
    assert {missing_js.status_code, missing_css.status_code, missing_demo_css.status_code} == {404}
    assert demo_css.status_code == 200 and demo_css.text == "main{}"
    assert missing_js.json()["error"] == "not_found"
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert demo.text == "<p>/widget.js &lt;b&gt;</p>"  # jinja2 with autoescape


def test_the_shipped_demo_page_renders(client: TestClient) -> None:
    from faqbot.config import PROJECT_ROOT

    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    if (PROJECT_ROOT / "web" / "templates" / "demo.html").is_file():
        assert "/widget.js" in page.text
