"""Redact personal details from what people type, before anything is stored.

`redact(text)` replaces emails, phone numbers, dates of birth, street addresses and names given
as "my name is X" / "I'm called X" / "this is X speaking" with placeholders ([email], [phone],
[dob], [address], [name]). Only user text is redacted: the help numbers in faqbot's own replies
are kept. Redaction is idempotent and never raises.
"""

from __future__ import annotations

import re

EMAIL = re.compile(r"[\w.+%-]+@[\w-]+(?:\.[\w-]+)+")

_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DATE = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 1985-03-04
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # 03/04/85
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"  # March 4th, 1985
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"  # 4 March 1985
    rf"|(?:in\s+)?{_MONTH}\s+\d{{4}}"  # in March 1985
    r"|(?:in\s+)?(?:19|20)\d{2})"  # in 1985
)
DOB = re.compile(
    r"(?i)\b(?P<lead>(?:d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday|born)"
    r"(?:\s*(?:is|was|on|:|-|=))?\s*)" + _DATE + r"(?!\d)"
)

_SUFFIX = (
    r"(?i:street|st|avenue|ave|road|rd|boulevard|blvd|lane|ln|drive|dr|court|ct|way|place|pl"
    r"|terrace|ter|circle|cir|highway|hwy|parkway|pkwy|square|sq|crescent|close)"
)
_NOT_STREET = (
    r"(?!(?i:the|a|an|my|his|her|of|to|in|on|at|down|up|and|or|for|with|from|more|times?"
    r"|miles?|km|blocks?|days?|weeks?|hours?|minutes?|mg|g|grams?|pills?|capsules?)\b)"
)
ADDRESS = re.compile(
    r"\b\d{1,6}[A-Za-z]?\s+(?:"
    + _NOT_STREET
    + r"[A-Za-z0-9][\w'.-]*\s+){1,4}?"
    + _SUFFIX
    + r"\b\.?"
    r"(?:,?\s*(?i:apt|apartment|unit|suite|ste|#)\.?\s*#?\w+)?"
    r"(?:,\s*[A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+)?)?"  # city
    r"(?:,?\s*[A-Z]{2})?(?:\s+\d{5}(?:-\d{4})?)?"  # state and ZIP
)

_UNIT = r"(?:\(\d{1,4}\)|\d)"
PHONE = re.compile(r"(?<![\w+])\+?" + _UNIT + r"(?:[ .\-]?" + _UNIT + r"){6,14}(?![\w])")
NOT_PHONE = re.compile(  # year ranges and plain dates look like phone numbers
    r"^(?:(?:19|20)\d{2}\s*[-.]\s*(?:19|20)\d{2}|\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{2,4})$"
)

NAME_LEAD = re.compile(
    r"(?i)\b(?:my\s+name\s+is|my\s+name's|name's|i'?m\s+called|i\s+am\s+called)\s+"
)
SPEAKING = re.compile(
    r"(?i)\bthis\s+is\s+(?![\[])([^\W\d_][\w'.-]*(?:\s+[^\W\d_][\w'.-]*){0,2})\s+speaking\b"
)
WORD = re.compile(r"\s*([^\W\d_][\w'-]*)")
STOPWORDS = frozenset(
    """a about also am an and are as at because but by can could did do does for from had has
    have how i i'm im in is it just me my not of on or please should so thanks that the this to
    was what when where which who why will with would you""".split()
)


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if NOT_PHONE.match(text) else "[phone]"


def _name_end(text: str, start: int) -> int:
    """End of the name that starts at `start`: one word, plus up to two more of the same case."""
    first = WORD.match(text, start)
    if first is None or first.group(1).lower() in STOPWORDS:
        return start
    end, capital = first.end(), first.group(1)[0].isupper()
    for _ in range(2):
        more = WORD.match(text, end)
        if more is None or text[end : more.start(1)].strip() or more.group(1).lower() in STOPWORDS:
            break
        if capital and not more.group(1)[0].isupper():
            break
        end = more.end()
    return end


def _redact_names(text: str) -> str:
    parts, pos = [], 0
    for lead in NAME_LEAD.finditer(text):
        if lead.start() < pos:
            continue
        end = _name_end(text, lead.end())
        if end > lead.end():
            parts += [text[pos : lead.end()], "[name]"]
            pos = end
    parts.append(text[pos:])
    text = "".join(parts)
    return SPEAKING.sub(_speaker, text)


def _speaker(match: re.Match[str]) -> str:
    whole, base = match.group(0), match.start()
    return whole[: match.start(1) - base] + "[name]" + whole[match.end(1) - base :]


def redact(text: str) -> str:
    """The text with emails, phones, dates of birth, addresses and self-given names replaced."""
    text = EMAIL.sub("[email]", text)
    text = DOB.sub(lambda m: m.group("lead") + "[dob]", text)
    text = ADDRESS.sub("[address]", text)
    text = PHONE.sub(_phone, text)
    return _redact_names(text)


__all__ = ["redact"]
