"""Is anything retrieved good enough to answer from? One number, compared with a threshold.

Relevance = the best sentence cosine among the passages, minus a penalty for the share of
the question's informative words that the corpus never uses at all ("O-1 visa",
"acceptance rate"): a question about something absent can still land near a passage on a
neighbouring topic, but its key words give it away. Function words and chat
filler ("kinda", "ppl") are not informative and do not count. The threshold and penalty are calibrated on the dev set by
bench/calibrate_refusal.py and stored in settings.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bm25 import BM25Index
    from .records import Passage

CHAT_FILLER = frozenset(
    ["ok", "okay", "ouch", "kinda", "sorta", "wanna", "gonna", "gotta", "gimme", "lemme", "idk", "dunno", "ppl", "im", "ur", "lol", "meh", "tl", "dr", "pls", "plz", "thx", "thanks", "btw", "imo", "tbh", "yeah", "yep", "yes", "hey", "hi", "hello", "stuff", "bunch", "guy", "guys", "thing", "things", "really", "actually", "basically", "just", "like", "pretty", "super"]
)


@functools.cache
def _filler_stems() -> frozenset[str]:
    import Stemmer

    from .condense import STOPWORDS

    stemmer = Stemmer.Stemmer("english")
    words = sorted(CHAT_FILLER | STOPWORDS)
    return frozenset(stemmer.stemWords(words)) | frozenset(words)


def unknown_share(question: str, bm25: BM25Index) -> float:
    """IDF-weighted share of the question's informative words that no indexed text contains."""
    filler = _filler_stems()
    stats = [(stem, df) for stem, df in bm25.term_stats(question) if stem not in filler and not stem.isdigit()]
    n = max(bm25.size, 1)
    weights = [(math.log((n + 1) / (df + 0.5)), df) for _, df in stats]
    total = sum(w for w, _ in weights)
    return sum(w for w, df in weights if df == 0) / total if total > 0 else 0.0


def best_sentence_score(passages: Sequence[Passage]) -> float:
    return max((p.scores.get("unit", p.scores.get("dense", p.score)) for p in passages), default=-1.0)


def relevance(question: str, passages: Sequence[Passage], bm25: BM25Index, oov_penalty: float) -> float:
    if not passages:
        return -1.0
    return best_sentence_score(passages) - oov_penalty * unknown_share(question, bm25)
