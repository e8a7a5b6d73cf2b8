"""How well do the retrieved passages cover the question? Answered, partly, or not at all.

    relevance = best cosine between the question and a whole statement of the passages
              - oov_penalty      x share of the question's key words that no essay uses,
                                   each weighted by how central it is to the question
              - quantity_penalty if the question asks for a number (a salary, a deadline, a
                                   score, "how many") and the best statements hold none

A question about something absent can land near a passage on a neighbouring topic, but its
key words give it away: "O-1 visa", "acceptance rate". A word the essays never use but that
matters little to the question ("how do people even *pick* a topic") costs little: its
centrality is the cosine of the word's own vector with the question's. Chat filler ("kinda",
"ppl") never counts. Two thresholds, calibrated by bench/calibrate_refusal.py on the
456 questions of bench/calibration/, grade the result:

    relevance >= answered_threshold   -> answered
    relevance >= partial_threshold    -> partial ("the essays don't address X directly; the closest ...")
    otherwise                         -> refused, with the nearest topics
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import Coverage, Passage, Query
from ..settings import AnswerSettings
from ..text.amounts import asks_quantity, holds_amount
from ..text.words import WORD, content_words, stem_word, stems, stopwords

if TYPE_CHECKING:
    from ..index.bm25 import BM25Index
    from ..index.embedding import Embedder

CHAT_FILLER = frozenset(
    [
        "ok",
        "okay",
        "ouch",
        "kinda",
        "sorta",
        "wanna",
        "gonna",
        "gotta",
        "gimme",
        "lemme",
        "idk",
        "dunno",
        "ppl",
        "im",
        "ur",
        "lol",
        "meh",
        "tl",
        "dr",
        "pls",
        "plz",
        "thx",
        "thanks",
        "btw",
        "imo",
        "tbh",
        "yeah",
        "yep",
        "yes",
        "hey",
        "hi",
        "hello",
        "stuff",
        "bunch",
        "guy",
        "guys",
        "thing",
        "things",
        "really",
        "actually",
        "basically",
        "just",
        "like",
        "pretty",
        "super",
        "even",
        "anyone",
        "someone",
        "people",
        "get",
        "got",
        "good",
        "bad",
        "want",
        "need",
        "know",
        "think",
        "make",
        "way",
        "lot",
        "much",
        "many",
        "also",
        "would",
        "could",
        "one",
        "say",
        "says",
        "tell",
        "please",
        "honest",
        "right",
        "now",
        "essays",
        "essay",
        "sources",
        "source",
        "advice",
        "question",
    ]
)
TOP_STATEMENTS = 3  # the statements the quantity check looks at
# An unknown word sharing this many first letters with an indexed word is another form of it
# ("interning" / "internship"), not a missing topic.
SHARED_PREFIX = 6


@dataclass(frozen=True)
class Signals:
    """What the grade is computed from, kept apart so bench/calibrate_refusal.py can re-weigh them."""

    best: float  # best question-statement cosine
    unknown: tuple[str, ...]  # the question's informative words no essay uses
    central_unknown: float  # their IDF-weighted share, each weighted by its centrality (0..1)
    quantity_gap: bool  # asks for a number that the best statements do not hold
    missing: tuple[str, ...] = ()  # the unknown words that matter to the question ("salary", "visa")

    def relevance(self, settings: AnswerSettings) -> float:
        return (
            self.best
            - settings.oov_penalty * self.central_unknown
            - settings.quantity_penalty * float(self.quantity_gap)
        )


@functools.cache
def _filler_stems() -> frozenset[str]:
    words = sorted(CHAT_FILLER | stopwords())
    return frozenset(stems(words)) | frozenset(words)


def informative_stems(text: str) -> list[str]:
    """Stems of the words that say what a question is about (no stop words, no chat filler)."""
    filler = _filler_stems()
    out: list[str] = []
    for word in content_words(text):
        stem = stem_word(word)
        if stem not in filler and word not in filler and not word.isdigit() and stem not in out:
            out.append(stem)
    return out


def unknown_words(question: str, bm25: BM25Index, names: frozenset[str] = frozenset()) -> list[tuple[str, float]]:
    """(word as typed, IDF share) for each informative word of the question that no indexed
    text contains, apart from `names` (the authors': an essay says "I", not "Lovelace"); the
    shares are of the IDF weight of all the question's informative words."""
    filler = _filler_stems()
    stats = [(stem, df) for stem, df in bm25.term_stats(question) if stem not in filler and not stem.isdigit()]
    n = max(bm25.size, 1)
    weights = {stem: (math.log((n + 1) / (df + 0.5)), df) for stem, df in stats}
    total = sum(w for w, _ in weights.values())
    if total <= 0:
        return []
    typed = {stem_word(w): w for w in WORD.findall(question.lower())}
    # a name weighs in the share like any word the essays use (as when they say it: the
    # thresholds were calibrated so), but is never missing ("Lovelaces" too)
    named = {stem_word(name) for name in names}
    return [
        (typed.get(stem, stem), w / total)
        for stem, (w, df) in weights.items()
        if df == 0 and not bm25.knows_prefix(stem, SHARED_PREFIX) and stem not in named
    ]


def ranked_statements(query: Query, passages: Sequence[Passage]) -> list[tuple[float, str]]:
    """(cosine with the question, text) of every whole statement of the passages, best first."""
    out: list[tuple[float, str]] = []
    if query.vector is None:
        return out
    for p in passages:
        if p.unit_vectors is None or not len(p.units):
            continue
        sims = p.unit_vectors @ query.vector
        out.extend((float(sims[i]), u.text) for i, u in enumerate(p.units) if u.is_statement)
    out.sort(key=lambda t: -t[0])
    return out


def signals(
    query: Query,
    passages: Sequence[Passage],
    bm25: BM25Index,
    embedder: Embedder,
    settings: AnswerSettings,
    *,
    names: frozenset[str] = frozenset(),
) -> Signals:
    statements = ranked_statements(query, passages)
    best = statements[0][0] if statements else -1.0
    unknown = unknown_words(query.text, bm25, names)
    central = 0.0
    missing: list[str] = []
    if unknown and query.vector is not None:
        vectors = embedder.encode([w for w, _ in unknown])
        lo, hi = settings.centrality_low, settings.centrality_high
        for (word, share), v in zip(unknown, vectors, strict=True):
            weight = min(max((float(v @ query.vector) - lo) / (hi - lo), 0.0), 1.0)
            central += share * weight
            if weight >= 0.5:
                missing.append(word)
    top = [text for _, text in statements[:TOP_STATEMENTS]]
    gap = asks_quantity(query.question) and not any(holds_amount(query.question, t) for t in top)
    return Signals(
        best=best,
        unknown=tuple(w for w, _ in unknown),
        central_unknown=central,
        quantity_gap=gap,
        missing=tuple(missing),
    )


def grade_of(relevance: float, settings: AnswerSettings) -> Coverage:
    if relevance >= settings.answered_threshold:
        return Coverage.ANSWERED
    if relevance >= settings.partial_threshold:
        return Coverage.PARTIAL
    return Coverage.REFUSED


def grade(
    query: Query,
    passages: Sequence[Passage],
    bm25: BM25Index,
    embedder: Embedder,
    settings: AnswerSettings,
    *,
    names: frozenset[str] = frozenset(),
) -> tuple[Coverage, float, tuple[str, ...]]:
    """(coverage, relevance, the question's key words no essay uses; an author's name is not one)."""
    if not passages:
        return Coverage.REFUSED, -1.0, ()
    found = signals(query, passages, bm25, embedder, settings, names=names)
    relevance = found.relevance(settings)
    return grade_of(relevance, settings), relevance, found.missing
