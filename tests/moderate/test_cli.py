"""`faqbot moderators ...` and `faqbot gaps` as subprocesses, on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faqbot.config import Settings
from faqbot.moderate_accounts import Accounts
from faqbot.moderate_auth import Sessions
from faqbot.moderate_triage import Triage
from faqbot.store import open_store
from tests.conftest import fresh_data_dir
from tests.moderate.test_gaps import QUESTIONS, record_unanswered

pytestmark = pytest.mark.slow


def faqbot(data_dir: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run `python -m faqbot.cli ...` with FAQBOT_DATA_DIR set; stdin is a pipe, not a terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    env |= {"FAQBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, "-m", "faqbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=180,
    )


def opened(data_dir: Path):
    return open_store(Settings(data_dir=data_dir, database_url=None), retention=False)


def test_add_reads_the_password_twice_from_stdin_and_list_shows_it(tmp_path: Path):
    data = tmp_path / "data"
    done = faqbot(
        data, "moderators", "add", "ann", "--admin", stdin="a-long-password-1\na-long-password-1\n"
    )
    assert done.returncode == 0, done.stderr
    assert "created admin 'ann'" in done.stdout
    assert (
        faqbot(
            data, "moderators", "add", "bob", stdin="b-long-password-2\nb-long-password-2\n"
        ).returncode
        == 0
    )
    listed = faqbot(data, "moderators", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert [(r["username"], r["role"], r["disabled"]) for r in rows] == [
        ("ann", "admin", False),
        ("bob", "moderator", False),
    ]
    assert all("password_hash" not in r for r in rows)
    store = opened(data)
    try:
        assert Accounts(engine=store.engine).authenticate("ann", "a-long-password-1").status == "ok"
        assert [e.action for e in Triage(engine=store.engine).recent()] == ["account.create"] * 2
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "stdin", "message"),
    [
        ("ann", "a-long-password-1\na-long-password-2\n", "the two passwords differ"),
        ("ann", "short\nshort\n", "at least 12 characters"),
        ("ann", "", "no password given"),
        ("bad name", "a-long-password-1\na-long-password-1\n", "user names are"),
    ],
)
def test_add_refusals_exit_1_with_one_line(tmp_path: Path, name, stdin, message):
    done = faqbot(tmp_path / "data", "moderators", "add", name, stdin=stdin)
    assert done.returncode == 1
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_disable_and_reset_password_end_sessions(tmp_path: Path):
    data = tmp_path / "data"
    assert (
        faqbot(
            data, "moderators", "add", "ann", stdin="a-long-password-1\na-long-password-1\n"
        ).returncode
        == 0
    )
    assert (
        faqbot(
            data, "moderators", "add", "ann", stdin="a-long-password-1\na-long-password-1\n"
        ).returncode
        == 1
    )
    store = opened(data)
    accounts, sessions = (
        Accounts(engine=store.engine),
        Sessions(engine=store.engine, idle_minutes=30),
    )
    try:
        ann = accounts.by_name("ann")
        token = sessions.start(ann.id)
        done = faqbot(
            data,
            "moderators",
            "reset-password",
            "ann",
            stdin="new-long-password\nnew-long-password\n",
        )
        assert done.returncode == 0, done.stderr
        assert sessions.load(token) is None
        assert accounts.authenticate("ann", "new-long-password").status == "ok"
        assert accounts.authenticate("ann", "a-long-password-1").status == "bad"
        token = sessions.start(ann.id)
        assert faqbot(data, "moderators", "disable", "ann").returncode == 0
        assert sessions.load(token) is None and accounts.by_name("ann").disabled
        listed = faqbot(data, "moderators", "list")
        assert "ann\tmoderator\tdisabled" in listed.stdout
        assert faqbot(data, "moderators", "enable", "ann").returncode == 0
        assert not accounts.by_name("ann").disabled
    finally:
        store.close()
    missing = faqbot(data, "moderators", "disable", "nobody")
    assert missing.returncode == 1 and "no account named 'nobody'" in missing.stderr


def test_gaps_groups_unanswered_questions(tmp_path: Path, built_data_dir: Path):
    data = fresh_data_dir(built_data_dir, tmp_path / "data")
    store = opened(data)
    try:
        record_unanswered(store, QUESTIONS)
    finally:
        store.close()
    done = faqbot(data, "gaps", "--days", "30", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["days"] == 30 and report["questions"] == len(QUESTIONS)
    sizes = [g["size"] for g in report["groups"]]
    assert sizes == [3, 2, 1]
    assert report["groups"][0]["nearest_entry_id"]
    human = faqbot(data, "gaps")
    assert human.returncode == 0 and "nearest entry:" in human.stdout
    assert "3 group(s)" in human.stderr
