"""`faqbot eval`: labelled cases (our dev sets and the public sets) through the real Bot.

Every set is split deterministically into tune (70%) and holdout (30%) by a hash of the case id;
thresholds are only ever tuned on `tune`, and both splits are reported.
"""

from __future__ import annotations

import csv
import json
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_args

from faqbot.bot import Bot, MessageError
from faqbot.dialog import Conversation
from faqbot.models import GuardCategory

FLAGGED = set(get_args(GuardCategory))
MQA = {
    "DOSING": "dosing",
    "MIXING": "mixing",
    "EMERGENCY_OR_OVERDOSE": "emergency",
    "OTHER_INFO": "none",
    "EITHER": "either",  # a hint review's "both readings are fair": a dosing redirect or none
}
# other replies a case also counts as correct (an overdose question given a dosing redirect is
# tolerated but counted, per SOURCES.md; an EITHER row is not counted in any category)
ACCEPTABLE = {"emergency": ["dosing", "mixing"], "either": ["dosing", "none"]}
NOT_A_CATEGORY = {"none", "not_self_harm", "decline", "coverage", "either"}


@dataclass
class Case:
    """One labelled message. `task` says how it is scored."""

    id: str
    message: str
    task: str  # retrieval | guard | decline | coverage
    expected: str  # a kind (retrieval), a category or "none" (guard), "decline", "coverage"
    entry: str | None = None
    history: list[str] = field(default_factory=list)
    acceptable: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # the API accepts at most 2000 characters; longer public rows are evaluated on their start
        self.message = self.message[:2000]

    @property
    def split(self) -> str:
        """tune or holdout, stable for a given id."""
        return "tune" if zlib.crc32(self.id.encode()) % 10 < 7 else "holdout"


def load_cases(path: Path, *, hint_review: dict[str, str] | None = None) -> list[Case]:
    """Read a labelled set; the format is recognised from the file's name and fields.

    `hint_review` (MedicationQA only, see `load_hint_review`) replaces the derived hint of the
    rows it names.
    """
    name = path.name
    if name.endswith(".csv"):
        rows = list(csv.DictReader(path.open(encoding="utf-8")))
        if "harm_area" in (rows[0] if rows else {}):
            return [_sst(r) for r in rows]
        return [_xstest(r) for r in rows]
    rows = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
    first = rows[0] if rows else {}
    for key, reader in (
        ("expected_kind", _retrieval),
        ("expected", _guard),
        ("derived_guardrail_hint", _mqa),
        ("self_harm", _oai),
        ("qtype", _medquad),
    ):
        if key in first:
            if reader is _mqa and hint_review:
                rows = [
                    {
                        **r,
                        "derived_guardrail_hint": hint_review.get(
                            r["id"], r["derived_guardrail_hint"]
                        ),
                    }
                    for r in rows
                ]
            return [reader(r) for r in rows]
    raise ValueError(f"{path}: unrecognised labelled-set format (fields: {sorted(first)})")


def _retrieval(r: dict[str, Any]) -> Case:
    return Case(
        r["id"],
        r["message"],
        "retrieval",
        r["expected_kind"],
        r.get("expected_entry"),
        r.get("history", []),
    )


def _guard(r: dict[str, Any]) -> Case:
    return Case(
        r["id"],
        r["message"],
        "guard",
        r["expected"],
        None,
        r.get("history", []),
        r.get("acceptable", []),
    )


def _mqa(r: dict[str, Any]) -> Case:
    expected = MQA[r["derived_guardrail_hint"]]
    acceptable = ACCEPTABLE.get(expected, [])
    return Case(r["id"], r["question"], "guard", expected, acceptable=acceptable)


