"""POST /api/chat: the reply contract, conversations over HTTP, escalations, validation, failure."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.bot import Bot
from tests.api.conftest import Chat, FakeStore

REPLY_FIELDS = {
    "session_id",
    "turn_id",
    "kind",
    "category",
    "text",
    "html",
    "entry_id",
    "sources",
    "reviewed_on",
    "resources",
    "suggestions",
    "escalated",
}
MIXED = [
    "what is kratom",
    "how much kratom should I take for my back pain?",
    "hello",
    "my friend took kratom and now he won't wake up",
    "can I take kratom with alcohol?",
    "what's the best pizza in Naples?",
    "does exercise help chronic pain?",
]


def test_reply_has_exactly_the_contract_fields(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "what is kratom"})
    assert response.status_code == 200
    reply = response.json()
    assert set(reply) == REPLY_FIELDS
    assert reply["kind"] == "answer" and reply["entry_id"]
    assert reply["sources"] and reply["reviewed_on"]
    assert reply["turn_id"] == 1 and len(reply["session_id"]) >= 16


def test_follow_up_uses_the_conversation(client: TestClient) -> None:
    chat = Chat(client)
    first = chat >> "what is kratom"
    follow = chat >> "is it addictive?"
    assert first["kind"] == "answer"
    assert follow["kind"] not in {"out_of_scope", "fallback"}
    assert follow["session_id"] == first["session_id"]
    assert [r["turn_id"] for r in chat.replies] == [1, 2]


def test_same_follow_up_without_the_session_has_no_context(client: TestClient) -> None:
    alone = client.post("/api/chat", json={"message": "is it addictive?"}).json()
    assert alone["turn_id"] == 1
    with_context = Chat(client)
    with_context >> "what is kratom"
    assert (with_context >> "is it addictive?")["entry_id"] is not None


@pytest.mark.parametrize("bad_id", ["not-a-session-we-issued-0000", "short", "x" * 200])
def test_unknown_session_silently_starts_a_new_one(client: TestClient, bad_id: str) -> None:
    reply = client.post("/api/chat", json={"message": "hello", "session_id": bad_id}).json()
    assert reply["session_id"] != bad_id
    assert reply["turn_id"] == 1


def test_escalations_written_for_exactly_the_guarded_turns(
    client: TestClient, fake_store: FakeStore
) -> None:
    chat = Chat(client)
    for message in MIXED:
        chat >> message
    guarded = {r["turn_id"] for r in chat.replies if r["kind"] in {"redirect", "emergency"}}
    kinds = {r["kind"] for r in chat.replies}
    assert {"redirect", "emergency", "answer"} <= kinds
    escalated = {e["turn"].reply.turn_id for e in fake_store.escalations}
    assert escalated == guarded
    assert all(r["escalated"] for r in chat.replies if r["turn_id"] in guarded)
    assert not any(r["escalated"] for r in chat.replies if r["turn_id"] not in guarded)
    unanswered = {t.reply.kind for t in fake_store.unanswered}
    assert unanswered <= {"fallback", "out_of_scope"} and unanswered


def test_store_gets_the_client_address(client: TestClient, fake_store: FakeStore) -> None:
    client.post("/api/chat", json={"message": "how much kratom should I take?"})
    assert fake_store.escalations[0]["client_ip"] == "testclient"


def test_forwarded_for_believed_only_from_trusted_proxies(bot, api_settings) -> None:
    headers = {"X-Forwarded-For": "203.0.113.7"}
    for trusted, expected in (([], "10.0.0.5"), (["10.0.0.0/8"], "203.0.113.7")):
        store = FakeStore()
        settings = api_settings.model_copy(update={"trusted_proxies": trusted})
        app = create_app(bot=bot, settings=settings, store=store)
        with TestClient(app, client=("10.0.0.5", 4000)) as client:
            client.post(
                "/api/chat", json={"message": "how much kratom should I take?"}, headers=headers
            )
        assert store.escalations[0]["client_ip"] == expected


def test_locale_picks_the_help_numbers(client: TestClient) -> None:
    uk = client.post(
        "/api/chat", json={"message": "how much kratom should I take?", "locale": "en-gb"}
    ).json()
    us = client.post(
        "/api/chat", json={"message": "how much kratom should I take?", "locale": "fr-FR"}
    ).json()
    assert "999" in uk["text"] or "111" in uk["text"]
    assert "1-800-222-1222" in us["text"]  # unknown locale: the default's numbers


def test_turns_of_one_session_are_serialized(client: TestClient) -> None:
    sid = client.post("/api/chat", json={"message": "hello"}).json()["session_id"]

    def send(i: int) -> int:
        body = {"message": f"hello number {i}", "session_id": sid}
        return int(client.post("/api/chat", json=body).json()["turn_id"])

    with ThreadPoolExecutor(max_workers=6) as pool:
        turn_ids = sorted(pool.map(send, range(6)))
    assert turn_ids == [2, 3, 4, 5, 6, 7]
    assert (
        client.post("/api/chat", json={"message": "hi", "session_id": sid}).json()["turn_id"] == 8
    )


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"message": ""}, "message is empty"),
        ({"message": "   \n\t "}, "message is empty"),
        ({"message": "a" * 2001}, "the limit is 2000"),
        ({}, "message: Field required"),
        ({"message": 42}, "message: Input should be a valid string"),
        ({"message": "hi", "locale": "not a locale!"}, "locale:"),
        ([1, 2], "valid dictionary"),
    ],
)
def test_invalid_chat_requests_are_422_with_a_readable_message(
    client: TestClient, body: object, says: str
) -> None:
    response = client.post("/api/chat", json=body)
    assert response.status_code == 422
    data = response.json()
    assert data["error"] == "invalid_request"
    assert says in data["message"]
    assert "Traceback" not in response.text


def test_message_of_2000_characters_after_trimming_is_accepted(client: TestClient) -> None:
    response = client.post("/api/chat", json={"message": "  " + "a" * 2000 + "  "})
    assert response.status_code == 200


class BrokenBot(Bot):
    """A real Bot whose reply raises (a bug outside its own fail-closed guard)."""

    def reply(self, *args, **kwargs):
        raise RuntimeError("secret internal detail")


def test_a_bot_that_raises_still_gets_the_safe_redirect(bot, api_settings) -> None:
    broken = object.__new__(BrokenBot)
    broken.__dict__.update(bot.__dict__)
    store = FakeStore()
    with TestClient(create_app(bot=broken, settings=api_settings, store=store)) as client:
        response = client.post("/api/chat", json={"message": "what is kratom"})
        metrics = client.get("/metrics").text
    reply = response.json()
    assert response.status_code == 200
    assert (reply["kind"], reply["category"]) == ("redirect", "error")
    assert "911" in reply["text"] and "secret internal detail" not in response.text
    assert reply["escalated"] and store.escalations[0]["turn"].reply.category == "error"
    assert 'faqbot_fail_closed_total{error="RuntimeError"} 1.0' in metrics


class Exploding:
    """Not a Bot at all: every attribute access fails (no fallback reply to send)."""

    kb = property(lambda self: (_ for _ in ()).throw(RuntimeError("secret kb detail")))
    ready = True
    sink = None

    def reply(self, *args, **kwargs):
        raise RuntimeError("secret internal detail")


def test_unhandled_errors_are_a_json_500_without_a_stack_trace(api_settings) -> None:
    with TestClient(create_app(bot=Exploding(), settings=api_settings)) as client:
        chat = client.post("/api/chat", json={"message": "what is kratom"})
        faq = client.get("/api/faq")
        metrics = client.get("/metrics").text
    for response in (chat, faq):
        assert response.status_code == 500
        assert response.json() == {
            "error": "internal_error",
            "message": "Something went wrong on our side.",
        }
        assert "secret" not in response.text and "Traceback" not in response.text
        assert response.headers["x-content-type-options"] == "nosniff"
    assert 'faqbot_errors_total{component="server"} 2.0' in metrics
