"""Knowledge base: the shipped content validates, and every rule reports its exact file and line."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest

from faqbot.kb import load_knowledge
from tests.conftest import GOOD_ENTRY, KNOWLEDGE

TODAY = dt.date(2026, 11, 22)


def problems_for(root: Path) -> list[str]:
    _, problems = load_knowledge(root, today=TODAY)
    return [str(p) for p in problems]


def write_entry(root: Path, text: str, name: str = "sample-entry", topic: str = "basics") -> Path:
    path = root / "faq" / topic / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_real_knowledge_base_is_clean_with_90_plus_approved():
    kb, problems = load_knowledge(KNOWLEDGE)
    assert [str(p) for p in problems if p.level == "error"] == []
    assert kb is not None and len(kb.served) >= 90
    topics = {e.topic for e in kb.served}
    assert {
        "kratom-basics",
        "evidence",
        "risks",
        "myths",
        "law",
        "help",
        "chronic-pain",
        "about",
    } <= topics


def test_every_served_answer_is_short_sourced_and_dated(real_kb):
    for entry in real_kb.served:
        assert len(entry.answer.split()) <= 150, entry.id
        assert len(entry.alternates) >= 4, entry.id
        assert all(str(s.url).startswith("https://") for s in entry.sources), entry.id


def test_scratch_kb_is_clean(scratch_kb):
    assert problems_for(scratch_kb) == []


# Each case: (mutation of the good entry, expected line, expected message fragment)
ENTRY_CASES = [
    ("missing_field", lambda t: t.replace("topic: basics\n", ""), 1, "topic: Field required"),
    (
        "extra_field",
        lambda t: t + "author: someone\n",
        1,
        "author: unknown field (not in the schema)",
    ),
    (
        "few_alternates",
        lambda t: t.replace("  - smaple entry\n", ""),
        3,
        "alternates: List should have at least 4 items",
    ),
    (
        "no_sources",
        lambda t: t.replace(
            "sources:\n  - publisher: NCCIH (NIH)\n    title: Kratom\n    year: 2024\n"
            "    url: https://www.nccih.nih.gov/health/kratom\n",
            "sources: []\n",
        ),
        12,
        "sources: List should have at least 1 item",
    ),
    (
        "http_url",
        lambda t: t.replace("https://www.nccih", "http://www.nccih"),
        16,
        "source URL must use https",
    ),
    (
        "denied_url",
        lambda t: t.replace(
            "https://www.nccih.nih.gov/health/kratom", "https://speciosa.org/kratom"
        ),
        16,
        "source URL is on the denylist (speciosa.org)",
    ),
    (
        "future_review",
        lambda t: t.replace("reviewed_on: 2026-01-10", "reviewed_on: 2027-01-10"),
        20,
        "reviewed_on 2027-01-10 is in the future",
    ),
    (
        "dose",
        lambda t: t.replace("check the exact message.", "take 5 g twice a day."),
        9,
        "answer states an amount or schedule: '5 g'",
    ),
    (
        "schedule",
        lambda t: t.replace("check the exact message.", "use it twice a day."),
        9,
        "answer states an amount or schedule: 'twice a day'",
    ),
    (
        "myth",
        lambda t: t.replace("check the exact message.", "it is non-addictive."),
        9,
        "answer repeats a myth phrase: 'non-addictive'",
    ),
    (
        "related",
        lambda t: t.replace("related: []", "related: [no-such-entry]"),
        22,
        "related id 'no-such-entry' does not exist",
    ),
    (
        "bad_slug",
        lambda t: t.replace("id: sample-entry", "id: Sample Entry"),
        1,
        "id: Value error, 'Sample Entry' is not a lowercase slug",
    ),
    (
        "markdown",
        lambda t: t.replace("This entry exists", "## Heading\n  This entry exists"),
        9,
        "answer uses Markdown beyond paragraphs",
    ),
    (
        "long_answer",
        lambda t: t.replace("check the exact message.", "word " * 150),
        8,
        "answer has 16",
    ),
    ("bad_yaml", lambda t: t.replace("topic: basics", "topic: [basics"), 11, "invalid YAML"),
]


@pytest.mark.parametrize(
    ("name", "mutate", "line", "message"), ENTRY_CASES, ids=[c[0] for c in ENTRY_CASES]
)
def test_entry_rule_reports_file_and_line(scratch_kb, name, mutate, line, message):
    path = write_entry(scratch_kb, mutate(GOOD_ENTRY))
    found = [
        p for p in problems_for(scratch_kb) if p.startswith(f"{path}:{line}:") and message in p
    ]
    assert found, problems_for(scratch_kb)


def test_overdue_review_is_a_warning_not_an_error(scratch_kb):
    path = write_entry(
        scratch_kb, GOOD_ENTRY.replace("next_review_due: 2099-01-10", "next_review_due: 2026-06-01")
    )
    _, problems = load_knowledge(scratch_kb, today=TODAY)
    assert [(p.path, p.line, p.level) for p in problems] == [(str(path), 21, "warning")]
    assert "review overdue since 2026-06-01 (still served)" in problems[0].message


def test_duplicate_id_near_duplicate_question_and_shared_phrasing(scratch_kb):
    other = GOOD_ENTRY.replace(
        "What is a sample entry for tests?", "What is a sample entry for the tests?"
    )
    path = write_entry(
        scratch_kb,
        other.replace("id: sample-entry", "id: sample-entry-two"),
        name="sample-entry-two",
    )
    messages = problems_for(scratch_kb)
    first = path.with_name("sample-entry.yaml")
    # files load in name order, so the later file (sample-entry.yaml) carries the message
    assert (
        f"{first}:2: error: question is a near-duplicate of 'sample-entry-two' (94% similar)"
        in messages
    )
    assert f"{first}:4: error: phrasing 'sample entry' also used by 'sample-entry-two'" in messages
    dup = write_entry(scratch_kb, GOOD_ENTRY, name="sample-entry", topic="other")
    assert any(str(dup) in m and "does not match its folder" in m for m in problems_for(scratch_kb))


def test_id_must_match_file_name(scratch_kb):
    path = write_entry(scratch_kb, GOOD_ENTRY, name="renamed")
    assert f"{path}:1: error: id 'sample-entry' does not match file name" in problems_for(
        scratch_kb
    )


def test_resource_phone_must_parse(scratch_kb):
    res = scratch_kb / "resources.yaml"
    res.write_text(res.read_text().replace("phone: 1-800-222-1222", "phone: 1-800-222"))
    assert any(
        p.startswith(f"{res}:") and "is neither a short code" in p for p in problems_for(scratch_kb)
    )


def test_resource_digits_must_match_letters(scratch_kb):
    res = scratch_kb / "resources.yaml"
    res.write_text(
        res.read_text().replace('phone_digits: "18006624357"', 'phone_digits: "18006624358"')
    )
    assert any("does not match 1-800-662-HELP" in p for p in problems_for(scratch_kb))


@pytest.mark.parametrize(
    ("name", "old", "new", "problem"),
    [
        ("rules.yaml", "'\\b(potentiat", "'\\b((potentiat", "bad pattern"),
        ("semantic.yaml", "{resolved}", "{resolveds}", "not_happening: unknown lexicon"),
        ("semantic.yaml", "(dying|dyin) to", "((dying|dyin) to", "figures_of_speech: bad pattern"),
        ("semantic.yaml", "(?<!compared )with", "((?<!compared )with", "comparisons: bad pattern"),
    ],
)
def test_broken_guard_pattern_is_reported_with_line(scratch_kb, name, old, new, problem):
    path = scratch_kb / "guardrails" / name
    text = path.read_text().replace(old, new, 1)
    path.write_text(text)
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if new in ln)
    assert any(p.startswith(f"{path}:{line}:") and problem in p for p in problems_for(scratch_kb))


def test_non_yaml_file_in_faq_is_reported(scratch_kb):
    stray = scratch_kb / "faq" / "basics" / "notes.txt"
    stray.write_text("hello")
    assert f"{stray}:1: error: not a .yaml file; entries must be YAML" in problems_for(scratch_kb)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faqbot.cli", *args], capture_output=True, text=True, timeout=120
    )


def test_cli_validate_exits_1_with_line_and_never_a_traceback(scratch_kb):
    write_entry(scratch_kb, "id: [unclosed\n")
    result = run_cli("kb", "validate", str(scratch_kb))
    assert result.returncode == 1
    # the parser's wording differs between PyYAML builds ("expected" / "did not find expected")
    assert "sample-entry.yaml:2: error: invalid YAML:" in result.stderr
    assert "expected ',' or ']'" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_validate_real_kb_exits_0_and_stats_json():
    assert run_cli("kb", "validate").returncode == 0
    result = run_cli("kb", "stats", "--json")
    assert result.returncode == 0
    assert '"approved": ' in result.stdout


def test_kb_validate_does_not_import_torch():
    code = (
        "import sys; from faqbot.cli import main; sys.argv=['faqbot','kb','validate'];\n"
        "try:\n main()\nexcept SystemExit: pass\nprint('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
    )
    assert result.stdout.strip().splitlines()[-1] == "False"


def test_repeated_background_message_is_reported_with_line(scratch_kb):
    background = scratch_kb / "guardrails" / "background.yaml"
    lines = background.read_text().splitlines()
    first = next(i for i, ln in enumerate(lines) if ln.startswith("  - "))
    lines.append(lines[first].upper())  # the same message, differently cased
    background.write_text("\n".join(lines) + "\n")
    assert any(
        p.startswith(f"{background}:{len(lines)}:") and "repeated message" in p
        for p in problems_for(scratch_kb)
    )


def test_empty_background_message_is_reported(scratch_kb):
    background = scratch_kb / "guardrails" / "background.yaml"
    background.write_text(background.read_text() + '  - ""\n')
    assert any(str(background) in p and "messages" in p for p in problems_for(scratch_kb))
