"""Redaction of personal details in what people type (before anything is stored)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from faqbot.redact import redact

CASES = [
    # emails
    ("write to john.doe+pain@mail.example.co.uk please", "write to [email] please"),
    ("ME@X.ORG", "[email]"),
    # phone numbers
    ("call me on (555) 123-4567", "call me on [phone]"),
    ("my cell is +44 20 7946 0958", "my cell is [phone]"),
    ("text 555.123.4567 or 5551234", "text [phone] or [phone]"),
    # dates of birth
    ("I was born on 03/04/1985", "I was born on [dob]"),
    ("DOB: 1985-03-04", "DOB: [dob]"),
    ("my birthday is March 4th, 1985", "my birthday is [dob]"),
    ("date of birth 4 March 1985", "date of birth [dob]"),
    ("born in 1990, pain since", "born [dob], pain since"),
    # street addresses
    ("I live at 123 Main Street, Apt 4B, Springfield, IL 62704", "I live at [address]"),
    ("send it to 42 n oak ave.", "send it to [address]"),
    ("near 9 Elm St", "near [address]"),
    # names
    ("my name is John Smith, I have back pain", "my name is [name], I have back pain"),
    ("my name is john and i take kratom", "my name is [name] and i take kratom"),
    ("Hi, I'm called Maria. I'm tired", "Hi, I'm called [name]. I'm tired"),
    ("i am called Ana", "i am called [name]"),
    ("this is Dr Jane Roe speaking, can you help", "this is [name] speaking, can you help"),
    ("My name's Bob", "My name's [name]"),
]

KEPT = [
    "how many grams of kratom should I take",
    "I take 100 mg 2 times a day; my pain is 7/10",
    "I used kratom 2015-2020",
    "I started on 2024-05-01 and walked 5 miles down the road",
    "is there 1 way to stop",
    "what is my name",
    "my name is [name]",
    "Poison Help is open 24/7",
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_personal_details_are_replaced(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_ordinary_questions_are_left_alone(text):
    assert redact(text) == text


FRAGMENTS = st.sampled_from(
    [
        "my name is ",
        "I'm called ",
        "this is ",
        " speaking",
        "John",
        "smith",
        "and",
        " ",
        ", ",
        "@",
        "a.b",
        "example.com",
        "555",
        "-",
        "123",
        "(",
        ")",
        "+1 ",
        "born ",
        "DOB: ",
        "1985",
        "/",
        "03",
        "March ",
        "4th",
        "Main ",
        "St",
        "Apt 4",
        "[name]",
        "\n",
        "é",
    ]
)


@given(st.lists(FRAGMENTS, max_size=25).map("".join))
def test_redaction_is_idempotent_on_tricky_mixtures(text):
    once = redact(text)
    assert redact(once) == once


@given(st.text(max_size=300))
def test_redaction_never_raises_and_is_idempotent(text):
    once = redact(text)
    assert redact(once) == once
