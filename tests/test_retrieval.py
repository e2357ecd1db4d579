"""Retrieval: floors on the labelled dev set, rare terms, the index artifact and staleness."""

from __future__ import annotations

import json
import shutil

import pytest

from faqbot.config import Settings
from faqbot.encoder import HashEncoder
from faqbot.errors import IndexError_
from faqbot.index import build_index, load_index, read_manifest, save_index
from faqbot.kb import KnowledgeBase
from tests.conftest import GOOD_ENTRY
from tests.evalkit import DEV_RETRIEVAL, evaluate

pytestmark = pytest.mark.slow


def test_dev_set_floors_on_both_splits(bot):
    result = evaluate(bot, DEV_RETRIEVAL)
    for split in ("tune", "holdout"):
        m = result[split]
        assert m["entry_accuracy"] >= FLOORS["entry"], (split, m["entry_accuracy"])
        assert m["entry_offered"] >= FLOORS["entry_offered"], (split, m["entry_offered"])
        assert m["out_of_scope_not_answered"] >= 0.95, split


def test_fusion_beats_each_baseline(bot):
    from faqbot.evaluate import load_cases, run_set

    cases = load_cases(DEV_RETRIEVAL)
    scores = {}
    for mode in ("fused", "dense", "lexical"):
        bot.mode = mode
        try:
            scores[mode] = run_set(bot, cases)["all"]["accuracy"]
        finally:
            bot.mode = "fused"
    assert scores["fused"] > scores["dense"] > scores["lexical"], scores


@pytest.mark.parametrize(
    ("message", "entry"),
    [
        ("mitragynine", "kratom-alkaloids"),
        ("CYP3A mitragynine 7-OH", "kratom-cyp3a-metabolism"),
        ("7-OH gummies at the gas station", "seven-oh-products"),
        ("kratum liver damage", "kratom-liver-injury"),
        ("salmonella kratom outbreak", "kratom-salmonella"),
    ],
)
def test_rare_and_misspelled_terms_find_their_entry(bot, message, entry):
    reply = bot.reply(message).reply
    shown = [reply.entry_id] + [s.entry_id for s in reply.suggestions]
    assert entry in shown, (reply.kind, shown)


def test_only_approved_entries_are_indexed(scratch_kb):
    draft = scratch_kb / "faq" / "basics" / "draft-entry.yaml"
    draft.write_text(
        GOOD_ENTRY.replace("sample-entry", "draft-entry")
        .replace("status: approved", "status: draft")
        .replace("What is a sample entry for tests?", "Which draft is not served yet?")
        .replace(
            "  - sample entry\n  - test sample question\n  - what's the sample for\n  - smaple entry\n",
            "  - draft one\n  - unserved draft\n  - a draft question\n  - drafft\n",
        )
    )
    kb = KnowledgeBase.from_path(scratch_kb)
    index = build_index(kb, HashEncoder(), progress=lambda _m: None)
    assert set(index.entry_ids) == {"sample-entry"}
    assert kb.get("draft-entry") is None


def test_index_manifest_and_stale_refusal(tmp_path, scratch_kb):
    kb = KnowledgeBase.from_path(scratch_kb)
    save_index(build_index(kb, HashEncoder(), progress=lambda _m: None), tmp_path)
    manifest = read_manifest(tmp_path)
    assert (
        manifest["knowledge_hash"] == kb.digest
        and manifest["model"] == "hash-bow"
        and manifest["created"]
    )
    assert load_index(tmp_path, kb, "hash-bow").entry_ids
    entry = scratch_kb / "faq" / "basics" / "sample-entry.yaml"
    entry.write_text(entry.read_text().replace("so tests can", "so that tests can"))
    changed = KnowledgeBase.from_path(scratch_kb)
    with pytest.raises(IndexError_, match="knowledge changed"):
        load_index(tmp_path, changed, "hash-bow")
    with pytest.raises(IndexError_, match="built with hash-bow"):
        load_index(tmp_path, kb, "sentence-transformers/all-MiniLM-L6-v2")


def test_build_bot_rebuilds_a_stale_index(tmp_path, built_data_dir, real_kb):
    from faqbot.engine import build_bot

    data_dir = tmp_path / "data"
    shutil.copytree(built_data_dir, data_dir)
    manifest_path = data_dir / "index" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["knowledge_hash"] = "stale"
    manifest_path.write_text(json.dumps(manifest))
    messages: list[str] = []
    bot = build_bot(Settings(data_dir=data_dir), kb=real_kb, progress=messages.append)
    assert any("knowledge changed" in m for m in messages)
    assert read_manifest(data_dir)["knowledge_hash"] == real_kb.digest
    assert bot.reply("what is kratom").reply.entry_id == "what-is-kratom"


# target: right entry >= 0.90, asserted on both splits. Measured with the calibrated defaults
# (2026-11-29, after the 646 new alternates): answered with the right entry 0.910 (tune) / 0.913
# (holdout); right entry answered or offered first 0.934 / 0.946 (README "Retrieval").
FLOORS = {"entry": 0.90, "entry_offered": 0.92}
