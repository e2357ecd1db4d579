"""Guardrail data (rules, lexicons, exemplars, languages) as validated models, compiled for matching."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from faqbot.yamlfile import Problem, YamlDoc, load_yaml

RuleCategory = Literal[
    "emergency", "self_harm", "mixing", "dosing", "sourcing", "human_request", "harm"
]
ExemplarCategory = Literal[
    "emergency", "self_harm", "mixing", "dosing", "sourcing", "human_request", "none"
]
PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class Strict(BaseModel):
    """Base for guard data: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(Strict):
    """A named check: all `all` patterns match, no `none` pattern matches, enough substances."""

    id: str
    category: RuleCategory
    all: list[str] = Field(min_length=1)
    none: list[str] = Field(default_factory=list)
    min_substances: int = 0
    intent_unknown: bool = False
    pet: bool = False


class Fuzzy(Strict):
    """Words that misspellings are corrected toward, and words never corrected."""

    vocabulary: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)


class LexiconFile(Strict):
    """lexicons.yaml: named word lists, groups of lists, and fuzzy-correction settings."""

    lexicons: dict[str, list[str]]
    drug_patterns: list[str] = Field(default_factory=list)
    groups: dict[str, list[str]] = Field(default_factory=dict)
    fuzzy: Fuzzy = Fuzzy()


class RuleFile(Strict):
    """rules.yaml: the ordered rule list."""

    rules: list[Rule] = Field(min_length=1)


class Exemplar(Strict):
    """A labelled message the semantic check compares against."""

    id: str
    category: ExemplarCategory
    text: str = Field(min_length=2)


class ExemplarFile(Strict):
    """exemplars.yaml."""

    exemplars: list[Exemplar] = Field(min_length=1)


class BackgroundFile(Strict):
    """background.yaml: benign messages on every topic, used only to train the guard classifier
    (so that it learns what ordinary text looks like, not only questions about pain and kratom)."""

    source: str = Field(min_length=1)
    messages: list[Annotated[str, Field(min_length=2)]] = Field(min_length=1)


Probability = Annotated[float, Field(gt=0.0, le=1.0)]


class ClassifierSettings(Strict):
    """When the guard classifier (faqbot/classifier.py) may add a category on its own."""

    thresholds: dict[RuleCategory, Probability] = Field(default_factory=dict)
    margin: float = Field(default=0.02, ge=-1.0, le=1.0)
    min_similarity: float = Field(default=0.0, ge=0.0, le=1.0)


class PassageSettings(Strict):
    """Long messages: each sentence is also checked against these categories' exemplars."""

    min_words: int = Field(gt=0)
    limit: int = Field(default=12, gt=1)
    categories: list[RuleCategory] = Field(min_length=1)
    # a sentence is short and read out of context: the classifier must be surer than for a
    # whole message (its own thresholds still apply where these are lower or absent)
    classifier_thresholds: dict[RuleCategory, Probability] = Field(default_factory=dict)


class SemanticFile(Strict):
    """semantic.yaml: calibrated thresholds per category and the wrapper phrases to strip."""

    thresholds: dict[RuleCategory, float]
    margin: float = Field(ge=0.0, le=1.0)
    override: float = Field(default=0.85, ge=0.0, le=1.0)
    classifier: ClassifierSettings = Field(default_factory=ClassifierSettings)
    passages: PassageSettings | None = None
    wrappers: list[str] = Field(default_factory=list)
    continuations: list[str] = Field(default_factory=list)
    # a semantic emergency match (never a rule) is dropped when one of these matches: a danger
    # told as a story that is over, or asked about as a possibility ({lexicon} allowed)
    not_happening: list[str] = Field(default_factory=list)
    # figures of speech ("the death of me", "i'd kill for a nap"): a semantic self-harm or
    # emergency match must still hold when the message is embedded again without them
    figures_of_speech: list[str] = Field(default_factory=list)
    # a semantic mixing match (never a rule) is dropped when one of these matches: two
    # substances compared ("is kratom stronger than codeine"), not combined
    comparisons: list[str] = Field(default_factory=list)
    related: dict[str, list[str]] = Field(default_factory=dict)
    starters: list[str] = Field(default_factory=list)


