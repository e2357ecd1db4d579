"""A page object for the widget: find controls by role and label, as a person (or a screen reader) would.

`chat >> "message"` sends a message and returns the new reply element and the API's JSON,
so the browser tests read like transcripts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from playwright.sync_api import Locator, Page, expect

LAUNCHER_NAME = re.compile(r"chat", re.IGNORECASE)
SHADOW_FOCUS = """() => {
  const root = document.querySelector('#faqbot-widget')?.shadowRoot;
  const el = root && root.activeElement;
  return el ? {cls: el.className, text: el.textContent.trim(), tag: el.tagName} : null;
}"""


def host_page(script_origin: str, *, api: str | None = None, locale: str = "en-US") -> str:
    """A minimal host page without any CSP, embedding the widget the documented way."""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test host page</title></head>
<body><main><h1>A host page</h1><p>This page sends no Content-Security-Policy.</p></main>
<script src="{script_origin}/widget.js" data-faqbot-api="{api if api is not None else script_origin}"
  data-locale="{locale}" defer></script>
</body></html>"""


def serve_host_page(page: Page, base: str, path: str = "/test-host", **options: Any) -> None:
    """Answer `base + path` from the test itself (no CSP header) and open it."""
    html = host_page(base, **options)
    page.route(
        f"{base}{path}",
        lambda route: route.fulfill(status=200, content_type="text/html", body=html),
    )
    page.goto(f"{base}{path}")


@dataclass
class Reply:
    """One bot reply as shown (`element`) and as sent by the API (`data`)."""

    element: Locator
    data: dict[str, Any]

    @property
    def kind(self) -> str:
        """The reply kind the server sent."""
        return str(self.data["kind"])


class ChatWidget:
    """The widget on `page`."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.launcher = page.get_by_role("button", name=LAUNCHER_NAME)
        self.textbox = page.get_by_role("textbox", name="Message")
        self.send_button = page.get_by_role("button", name="Send", exact=True)
        self.panel = page.get_by_role("dialog")
        self.replies = page.locator(".fb-bot")

    def open(self) -> ChatWidget:
        """Click the launcher and wait for the panel."""
        self.launcher.click()
        expect(self.textbox).to_be_visible()
        return self

    def __rshift__(self, message: str) -> Reply:
        """Type `message`, press Enter, and return the reply that appears."""
        return self.send(message, press_enter=True)

    def send(self, message: str, *, press_enter: bool = False) -> Reply:
        """Send with Enter or the Send button; wait for the reply element."""
        before = self.replies.count()
        with self.page.expect_response(re.compile(r"/api/chat$")) as info:
            self.textbox.fill(message)
            if press_enter:
                self.textbox.press("Enter")
            else:
                self.send_button.click()
        expect(self.replies).to_have_count(before + 1)
        return Reply(self.replies.last, info.value.json())

    def click_and_wait(self, target: Locator) -> Reply:
        """Click something that sends a message (a suggestion); return the reply."""
        before = self.replies.count()
        with self.page.expect_response(re.compile(r"/api/chat$")) as info:
            target.click()
        expect(self.replies).to_have_count(before + 1)
        return Reply(self.replies.last, info.value.json())

    def focused(self) -> dict[str, str] | None:
        """The focused element inside the widget's shadow root, or None."""
        return self.page.evaluate(SHADOW_FOCUS)

    def stored_session(self) -> str | None:
        """The session id the widget keeps in sessionStorage."""
        return self.page.evaluate(
            """() => { for (const k of Object.keys(sessionStorage)) {
                 if (k.startsWith('faqbot:')) return JSON.parse(sessionStorage.getItem(k)).session_id; }
               return null; }"""
        )


def tab_until(page: Page, chat: ChatWidget, wanted: str, *, shift: bool = False, limit: int = 60):
    """Press Tab (or Shift+Tab) until the widget's focused element has class `wanted`."""
    key = "Shift+Tab" if shift else "Tab"
    for _ in range(limit):
        page.keyboard.press(key)
        focus = chat.focused()
        if focus and wanted in focus["cls"].split():
            return focus
    raise AssertionError(f"{key} never reached .{wanted} within {limit} presses")
