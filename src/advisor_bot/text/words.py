"""Words: one pattern, one stop-word list (bm25s's English list), one stemmer.

BM25, the relevance gate, the follow-up condenser, the grounding check and the evaluation
all tokenise with these, so a "word" means the same thing everywhere.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

# bm25s's own token pattern: runs of two or more word characters
WORD = re.compile(r"(?u)\b\w\w+\b")


@functools.cache
def stopwords() -> frozenset[str]:
    """bm25s's English stop words (the NLTK list it ships), plus the contraction stems they
    leave behind ("don", "t")."""
    from .bm25s_import import bm25s_module

    return frozenset(bm25s_module().stopwords.STOPWORDS_EN_PLUS)


def words(text: str) -> list[str]:
    """Lower-cased words of a text, in order."""
    return WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """Words that carry meaning: stop words dropped."""
    stop = stopwords()
    return [w for w in words(text) if w not in stop]


@functools.cache
def _stemmer() -> Any:  # a Stemmer.Stemmer
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(items: Iterable[str]) -> list[str]:
    """Snowball stems (the same stemmer BM25 indexes with)."""
    return list(_stemmer().stemWords(list(items)))


def stem_word(word: str) -> str:
    return str(_stemmer().stemWord(word))


def content_stems(text: str) -> set[str]:
    return set(stems(content_words(text)))