class WordsFile(Strict):
    """words.yaml: familiar English words; other words may be medicine names.

    Each list is a block of comma-separated words (a YAML list of ~18,000 items took ~90 ms to
    parse, a third of loading the knowledge base; one block scalar takes ~1 ms).
    """

    source: str
    words: list[str] = Field(min_length=1)
    health_words: list[str] = Field(default_factory=list)
    informal_words: list[str] = Field(default_factory=list)
    near_cue_words: list[str] = Field(default_factory=list)

    @field_validator("words", "health_words", "informal_words", "near_cue_words", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [w for w in re.split(r"[\s,]+", value) if w]
        return value


class LanguageFile(Strict):
    """languages.yaml: stopwords per language; which languages faqbot supports."""

    supported: list[str]
    stopwords: dict[str, list[str]]

    @field_validator("stopwords")
    @classmethod
    def _has_english(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        if "en" not in value:
            raise ValueError("stopwords must include 'en'")
        return value


@dataclass(frozen=True)
class CompiledRule:
    """A rule with its patterns compiled against the lexicons."""

    rule: Rule
    all: tuple[re.Pattern[str], ...]
    none: tuple[re.Pattern[str], ...]


@dataclass
class GuardData:
    """Everything the guard needs from knowledge/guardrails/, validated and compiled."""

    lexicons: LexiconFile
    rules: RuleFile
    exemplars: ExemplarFile
    background: BackgroundFile
    semantic: SemanticFile
    languages: LanguageFile
    words: WordsFile
    # expanded rule pattern -> compiled, filled by `pattern` (not part of the data)
    _patterns: dict[str, re.Pattern[str]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def alternation(self, name: str) -> str:
        """A regex alternation of every term of a lexicon or group (longest first)."""
        if name == "drugish":
            return "(?:" + "|".join(self.lexicons.drug_patterns) + ")"
        names = self.lexicons.groups.get(name, [name])
        terms = {t for n in names for t in self.lexicons.lexicons[n]}
        words = [re.escape(t) for t in sorted(terms, key=len, reverse=True)]
        if name == "substance":  # unlisted medicine names count as substances too
            words += self.lexicons.drug_patterns
        return "(?:" + "|".join(words) + ")"

    def expand(self, pattern: str) -> str:
        """Replace {name} placeholders with lexicon alternations."""
        return PLACEHOLDER.sub(lambda m: self.alternation(m.group(1)), pattern)

    def pattern(self, pattern: str) -> re.Pattern[str]:
        """A rule pattern expanded and compiled, once per GuardData (raises re.error).

        Validation and the guard share the compiled patterns: there are more than `re`'s own
        cache holds (512), and with lexicon alternations expanded each costs about a millisecond.
        """
        compiled = self._patterns.get(pattern)
        if compiled is None:
            compiled = self._patterns[pattern] = re.compile(self.expand(pattern))
        return compiled

    @cached_property
    def compiled(self) -> list[CompiledRule]:
        """All rules, compiled in file order."""
        return [
            CompiledRule(
                rule=r,
                all=tuple(self.pattern(p) for p in r.all),
                none=tuple(self.pattern(p) for p in r.none),
            )
            for r in self.rules.rules
        ]

    @cached_property
    def substance_terms(self) -> list[tuple[str, re.Pattern[str], str | None]]:
        """(group key, pattern, listed term or None for a drug-name shape) of every substance;
        kratom terms share one key."""
        out: list[tuple[str, re.Pattern[str], str | None]] = []
        for name in self.lexicons.groups.get("substance", []):
            for term in self.lexicons.lexicons[name]:
                key = name if name in {"kratom", "generic"} else term
                out.append((key, re.compile(rf"(?<![\w-]){re.escape(term)}(?![\w-])"), term))
        for pattern in self.lexicons.drug_patterns:
            out.append(("drugish", re.compile(rf"(?<![\w-]){pattern}(?![\w-])"), None))
        return out

    @cached_property
    def familiar(self) -> frozenset[str]:
        """Familiar words (words.yaml) minus every term of the substance lexicons."""
        names = self.lexicons.groups.get("substance", [])
        terms = {t for n in names for t in self.lexicons.lexicons[n]}
        words = self.words
        listed = words.words + words.health_words + words.informal_words + words.near_cue_words
        return frozenset(listed) - terms

    @cached_property
    def vocabulary(self) -> set[str]:
        """Single words misspellings may be corrected toward."""
        words = {t for terms in self.lexicons.lexicons.values() for t in terms if " " not in t}
        return (words | set(self.lexicons.fuzzy.vocabulary)) - set(self.lexicons.fuzzy.exclude)


FILES: dict[str, tuple[str, type[BaseModel]]] = {
    "lexicons": ("lexicons.yaml", LexiconFile),
    "rules": ("rules.yaml", RuleFile),
    "exemplars": ("exemplars.yaml", ExemplarFile),
    "background": ("background.yaml", BackgroundFile),
    "semantic": ("semantic.yaml", SemanticFile),
    "languages": ("languages.yaml", LanguageFile),
    "words": ("words.yaml", WordsFile),
}


def load_guard_data(folder: Path, problems: list[Problem]) -> GuardData | None:
    """Load and validate every guard data file; compile the rules to catch bad regexes."""
    from faqbot.kb import validate_model

    parts: dict[str, BaseModel] = {}
    docs: dict[str, YamlDoc] = {}
    for key, (name, model) in FILES.items():
        doc = load_yaml(folder / name)
        if isinstance(doc, Problem):
            problems.append(doc)
            continue
        value = validate_model(model, doc, problems)
        if value is not None:
            parts[key], docs[key] = value, doc
    if len(parts) != len(FILES):
        return None
    data = GuardData(**parts)  # type: ignore[arg-type]
    return data if _check_compiled(data, docs, problems) else None


def _check_compiled(data: GuardData, docs: dict[str, YamlDoc], problems: list[Problem]) -> bool:
    patterns = [
        (docs["rules"], ("rules", i, part, j), f"rule {rule.id}", pattern)
        for i, rule in enumerate(data.rules.rules)
        for part in ("all", "none")
        for j, pattern in enumerate(getattr(rule, part))
    ] + [
        (docs["semantic"], (field, j), field, pattern)
        for field in ("not_happening", "figures_of_speech", "comparisons")
        for j, pattern in enumerate(getattr(data.semantic, field))
    ]
    ok = True
    known = set(data.lexicons.lexicons) | set(data.lexicons.groups) | {"drugish"}
    for doc, loc, what, pattern in patterns:
        where = (str(doc.path), doc.line_of(loc))
        missing = set(PLACEHOLDER.findall(pattern)) - known
        if missing:
            problems.append(Problem(*where, f"{what}: unknown lexicon {sorted(missing)}"))
            ok = False
            continue
        try:
            data.pattern(pattern)
        except re.error as exc:
            problems.append(Problem(*where, f"{what}: bad pattern: {exc}"))
            ok = False
    ok &= _check_unique(data, docs, problems)
    return ok


def _check_unique(data: GuardData, docs: dict[str, YamlDoc], problems: list[Problem]) -> bool:
    """Repeated rule or exemplar ids, and background messages repeated up to case and spacing."""
    groups: dict[str, list[tuple[tuple[str | int, ...], str, str]]] = {
        "rules": [(("rules", i, "id"), r.id, r.id) for i, r in enumerate(data.rules.rules)],
        "exemplars": [
            (("exemplars", i, "id"), x.id, x.id) for i, x in enumerate(data.exemplars.exemplars)
        ],
        "background": [
            (("messages", i), " ".join(m.casefold().split()), m)
            for i, m in enumerate(data.background.messages)
        ],
    }
    ok = True
    for key, items in groups.items():
        what = "repeated message" if key == "background" else "duplicate id"
        seen: set[str] = set()
        for loc, value, shown in items:
            if value in seen:
                line = docs[key].line_of(loc)
                problems.append(Problem(str(docs[key].path), line, f"{what} {shown!r}"))
                ok = False
            seen.add(value)
    return ok
