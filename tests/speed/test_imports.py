"""What the fast path loads: no torch stack for light commands, the reference as the fallback,
and no surprise threads (checked in fresh subprocesses; nothing here is timed)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import fresh_data_dir

pytestmark = pytest.mark.slow

HEAVY = ("torch", "transformers", "sentence_transformers")
RUN_CLI = """
import json, sys
from faqbot.cli import main
sys.argv = ["faqbot", *json.loads(sys.argv[1])]
try:
    main()
except SystemExit:
    pass
print("HEAVY", json.dumps(sorted(m for m in {heavy} if m in sys.modules)), file=sys.stderr)
"""


def run_cli(env: dict[str, str], *args: str) -> tuple[str, list[str]]:
    """Run `faqbot args...` in a fresh interpreter: (stdout, heavy modules it imported)."""
    code = RUN_CLI.format(heavy=repr(HEAVY))
    result = subprocess.run(
        [sys.executable, "-c", code, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("HEAVY ")]
    assert marker, result.stderr[-2000:]
    return result.stdout, json.loads(marker[-1][len("HEAVY ") :])


@pytest.fixture(scope="module")
def env(built_data_dir, tmp_path_factory) -> dict[str, str]:
    data_dir = fresh_data_dir(built_data_dir, tmp_path_factory.mktemp("speed-data"))
    base = {k: v for k, v in os.environ.items() if not k.startswith("FAQBOT_")}
    return {**base, "FAQBOT_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"}


@pytest.mark.parametrize("args", [("--help",), ("kb", "validate"), ("ask", "--help")])
def test_light_commands_do_not_import_the_torch_stack(env, args):
    _, heavy = run_cli(env, *args)
    assert heavy == []


def test_ask_with_onnx_answers_without_the_torch_stack(env):
    out, heavy = run_cli(env, "ask", "--json", "is kratom addictive")
    assert json.loads(out)["entry_id"] == "is-kratom-addictive"
    assert heavy == []


def test_without_onnx_artifact_falls_back_to_sentence_transformers(env, tmp_path: Path):
    data_dir = fresh_data_dir(Path(env["FAQBOT_DATA_DIR"]), tmp_path / "data")
    shutil.rmtree(data_dir / "onnx")
    out, heavy = run_cli(
        {**env, "FAQBOT_DATA_DIR": str(data_dir)}, "ask", "--json", "what is kratom"
    )
    reply = json.loads(out)
    assert (reply["kind"], reply["entry_id"]) == ("answer", "what-is-kratom")
    assert "sentence_transformers" in heavy


def test_auto_encoder_choice_follows_the_artifact(built_data_dir, tmp_path: Path):
    from faqbot.encoder import SentenceTransformerEncoder, load_encoder
    from faqbot.onnx_encoder import OnnxEncoder

    assert isinstance(load_encoder("auto", data_dir=built_data_dir), OnnxEncoder)
    assert isinstance(load_encoder("auto", data_dir=tmp_path), SentenceTransformerEncoder)
    assert isinstance(load_encoder("st", data_dir=built_data_dir), SentenceTransformerEncoder)


THREADS = """
import os, sys
def count():
    return len(os.listdir("/proc/self/task"))
import numpy
import onnxruntime
baseline = count()
import faqbot.batching, faqbot.cli, faqbot.engine, faqbot.index, faqbot.onnx_encoder
from pathlib import Path
after_import = count()
encoder = faqbot.onnx_encoder.OnnxEncoder(artifact_dir=Path(sys.argv[1]), threads=1)
encoder.encode(["what is kratom", "is kratom addictive", "how much should i take"] * 30)
options = encoder._session.get_session_options()
print(baseline, after_import, count(), options.intra_op_num_threads, options.inter_op_num_threads)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_importing_and_encoding_start_no_extra_threads(built_data_dir, env):
    clean = {k: v for k, v in env.items() if k != "TOKENIZERS_PARALLELISM"}
    artifact = str(built_data_dir / "onnx")
    result = subprocess.run(
        [sys.executable, "-c", THREADS, artifact],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
    )
    baseline, after_import, after_encode, intra, inter = map(int, result.stdout.split())
    assert (intra, inter) == (1, 1)
    assert after_import == baseline  # importing faqbot starts nothing
    assert after_encode == baseline  # no intra-op pool, no tokenizer pool


def test_blas_runs_on_one_thread_once_faqbot_is_imported() -> None:
    """OpenBLAS's spare threads spin after every small product: faqbot limits it to one."""
    code = (
        "import faqbot, numpy, threadpoolctl, json; "
        "print(json.dumps([p['num_threads'] for p in threadpoolctl.threadpool_info() "
        "if p['user_api'] == 'blas']))"
    )
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == [1]
