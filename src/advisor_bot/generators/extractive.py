"""The generator that needs no model: it quotes the passage sentences most similar to the
question, grouped by passage with one [n] each, and refuses when none is close enough."""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from ..condense import condense
from ..prompts import ANSWER_LEAD, refusal_text
from ..sentences import Unit, split_units

if TYPE_CHECKING:
    import numpy as np

    from ..embedding import Embedder
    from ..records import Chunk, Passage
    from . import GeneratorContext, Message

_WORD = re.compile(r"\w+")


class ExtractiveGenerator:
    name = "extractive"

    def __init__(self, embedder: Embedder, *, max_units: int = 6, min_similarity: float = 0.25,
                 relative_floor: float = 0.6, passage_weight: float = 0.3, cache_size: int = 4096,
                 stored_vectors: Callable[[Chunk], dict[str, np.ndarray]] | None = None) -> None:
        self.embedder = embedder
        self.stored_vectors = stored_vectors  # the index's own sentence vectors, when it has them
        self.max_units = max_units
        self.min_similarity = min_similarity
        # Units scoring below this share of the best unit are left out: a factoid answer
        # should not be padded with loosely related sentences.
        self.relative_floor = relative_floor
        self.passage_weight = passage_weight
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def generate(self, question: str, passages: Sequence[Passage], history: Sequence[Message]) -> Iterator[str]:
        picked = self.select(condense(question, history), passages)
        if not picked:
            yield refusal_text(passages)
            return
        yield ANSWER_LEAD
        for n, units in picked:
            body = " ".join(u.text for u in units)
            yield f"\n- {body} [{n}]"
        yield "\n"

    def select(self, query: str, passages: Sequence[Passage]) -> list[tuple[int, list[Unit]]]:
        """[(passage number, its chosen units in reading order)], best group first."""
        import numpy as np

        # A line that only introduces a list ("I have some tips:") says nothing by itself.
        candidates: list[tuple[int, Unit]] = [
            (n, unit) for n, p in enumerate(passages, start=1) for unit in split_units(p.text)
            if unit.is_list or not unit.text.endswith(":")
        ]
        if not candidates:
            return []
        known: dict[str, np.ndarray] = {}
        if self.stored_vectors is not None:
            for p in passages:
                known.update(self.stored_vectors(p.chunk))
        vectors = self._encode([u.text for _, u in candidates], known)
        qvec = self.embedder.encode_query(query)
        # A sentence inside a passage that matches the question as a whole is more likely to
        # answer it than an equally similar sentence from a loosely related passage.
        prior = np.array([passages[n - 1].scores.get("dense", passages[n - 1].score) for n, _ in candidates])
        scores = (1 - self.passage_weight) * (vectors @ qvec) + self.passage_weight * prior
        best = float(scores.max())
        floor = max(self.min_similarity, best * self.relative_floor)
        chosen: list[int] = []
        seen_text: set[str] = set()
        for i in np.argsort(-scores, kind="stable"):
            if scores[i] < floor or len(chosen) >= self.max_units:
                break
            key = " ".join(_WORD.findall(candidates[i][1].text.lower()))
            if key in seen_text or any(float(vectors[i] @ vectors[j]) > 0.95 for j in chosen):
                continue  # overlapping chunks repeat sentences; say each thing once
            seen_text.add(key)
            chosen.append(int(i))
        groups: dict[int, list[int]] = {}
        for i in chosen:
            groups.setdefault(candidates[i][0], []).append(i)
        ordered = sorted(groups.items(), key=lambda kv: -max(scores[i] for i in kv[1]))
        return [(n, [candidates[i][1] for i in sorted(idx, key=lambda i: candidates[i][1].start)]) for n, idx in ordered]

    def _encode(self, texts: list[str], known: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Unit vectors: those the index stored, else cached by text (the same passages come
        back for related questions), else embedded now."""
        import numpy as np

        unique = list(dict.fromkeys(texts))
        found = {t: known[t] for t in unique if known and t in known}
        with self._lock:
            found.update({t: self._cache[t] for t in unique if t not in found and t in self._cache})
        missing = [t for t in unique if t not in found]
        if missing:
            fresh = self.embedder.encode(missing)
            found.update(zip(missing, fresh, strict=True))
            with self._lock:
                for t, v in zip(missing, fresh, strict=True):
                    self._cache[t] = v
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return np.stack([found[t] for t in texts])


def make_generator(context: GeneratorContext) -> ExtractiveGenerator:
    return ExtractiveGenerator(context.embedder, max_units=context.settings.max_answer_sentences,
                               stored_vectors=context.stored_unit_vectors)
