"""The knowledge base: vetted FAQ entries, help resources and content checks, loaded and validated.

`load_knowledge()` is the one validation that both startup and `faqbot kb validate` run.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from faqbot.errors import KnowledgeError
from faqbot.models import FaqEntry
from faqbot.resources import ResourceBook, load_resources
from faqbot.smalltalk import SmalltalkFile, load_smalltalk
from faqbot.yamlfile import Problem, YamlDoc, load_yaml

if TYPE_CHECKING:
    from faqbot.guard_data import GuardData

M = TypeVar("M", bound=BaseModel)


class Pattern(BaseModel):
    """A named regular expression from a data file."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    pattern: str

    def compiled(self) -> re.Pattern[str]:
        """The pattern compiled case-insensitively."""
        return re.compile(self.pattern, re.IGNORECASE)


DOSE_MEMO = 2048  # reply texts whose dose check is remembered


class ContentChecks(BaseModel):
    """Dose and myth patterns that no answer may contain, and denied source domains."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    dose_patterns: list[Pattern] = Field(min_length=1)
    myth_patterns: list[Pattern] = Field(min_length=1)
    source_denylist: list[str] = Field(default_factory=list)
    _dose_memo: dict[str, str | None] = PrivateAttr(default_factory=dict)

    def find_dose(self, text: str) -> str | None:
        """The first dose-like quantity in `text`, or None.

        Every reply passes through here; the same rendered texts (an entry's answer, a redirect)
        recur, and five case-insensitive searches over a long answer cost ~0.25 ms, so results
        are remembered per exact text (at most DOSE_MEMO texts; a pure function of the text).
        """
        memo = self._dose_memo
        if text not in memo:
            if len(memo) >= DOSE_MEMO:
                memo.clear()
            memo[text] = _first_match(self.dose_patterns, text)
        return memo[text]

    def find_myth(self, text: str) -> str | None:
        """The first myth phrase in `text`, or None."""
        return _first_match(self.myth_patterns, text)


def _first_match(patterns: Iterable[Pattern], text: str) -> str | None:
    for pat in patterns:
        found = pat.compiled().search(text)
        if found:
            return found.group(0)
    return None


@dataclass
class Located:
    """An entry with the file it came from, for line-numbered messages."""

    entry: FaqEntry
    doc: YamlDoc


@dataclass
class KnowledgeBase:
    """All entries (any status), resources and content checks; `served` are the approved ones."""

    root: Path
    entries: list[FaqEntry]
    resources: ResourceBook
    checks: ContentChecks
    guard: GuardData
    smalltalk: SmalltalkFile
    digest: str
    warnings: list[Problem] = field(default_factory=list)

    @classmethod
    def from_path(cls, root: Path, *, today: dt.date | None = None) -> KnowledgeBase:
        """Load and validate `root`; raise KnowledgeError listing every error."""
        kb, problems = load_knowledge(root, today=today)
        errors = [str(p) for p in problems if p.level == "error"]
        if kb is None or errors:
            raise KnowledgeError(errors or ["knowledge base could not be loaded"])
        return kb

    @property
    def served(self) -> list[FaqEntry]:
        """Approved entries only: the only ones faqbot may answer from."""
        return [e for e in self.entries if e.approved]

    def get(self, entry_id: str) -> FaqEntry | None:
        """The approved entry with this id, or None."""
        return next((e for e in self.entries if e.id == entry_id and e.approved), None)


def load_knowledge(
    root: Path, *, today: dt.date | None = None
) -> tuple[KnowledgeBase | None, list[Problem]]:
    """Load every knowledge file under `root` and return it with all problems found."""
    from faqbot.kb_checks import check_entries  # late import keeps this module small

    today = today or dt.date.today()
    problems: list[Problem] = []
    checks = _load_checks(root / "guardrails" / "content_checks.yaml", problems)
    located = _load_entries(root / "faq", problems)
    resources = load_resources(root / "resources.yaml", problems)
    guard = _load_guard_data(root / "guardrails", problems)
    smalltalk = load_smalltalk(root / "smalltalk.yaml", problems)
    if checks is not None:
        problems.extend(check_entries(located, checks, today=today))
    if guard is not None:
        problems.extend(_check_guard_links(guard, {loc.entry.id for loc in located}, root))
    if checks is None or resources is None or guard is None or smalltalk is None:
        return None, problems
    kb = KnowledgeBase(
        root=root,
        entries=[loc.entry for loc in located],
        resources=resources,
        checks=checks,
        guard=guard,
        smalltalk=smalltalk,
        digest=knowledge_digest(root),
        warnings=[p for p in problems if p.level == "warning"],
    )
    return kb, problems


def _check_guard_links(guard: GuardData, ids: set[str], root: Path) -> list[Problem]:
    path = root / "guardrails" / "semantic.yaml"
    linked = [i for ids_ in guard.semantic.related.values() for i in ids_] + guard.semantic.starters
    return [
        Problem(str(path), 1, f"related entry {i!r} does not exist") for i in linked if i not in ids
    ]


def knowledge_digest(root: Path) -> str:
    """A hash of every knowledge file's path and bytes: the index's staleness key."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _load_checks(path: Path, problems: list[Problem]) -> ContentChecks | None:
    doc = load_yaml(path)
    if isinstance(doc, Problem):
        problems.append(doc)
        return None
    return validate_model(ContentChecks, doc, problems)


def _load_entries(folder: Path, problems: list[Problem]) -> list[Located]:
    if not folder.is_dir():
        problems.append(Problem(str(folder), 1, "missing folder of FAQ entries"))
        return []
    located: list[Located] = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in {".yaml", ".yml"}:
            loc = _load_entry(path, problems)
            if loc is not None:
                located.append(loc)
        elif path.is_file() and not path.name.startswith("."):
            problems.append(Problem(str(path), 1, "not a .yaml file; entries must be YAML"))
    return located


def _load_entry(path: Path, problems: list[Problem]) -> Located | None:
    doc = load_yaml(path)
    if isinstance(doc, Problem):
        problems.append(doc)
        return None
    entry = validate_model(FaqEntry, doc, problems)
    return Located(entry=entry, doc=doc) if entry is not None else None


def validate_model(model: type[M], doc: YamlDoc, problems: list[Problem]) -> M | None:
    """Validate a YAML document into `model`, recording each error with its line."""
    if not isinstance(doc.data, dict):
        problems.append(Problem(str(doc.path), 1, "expected a mapping of fields at the top level"))
        return None
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        for err in exc.errors():
            problems.append(_problem_from(doc, err))
        return None


def _problem_from(doc: YamlDoc, err: Any) -> Problem:
    loc = tuple(err["loc"])
    where = ".".join(str(part) for part in loc) or "document"
    parent = loc[:-1] if err["type"] in {"missing", "extra_forbidden"} else loc
    message = err["msg"]
    if err["type"] == "extra_forbidden":
        message = "unknown field (not in the schema)"
    return Problem(str(doc.path), doc.line_of(parent), f"{where}: {message}")


def _load_guard_data(folder: Path, problems: list[Problem]) -> GuardData | None:
    from faqbot.guard_data import load_guard_data

    return load_guard_data(folder, problems)
