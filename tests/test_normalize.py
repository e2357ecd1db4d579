"""Text normalization: Unicode tricks, leetspeak and spacing fold to plain words; idempotent."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from faqbot.normalize import normalize

CASES = [
    ("K R A T O M how  m u c h", "kratom how much"),
    ("kr4t0m 0verd0se", "kratom overdose"),
    ("kr\u0430tom", "kratom"),  # Cyrillic a
    ("k\u200bratom", "kratom"),  # zero-width space
    ("\uff4b\uff52\uff41\uff54\uff4f\uff4d", "kratom"),  # fullwidth
    ("HOW MUCH SHOULD I TAKE???", "how much should i take"),
    ("Is 5g too much", "is 5g too much"),
    ("7-OH pills", "7-oh pills"),
    ("mi hijo se trag\u00f3 unas pastillas", "mi hijo se trago unas pastillas"),
    ("soooo much pain", "soo much pain"),
    ("zoloft + beer", "zoloft plus beer"),  # shorthand is spelled out, not dropped
    ("advil w/ food, not w/o", "advil with food not without"),
    ("diff b/w losartan & valsartan", "diff between losartan and valsartan"),
    ("what % hydrocortisone", "what percent hydrocortisone"),
    ("mucinex q12h", "mucinex q12h"),  # a dosing interval is not leetspeak
    ("h0w much kr@tom sh0uld i t@ke", "how much kratom should i take"),  # @ and $ are letters
    ("$20 of kr$tom", "20 dollars of krstom"),  # a $ before a number is money; inside a word, s
    ("100$ a week", "100 a week"),  # any other $ outside a word is dropped
]


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_normalize_folds_tricks(raw, expected):
    assert normalize(raw) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_normalize_never_raises_and_is_idempotent(text):
    once = normalize(text)
    assert normalize(once) == once
