"""Static checks of the widget files (no browser): locale numbers match resources.yaml, the
i18n texts cover every key the script uses, and nothing needs `unsafe-inline` or a CDN.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIDGET_JS = ROOT / "web" / "widget" / "widget.js"
WIDGET_CSS = ROOT / "web" / "widget" / "widget.css"
DEMO = ROOT / "web" / "templates" / "demo.html"
LOCALES = ["en-US", "en-GB", "en-CA", "en-AU"]
EMBED = '<script src="/widget.js" data-faqbot-api="" data-locale="en-US" defer></script>'


def widget_i18n() -> dict:
    """The JSON block between the faqbot-i18n markers in widget.js."""
    source = WIDGET_JS.read_text()
    found = re.search(r"/\* faqbot-i18n:begin \*/(.*?)/\* faqbot-i18n:end \*/", source, re.S)
    assert found, "widget.js lost its i18n markers"
    return json.loads(found.group(1))


@pytest.mark.parametrize("code", LOCALES)
def test_locale_numbers_match_resources_yaml(real_kb, code):
    book = real_kb.resources
    assert code in book.locale(code).codes, f"{code} is not in resources.yaml"
    mine = widget_i18n()["locales"][code]
    emergency = book.emergency_ref(code)
    poison = book.for_purpose(code, "poisoning")[0]
    for name, ref in (("emergency", emergency), ("poison", poison)):
        assert mine[name] == {"name": ref.name, "phone": ref.phone, "tel": ref.tel}, (code, name)


def test_every_text_the_script_uses_exists_in_every_locale():
    i18n = widget_i18n()
    used = set(re.findall(r"\bt\.([a-zA-Z]+)\b", WIDGET_JS.read_text()))
    assert {"notice", "noticePrivacy", "errorBody", "send", "message"} <= used
    for code, locale in i18n["locales"].items():
        texts = i18n["texts"][locale["texts"]]
        assert used <= set(texts), (code, sorted(used - set(texts)))
    assert set(i18n["locales"]) == set(LOCALES)


def test_widget_never_writes_markup_strings():
    source = WIDGET_JS.read_text()
    sinks = re.findall(r"\.(?:innerHTML|outerHTML|insertAdjacentHTML|write)\b|\beval\(", source)
    assert sinks == [], f"widget.js writes markup strings: {sinks}"
    assert ".style." not in source and '"style"' not in source


@pytest.mark.parametrize("path", [WIDGET_JS, WIDGET_CSS, DEMO], ids=lambda p: p.name)
def test_no_cdn_or_remote_assets(path):
    text = path.read_text()
    assert not re.search(r"""(src|href)=["']?https?://(?!HOST/)""", text)
    assert "@import" not in text and "cdn" not in text.lower()


class InlineFinder(HTMLParser):
    """Collects what a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.blocked: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if tag == "style":
            self.blocked.append("<style>")
        if tag == "script":
            self.scripts.append(names)
            if not names.get("src"):
                self.blocked.append("inline <script>")
        self.blocked += [f"{tag}[{n}]" for n in names if n == "style" or n.startswith("on")]


def test_demo_page_embeds_the_widget_like_a_site_owner_and_needs_nothing_inline():
    html = DEMO.read_text()
    assert EMBED in html
    finder = InlineFinder()
    finder.feed(html)
    assert finder.blocked == []
    assert [s.get("src") for s in finder.scripts] == ["/widget.js"]
    assert "Living with chronic pain" in html
    assert "{{" not in html and "{%" not in html  # served through jinja2; keep it literal
