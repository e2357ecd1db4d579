"""The widget when things go wrong, on small screens, with hostile text, and under axe-core."""

from __future__ import annotations

import json
import re

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import expect

from tests.web.chatpage import ChatWidget, serve_host_page

pytestmark = [pytest.mark.browser, pytest.mark.slow]

XSS = "<img src=x onerror=alert(1)>"
HOSTILE_REPLY = {
    "session_id": "s-hostile",
    "turn_id": 1,
    "kind": "answer",
    "category": None,
    "text": "x",
    "html": '<p>ok</p><img src=x onerror="window.pwned=1"><script>window.pwned=2</script>'
    '<a href="javascript:window.pwned=3">bad link</a><p onclick="window.pwned=4">para</p>',
    "entry_id": "e",
    "sources": [{"publisher": "P", "title": "T", "url": "javascript:window.pwned=5"}],
    "reviewed_on": "2026-01-10",
    "resources": [],
    "suggestions": [{"entry_id": "s", "question": "<b>bold?</b>"}],
    "escalated": False,
}


def count_in_widget(page, selector: str) -> int:
    """How many `selector` elements the widget's shadow root holds."""
    return page.evaluate(
        "(sel) => document.querySelector('#faqbot-widget').shadowRoot.querySelectorAll(sel).length",
        selector,
    )


def test_unreachable_api_says_so_with_emergency_numbers(page, live_server, closed_port):
    serve_host_page(page, live_server, api=f"http://127.0.0.1:{closed_port}")
    chat = ChatWidget(page).open()
    chat.textbox.fill("What is kratom?")
    chat.send_button.click()
    error = page.locator(".fb-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(error).to_contain_text("isn't working")
    expect(error).to_contain_text("call 911")
    hrefs = error.locator('a[href^="tel:"]').evaluate_all(
        "links => links.map(a => a.getAttribute('href'))"
    )
    assert hrefs == ["tel:911", "tel:18002221222"]
    expect(chat.textbox).to_have_value("What is kratom?")
    expect(page.locator(".fb-user p")).to_have_count(0)


def test_server_error_then_retry_keeps_the_message_and_succeeds(page, live_server):
    page.goto(f"{live_server}/")
    page.route(re.compile(r"/api/chat$"), lambda route: route.fulfill(status=500, body="{}"))
    chat = ChatWidget(page).open()
    chat.textbox.fill("What is kratom?")
    chat.textbox.press("Enter")
    retry = page.get_by_role("button", name="Try again")
    expect(retry).to_be_visible()
    expect(page.locator(".fb-error")).to_contain_text("1-800-222-1222")
    expect(chat.textbox).to_have_value("What is kratom?")
    page.unroute(re.compile(r"/api/chat$"))
    with page.expect_response(re.compile(r"/api/chat$")) as info:
        retry.click()
    assert info.value.json()["kind"] == "answer"
    expect(chat.replies).to_have_count(1)
    expect(page.locator(".fb-user p")).to_have_text(["What is kratom?"])
    expect(page.locator(".fb-error")).to_be_hidden()
    expect(chat.textbox).to_have_value("")


def test_markup_typed_by_a_person_shows_as_literal_text(page, live_server):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    serve_host_page(page, live_server, path="/test-host/no-csp")
    assert page.evaluate("() => document.querySelector('meta[http-equiv]')") is None
    chat = ChatWidget(page).open()
    reply = chat >> XSS
    assert reply.data["kind"] != "answer"
    expect(page.locator(".fb-user p")).to_have_text(XSS)
    assert count_in_widget(page, "img") == 0
    expect(page.locator("img")).to_have_count(0)  # Playwright's locator pierces the shadow root
    page.wait_for_timeout(300)  # give a would-be onerror handler its chance to run
    assert dialogs == []


def test_hostile_server_html_is_reduced_to_safe_elements(page, live_server):
    serve_host_page(page, live_server, path="/test-host/hostile")
    page.route(
        re.compile(r"/api/chat$"),
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(HOSTILE_REPLY)
        ),
    )
    chat = ChatWidget(page).open()
    reply = chat >> "anything"
    page.wait_for_timeout(300)
    assert count_in_widget(page, "img, script, [onclick], [onerror]") == 0
    assert count_in_widget(page, 'a[href^="javascript:"]') == 0
    expect(reply.element.get_by_text("bad link")).to_be_visible()
    expect(reply.element.get_by_role("button", name="<b>bold?</b>")).to_be_visible()
    assert page.evaluate("() => window.pwned") is None


