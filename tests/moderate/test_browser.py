"""One moderator session in Debian's chromium against the real app served by uvicorn.

A moderator logs in, filters the queue to emergencies, opens one, resolves it with a note and
sees the audit entry. The queue's screenshot goes to tests/artifacts/moderation-queue.png (and
to docs/screenshots/ with FAQBOT_UPDATE_SCREENSHOTS=1). Skips cleanly without chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

from playwright.sync_api import expect

from faqbot.api import create_app
from faqbot.config import Settings
from faqbot.dialog import Conversation
from faqbot.moderate_accounts import Accounts
from faqbot.store import open_store
from tests.moderate.conftest import FAST_HASHER, MOD, MOD_PW, with_console
from tests.services import free_port
from tests.web.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.slow]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CONVERSATIONS = [  # (earlier turns, the message that escalates)
    ((), "how much kratom should I take for my back pain"),
    (("what is kratom",), "can I take kratom with my tramadol"),
    (("is kratom legal",), "my friend took kratom and now he won't wake up"),
    ((), "I think I took too much kratom, my heart is racing and I feel faint"),
]
NOTE = "Checked: emergency numbers were shown. Closing."


@pytest.fixture(scope="module")
def console_server(bot, settings, tmp_path_factory) -> Iterator[tuple[str, object]]:
    """The real app with the console, on a free loopback port; seeded by the real Bot."""
    import uvicorn

    store = open_store(Settings(data_dir=tmp_path_factory.mktemp("console"), ip_hash_key="k"))
    Accounts(engine=store.engine, hasher=FAST_HASHER).create(MOD, MOD_PW)
    for history, message in CONVERSATIONS:
        conversation = Conversation()
        for earlier in history:
            bot.reply(earlier, conversation)
        turn = bot.reply(message, conversation)
        assert turn.reply.escalated or turn.reply.kind in {"redirect", "emergency"}, message
        assert store.record(turn, conversation)
    app = with_console(
        create_app(bot=bot, settings=settings, store=store), settings=settings, store=store
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the console test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


@pytest.fixture(scope="module")
def chromium():
    """Debian's headless chromium via Playwright (skips when it is not installed)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def test_moderator_resolves_an_emergency_and_sees_the_audit_entry(chromium, console_server):
    base, store = console_server
    context = chromium.new_context(viewport={"width": 1100, "height": 640}, reduced_motion="reduce")
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"script error: {exc}"))
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on(
        "response",
        lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    try:
        page.goto(f"{base}/moderate")
        expect(page).to_have_url(f"{base}/moderate/login")  # anonymous: sent to the login page
        page.get_by_label("User name").fill(MOD)
        page.get_by_label("Password").fill(MOD_PW)
        page.get_by_role("button", name="Log in").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Escalation queue")
        rows = page.locator("table.queue tbody tr")
        expect(rows).to_have_count(len(CONVERSATIONS))
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "moderation-queue.png"
        page.screenshot(path=str(shot))
        if os.environ.get("FAQBOT_UPDATE_SCREENSHOTS") == "1":
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, DOCS_SCREENSHOTS / "moderation-queue.png")

        page.get_by_label("Category").select_option("emergency")
        page.get_by_role("button", name="Apply filters").click()
        expect(page).to_have_url(re.compile(r"/moderate\?category=emergency&"))
        emergencies = store.count_escalations(category="emergency")
        assert emergencies >= 1
        expect(rows).to_have_count(emergencies)
        expect(rows.locator("td:nth-child(3)")).to_have_text(["emergency"] * emergencies)

        rows.first.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("emergency")
        expect(page.locator("li.escalated")).to_contain_text("escalated turn")
        page.get_by_label("Resolution note (optional)").fill(NOTE)
        page.get_by_role("button", name="Resolve").click()

        audit = page.get_by_role("table", name="Every action on this escalation, oldest first")
        expect(audit.locator("tbody tr")).to_have_count(1)
        cells = audit.locator("tbody tr td")
        expect(cells.nth(1)).to_have_text(MOD)
        expect(cells.nth(2)).to_have_text("Resolve")
        expect(cells.nth(3)).to_have_text("new → resolved")
        expect(cells.nth(4)).to_have_text(NOTE)
        expect(page.locator("dl.facts").first).to_contain_text("resolved")
        assert problems == []  # no CSP violations, no script errors
    finally:
        context.close()
    assert shot.stat().st_size < 200_000
