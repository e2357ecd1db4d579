"""Help resources per locale (knowledge/resources.yaml): validated phones, lookups by purpose."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from faqbot.models import Resource, ResourceRef
from faqbot.yamlfile import Problem, load_yaml

SHORT_CODES = {"911", "988", "999", "000", "111"}
KEYPAD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "22233344455566677778889999")


def dial_digits(phone: str) -> str:
    """The digits a person dials for `phone` (letters mapped as on a keypad)."""
    return "".join(ch for ch in phone.upper().translate(KEYPAD) if ch.isdigit())


def phone_problem(phone: str) -> str | None:
    """Why `phone` is not a short code or a full number that parses, or None."""
    digits = dial_digits(phone)
    if phone.strip() in SHORT_CODES:
        return None
    if len(digits) == 6 and digits[:2] in {"13", "11"}:
        return None  # Australian 13 xx xx and UK 116 xxx numbers
    if (len(digits) == 11 and digits.startswith("1")) or (
        len(digits) == 10 and digits[0] in "23456789"
    ):
        return None  # North American numbers, with or without the leading 1
    return f"phone {phone!r} is neither a short code ({', '.join(sorted(SHORT_CODES))}) nor a full number"


class Locale(BaseModel):
    """The help resources of one country."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    codes: list[str] = Field(min_length=1)
    emergency: str
    resources: list[Resource] = Field(min_length=1)

    @model_validator(mode="after")
    def _check(self) -> Locale:
        ids = {r.id for r in self.resources}
        if self.emergency not in ids:
            raise ValueError(f"emergency resource {self.emergency!r} is not listed")
        if not any("poisoning" in r.applies_to for r in self.resources):
            raise ValueError(f"{self.name} has no poisoning route")
        for res in self.resources:
            _check_phone(res)
        return self


def _check_phone(res: Resource) -> None:
    if res.phone is None:
        return
    problem = phone_problem(res.phone)
    if problem:
        raise ValueError(f"{res.id}: {problem}")
    if res.phone_digits is not None and dial_digits(res.phone) != res.phone_digits:
        raise ValueError(f"{res.id}: phone_digits {res.phone_digits} does not match {res.phone}")


class ResourceBook(BaseModel):
    """All locales; `for_locale` falls back to the default locale."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    default_locale: str
    locales: dict[str, Locale]

    def locale(self, code: str | None) -> Locale:
        """The locale whose codes include `code` (or its language's default)."""
        for loc in self.locales.values():
            if code in loc.codes:
                return loc
        return next(loc for loc in self.locales.values() if self.default_locale in loc.codes)

    def for_purpose(self, code: str | None, *purposes: str) -> list[ResourceRef]:
        """Resources for `purposes`, in the order asked, without repeats."""
        loc = self.locale(code)
        chosen: list[Resource] = []
        for purpose in purposes:
            chosen += [r for r in loc.resources if purpose in r.applies_to and r not in chosen]
        return [to_ref(r) for r in chosen]

    def emergency_ref(self, code: str | None) -> ResourceRef:
        """The emergency number of a locale."""
        loc = self.locale(code)
        return to_ref(next(r for r in loc.resources if r.id == loc.emergency))


def to_ref(res: Resource) -> ResourceRef:
    """A resource as shown in replies, with a tel: link."""
    tel = f"tel:{res.phone_digits or dial_digits(res.phone)}" if res.phone else None
    url = str(res.url) if res.url else None
    return ResourceRef(id=res.id, name=res.name, phone=res.phone, tel=tel, text=res.text, url=url)


def load_resources(path: Path, problems: list[Problem]) -> ResourceBook | None:
    """Load and validate resources.yaml, recording problems with their lines."""
    from faqbot.kb import validate_model

    doc = load_yaml(path)
    if isinstance(doc, Problem):
        problems.append(doc)
        return None
    book = validate_model(ResourceBook, doc, problems)
    if book is not None and not any(
        book.default_locale in loc.codes for loc in book.locales.values()
    ):
        problems.append(
            Problem(str(path), 1, f"default_locale {book.default_locale!r} matches no locale")
        )
        return None
    return book
