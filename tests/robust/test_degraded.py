"""Degraded modes: broken knowledge, a missing index or model, and live reload.

- `faqbot serve` refuses to start on broken knowledge, naming the file and line;
- a reload with broken knowledge (or a model that cannot load) keeps the last good Bot serving;
- an unreadable index or a missing model starts a degraded app: guarded messages are still
  guarded, everything else gets the fail-closed reply with help numbers, /readyz says not ready
  and /metrics counts every fail-closed reply.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from faqbot.api import create_app
from faqbot.config import Settings
from faqbot.reload import try_reload
from tests.conftest import KNOWLEDGE, fresh_data_dir
from tests.robust.server import server_env
from tests.services import free_port

ENTRY = Path("faq") / "basics" / "sample-entry.yaml"
BREAKAGES = {
    # name: (old text, new text, what the message must say)
    "schema": ("year: 2024", "year: 1850", "year"),
    "yaml": (
        "question: What is a sample entry for tests?",
        "question: What is: a sample entry",
        "invalid YAML",
    ),
}
UNANSWERABLE = ["what is kratom", "does exercise help chronic pain?", "hello"]
GUARDED = ["how much kratom should I take?", "my friend took kratom and won't wake up"]


def break_entry(path: Path, old: str, new: str) -> int:
    """Replace `old` by `new` in the file; the 1-based line of the change."""
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    return text[: text.index(old)].count("\n") + 1


# ---------------------------------------------------------------------------- startup refusal
@pytest.mark.slow
@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_serve_refuses_broken_knowledge_naming_file_and_line(
    scratch_kb: Path, tmp_path: Path, breakage: str
) -> None:
    old, new, says = BREAKAGES[breakage]
    path = scratch_kb / ENTRY
    line = break_entry(path, old, new)
    env = server_env(tmp_path / "data", FAQBOT_KNOWLEDGE_DIR=str(scratch_kb))
    command = [sys.executable, "-m", "faqbot.cli", "serve", "--port", str(free_port())]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert re.search(rf"{re.escape(str(path))}:{line}: error: .*{says}", done.stderr), done.stderr
    assert "knowledge base is invalid" in done.stderr
    assert not (tmp_path / "data" / "index").exists()  # refused before building anything


# ---------------------------------------------------------------------------- live reload
@pytest.fixture
def reload_settings(built_data_dir: Path, tmp_path: Path) -> Settings:
    """A copy of the real knowledge and of the built data dir, free to break."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    return Settings(knowledge_dir=knowledge, data_dir=data_dir, rate_limit_per_minute=0)


def test_reload_with_broken_knowledge_keeps_the_last_good_bot(bot, reload_settings) -> None:
    entry = next((reload_settings.knowledge_dir / "faq").rglob("*.yaml"))
    line = break_entry(entry, "question:", "question: What is: broken #")
    result = try_reload(bot, reload_settings)
    assert result.bot is bot and result.reloaded is False
    assert any(p.startswith(f"{entry}:{line}:") for p in result.problems), result.problems
    assert result.bot.reply("what is kratom").reply.kind == "answer"


def test_reload_when_the_model_cannot_load_keeps_the_last_good_bot(bot, reload_settings) -> None:
    broken = reload_settings.model_copy(update={"encoder": "no-such-encoder"})
    result = try_reload(bot, broken)
    assert result.bot is bot and result.reloaded is False
    assert "EncoderError" in result.problems[0]


def test_reload_of_good_knowledge_serves_a_new_bot(bot, reload_settings) -> None:
    said: list[str] = []
    result = try_reload(bot, reload_settings, progress=said.append)
    assert result.reloaded is True and result.problems == []
    assert result.bot is not bot and result.bot.ready
    assert not any("building the index" in s for s in said)  # same knowledge: index reused
    assert result.bot.reply("what is kratom").reply.kind == "answer"


# ---------------------------------------------------------------------------- degraded start
def unreadable_index(data_dir: Path) -> dict[str, object]:
    """The index's vectors are gone (the manifest still says it is fresh)."""
    (data_dir / "index" / "vectors.npy").unlink()
    return {}


def missing_model(data_dir: Path) -> dict[str, object]:
    """The exported ONNX model is gone and the ONNX encoder is asked for."""
    shutil.rmtree(data_dir / "onnx")
    return {"encoder": "onnx"}


def fail_closed_count(metrics: str) -> float:
    """The sum of faqbot_fail_closed_total over its labels."""
    found = re.findall(r"^faqbot_fail_closed_total\{[^}]*\} (\S+)$", metrics, flags=re.M)
    return sum(float(v) for v in found)


def help_numbers_in(reply: dict) -> list[str]:
    """The phone numbers of the reply's resources that its text shows."""
    phones = [r["phone"] for r in reply["resources"] if r.get("phone")]
    return [p for p in phones if p in reply["text"]]


@pytest.mark.parametrize("damage", [unreadable_index, missing_model], ids=["index", "model"])
def test_missing_index_or_model_fails_closed_and_is_counted(
    built_data_dir: Path, tmp_path: Path, damage
) -> None:
    data_dir = fresh_data_dir(built_data_dir, tmp_path / "data")
    settings = Settings(data_dir=data_dir, rate_limit_per_minute=0, **damage(data_dir))
    app = create_app(settings=settings)  # the production path: it opens its own SQLite store
    with TestClient(app) as client:
        ready = client.get("/readyz")
        closed = [client.post("/api/chat", json={"message": m}).json() for m in UNANSWERABLE]
        guarded = [client.post("/api/chat", json={"message": m}).json() for m in GUARDED]
        metrics = client.get("/metrics").text
        stored = app.state.faqbot.store.count_escalations()
    assert ready.status_code == 503 and ready.json()["index"] is False
    assert app.state.faqbot.degraded_reason
    for reply in closed:
        assert (reply["kind"], reply["category"]) == ("redirect", "error")
        assert help_numbers_in(reply), reply["text"]
    assert [(r["kind"], r["category"]) for r in guarded] == [
        ("redirect", "dosing"),
        ("emergency", "emergency"),
    ]
    assert all(help_numbers_in(r) for r in guarded)
    assert fail_closed_count(metrics) == len(UNANSWERABLE)
    assert stored == len(UNANSWERABLE) + len(GUARDED)  # fail-closed replies are escalated too
