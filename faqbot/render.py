"""Reply texts from jinja2 templates in prompts/ (StrictUndefined); safe HTML from the plain text."""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

import jinja2

URL = re.compile(r"(https://[^\s<>()]+[^\s<>().,;:!?])")


class Renderer:
    """Renders `<name>.j2` templates; every reply text comes from a template."""

    def __init__(self, *, prompts_dir: Path) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(prompts_dir)),
            undefined=jinja2.StrictUndefined,
            autoescape=False,  # plain text; HTML is built by `to_html`, which escapes everything
            trim_blocks=False,
            keep_trailing_newline=False,
            # templates are read once: a changed prompts/ file arrives with a reload (SIGHUP or a
            # restart), which builds a new Renderer; checking mtimes cost a stat() per reply
            auto_reload=False,
        )

    def render(self, name: str, **context: Any) -> str:
        """The template's text with runs of blank lines collapsed."""
        text = self.env.get_template(f"{name}.j2").render(**context)
        return tidy(text)


def tidy(text: str) -> str:
    """Strip trailing spaces and collapse 3+ newlines into one blank line."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def to_html(text: str) -> str:
    """Escape plain text and give it structure: paragraphs, bullet lists, https links."""
    blocks = [b for b in re.split(r"\n\s*\n", text.strip()) if b.strip()]
    return "".join(_block(b) for b in blocks)


def _inline(line: str) -> str:
    escaped = html.escape(line, quote=True)
    return URL.sub(
        lambda m: (
            f'<a href="{m.group(1)}" rel="noopener noreferrer" target="_blank">{m.group(1)}</a>'
        ),
        escaped,
    )


def _block(block: str) -> str:
    lines = block.splitlines()
    items = [ln.strip()[2:] for ln in lines if ln.strip().startswith("- ")]
    prose = [ln for ln in lines if not ln.strip().startswith("- ")]
    out = "".join(f"<p>{_inline(ln.strip())}</p>" for ln in prose if ln.strip())
    if items:
        out += "<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>"
    return out
