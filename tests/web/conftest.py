"""Browser-test fixtures: the real app under uvicorn on loopback, Debian's chromium, axe-core.

The server is `faqbot.api.create_app` with the session's real Bot (rate limit off), run by
uvicorn in a thread on a free port. Chromium is Debian's (/usr/bin/chromium, installed by
`make test`); never a downloaded browser. Everything skips cleanly when a piece is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import free_port

CHROMIUM = Path(os.environ.get("FAQBOT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
ARTIFACTS = HERE.parent / "artifacts"
AXE_VERSION = "4.14.1"


@pytest.fixture
def closed_port() -> int:
    """A loopback port with no server: an API that is down."""
    return free_port()


@pytest.fixture(scope="session")
def live_server(settings, bot) -> Iterator[str]:
    """The real faqbot app served by uvicorn on a free loopback port; yields its base URL."""
    import uvicorn

    from faqbot.api import create_app

    app = create_app(bot=bot, settings=settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, name="faqbot-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the faqbot test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser():
    """Debian's headless chromium driven by Playwright (skips when either is missing)."""
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is not installed (make test installs Debian's chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
    with sync_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser):
    """A factory of pages, each in a fresh context (own sessionStorage), closed afterwards."""
    contexts = []

    def make(width: int = 1280, height: int = 800, **options):
        options.setdefault("reduced_motion", "reduce")
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    """A desktop-sized page."""
    return new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/ (gitignored): screenshots and the axe report."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe.min.js from the npm registry's axe-core package, cached under tests/web/.cache."""
    target = CACHE / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if target.is_file():
        return target
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: cannot fetch axe-core for the accessibility check")
    CACHE.mkdir(exist_ok=True)
    try:
        done = subprocess.run(
            [npm, "pack", f"axe-core@{AXE_VERSION}", "--pack-destination", str(CACHE), "--silent"],
            capture_output=True,
            text=True,
            timeout=180,
            check=True,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        pytest.skip(f"could not fetch axe-core@{AXE_VERSION} from the npm registry: {exc}")
    tarball = CACHE / done.stdout.strip().splitlines()[-1]
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/axe.min.js")
        assert member is not None, "axe-core package has no axe.min.js"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(member.read())
    tarball.unlink()
    return target
