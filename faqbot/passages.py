"""Sentences of a long message, for the guard's passage check.

A disclosure buried in an ordinary post ("... anyway I looked up how many of these it would
take. my sister says hi") is averaged away when the whole post is embedded as one text; embedding
each sentence too lets it be seen. Pure functions.
"""

from __future__ import annotations

import re

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s*[\r\n]+\s*|\s+-{1,2}\s+|;\s+")
MIN_PASSAGE_WORDS = 4


def split_passages(message: str, *, min_words: int, limit: int) -> list[str]:
    """The sentences of `message` when it has at least `min_words` words, else [].

    A fragment shorter than MIN_PASSAGE_WORDS words joins the passage before it, and a short
    first passage takes in the next; at most `limit` passages are returned (the rest of the
    message joins the last one).
    """
    if len(message.split()) < min_words:
        return []
    passages: list[str] = []
    for piece in SENTENCE_END.split(message):
        piece = piece.strip()
        if not piece:
            continue
        short = (len(piece.split()), len(passages[-1].split()) if passages else MIN_PASSAGE_WORDS)
        if passages and min(short) < MIN_PASSAGE_WORDS:  # a fragment, or after one
            passages[-1] = f"{passages[-1]} {piece}"
        else:
            passages.append(piece)
    if len(passages) > limit:
        passages[limit - 1 :] = [" ".join(passages[limit - 1 :])]
    return passages if len(passages) > 1 else []
