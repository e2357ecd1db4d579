"""Triage: the detail page, each action and its audit record, escaping, the append-only log."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from faqbot.moderate_triage import Triage
from tests.moderate.conftest import ADMIN, MOD, escalate, page_csrf

XSS = "<script>alert(1)</script>"


def act(client: TestClient, escalation: int, action: str, note: str | None = None):
    """Submit an action's form from the detail page, as the browser does."""
    data = {"csrf_token": page_csrf(client, f"/moderate/escalations/{escalation}")}
    if note is not None:
        data["note"] = note
    return client.post(
        f"/moderate/escalations/{escalation}/{action}", data=data, follow_redirects=False
    )


def audit_rows(page: str) -> list[list[str]]:
    """The audit table's cells, row by row, as text."""
    table = page.split('id="audit-h"', 1)[1]
    rows = re.findall(r"<tr>(.*?)</tr>", table, flags=re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, flags=re.S) for row in rows]
    return [[html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in row] for row in cells if row]


def test_detail_shows_transcript_reply_and_guard_evidence(moderator: TestClient, store):
    escalation = escalate(
        store,
        "how many grams should I take",
        history=("what is kratom", "I use it for my back"),
        ref="dose-exemplar-17",
        score=0.873,
    )
    page = moderator.get(f"/moderate/escalations/{escalation}").text
    assert "Transcript (redacted)" in page
    assert (
        page.index("what is kratom")
        < page.index("I use it for my back")
        < page.index("how many grams")
    )
    escalated = re.search(r'<li class="role-user escalated">(.*?)</li>', page, flags=re.S).group(1)
    assert "how many grams should I take" in escalated and "escalated turn" in escalated
    assert "Poison Help" in page and "1-800-222-1222" in page and "redirect" in page
    assert "dose-exemplar-17" in page and "0.87" in page and "exemplar" in page


@pytest.mark.parametrize(
    ("action", "note", "after"),
    [
        ("take", None, "in review"),
        ("resolve", "called back, all good", "resolved"),
        ("false-alarm", "asked about a pet, not a person", "false alarm"),
    ],
)
def test_each_status_action_is_applied_and_audited(
    moderator: TestClient, store, action, note, after
):
    escalation = escalate(store, "how much kratom should I take")
    response = act(moderator, escalation, action, note)
    assert response.status_code == 303
    assert response.headers["location"] == f"/moderate/escalations/{escalation}#audit"
    assert store.get_escalation(escalation).status == after.replace(" ", "_")
    (entry,) = Triage(engine=store.engine).audit_for(escalation)
    assert (entry.moderator, entry.before, entry.after) == (MOD, "new", after.replace(" ", "_"))
    assert entry.note == note
    (row,) = audit_rows(moderator.get(f"/moderate/escalations/{escalation}").text)
    assert row[1] == MOD and row[3] == f"new → {after}" and row[4] == (note or "")


def test_a_full_triage_is_one_readable_audit_trail(admin: TestClient, store):
    escalation = escalate(
        store, "my friend took too much and won't wake up", category="emergency", kind="emergency"
    )
    assert act(admin, escalation, "take").status_code == 303
    assert act(admin, escalation, "note", "called 911 info was shown").status_code == 303
    assert act(admin, escalation, "resolve", "help line was offered").status_code == 303
    rows = audit_rows(admin.get(f"/moderate/escalations/{escalation}").text)
    assert [r[2] for r in rows] == ["Take (in review)", "Add note", "Resolve"]
    assert [r[3] for r in rows] == ["new → in review", "none", "in review → resolved"]
    assert all(r[1] == ADMIN for r in rows)


def test_false_alarm_needs_a_reason_and_notes_need_text(moderator: TestClient, store):
    escalation = escalate(store, "how much kratom should I take")
    for action in ("false-alarm", "note"):
        response = act(moderator, escalation, action, "   ")
        assert response.status_code == 400
        assert "a reason is required" in response.text or "the note is empty" in response.text
    assert store.get_escalation(escalation).status == "new"
    assert Triage(engine=store.engine).audit_for(escalation) == []


def test_repeating_a_transition_is_refused(moderator: TestClient, store):
    escalation = escalate(store, "how much kratom should I take")
    assert act(moderator, escalation, "resolve").status_code == 303
    again = act(moderator, escalation, "resolve")
    assert again.status_code == 409 and "already resolved" in again.text
    assert len(Triage(engine=store.engine).audit_for(escalation)) == 1


def test_actions_on_a_missing_escalation_are_404(moderator: TestClient, store):
    escalate(store, "how much kratom should I take")
    token = page_csrf(moderator)
    response = moderator.post("/moderate/escalations/999/take", data={"csrf_token": token})
    assert response.status_code == 404
    assert moderator.get("/moderate/escalations/999").status_code == 404


def test_notes_are_redacted_before_they_are_stored(moderator: TestClient, store):
    escalation = escalate(store, "how much kratom should I take")
    act(moderator, escalation, "note", "person left email ann@example.org")
    (entry,) = Triage(engine=store.engine).audit_for(escalation)
    assert entry.note == "person left email [email]"


def test_chat_messages_and_notes_render_as_text_never_as_markup(moderator: TestClient, store):
    escalation = escalate(store, f"how much kratom {XSS}", history=(f"hi {XSS}",))
    act(moderator, escalation, "note", f"note {XSS}")
    for path in ("/moderate", f"/moderate/escalations/{escalation}", f"/moderate?q={XSS}"):
        page = moderator.get(path).text
        assert XSS not in page, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


def test_the_audit_log_is_append_only(store):
    Triage(engine=store.engine).record(moderator="ada", action="export.csv")
    with store.engine.begin() as connection:
        with pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text("UPDATE audit_log SET moderator = 'mallory'"))
    with store.engine.begin() as connection:
        with pytest.raises(DatabaseError, match="append-only"):
            connection.execute(text("DELETE FROM audit_log"))
    assert Triage(engine=store.engine).recent()[0].moderator == "ada"


def test_retention_purges_escalations_but_keeps_their_audit_trail(moderator: TestClient, store):
    escalation = escalate(store, "how much kratom should I take")
    act(moderator, escalation, "resolve", "done")
    assert store.purge(0) >= 1
    assert store.get_escalation(escalation) is None
    assert len(Triage(engine=store.engine).audit_for(escalation)) == 1
