"""Helpers shared by the evaluation-floor tests: run a labelled set once per session."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import DATA, SHARED_EVAL


def shared_set(name: str) -> Path:
    """A public evaluation set, or skip when ../shared/eval is absent (a user's clone)."""
    path = SHARED_EVAL / name
    if not path.exists():
        pytest.skip(f"public evaluation set {name} not present (needs ../shared/eval)")
    return path


@cache
def _run(bot_id: int, path: str) -> dict[str, Any]:
    from faqbot.evaluate import load_cases, run_set

    return run_set(_BOTS[bot_id], load_cases(Path(path)))


_BOTS: dict[int, Any] = {}


def evaluate(bot: Any, path: Path) -> dict[str, Any]:
    """Metrics of one labelled set through the real bot (cached per session)."""
    _BOTS[id(bot)] = bot
    return _run(id(bot), str(path))


DEV_GUARD = DATA / "guard_dev.jsonl"
DEV_RETRIEVAL = DATA / "retrieval_dev.jsonl"
