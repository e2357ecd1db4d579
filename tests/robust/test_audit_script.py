"""`make audit` (.ci/audit.py): findings fail, documented ignores pass, a service outage warns."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / ".ci" / "audit.py"


@pytest.fixture(scope="module")
def audit():
    """The .ci/audit.py module."""
    spec = importlib.util.spec_from_file_location("faqbot_ci_audit", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


REPORT = {
    "dependencies": [
        {
            "name": "jinja2",
            "version": "3.1.2",
            "vulns": [
                {
                    "id": "GHSA-h5c8-rqwp-cp95",
                    "aliases": ["CVE-2024-22195"],
                    "fix_versions": ["3.1.3"],
                },
            ],
        },
        {
            "name": "requests",
            "version": "2.31.0",
            "vulns": [
                {"id": "PYSEC-2024-1", "aliases": [], "fix_versions": []},
            ],
        },
        {"name": "fastapi", "version": "0.165.0", "vulns": []},
        {"name": "torch", "skip_reason": "Dependency not found on PyPI: torch (2.13.0+cpu)"},
    ]
}


def test_findings_are_reported_and_skips_counted(audit) -> None:
    findings, skipped, audited = audit.summarize(REPORT, {})
    assert findings == [
        "jinja2==3.1.2: GHSA-h5c8-rqwp-cp95 (fixed in 3.1.3)",
        "requests==2.31.0: PYSEC-2024-1 (fixed in no fix yet)",
    ]
    assert (len(skipped), audited) == (1, 3)


def test_ignores_match_ids_and_aliases(audit) -> None:
    ignores = {"CVE-2024-22195": "sandbox not used", "PYSEC-2024-1": "not reachable"}
    findings, _skipped, _audited = audit.summarize(REPORT, ignores)
    assert findings == []


def test_every_ignore_needs_a_reason(audit, tmp_path: Path) -> None:
    good = tmp_path / "good.txt"
    good.write_text("# comment\n\nPYSEC-2024-1  # the vulnerable call is never made\n")
    assert audit.read_ignores(good) == {"PYSEC-2024-1": "the vulnerable call is never made"}
    bad = tmp_path / "bad.txt"
    bad.write_text("PYSEC-2024-1\n")
    with pytest.raises(SystemExit, match="a reason is required"):
        audit.read_ignores(bad)


def test_the_shipped_ignore_file_is_valid(audit) -> None:
    audit.read_ignores(audit.IGNORE_FILE)
