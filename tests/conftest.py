"""Shared fixtures: the real knowledge base, a scratch copy to break, the real model and bot."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
DATA = Path(__file__).resolve().parent / "data"
SHARED_EVAL = ROOT.parent / "shared" / "eval"

GOOD_ENTRY = """\
id: sample-entry
question: What is a sample entry for tests?
alternates:
  - sample entry
  - test sample question
  - what's the sample for
  - smaple entry
answer: |
  This entry exists so tests can break one field at a time and check the exact message.
topic: basics
tags: [test]
sources:
  - publisher: NCCIH (NIH)
    title: Kratom
    year: 2024
    url: https://www.nccih.nih.gov/health/kratom
review:
  status: approved
  reviewed_by: test reviewer
  reviewed_on: 2026-01-10
  next_review_due: 2099-01-10
related: []
"""


@pytest.fixture(scope="session")
def real_kb():
    """The shipped knowledge base, loaded once."""
    from faqbot.kb import KnowledgeBase

    return KnowledgeBase.from_path(KNOWLEDGE)


@pytest.fixture
def scratch_kb(tmp_path: Path) -> Path:
    """A knowledge folder with the real guardrails and resources and one good entry."""
    root = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE / "guardrails", root / "guardrails")
    shutil.copy(KNOWLEDGE / "resources.yaml", root / "resources.yaml")
    (root / "faq" / "basics").mkdir(parents=True)
    (root / "faq" / "basics" / "sample-entry.yaml").write_text(GOOD_ENTRY)
    return root
