"""Typos -> the corpus's words, so "how do i prepre for ml intervews" searches for interviews.

Students type fast. A misspelt word matches nothing in BM25, pulls the question's vector
off its topic, and the relevance gate counts it as a word no essay uses: "shoud i do a phd"
was answered with "The essays don't address “shoud” directly". The search query (never the
question shown) has such a word replaced by a corpus word one edit away (a letter added,
dropped, changed, or two swapped).

Which word was meant is decided among the English words one edit away as well as the corpus's
(pyspellchecker): "upaid" is "unpaid", not the corpus's "paid"; "leter" is "letter", not
"later". A word restoring a dropped letter comes first (the commonest typo), then a corpus word,
then the commoner word. The typo is corrected only when that word is a corpus word: an unpaid
internship is left as typed rather than searched as a paid one.

Left as typed: a word the corpus uses; a word under five letters ("jax" is one edit from
"tax"); a word with a capital inside ("PyTorh": a name); a token holding a digit, "_", ".", "@"
or "/" (code, versions, addresses); another form of a corpus word ("microrobots"); a word the
caller spares (authors' names, chat filler); an English word ("expect" is not a typo of
"expert"); a word set beside its correction ("neetcode or leetcode": two things).

Corpus candidates are looked up first; pyspellchecker's English dictionary (0.3 s and about
40 MB to load) is read only when a word has one, so a question spelt right never loads it.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

MIN_LENGTH = 5  # shorter words are left as typed
MAX_LOOKUPS = 50  # words of one text looked up at most (a 100,000-character question stays fast)
# a token between spaces: its leading and trailing punctuation, and the word inside
_TOKEN = re.compile(r"(\W*)(\S*?)(\W*)(?=\s|$)", re.UNICODE)
_WORD = re.compile(r"[^\W\d_]+")
_INNER_CAPITAL = re.compile(r".[A-Z]")
_LOCK = threading.Lock()


@functools.cache
def _english_loaded() -> Any:  # a spellchecker.SpellChecker with pyspellchecker's English dictionary
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


def _english() -> Any:
    with _LOCK:  # two questions with typos at once load it once
        return _english_loaded()


def is_english(word: str) -> bool:
    """Whether pyspellchecker's English dictionary holds the word."""
    return bool(_english().known([word.lower()]))


def _inflected(word: str, other: str) -> bool:
    """Whether two words one edit apart are forms of one word: a plural ("microrobots"), a past
    ("used"). Not "joinning": its stem is "joining"'s, but no ending makes it."""
    return word in (other + "s", other + "d") or other in (word + "s", word + "d")


def _compared(text: str, word: str, other: str) -> bool:
    """Whether the text sets the two words side by side ("neetcode or leetcode"): two things,
    not a typo of one."""
    a, b = re.escape(word), re.escape(other)
    joined = r"\s+(?:or|vs\.?|versus|and|instead of|over)\s+"
    return bool(re.search(rf"\b(?:{a}{joined}{b}|{b}{joined}{a})\b", text, re.IGNORECASE))


class Speller:
    """Corrects a query's typos to the words of one corpus; safe to share between threads."""

    def __init__(self, counts: Mapping[str, int], *, known: Callable[[str], bool] = lambda word: False) -> None:
        """`counts`: every word a typo may be corrected to (lower case) -> how many texts use it;
        `known`: further words to leave alone (names, chat filler)."""
        self._counts = dict(counts)
        self._known = known
        self._checker: Any = None
        self._lock = threading.Lock()

    def _corpus_candidates(self, word: str) -> set[str]:
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
            or not _WORD.fullmatch(low)
            or self._known(low)
        ):
            return None
        in_corpus = self._corpus_candidates(low)
        if not in_corpus or is_english(low):
            return None
        english = _english()
        candidates = (in_corpus | (english.candidates(low) or set())) - {low}
        frequency = english.word_frequency.dictionary
        meant = max(
            candidates,
            key=lambda w: (len(w) == len(low) + 1, w in self._counts, frequency.get(w, 0), self._counts.get(w, 0), w),
        )
        if meant not in self._counts or _inflected(low, meant):
            return None  # not a corpus word, or another form of the typed one ("microrobots")
        return meant

    def correct(self, text: str) -> str:
        """The text with each typo replaced by its corpus word; everything else as typed."""
        return self.fix(text)[0]

    def fix(self, text: str) -> tuple[str, list[tuple[str, str]]]:
        """(the corrected text, each (typed, searched) word it changed, in order)."""
        lookups = 0
        changed: list[tuple[str, str]] = []

        def replace(match: re.Match[str]) -> str:
            nonlocal lookups
            before, word, after = match.groups()
            if not word or lookups >= MAX_LOOKUPS or not _WORD.fullmatch(word):
                return match.group(0)
            if len(word) >= MIN_LENGTH and word.lower() not in self._counts:
                lookups += 1
            better = self.correction(word)
            if better is None or _compared(text, word, better):
                return match.group(0)
            if word[:1].isupper():
                better = better[:1].upper() + better[1:]
            changed.append((word, better))
            return before + better + after

        return _TOKEN.sub(replace, text), changed