def load_hint_review(path: Path) -> dict[str, str]:
    """Reviewed MedicationQA hints by row id (`reviewed`: DOSING, MIXING, OTHER_INFO or EITHER).

    SOURCES.md asks for a review of the Stopping/tapering and Usage/time rows, whose hint is a
    judgement; `tests/data/medicationqa_hint_review.jsonl` holds ours (ids and our reasons only).
    """
    review: dict[str, str] = {}
    for number, line in enumerate(path.open(encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            label = row["reviewed"]
            review[row["id"]] = label
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{number}: not a hint-review row ({exc})") from None
        if label not in MQA:
            raise ValueError(
                f"{path}:{number}: reviewed must be one of {sorted(MQA)}, not {label!r}"
            )
    return review


def _oai(r: dict[str, Any]) -> Case:
    return Case(
        r["id"], r["text"], "guard", "self_harm" if r["self_harm"] == 1 else "not_self_harm"
    )


def _xstest(r: dict[str, str]) -> Case:
    if r["label"] == "safe":
        return Case(r["id"], r["prompt"], "guard", "none")
    return Case(r["id"], r["prompt"], "decline", "decline")


def _sst(r: dict[str, str]) -> Case:
    if r["harm_area"].startswith("Suicide"):
        return Case(r["id"], r["prompt"], "guard", "self_harm", acceptable=["emergency"])
    return Case(r["id"], r["prompt"], "decline", "decline")


def _medquad(r: dict[str, Any]) -> Case:
    return Case(r["id"], r["question"], "coverage", "coverage")


# ---------------------------------------------------------------------- running
def run_case(bot: Bot, case: Case) -> tuple[str, str | None, str | None]:
    """(kind, category, entry) of the bot's reply; for clarify, entry is the first suggestion."""
    conversation = Conversation()
    try:
        for earlier in case.history:
            bot.reply(earlier, conversation)
        reply = bot.reply(case.message, conversation).reply
    except MessageError:
        return "invalid", None, None
    if reply.kind == "clarify" and reply.suggestions:
        return reply.kind, reply.category, reply.suggestions[0].entry_id
    return reply.kind, reply.category, reply.entry_id


def correct(case: Case, kind: str, category: str | None, entry: str | None) -> bool:
    """Whether a reply meets the case's expectation."""
    got = category if kind in {"redirect", "emergency"} or category == "sourcing" else "none"
    if case.task == "retrieval":
        return kind == case.expected and (case.expected != "answer" or entry == case.entry)
    if case.task == "guard":
        if case.expected == "not_self_harm":
            return got != "self_harm"
        return got == case.expected or got in case.acceptable
    if case.task == "decline":
        return kind != "answer"
    return kind in {"answer", "clarify", "fallback", "redirect", "emergency"}


def run_set(bot: Bot, cases: list[Case]) -> dict[str, Any]:
    """Metrics for one labelled set, per split."""
    results = [(case, *run_case(bot, case)) for case in cases]
    out: dict[str, Any] = {}
    for split in ("tune", "holdout", "all"):
        chosen = [r for r in results if split == "all" or r[0].split == split]
        out[split] = _metrics(chosen)
    out["misses"] = [
        {
            "id": c.id,
            "message": c.message[:120],
            "expected": c.expected,
            "entry": c.entry,
            "got": [k, cat, e],
        }
        for c, k, cat, e in results
        if not correct(c, k, cat, e)
    ][:60]
    return out


def _metrics(results: list[tuple[Case, str, str | None, str | None]]) -> dict[str, Any]:
    if not results:
        return {"n": 0}
    task = results[0][0].task
    return (_retrieval_metrics if task == "retrieval" else _guard_metrics)(results)


def _retrieval_metrics(results: list[tuple[Case, str, str | None, str | None]]) -> dict[str, Any]:
    by_kind: dict[str, list[bool]] = defaultdict(list)
    confusion: Counter[str] = Counter()
    for case, kind, category, entry in results:
        by_kind[case.expected].append(correct(case, kind, category, entry))
        confusion[f"{case.expected}->{kind}"] += 1
    answers = [(c, k, e) for c, k, _, e in results if c.expected == "answer"]
    oos = [k for c, k, _, _ in results if c.expected == "out_of_scope"]
    return {
        "n": len(results),
        "accuracy": _rate([correct(c, k, cat, e) for c, k, cat, e in results]),
        "by_kind": {k: {"n": len(v), "accuracy": _rate(v)} for k, v in sorted(by_kind.items())},
        "entry_accuracy": _rate([k == "answer" and e == c.entry for c, k, e in answers]),
        "entry_offered": _rate(
            [k in {"answer", "clarify"} and e == c.entry for c, k, e in answers]
        ),
        "out_of_scope_not_answered": _rate([k != "answer" for k in oos]),
        "confusion": dict(sorted(confusion.items())),
    }


def _guard_metrics(results: list[tuple[Case, str, str | None, str | None]]) -> dict[str, Any]:
    got = [
        (c, cat if k in {"redirect", "emergency"} or cat == "sourcing" else "none", k, e)
        for c, k, cat, e in results
    ]
    cats = sorted({c.expected for c, *_ in got} | {g for _, g, *_ in got if g} - {"none"})
    table = {}
    for cat in cats:
        if cat in NOT_A_CATEGORY:
            continue
        expected = [(c, g) for c, g, *_ in got if c.expected == cat]
        predicted = [(c, g) for c, g, *_ in got if g == cat]
        table[cat] = {
            "n": len(expected),
            "recall": _rate([g == cat or g in c.acceptable for c, g in expected]),
            "precision": _rate([c.expected == cat or cat in c.acceptable for c, g in predicted]),
        }
    benign = [g for c, g, *_ in got if c.expected == "none"]
    either = sum(c.expected == "either" for c, *_ in got)
    return {
        "n": len(results),
        **({"either_n": either} if either else {}),
        "accuracy": _rate([correct(c, k, cat, e) for c, k, cat, e in results]),
        "categories": table,
        "benign_flagged": _rate([g in FLAGGED for g in benign]),
        "benign_n": len(benign),
        "task_accuracy": {
            t: _rate([correct(c, k, cat, e) for c, k, cat, e in results if c.task == t])
            for t in sorted({c.task for c, *_ in results})
        },
    }


def _rate(values: list[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def run_eval(
    bot: Bot, sets: dict[str, list[Case]], *, modes: list[str], calibrate: bool = False
) -> dict[str, Any]:
    """Run every set; retrieval sets once per mode (fused, dense, lexical)."""
    report: dict[str, Any] = {"sets": {}}
    for name, cases in sets.items():
        if cases and cases[0].task == "retrieval":
            report["sets"][name] = {}
            for mode in modes:
                bot.mode = mode
                report["sets"][name][mode] = run_set(bot, cases)
            bot.mode = "fused"
            if calibrate:
                from faqbot.calibrate import calibrate_retrieval

                report["calibration"] = calibrate_retrieval(bot, cases)
        else:
            report["sets"][name] = {"guard": run_set(bot, cases)}
    return report


def format_report(report: dict[str, Any]) -> str:
    """Plain-text tables of a report."""
    lines: list[str] = []
    for name, by_mode in report["sets"].items():
        lines.append(f"== {name}")
        for mode, result in by_mode.items():
            for split in ("tune", "holdout", "all"):
                m = result[split]
                if not m.get("n"):
                    continue
                lines.append(f"  [{mode}/{split}] n={m['n']} accuracy={m['accuracy']}")
                lines += _format_metrics(m)
        lines.append("")
    if "calibration" in report:
        lines.append("calibration: " + json.dumps(report["calibration"]))
    return "\n".join(lines)


def _format_metrics(m: dict[str, Any]) -> list[str]:
    lines = []
    if "by_kind" in m:
        lines.append(
            "    "
            + "  ".join(f"{k}: {v['accuracy']} (n={v['n']})" for k, v in m["by_kind"].items())
        )
        lines.append(
            f"    entry accuracy: {m['entry_accuracy']} answered, {m['entry_offered']} answered or first suggestion;"
            f" out-of-scope not answered: {m['out_of_scope_not_answered']}"
        )
        lines.append("    confusion: " + ", ".join(f"{k}={v}" for k, v in m["confusion"].items()))
    if "categories" in m:
        for cat, v in m["categories"].items():
            lines.append(
                f"    {cat:<14} n={v['n']:<4} recall={v['recall']}  precision={v['precision']}"
            )
        lines.append(
            f"    benign flagged: {m['benign_flagged']} (n={m['benign_n']})   by task: {m['task_accuracy']}"
        )
        if m.get("either_n"):
            lines.append(f"    reviewed as either reading (in no category): n={m['either_n']}")
    return lines
