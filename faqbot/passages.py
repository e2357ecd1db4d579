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

    Fragments shorter than MIN_PASSAGE_WORDS join the sentence before them; at most `limit`
    passages are returned (the rest of the message joins the last one).
    """
    if len(message.split()) < min_words:
        return []
    passages: list[str] = []
    for piece in SENTENCE_END.split(message):
        piece = piece.strip()
        if not piece:
            continue
        if passages and len(piece.split()) < MIN_PASSAGE_WORDS:
            passages[-1] = f"{passages[-1]} {piece}"
        elif passages and len(passages[-1].split()) < MIN_PASSAGE_WORDS:
            passages[-1] = f"{passages[-1]} {piece}"
        else:
            passages.append(piece)
    if len(passages) > limit:
        passages[limit - 1 :] = [" ".join(passages[limit - 1 :])]
    return passages if len(passages) > 1 else []
