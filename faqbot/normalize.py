"""Text normalization for the guard and retrieval: Unicode tricks, leetspeak, spacing, case.

Pure functions; `normalize` is idempotent (a Hypothesis test checks it).
"""

from __future__ import annotations

import re
import unicodedata

ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad\u180e"), None)
HOMOGLYPHS = str.maketrans(
    "аеорсухкмтнвіјѕԁɡӏАЕОРСУХКМТНВІЈЅαεορτυνικχΑΕΟΡΤΥΝΙΚΧ",
    "aeopcyxkmthbijsdgiaeopcyxkmthbijsaeoptuvikxaeoptynikx",
)
LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
QUANTITY = re.compile(r"^\d+(?:[.,]\d+)?[a-z]{0,5}$")
KEEP_AS_IS = re.compile(
    r"^7-?oh$|^\d+$|^\d+(?:st|nd|rd|th)$|^(?:b12|b6|d3|k2|co2|h2o|mp3|mp4|covid19|ps5|a1c)$"
    r"|^cyp\d[a-z0-9]*$|^ng\d+$"  # liver enzymes (CYP3A4, CYP2D6) and NICE guideline codes
    r"|^q\d+h(?:rs?)?$|^coq10$"  # dosing intervals ("q12h") and the supplement
)
SPACED = re.compile(r"(?<![a-z0-9])[a-z](?: [a-z]){2,}(?![a-z0-9])")
RUNS = re.compile(r"([a-z])\1{2,}")
NOT_WORD = re.compile(r"[^a-z0-9\-'.@$]")  # @ and $ stay until leetspeak is read ("kr@tom")
LEFTOVER = re.compile(r"[@$]")
# Shorthand whose symbol carries meaning the guard needs ("zoloft + beer", "advil w/ food",
# "diff b/w x and y", "what % cream"): spelled out before other symbols become spaces.
SHORTHAND = [
    (re.compile(r"(?<![a-z0-9])w/o(?![a-z0-9])"), " without "),
    (re.compile(r"(?<![a-z0-9])b/w(?![a-z0-9])"), " between "),
    (re.compile(r"(?<![a-z0-9])w/"), " with "),
    (re.compile(r"\+"), " plus "),
    (re.compile(r"&"), " and "),
    (re.compile(r"%"), " percent "),
    (re.compile(r"\$ ?(\d[\d,.]*)"), r" \1 dollars "),  # "$80 a week on kratom" is money
]


def fold(text: str) -> str:
    """NFKC, drop zero-width characters, map homoglyphs, strip accents, casefold."""
    text = unicodedata.normalize("NFKC", text).translate(ZERO_WIDTH).translate(HOMOGLYPHS)
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return text.casefold().replace("\u2019", "'")


def _unleet(token: str) -> str:
    has_alpha = any(ch.isalpha() for ch in token)
    has_leet = any(ch in "013457@$" for ch in token)
    if not (has_alpha and has_leet) or QUANTITY.match(token) or KEEP_AS_IS.match(token):
        return token
    return token.translate(LEET)


def _join_spaced(text: str) -> str:
    # "k r a t o m" -> "kratom"; a double space separates spelled-out words
    return SPACED.sub(lambda m: m.group(0).replace(" ", ""), text)


def _spell_out(text: str) -> str:
    for pattern, words in SHORTHAND:
        text = pattern.sub(words, text)
    return text


def _normalize_once(text: str) -> str:
    # one space per character keeps "h o w  m u c h" apart
    text = NOT_WORD.sub(" ", _spell_out(fold(text)))
    tokens = [_unleet(tok.strip("'.-?")) for tok in text.split(" ")]
    text = _join_spaced(LEFTOVER.sub(" ", " ".join(tokens)))
    text = RUNS.sub(r"\1\1", text)
    return " ".join(text.split())


def normalize(text: str) -> str:
    """The canonical form the guard's rules match against (lowercase words, single spaces).

    Applied until it no longer changes the text, so normalize(normalize(x)) == normalize(x).
    """
    result = _normalize_once(text)
    for _ in range(5):
        again = _normalize_once(result)
        if again == result:
            break
        result = again
    return result
