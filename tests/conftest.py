"""Shared fixtures: the real knowledge base, a scratch copy to break, and one real bot.

The `built_data_dir` fixture exports the real model to ONNX and builds the real index once per
test session; `bot` is a Bot on it (no escalation sink). Test packages (tests/api, tests/store, ...)
add their own conftest.py for their own fixtures.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

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
    shutil.copy(KNOWLEDGE / "smalltalk.yaml", root / "smalltalk.yaml")
    semantic = root / "guardrails" / "semantic.yaml"  # its links point at real entries
    data = yaml.safe_load(semantic.read_text())
    data.update(related={}, starters=[])
    semantic.write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "faq" / "basics").mkdir(parents=True)
    (root / "faq" / "basics" / "sample-entry.yaml").write_text(GOOD_ENTRY)
    return root


@pytest.fixture(scope="session")
def built_data_dir(tmp_path_factory: pytest.TempPathFactory, real_kb) -> Path:
    """A data dir with the ONNX export and the real index, built once per session."""
    from faqbot.config import Settings
    from faqbot.engine import build_artifacts

    data_dir = tmp_path_factory.mktemp("data")
    build_artifacts(real_kb, Settings(data_dir=data_dir), progress=lambda _msg: None)
    return data_dir


def fresh_data_dir(built: Path, target: Path) -> Path:
    """A copy of the built data dir (index + ONNX) that a test may write to."""
    shutil.copytree(built, target, dirs_exist_ok=True)
    return target


@pytest.fixture(scope="session")
def settings(built_data_dir: Path):
    """Settings pointing at the built data dir."""
    from faqbot.config import Settings

    return Settings(data_dir=built_data_dir, rate_limit_per_minute=0)


@pytest.fixture(scope="session")
def bot(settings, real_kb):
    """The real Bot (real model via ONNX, real faiss + BM25), without an escalation sink."""
    from faqbot.engine import build_bot

    return build_bot(settings, kb=real_kb, progress=lambda _msg: None)
