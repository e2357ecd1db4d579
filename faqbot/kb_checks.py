"""Cross-entry and content checks on FAQ entries (no model needed: lexical similarity only)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from urllib.parse import urlparse

from rapidfuzz import fuzz

from faqbot.kb import ContentChecks, Located
from faqbot.yamlfile import Problem

NEAR_DUPLICATE = 90.0


def check_entries(
    located: list[Located], checks: ContentChecks, *, today: dt.date
) -> list[Problem]:
    """Every check over the loaded entries, in file order."""
    problems: list[Problem] = []
    problems.extend(_check_ids(located))
    problems.extend(_check_phrasings(located))
    known = {loc.entry.id for loc in located}
    for loc in located:
        problems.extend(_check_one(loc, checks, known, today))
    return problems


def _at(loc: Located, *path: int | str) -> tuple[str, int]:
    return str(loc.doc.path), loc.doc.line_of(path)


def _check_ids(located: list[Located]) -> Iterator[Problem]:
    seen: dict[str, Located] = {}
    for loc in located:
        entry = loc.entry
        if entry.id in seen:
            first = seen[entry.id].doc.path
            yield Problem(*_at(loc, "id"), f"duplicate id {entry.id!r} (also in {first})")
        seen.setdefault(entry.id, loc)
        if loc.doc.path.stem != entry.id:
            yield Problem(*_at(loc, "id"), f"id {entry.id!r} does not match file name")
        if loc.doc.path.parent.name != entry.topic:
            yield Problem(*_at(loc, "topic"), f"topic {entry.topic!r} does not match its folder")


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9 ]+", "", text.lower()).strip()


def _check_phrasings(located: list[Located]) -> Iterator[Problem]:
    owners: dict[str, str] = {}
    for loc in located:
        for i, phrase in enumerate(loc.entry.phrasings):
            key = _norm(phrase)
            owner = owners.setdefault(key, loc.entry.id)
            if owner != loc.entry.id:
                where = ("question",) if i == 0 else ("alternates", i - 1)
                yield Problem(*_at(loc, *where), f"phrasing {phrase!r} also used by {owner!r}")
    for i, first in enumerate(located):
        for second in located[i + 1 :]:
            score = fuzz.token_sort_ratio(_norm(first.entry.question), _norm(second.entry.question))
            if score >= NEAR_DUPLICATE and first.entry.id != second.entry.id:
                yield Problem(
                    *_at(second, "question"),
                    f"question is a near-duplicate of {first.entry.id!r} ({score:.0f}% similar)",
                )


def _check_one(
    loc: Located, checks: ContentChecks, known: set[str], today: dt.date
) -> Iterator[Problem]:
    yield from _check_sources(loc, checks)
    yield from _check_review(loc, today)
    yield from _check_answer(loc, checks)
    for i, rel in enumerate(loc.entry.related):
        if rel not in known:
            yield Problem(*_at(loc, "related", i), f"related id {rel!r} does not exist")
        elif rel == loc.entry.id:
            yield Problem(*_at(loc, "related", i), "an entry cannot be related to itself")


def _check_sources(loc: Located, checks: ContentChecks) -> Iterator[Problem]:
    for i, source in enumerate(loc.entry.sources):
        url = str(source.url)
        host = (urlparse(url).hostname or "").lower()
        if not url.startswith("https://"):
            yield Problem(*_at(loc, "sources", i, "url"), f"source URL must use https: {url}")
        denied = next(
            (d for d in checks.source_denylist if host == d or host.endswith("." + d)), None
        )
        if denied:
            yield Problem(
                *_at(loc, "sources", i, "url"),
                f"source URL is on the denylist ({denied}): cite the publisher's own page",
            )


def _check_review(loc: Located, today: dt.date) -> Iterator[Problem]:
    review = loc.entry.review
    if review.reviewed_on > today:
        yield Problem(
            *_at(loc, "review", "reviewed_on"), f"reviewed_on {review.reviewed_on} is in the future"
        )
    if review.next_review_due < review.reviewed_on:
        yield Problem(
            *_at(loc, "review", "next_review_due"), "next_review_due is before reviewed_on"
        )
    elif review.next_review_due < today and review.status == "approved":
        yield Problem(
            *_at(loc, "review", "next_review_due"),
            f"review overdue since {review.next_review_due} (still served)",
            level="warning",
        )


def _answer_line(loc: Located, fragment: str) -> tuple[str, int]:
    """The file line holding `fragment` inside the answer block (the key line if not found)."""
    path, key_line = _at(loc, "answer")
    lines = loc.doc.path.read_text(encoding="utf-8").splitlines()
    for offset, text in enumerate(lines[key_line - 1 :]):
        if fragment in text:
            return path, key_line + offset
    return path, key_line


def _check_answer(loc: Located, checks: ContentChecks) -> Iterator[Problem]:
    answer = loc.entry.answer
    dose = checks.find_dose(answer)
    if dose:
        yield Problem(*_answer_line(loc, dose), f"answer states an amount or schedule: {dose!r}")
    myth = checks.find_myth(answer)
    if myth:
        yield Problem(*_answer_line(loc, myth), f"answer repeats a myth phrase: {myth!r}")
    markdown = re.search(r"^\s*#+ |\*\*|^\s*\|", answer, re.MULTILINE)
    if markdown:
        yield Problem(
            *_answer_line(loc, markdown.group(0).strip()),
            "answer uses Markdown beyond paragraphs, bullets and links",
        )
