"""The CLI as a person runs it: real subprocesses on a copy of the built data dir."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fresh_data_dir

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cli_env(built_data_dir, tmp_path_factory) -> dict[str, str]:
    data_dir = fresh_data_dir(built_data_dir, tmp_path_factory.mktemp("cli-data"))
    return {**os.environ, "FAQBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faqbot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_ask_json_is_exactly_one_reply_object(cli_env):
    result = run(cli_env, "ask", "--json", "what is kratom")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    reply = json.loads(lines[0])
    assert reply["kind"] == "answer" and reply["entry_id"] == "what-is-kratom" and reply["sources"]


def test_ask_human_output_and_redirect_exit_zero(cli_env):
    result = run(cli_env, "ask", "how much kratom should I take")
    assert result.returncode == 0
    assert "[redirect (dosing)]" in result.stderr and "pharmacist" in result.stdout


def test_ask_stdin_one_object_per_line_in_order_with_errors(cli_env):
    result = run(
        cli_env,
        "ask",
        stdin="what is kratom\n\nhow much kratom should i take\n" + "x" * 2500 + "\n",
    )
    objects = [json.loads(line) for line in result.stdout.strip().splitlines()]
    assert [o["kind"] for o in objects] == ["answer", "error", "redirect", "error"]
    assert (
        objects[1]["message"].startswith("line 2:") and "2500 characters" in objects[3]["message"]
    )


def test_chat_json_is_one_conversation(cli_env):
    result = run(cli_env, "chat", "--json", stdin="what is kratom\nis it addictive?\n")
    first, second = (json.loads(line) for line in result.stdout.strip().splitlines())
    assert first["session_id"] == second["session_id"] or first["session_id"] is None
    assert (first["turn_id"], second["turn_id"]) == (1, 2)
    assert second["entry_id"] == "is-kratom-addictive"


def test_explain_shows_guard_scores_and_thresholds(cli_env):
    reply = json.loads(run(cli_env, "ask", "--json", "--explain", "what is kratom").stdout)
    explain = reply["explain"]
    assert explain["decision"] == "answer" and explain["thresholds"]["answer"] > 0
    assert {"dense", "lexical", "fused"} <= set(explain["top"][0])
    assert explain["guard"]["category"] is None


def test_ask_with_onnx_does_not_import_torch(cli_env):
    code = (
        "import sys\nfrom faqbot.cli import main\nsys.argv=['faqbot','ask','--json','is kratom addictive']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy=[m for m in ('torch','transformers','sentence_transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=cli_env, timeout=300
    )
    assert "HEAVY []" in result.stdout, result.stdout + result.stderr


def test_help_is_light():
    code = "import sys\nfrom faqbot import cli\nprint(sorted(m for m in ('torch','faiss','onnxruntime') if m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_broken_knowledge_is_one_line_error(cli_env, tmp_path: Path):
    env = {**cli_env, "FAQBOT_KNOWLEDGE_DIR": str(tmp_path)}
    result = run(env, "ask", "what is kratom")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


def test_eval_reports_fused_dense_lexical(cli_env, tmp_path: Path):
    cases = tmp_path / "cases.jsonl"
    rows = [
        {
            "id": "c1",
            "history": [],
            "message": "what is kratom",
            "expected_kind": "answer",
            "expected_entry": "what-is-kratom",
        },
        {
            "id": "c2",
            "history": [],
            "message": "best pizza in town",
            "expected_kind": "out_of_scope",
            "expected_entry": None,
        },
    ]
    cases.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    report = json.loads(run(cli_env, "eval", "--json", str(cases)).stdout)
    modes = report["sets"][str(cases)]
    assert set(modes) == {"fused", "dense", "lexical"}
    assert modes["fused"]["all"]["n"] == 2


def test_eval_hint_review_reports_medicationqa_twice(cli_env, tmp_path: Path):
    cases = tmp_path / "mqa.jsonl"
    rows = [
        ("m1", "how many days in a row can i keep taking my antibiotic", "Usage/time"),
        ("m2", "does your hair grow back once you come off a statin", "Stopping/tapering"),
        ("m3", "what is the shelf life of eye drops", "Storage and disposal"),
    ]
    hint = {"Usage/time": "DOSING", "Stopping/tapering": "DOSING"}
    cases.write_text(
        "".join(
            json.dumps(
                {
                    "id": i,
                    "question": q,
                    "question_type": t,
                    "derived_guardrail_hint": hint.get(t, "OTHER_INFO"),
                }
            )
            + "\n"
            for i, q, t in rows
        )
    )
    review = tmp_path / "review.jsonl"
    review.write_text(json.dumps({"id": "m2", "reviewed": "OTHER_INFO"}) + "\n")
    report = json.loads(
        run(cli_env, "eval", "--json", "--hint-review", str(review), str(cases)).stdout
    )
    raw = report["sets"][str(cases)]["guard"]["all"]
    reviewed = report["sets"][f"{cases} [hint review]"]["guard"]["all"]
    assert (raw["categories"]["dosing"]["n"], raw["benign_n"]) == (2, 1)
    assert (reviewed["categories"]["dosing"]["n"], reviewed["benign_n"]) == (1, 2)

    review.write_text('{"id": "m2", "reviewed": "OTHER_INFO"}\n{"id": "m1"}\n')
    result = run(cli_env, "eval", "--hint-review", str(review), str(cases))
    assert result.returncode == 1
    assert f"{review}:2: not a hint-review row" in result.stderr
