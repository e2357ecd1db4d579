"""Counting the substances a message names: lexicon terms, drug-name shapes and unfamiliar words.

Rules with `min_substances` ("X with Y" is a mixing question only if X and Y are both
substances) ask this. A word that is neither English (guardrails/words.yaml), nor in vetted FAQ
text, nor a cue word counts as a possible medicine name, since consumers name medicines no
lexicon lists; typos of English words do not. Pure: everything comes from the guard data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property

from rapidfuzz.distance import Levenshtein

from faqbot.guard_data import GuardData
from faqbot.normalize import normalize

TOKEN = re.compile(r"[a-z][a-z'\-]+")
WORD_RUN = re.compile(r"\w+")
TYPO_MIN = 8  # an unknown word this long, an English word missing a letter, is a typo of it
SUFFIXES = ("s", "es", "d", "ed", "ing", "ly", "er", "ers", "est")


class SubstanceCounter:
    """Finds the distinct substances named in canonical (normalized) text."""

    def __init__(self, data: GuardData, known_words: set[str]) -> None:
        self.data = data
        self.known_words = known_words

    @cached_property
    def words(self) -> set[str]:
        """Cue vocabulary and vetted-text words: never medicine names."""
        return self.data.vocabulary | self.known_words

    def find(self, text: str, *, every_term: bool = False) -> set[str]:
        """Distinct substances named in canonical text (all kratom terms count once; a term
        inside a longer one found there, "vitamin" in "vitamin c", is the same substance).

        Only the terms that can match are searched (see `_substance_index`); `every_term`
        searches them all, which must give the same set (tests/test_guard_speedups.py).
        """
        found: set[str] = set()
        grouped: dict[str, str] = {}  # what a kratom or generic term matched -> its group key
        by_run, always = self._substance_index
        if every_term:
            terms = [(key, pattern) for key, pattern, _ in self.data.substance_terms]
        else:
            runs = set(WORD_RUN.findall(text))
            terms = [t for run in runs for t in by_run.get(run, ())] + always
        for key, pattern in terms:
            if key == "drugish":
                found.update(m.group(0) for m in pattern.finditer(text))
            elif match := pattern.search(text):
                found.add(key)
                if match.group(0) != key:
                    grouped[match.group(0)] = key
        found.update(tok for tok in TOKEN.findall(text) if self.unfamiliar(tok))
        return _outermost(found, grouped)

    @cached_property
    def _substance_index(
        self,
    ) -> tuple[dict[str, list[tuple[str, re.Pattern[str]]]], list[tuple[str, re.Pattern[str]]]]:
        """Substance terms by their leading word run, and the patterns that must always run.

        A term pattern is `(?<![\\w-])term(?![\\w-])`, so it can only match where the text has a
        word run equal to the term's leading run ("st" for "st john's wort"): only terms whose run
        occurs in the text need searching (~310 searches per text otherwise, most of a turn's
        guard time).
        """
        by_run: dict[str, list[tuple[str, re.Pattern[str]]]] = {}
        always: list[tuple[str, re.Pattern[str]]] = []
        for key, pattern, term in self.data.substance_terms:
            run = WORD_RUN.match(term) if term is not None else None
            if run is None:
                always.append((key, pattern))
            else:
                by_run.setdefault(run.group(0), []).append((key, pattern))
        return by_run, always

    def unfamiliar(self, token: str) -> bool:
        """A word that is neither English (words.yaml), vetted FAQ text nor a cue: maybe a medicine."""
        if len(token) < 5 or not token.isalpha() or token in self.words:
            return False
        stems = [token[: -len(s)] for s in SUFFIXES if token.endswith(s)]
        stems += [f"{stem}e" for stem in stems]  # "bruising" -> "bruise"
        # a doubled consonant ("quitting" -> "quit"), -ies / -ied for -y ("hobbies", "worried")
        stems += [stem[:-1] for stem in stems if len(stem) > 2 and stem[-1] == stem[-2]]
        stems += [token[:-3] + "y" for end in ("ies", "ied") if token.endswith(end)]
        familiar = self.data.familiar
        if any(w in familiar or len(w) < 5 for w in (token, *stems)):
            return False
        # An English word with two letters swapped ("natrual") or, if long, one letter missing
        # ("automaticaly") is a typo, not a medicine. Not a letter added or changed: brand names
        # are made that way ("concerta" from "concert", "contrave" from "contrive").
        swaps = (
            token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(len(token) - 1)
        )
        if any(w in familiar for w in swaps):
            return False
        return len(token) < TYPO_MIN or not any(
            Levenshtein.distance(token, w, score_cutoff=1) <= 1
            for w in self._familiar_by_initial.get(token[:1], ())
            if len(w) == len(token) + 1
        )

    @cached_property
    def _familiar_by_initial(self) -> dict[str, list[str]]:
        return by_initial(self.data.familiar)


def _outermost(terms: set[str], grouped: dict[str, str]) -> set[str]:
    """Terms that are not a word run inside another found term ("vitamin" in "vitamin c"), nor
    inside what a term of a group matched ("shots" in "kratom shots", which counts as kratom)."""
    if len(terms) < 2:
        return terms
    spans = {term: term for term in terms} | grouped
    return {
        term
        for term in terms
        if not any(key != term and f" {term} " in f" {span} " for span, key in spans.items())
    }


def by_initial(words: Iterable[str]) -> dict[str, list[str]]:
    """Words grouped by their first letter (the fuzzy matches only compare within a group)."""
    out: dict[str, list[str]] = {}
    for word in words:
        out.setdefault(word[:1], []).append(word)
    return out


def build_known_words(texts: Sequence[str]) -> set[str]:
    """Words seen in vetted text: never 'corrected' into a cue word."""
    return {tok for text in texts for tok in TOKEN.findall(normalize(text))}
