"""Query -> ranked Passages from one loaded index version."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from . import vectors as vector_ops
from .records import Passage

if TYPE_CHECKING:
    from .embedding import Embedder
    from .settings import Settings
    from .store import LoadedIndex


@dataclass(frozen=True)
class RetrievalConfig:
    k: int = 5
    candidate_depth: int = 50

    @classmethod
    def from_settings(cls, s: Settings) -> RetrievalConfig:
        return cls(k=s.top_k, candidate_depth=s.candidate_depth)


class Retriever:
    """Dense search over the chunk vectors."""

    def __init__(self, index: LoadedIndex, embedder: Embedder, config: RetrievalConfig | None = None) -> None:
        self.index = index
        self.embedder = embedder
        self.config = config or RetrievalConfig()

    def search(self, query: str, k: int | None = None, *, timings: dict[str, float] | None = None) -> list[Passage]:
        """The k best passages for the query, best first."""
        k = self.config.k if k is None else k
        timings = timings if timings is not None else {}
        if k <= 0 or not len(self.index):
            return []
        t0 = time.perf_counter()
        qvec = self.embedder.encode_query(query)
        t1 = time.perf_counter()
        rows, scores = vector_ops.search(self.index.vector_index, qvec, k)
        t2 = time.perf_counter()
        timings["embed"] = timings.get("embed", 0.0) + (t1 - t0)
        timings["dense"] = timings.get("dense", 0.0) + (t2 - t1)
        return [self._passage(int(r), float(s), rank, {"dense": float(s)})
                for rank, (r, s) in enumerate(zip(rows, scores, strict=True), start=1)]

    def _passage(self, row: int, score: float, rank: int, scores: dict[str, float]) -> Passage:
        chunk = self.index.chunks[row]
        return Passage(chunk=chunk, document=self.index.documents[chunk.doc_id], score=score, rank=rank, scores=scores)
