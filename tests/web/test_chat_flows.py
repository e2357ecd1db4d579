"""The widget in Debian's chromium against the real app: each reply kind, sessions, keyboard use.

Runs on the demo page (GET /), which the app serves with its strict Content-Security-Policy, so
these flows also prove the widget needs nothing inline.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import expect

from faqbot.dialog import Conversation
from tests.web.chatpage import ChatWidget, serve_host_page, tab_until

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS_SCREENSHOTS = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "screenshots")
CLARIFY_CANDIDATES = [
    "kratom laws",
    "kratom pain",
    "pain",
    "kratom effects",
    "kratom studies",
    "back pain",
    "kratom fda",
]
DOSING = "how much kratom should I take for my back pain"
EMERGENCY = "my friend took kratom and now he won't wake up"


def screenshot(chat: ChatWidget, artifacts, name: str) -> None:
    """Save the open panel to tests/artifacts/ (and to docs/screenshots/ when asked to)."""
    path = artifacts / f"widget-{name}.png"
    chat.panel.screenshot(path=str(path))
    if os.environ.get("FAQBOT_UPDATE_SCREENSHOTS") == "1":
        os.makedirs(DOCS_SCREENSHOTS, exist_ok=True)
        shutil.copy(path, os.path.join(DOCS_SCREENSHOTS, f"{name}.png"))


@pytest.fixture
def demo(page, live_server):
    """The demo article page with the widget, collecting CSP violations and script errors."""
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on(
        "console",
        lambda msg: problems.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.goto(f"{live_server}/")
    page.problems = problems
    return page


@pytest.fixture(scope="module")
def clarify_message(bot) -> str:
    """A short ambiguous message the real bot answers with suggestions."""
    for message in CLARIFY_CANDIDATES:
        if bot.reply(message, Conversation()).reply.kind == "clarify":
            return message
    pytest.fail(f"none of {CLARIFY_CANDIDATES} yields a clarify reply any more; pick another")


def test_demo_page_is_an_article_with_the_widget_embedded(demo, live_server):
    assert demo.title().startswith("Living with chronic pain")
    expect(demo.get_by_role("heading", level=1)).to_have_text("Living with chronic pain")
    script = demo.locator('script[src="/widget.js"]')
    expect(script).to_have_attribute("data-locale", "en-US")
    expect(script).to_have_attribute("data-faqbot-api", "")
    response = demo.request.get(f"{live_server}/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(ChatWidget(demo).launcher).to_have_count(1)


def test_answer_shows_sources_review_date_and_takes_feedback(demo, artifacts):
    chat = ChatWidget(demo).open()
    reply = chat >> "What is kratom?"
    assert reply.kind == "answer"
    source = reply.element.locator(".fb-sources a").first
    expect(source).to_have_attribute("href", re.compile(r"^https://"))
    assert reply.data["sources"][0]["url"] == source.get_attribute("href")
    reviewed = reply.element.locator(".fb-reviewed")
    expect(reviewed).to_contain_text("Last reviewed")
    expect(reviewed.locator("time")).to_have_attribute("datetime", reply.data["reviewed_on"])
    expect(reply.element.get_by_text("Kratom is the common name", exact=False)).to_be_visible()
    feedback = reply.element.get_by_role("group", name="Was this helpful?")
    reply.element.locator(".fb-sources").evaluate(
        "el => { el.closest('.fb-scroll').scrollTop = el.offsetTop - 150; }"
    )
    screenshot(chat, artifacts, "answer")

    with demo.expect_request(re.compile(r"/api/feedback$")) as sent:
        feedback.get_by_role("button", name="Yes").click()
    assert sent.value.post_data_json == {
        "session_id": reply.data["session_id"],
        "turn_id": reply.data["turn_id"],
        "helpful": True,
    }
    expect(feedback).to_contain_text("Thanks for your feedback.")
    expect(feedback.get_by_role("button", name="No")).to_be_disabled()
    assert demo.problems == []


def test_follow_up_continues_the_session_and_history_after_a_reload(demo):
    chat = ChatWidget(demo).open()
    first = chat >> "What is kratom?"
    assert chat.stored_session() == first.data["session_id"]
    first.element.get_by_role("button", name="No").click()
    expect(first.element).to_contain_text("Thanks for your feedback.")
    demo.reload()
    chat = ChatWidget(demo).open()
    expect(chat.page.locator(".fb-user p")).to_have_text(["What is kratom?"])
    expect(chat.replies.first.get_by_role("button", name="Yes")).to_be_disabled()
    with demo.expect_request(re.compile(r"/api/chat$")) as sent:
        follow = chat >> "Is it legal in the UK?"
    assert sent.value.post_data_json["session_id"] == first.data["session_id"]
    assert (follow.data["session_id"], follow.data["turn_id"]) == (first.data["session_id"], 2)
    assert follow.kind == "answer"


def test_new_conversation_forgets_the_session(demo):
    chat = ChatWidget(demo).open()
    chat >> "What is kratom?"
    demo.get_by_role("button", name="New conversation").click()
    expect(chat.replies).to_have_count(0)
    assert chat.stored_session() is None
    with demo.expect_request(re.compile(r"/api/chat$")) as sent:
        chat >> "What is chronic pain?"
    assert sent.value.post_data_json["session_id"] is None


def test_dosing_question_gets_the_redirect_panel_with_call_links(demo, artifacts):
    chat = ChatWidget(demo).open()
    reply = chat >> DOSING
    assert (reply.kind, reply.data["category"]) == ("redirect", "dosing")
    panel = reply.element.get_by_role("region", name="Please ask a clinician or pharmacist")
    expect(panel).to_contain_text("clinician or pharmacist")
    calls = panel.locator('a[href^="tel:"]')
    expect(calls.first).to_be_visible()
    hrefs = calls.evaluate_all("links => links.map(a => a.getAttribute('href'))")
    assert {"tel:18002221222", "tel:911"} <= set(hrefs)
    calls.last.scroll_into_view_if_needed()
    screenshot(chat, artifacts, "redirect")


def test_emergency_shows_the_alert_with_numbers_before_any_text(demo, artifacts):
    chat = ChatWidget(demo).open()
    reply = chat >> EMERGENCY
    assert reply.kind == "emergency"
    alert = reply.element.get_by_role("alert")
    expect(alert).to_be_visible()
    first = alert.evaluate(
        """el => ({text: el.textContent.trim(),
                   links: [...el.querySelectorAll('a[href^="tel:"]')].map(a => a.getAttribute('href')),
                   firstChild: el.firstElementChild.className})"""
    )
    assert first["links"][:2] == ["tel:911", "tel:18002221222"]
    assert first["text"].startswith("Call 911")
    assert first["firstChild"] == "fb-calls"
    assert reply.element.evaluate("li => li.textContent.trim()").startswith("Call 911")
    big = alert.locator("a.fb-call-large").first.bounding_box()
    assert big and big["height"] >= 44
    screenshot(chat, artifacts, "emergency")


def test_clarify_suggestion_click_sends_that_question(demo, clarify_message):
    chat = ChatWidget(demo).open()
    reply = chat >> clarify_message
    assert reply.kind == "clarify"
    buttons = reply.element.get_by_role("button")
    questions = [s["question"] for s in reply.data["suggestions"]]
    expect(buttons).to_have_text(questions)
    with demo.expect_request(re.compile(r"/api/chat$")) as sent:
        answer = chat.click_and_wait(buttons.first)
    assert sent.value.post_data_json["message"] == questions[0]
    assert answer.kind == "answer"
    assert answer.data["entry_id"] == reply.data["suggestions"][0]["entry_id"]


def test_keyboard_only_open_send_choose_and_close(demo, clarify_message):
    chat = ChatWidget(demo)
    tab_until(demo, chat, "fb-launcher")
    outline = demo.evaluate(
        """() => getComputedStyle(document.querySelector('#faqbot-widget').shadowRoot
                  .querySelector('.fb-launcher')).outlineStyle"""
    )
    assert outline == "solid", "keyboard focus on the launcher must be visible"
    demo.keyboard.press("Enter")
    expect(chat.textbox).to_be_focused()
    demo.keyboard.type("first line")
    demo.keyboard.press("Shift+Enter")
    demo.keyboard.type("second line")
    assert chat.textbox.input_value() == "first line\nsecond line"
    demo.keyboard.press("Control+A")
    demo.keyboard.type(clarify_message)
    demo.keyboard.press("Enter")
    expect(chat.replies).to_have_count(1)
    expect(chat.replies.last.get_by_role("button").first).to_be_visible()
    focus = tab_until(demo, chat, "fb-suggestion", shift=True)
    with demo.expect_response(re.compile(r"/api/chat$")) as info:
        demo.keyboard.press("Enter")
    expect(chat.replies).to_have_count(2)
    assert info.value.json()["kind"] == "answer"
    expect(chat.page.locator(".fb-user p").last).to_have_text(focus["text"])
    demo.keyboard.press("Escape")
    expect(chat.panel).to_be_hidden()
    assert chat.focused()["cls"] == "fb-launcher"
    demo.keyboard.press("Enter")
    expect(chat.textbox).to_be_focused()


@pytest.mark.parametrize(
    ("locale", "emergency", "poison"),
    [
        ("en-GB", "999", "tel:111"),
        ("en-AU", "000", "tel:131126"),
        ("fr-CA", "911", "tel:18447647669"),
    ],
)
def test_locale_sets_texts_and_numbers(page, live_server, locale, emergency, poison):
    serve_host_page(page, live_server, locale=locale)
    chat = ChatWidget(page).open()
    expect(page.get_by_role("note")).to_contain_text(f"call {emergency}")
    reply = chat >> EMERGENCY
    assert reply.kind == "emergency"
    hrefs = reply.element.get_by_role("alert").locator('a[href^="tel:"]')
    expect(hrefs.first).to_have_attribute("href", f"tel:{emergency}")
    expect(hrefs.nth(1)).to_have_attribute("href", poison)
