"""`faqbot escalations ...` as a subprocess: the real CLI on a real SQLite file in a temp data dir."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faqbot.config import Settings
from faqbot.dialog import Conversation
from faqbot.store import open_store
from tests.store.conftest import make_turn

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data dir whose SQLite file holds three escalations (dosing, mixing, dosing)."""
    root = tmp_path / "data"
    store = open_store(Settings(data_dir=root, database_url=None))
    for i, category in enumerate(["dosing", "mixing", "dosing"], start=1):
        turn = make_turn(f"question {i} from bo@example.com", category=category, turn_id=i)
        store.record(turn, Conversation(session_id="cli"))
    store.close()
    return root


def faqbot(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run `python -m faqbot.cli ...` with FAQBOT_DATA_DIR set and no other faqbot settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    clean |= {"FAQBOT_DATA_DIR": str(data_dir), **env}
    return subprocess.run(
        [sys.executable, "-m", "faqbot.cli", *args],
        capture_output=True,
        text=True,
        env=clean,
        cwd=data_dir.parent,
        timeout=120,
    )


def test_list_json_prints_one_array_of_every_record(data_dir: Path):
    done = faqbot(data_dir, "escalations", "list", "--json")
    assert done.returncode == 0, done.stderr
    records = json.loads(done.stdout)
    assert [r["turn_id"] for r in records] == [3, 2, 1]
    assert records[0]["message"] == "question 3 from [email]"
    assert records[0]["status"] == "new"

    limited = json.loads(faqbot(data_dir, "escalations", "list", "--json", "--limit", "2").stdout)
    assert [r["turn_id"] for r in limited] == [3, 2]
    dosing = faqbot(data_dir, "escalations", "list", "--json", "--category", "dosing")
    assert [r["turn_id"] for r in json.loads(dosing.stdout)] == [3, 1]
    future = faqbot(data_dir, "escalations", "list", "--json", "--since", "2999-01-01")
    assert json.loads(future.stdout) == []


def test_list_text_puts_data_on_stdout_and_the_count_on_stderr(data_dir: Path):
    done = faqbot(data_dir, "escalations", "list", "--category", "mixing")
    assert done.returncode == 0
    [line] = done.stdout.splitlines()
    assert "redirect/mixing" in line and "question 2 from [email]" in line
    assert done.stderr.strip() == "1 escalation(s)"


def test_export_csv_and_jsonl(data_dir: Path):
    as_csv = faqbot(data_dir, "escalations", "export", "--format", "csv", "--category", "dosing")
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["turn_id"] for r in rows] == ["1", "3"]
    as_jsonl = faqbot(data_dir, "escalations", "export", "--format", "jsonl")
    assert [json.loads(line)["turn_id"] for line in as_jsonl.stdout.splitlines()] == [1, 2, 3]


def test_purge_and_usage_errors(data_dir: Path):
    kept = faqbot(data_dir, "escalations", "purge", "--older-than", "90d", "--json")
    assert json.loads(kept.stdout) == {"purged": 0, "older_than_days": 90}
    gone = faqbot(data_dir, "escalations", "purge", "--older-than", "0d")
    assert gone.stdout.strip() == "purged 3 record(s) older than 0 days"
    assert json.loads(faqbot(data_dir, "escalations", "list", "--json").stdout) == []

    assert faqbot(data_dir, "escalations", "purge", "--older-than", "soon").returncode == 2
    assert faqbot(data_dir, "escalations", "export", "--format", "xml").returncode == 2
    assert faqbot(data_dir, "escalations", "list", "--since", "yesterday").returncode == 2


def test_unreachable_database_is_a_one_line_error(data_dir: Path):
    done = faqbot(
        data_dir,
        "escalations",
        "list",
        "--json",
        FAQBOT_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:1/nowhere",
    )
    assert done.returncode == 1
    assert done.stdout == ""
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("error: ") and "Connection refused" in line
