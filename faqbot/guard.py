"""The guardrail layer: rules over normalized text, semantic exemplars, and conversation context.

Precedence (first match wins): emergency, self_harm, language, mixing, dosing, sourcing,
human_request. Rules and exemplars are data (knowledge/guardrails/); this module only applies them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from rapidfuzz.distance import Levenshtein

from faqbot.classifier import Classifier
from faqbot.encoder import Vectors
from faqbot.guard_data import CompiledRule, GuardData
from faqbot.models import Evidence, Verdict
from faqbot.normalize import fold, normalize
from faqbot.passages import split_passages
from faqbot.substances import SubstanceCounter, by_initial

PRECEDENCE = (
    "emergency",
    "self_harm",
    "harm",
    "language",
    "mixing",
    "dosing",
    "sourcing",
    "human_request",
)
WORD = re.compile(r"(?<![\w'-])[a-z][a-z'-]+(?![\w'-])")  # whole words: not "ng" of "ng193"
LATIN = re.compile(r"[a-z]")
RECENT = 1024  # earlier messages whose rule verdict is remembered (see Guard._rules_alone)


@dataclass(frozen=True)
class PastTurn:
    """What the guard remembers of an earlier turn: the message and the category it got."""

    message: str
    category: str | None = None


class Guard:
    """Decides, before retrieval, whether a message needs a redirect or emergency reply."""

    def __init__(
        self,
        *,
        data: GuardData,
        exemplars: Sequence[tuple[str, str, str]] = (),
        exemplar_vectors: Vectors | None = None,
        classifier: Classifier | None = None,
        known_words: set[str] | None = None,
    ) -> None:
        self.data = data
        self.exemplar_vectors = exemplar_vectors
        self.classifier = classifier
        self.known_words = known_words or set()
        self.counter = SubstanceCounter(data, self.known_words)
        labelled = list(exemplars) or [(x.id, x.category, x.text) for x in data.exemplars.exemplars]
        self.exemplar_ids = [i for i, _, _ in labelled]
        self.labels = [c for _, c, _ in labelled]
        if exemplar_vectors is not None and len(exemplar_vectors) != len(labelled):
            raise ValueError(
                f"{len(exemplar_vectors)} exemplar vectors for {len(labelled)} exemplars"
            )
        self.wrappers = [re.compile(p) for p in data.semantic.wrappers]
        # each category's exemplar rows, for the best match per category in one pass each
        self._rows = {
            label: np.array([r for r, c in enumerate(self.labels) if c == label])
            for label in dict.fromkeys(self.labels)
        }
        self._rules = {r.rule.id: r.rule for r in data.compiled}
        self._recent: dict[str, tuple[tuple[str, str, str], frozenset[str]]] = {}
        self._stopwords = {
            lang: frozenset(words) for lang, words in data.languages.stopwords.items()
        }
        self.continuations = [re.compile(p) for p in data.semantic.continuations]
        self.not_happening = [data.pattern(p) for p in data.semantic.not_happening]
        self.figures = [data.pattern(p) for p in data.semantic.figures_of_speech]
        self.comparisons = [data.pattern(p) for p in data.semantic.comparisons]

    # ------------------------------------------------------------------ text preparation
    def canonical(self, message: str) -> str:
        """Normalized text with misspelled cue words corrected."""
        return self.forms(message)[1]

    def semantic_text(self, message: str) -> str:
        """The canonical text without framing wrappers: what gets embedded."""
        return self.forms(message)[2]

    def literal(self, text: str) -> str | None:
        """`text` without its figures of speech ("this flare is the death of me"), or None when
        it has none (or nothing else)."""
        for figure in self.figures:
            text = figure.sub(" ", text)
        literal = " ".join(text.split())
        return literal or None

    @cached_property
    def _vocab_by_initial(self) -> dict[str, list[str]]:
        return by_initial(self.data.vocabulary)

    def _segment(self, token: str) -> str | None:
        """Split a run-together token ("ioverdosed" from "i o v e r d o s e d") into two words."""
        words = self.counter.words
        for cut in range(1, len(token) - 2):
            head, tail = token[:cut], token[cut:]
            if (head in words or head in {"i", "my"}) and tail in self.data.vocabulary:
                return f"{head} {tail}"
        return None

    def _correct(self, token: str) -> str:
        vocab = self.data.vocabulary
        if (
            len(token) < 4
            or token in vocab
            or token in self.known_words
            or token in self.data.familiar  # a real English word is not a misspelling
            or not token.isalpha()
        ):
            return token
        split = self._segment(token) if len(token) >= 8 else None
        if split:
            return split
        cues = set(self.data.lexicons.fuzzy.vocabulary)
        limit = 1 if len(token) < 8 else 2
        candidates = [
            (Levenshtein.distance(token, w, score_cutoff=limit + 1), w not in cues, w)
            for w in self._vocab_by_initial.get(token[:1], [])
        ]
        if len(token) == 4:  # short words: only one edit toward an explicit cue word
            candidates = [c for c in candidates if not c[1] and c[2][:2] == token[:2]]
            limit = 1
        best = min(candidates, default=None)
        return best[2] if best is not None and best[0] <= limit else token

    # ------------------------------------------------------------------ checks
    def substances(self, text: str, *, every_term: bool = False) -> set[str]:
        """Distinct substances named in canonical text (see `SubstanceCounter.find`)."""
        return self.counter.find(text, every_term=every_term)

    def unfamiliar(self, token: str) -> bool:
        """Whether `token` may be a medicine name (see `SubstanceCounter.unfamiliar`)."""
        return self.counter.unfamiliar(token)

    def rule_hits(self, *texts: str) -> list[Evidence]:
        """Every rule that fires on any of `texts` (normalized forms of one message), as evidence."""
        unique = list(dict.fromkeys(texts))  # the forms are often the same text
        counts = [len(self.substances(t)) for t in unique]
        return [
            self._evidence(rule)
            for rule in self.data.compiled
            if any(self._fires(rule, t, n) for t, n in zip(unique, counts, strict=True))
        ]

    def unwrap(self, text: str) -> str:
        """The text without framing wrappers ("hypothetically, ...", role-play, "ignore ...")."""
        for wrapper in self.wrappers:
            text = wrapper.sub("", text).strip()
        return text

    def forms(self, message: str) -> tuple[str, str, str]:
        """The normalized message as typed, with misspelled cue words corrected, and unwrapped."""
        plain = normalize(message)
        corrected = " ".join(self._correct(tok) for tok in plain.split())
        return plain, corrected, self.unwrap(corrected) or corrected

    @staticmethod
    def _fires(rule: CompiledRule, text: str, substances: int) -> bool:
        return (
            substances >= rule.rule.min_substances
            and all(p.search(text) for p in rule.all)
            and not any(p.search(text) for p in rule.none)
        )

    @staticmethod
    def _evidence(rule: CompiledRule) -> Evidence:
        return Evidence(category=rule.rule.category, source="rule", ref=rule.rule.id, score=1.0)

    def language_hit(self, message: str) -> Evidence | None:
        """Evidence that the message is in a language faqbot does not answer in."""
        raw = self.unwrap(unicodedata.normalize("NFKC", message).casefold())
        letters = [ch for ch in raw if ch.isalpha()]
        if len(letters) >= 4 and sum(1 for ch in letters if LATIN.match(ch)) <= 0.5 * len(letters):
            return Evidence(category="language", source="rule", ref="lang-script", score=1.0)
        tokens = WORD.findall(fold(raw))
        counts = {lang: sum(t in words for t in tokens) for lang, words in self._stopwords.items()}
        english = counts.pop("en", 0)
        lang, best = max(counts.items(), key=lambda kv: kv[1], default=("", 0))
        needed = 1 if len(tokens) <= 3 else 2
        if (
            lang
            and best >= needed
            and best > english * 2
            and lang not in self.data.languages.supported
        ):
            return Evidence(
                category="language",
                source="rule",
                ref=f"lang-{lang}",
                score=best / max(len(tokens), 1),
            )
        return None

    def semantic_hits(self, vector: Vectors | None) -> list[Evidence]:
        """Categories whose nearest exemplar is close enough and clearly closer than benign ones,
        then those the classifier gives a high enough probability, provided the message is
        still somewhat near that category's exemplars (`min_similarity`) and nearer to them than
        to the benign ones (the classifier's `margin`): a linear model also scores text unlike
        anything it was trained on, and must not decide alone there."""
        if vector is None or self.exemplar_vectors is None:
            return []
        best = self._best_rows(self.exemplar_vectors @ vector.reshape(-1))
        benign = best.get("none", (0.0, -1))[0]
        out = []
        for category, threshold in self.data.semantic.thresholds.items():
            score, row = best.get(category, (0.0, -1))
            if score >= threshold and score - benign >= self.data.semantic.margin:
                out.append(
                    Evidence(
                        category=category,
                        source="exemplar",
                        ref=self.exemplar_ids[row],
                        score=round(score, 4),
                    )
                )
        settings = self.data.semantic.classifier
        if self.classifier is None or not settings.thresholds:
            return out
        found = {e.category for e in out}
        probability = self.classifier.probabilities(vector)
        for category, threshold in settings.thresholds.items():
            nearest = best.get(category, (0.0, -1))[0]
            if (
                category not in found
                and probability.get(category, 0.0) >= threshold
                and nearest >= settings.min_similarity
                and nearest - benign >= settings.margin
            ):
                out.append(
                    Evidence(
                        category=category,
                        source="classifier",
                        ref=f"classifier:{category}",
                        score=round(probability[category], 4),
                    )
                )
        return out

    def passages(self, message: str) -> list[str]:
        """The sentences of a long message, canonical and unwrapped, to embed one by one."""
        settings = self.data.semantic.passages
        if settings is None:
            return []
        found = split_passages(message, min_words=settings.min_words, limit=settings.limit)
        return [self.forms(p)[2] for p in found]

    def passage_hits(self, vectors: Sequence[Vectors]) -> list[Evidence]:
        """Semantic hits of single sentences, for the categories `passages` names."""
        settings = self.data.semantic.passages
        if settings is None:
            return []
        surer = settings.classifier_thresholds
        return [
            e.model_copy(update={"source": "passage", "ref": f"passage {i}: {e.ref}"})
            for i, vector in enumerate(vectors, start=1)
            for e in self.semantic_hits(vector)
            if e.category in settings.categories
            and (e.source != "classifier" or e.score >= surer.get(e.category, 0.0))
        ]

    def _best_rows(self, sims: np.ndarray) -> dict[str, tuple[float, int]]:
        """(similarity, exemplar row) of the most similar exemplar of each category."""
        out = {}
        for label, rows in self._rows.items():
            row = int(rows[np.argmax(sims[rows])])
            out[label] = (float(sims[row]), row)
        return out

    def nearest(self, vector: Vectors) -> dict[str, float]:
        """Best exemplar similarity per category (for --explain and calibration)."""
        assert self.exemplar_vectors is not None
        best = self._best_rows(self.exemplar_vectors @ vector.reshape(-1))
        return {label: score for label, (score, _) in best.items()}

    # ------------------------------------------------------------------ verdict
    def check(
        self,
        message: str,
        *,
        history: Sequence[PastTurn] = (),
        vector: Vectors | None = None,
        forms: tuple[str, str, str] | None = None,
        embed: Callable[[list[str]], Sequence[Vectors]] | None = None,
    ) -> Verdict:
        """The verdict for `message`, given earlier turns and its embedding (if available).

        `forms` is `self.forms(message)` when the caller already has it (the Bot embeds its
        unwrapped form first), so the message is not normalized and corrected twice.
        `embed` (texts -> vectors) enables the figures-of-speech check (an urgent semantic match
        must hold without them) and the passage check: the sentences of a long message are
        embedded and checked only when nothing urgent was found already. A sentence may add an
        urgent category also where rules gave a redirect: the dosing or mixing talk is often in
        other sentences.
        """
        forms = forms or self.forms(message)
        evidence = self.rule_hits(*forms)
        lang = self.language_hit(message)
        if lang:
            evidence.append(lang)
        over = any(p.search(forms[1]) for p in self.not_happening)  # over, or only a possibility
        comparing = any(p.search(forms[1]) for p in self.comparisons)
        semantic = _unless(self.semantic_hits(vector), over=over, comparing=comparing)
        if embed is not None and any(e.category in URGENT for e in semantic):
            semantic = self._unless_figurative(semantic, forms[2], embed)
        evidence += self._semantic_policy(evidence, semantic)
        if embed is not None and not any(e.category in URGENT for e in evidence):
            passages = self.passage_hits(embed(self.passages(message)))
            evidence += _unless(passages, over=over, comparing=comparing)
        if not evidence and history:
            evidence += self._context_hits(forms, history)
        return self._verdict(evidence)

    def _unless_figurative(
        self,
        hits: list[Evidence],
        text: str,
        embed: Callable[[list[str]], Sequence[Vectors]],
    ) -> list[Evidence]:
        """Urgent semantic hits that still hold with the figures of speech cut out: "this flare is
        going to be the death of me" means no harm once "the death of me" is gone. (Cutting them
        from the one embedded text instead moved messages away from the benign exemplars, which
        are written with their figures.)"""
        literal = self.literal(text)
        if literal is None or literal == text:
            return hits
        still = {e.category for e in self.semantic_hits(embed([literal])[0])}
        return [e for e in hits if e.category not in URGENT or e.category in still]

    def _semantic_policy(self, rules: list[Evidence], semantic: list[Evidence]) -> list[Evidence]:
        """Rules decide when they fire; meaning alone may only add a more urgent category if strong."""
        if not rules:
            return semantic
        strong = self.data.semantic.override
        return [
            e
            for e in semantic
            if e.source == "exemplar"
            and e.category in {"emergency", "self_harm"}
            and e.score >= strong
        ]

    def _context_hits(
        self, forms: tuple[str, str, str], history: Sequence[PastTurn]
    ) -> list[Evidence]:
        previous = history[-1]
        prev, before = self._rules_alone(previous.message)
        joined_forms = tuple(f"{p} {c}" for p, c in zip(prev, forms, strict=True))
        joined = [e for e in self.rule_hits(*joined_forms) if e.category not in before]
        text = forms[1]
        out = [
            Evidence(category=e.category, source="context", ref=f"joined:{e.ref}") for e in joined
        ]
        # a follow-up that continues the last turn keeps its category: "and both at once?" after
        # a dosing question, "and i have the pills ready" after a self-harm disclosure
        if previous.category in {"dosing", "mixing", *URGENT} and any(
            p.search(text) for p in self.continuations
        ):
            out.append(Evidence(category=previous.category, source="context", ref="continuation"))
        return out

    def _rules_alone(self, message: str) -> tuple[tuple[str, str, str], frozenset[str]]:
        """A message's forms and the categories its rules give it on its own, remembered per
        message (at most RECENT): the previous turn is checked again with every follow-up."""
        known = self._recent.get(message)
        if known is None:
            if len(self._recent) >= RECENT:
                self._recent.clear()
            forms = self.forms(message)
            known = forms, frozenset(e.category for e in self.rule_hits(*forms))
            self._recent[message] = known
        return known

    def _verdict(self, evidence: list[Evidence]) -> Verdict:
        if not evidence:
            return Verdict()
        category = min(
            (e.category for e in evidence),
            key=lambda c: PRECEDENCE.index(c) if c in PRECEDENCE else 99,
        )
        refs = {e.ref for e in evidence}
        rules = self._rules
        pet = any(rules[r].pet for r in refs if r in rules)
        # an emergency that may be deliberate, or that comes with signs of self-harm, also names
        # the crisis line ("I want to take all my pills and not wake up" is both)
        unknown = category == "emergency" and (
            any(rules[r].intent_unknown for r in refs if r in rules)
            or any(e.category == "self_harm" for e in evidence)
        )
        ordered = sorted(evidence, key=lambda e: (e.category != category, e.source != "rule"))
        return Verdict(category=category, evidence=ordered, pet=pet, intent_unknown=unknown)


URGENT = frozenset({"emergency", "self_harm"})


def _unless(hits: list[Evidence], *, over: bool, comparing: bool) -> list[Evidence]:
    """Semantic hits without emergency ones when the message says the danger is not happening,
    and without mixing ones when it compares substances rather than combining them."""
    return [
        e
        for e in hits
        if not (over and e.category == "emergency") and not (comparing and e.category == "mixing")
    ]


def cosine_rows(
    matrix: Vectors, vector: Vectors
) -> np.ndarray:  # pragma: no cover - helper for tools
    """Cosine similarity of every row with `vector` (rows are normalized)."""
    return matrix @ vector.reshape(-1)
