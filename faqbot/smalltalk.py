"""Small talk (greetings, thanks, goodbye, "who are you", "what can you do"), from data."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, field_validator

from faqbot.normalize import normalize
from faqbot.yamlfile import Problem, load_yaml


class SmalltalkFile(BaseModel):
    """knowledge/smalltalk.yaml: regexes per intent."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    intents: dict[str, list[str]]

    @field_validator("intents")
    @classmethod
    def _compiles(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        for intent, patterns in value.items():
            for pattern in patterns:
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"{intent}: bad pattern {pattern!r}: {exc}") from exc
        return value

    def match(self, message: str) -> str | None:
        """The small-talk intent of a whole message, or None."""
        text = normalize(message).replace("?", "").strip()
        for intent, patterns in self.intents.items():
            if any(re.search(p, text) for p in patterns):
                return intent
        return None


def load_smalltalk(path: Path, problems: list[Problem]) -> SmalltalkFile | None:
    """Load and validate smalltalk.yaml."""
    from faqbot.kb import validate_model

    doc = load_yaml(path)
    if isinstance(doc, Problem):
        problems.append(doc)
        return None
    return validate_model(SmalltalkFile, doc, problems)
