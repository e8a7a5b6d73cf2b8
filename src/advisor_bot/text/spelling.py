"""Typos -> the corpus's words, so "how do i prepre for ml intervews" searches for interviews.

Students type fast. A misspelt word matches nothing in BM25, pulls the question's vector
off its topic, and the relevance gate counts it as a word no essay uses: "shoud i do a phd"
was answered with "The essays don't address “shoud” directly". The search query (never the
question shown) has each such word replaced by the corpus word one edit away (a letter
added, dropped, changed, or two swapped), the one most texts use.

A word is left as typed when the corpus uses it (or another form of it: "microrobots"), when it is short (a
four-letter word has many neighbours one edit away), when it is written with a capital inside
("GANs", "PyTorch": a name) or holds a digit, or when it is an English word ("weather" is not
a typo of "whether"). Candidates come from the corpus vocabulary (pyspellchecker, with the
index's words as its dictionary); the English dictionary (pyspellchecker's, 0.3-0.4 s to load)
is read only when a word has a candidate, so a question spelt right never loads it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

from .words import stem_word

MIN_LENGTH = 5  # shorter words are left as typed
# a word as typed: letters with inner apostrophes or hyphens ("don't", "self-taught")
_TYPED = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_INNER_CAPITAL = re.compile(r".[A-Z]")


@functools.cache
def _english() -> Any:  # a spellchecker.SpellChecker with pyspellchecker's English dictionary
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def is_english(word: str) -> bool:
    """Whether pyspellchecker's English dictionary holds the word."""
    return bool(_english().known([word.lower()]))


class Speller:
    """Corrects a query's typos to the words of one corpus; safe to share between threads."""

    def __init__(
        self,
        counts: Mapping[str, int],
        *,
        known: Callable[[str], bool] = lambda word: False,
        rewrite: Callable[[str], str] = lambda word: word,
    ) -> None:
        """`counts`: every word a typo may be corrected to (lower case) -> how many texts use it;
        `known`: further words to leave alone (names, chat filler); `rewrite`: what a corrected
        word becomes (the chat glossary's wording of it)."""
        self._counts = dict(counts)
        self._known = known
        self._rewrite = rewrite
        self._checker: Any = None
        self._lock = threading.Lock()

    def _candidates(self, word: str) -> set[str]:
        with self._lock:
            if self._checker is None:
                from spellchecker import SpellChecker

                checker = SpellChecker(language=None, distance=1)
                checker.word_frequency.load_json(self._counts)
                self._checker = checker
            found = self._checker.candidates(word)
        return {w for w in found or () if w != word}

    def correction(self, word: str) -> str | None:
        """The corpus word a typed word is a typo of, or None when it is not one."""
        low = word.lower()
        if (
            len(low) < MIN_LENGTH
            or low in self._counts
            or _INNER_CAPITAL.search(word)
            or not low.isalpha()
            or self._known(low)
        ):
            return None
        candidates = self._candidates(low)
        if not candidates or is_english(low):
            return None
        if any(stem_word(c) == stem_word(low) for c in candidates):
            return None  # another form of a corpus word ("microrobots"), not a typo
        english = _english().word_frequency.dictionary
        return max(candidates, key=lambda w: (self._counts.get(w, 0), english.get(w, 0), w))

    def correct(self, text: str) -> str:
        """The text with each typo replaced by its corpus word; everything else as typed."""

        def fix(match: re.Match[str]) -> str:
            word = match.group(0)
            better = self.correction(word)
            if better is None:
                return word
            better = self._rewrite(better)
            return better[:1].upper() + better[1:] if word[:1].isupper() else better

        return _TYPED.sub(fix, text)