@pytest.mark.parametrize(("width", "height"), [(320, 640), (640, 400)], ids=["320px", "zoom200"])
def test_small_screens_and_zoom_keep_everything_reachable(
    new_page, live_server, artifacts, width, height
):
    page = new_page(width, height)
    page.goto(f"{live_server}/")
    chat = ChatWidget(page).open()
    expect(page.get_by_role("note")).to_be_visible()  # the notice shows, and typing still works
    reply = chat >> "What is chronic pain?"
    assert reply.kind == "answer"
    for target in (chat.panel, chat.textbox, chat.send_button):
        box = target.bounding_box()
        assert box is not None
        assert box["x"] >= 0 and box["x"] + box["width"] <= width + 0.5, target
        assert box["y"] >= 0 and box["y"] + box["height"] <= height + 0.5, target
    overflow = page.evaluate(
        """() => { const s = document.querySelector('#faqbot-widget').shadowRoot
                                   .querySelector('.fb-scroll');
                   return s.scrollWidth - s.clientWidth; }"""
    )
    assert overflow <= 0, "the conversation must not scroll sideways"
    send = chat.send_button.bounding_box()
    assert send["height"] >= 44 and send["width"] >= 44
    page.screenshot(path=str(artifacts / f"widget-{width}x{height}.png"))


def test_notice_on_first_open_is_information_only_and_never_blocks_typing(page, live_server):
    page.goto(f"{live_server}/")
    chat = ChatWidget(page).open()
    notice = page.get_by_role("note")
    for words in ("not medical advice", "call 911", "moderators", "personal details"):
        expect(notice).to_contain_text(words)
    expect(chat.textbox).to_be_focused()
    page.keyboard.type("typing while the notice shows")
    expect(chat.textbox).to_have_value("typing while the notice shows")
    notice.get_by_role("button", name="Got it").click()
    expect(notice).to_be_hidden()
    page.reload()
    ChatWidget(page).open()
    expect(page.get_by_role("note")).to_be_hidden()


def test_reduced_motion_turns_off_the_panel_animation(new_page, live_server):
    names = {}
    for motion in ("reduce", "no-preference"):
        page = new_page(reduced_motion=motion)
        page.goto(f"{live_server}/")
        ChatWidget(page).open()
        names[motion] = page.evaluate(
            """() => getComputedStyle(document.querySelector('#faqbot-widget').shadowRoot
                      .querySelector('.fb-panel')).animationName"""
        )
    assert names == {"reduce": "none", "no-preference": "fb-rise"}


def test_axe_finds_no_serious_or_critical_violations(new_page, live_server, axe_script, artifacts):
    page = new_page(bypass_csp=True)  # axe is injected as an inline script
    page.goto(f"{live_server}/")
    chat = ChatWidget(page)
    results = {"closed": run_axe(page, axe_script)}
    chat.open()
    chat >> "What is kratom?"
    chat >> "kratom laws"
    chat >> "how much kratom should I take"
    chat >> "my friend took kratom and won't wake up"
    results["open"] = run_axe(page, axe_script)
    (artifacts / "axe.json").write_text(json.dumps(results, indent=2))
    serious = [
        f"{state}: {v['id']} ({v['impact']}): {v['help']} -> {[n['target'] for n in v['nodes']]}"
        for state, found in results.items()
        for v in found["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
    assert serious == []
    assert "color-contrast" in results["open"]["passes"]  # contrast was checked inside the widget


def run_axe(page, axe_script) -> dict:
    """Inject axe-core (once) and run the WCAG 2.x A/AA rules on the whole page."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(axe_script))
    return page.evaluate(
        """async () => {
          const r = await axe.run(document, {runOnly: {type: 'tag',
              values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
          return {violations: r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => ({target: n.target}))})),
                  passes: r.passes.map(v => v.id), incomplete: r.incomplete.map(v => v.id)};
        }"""
    )
