"""Query -> ranked Passages from one loaded index version.

Dense and lexical search each propose candidates; every candidate gets a dense score
(the chunk's cosine blended with its best sentence's cosine) and the two rankings are
merged by weighted reciprocal rank fusion. Optional steps after fusion: a cap on short
curated-resource entries, MMR diversity, and a cross-encoder reranker.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, get_args

from ..errors import SettingsError
from ..index import vectors as vector_ops
from ..index.chunking import embedding_text
from ..records import Passage
from ..settings import RetrievalSettings
from ..text.words import stem_word, stopwords

if TYPE_CHECKING:
    import numpy as np

    from ..index.embedding import Embedder
    from ..index.live import LiveIndex
    from ..index.store import LoadedIndex
    from ..text.spelling import Speller

MODES: tuple[str, ...] = get_args(RetrievalSettings.model_fields["mode"].annotation)
# passages of an essay whose author the question names that join the fusion: with all of a
# long essay's, they crowd out the one that answers (a dev question was refused)
NAMED_PASSAGES = 3


def rrf_fuse(rankings: Sequence[Sequence[int]], weights: Sequence[float], k: int) -> dict[int, float]:
    """Weighted reciprocal rank fusion: sum of weight / (k + rank) over the lists an item is in."""
    fused: dict[int, float] = {}
    for ranking, weight in zip(rankings, weights, strict=True):
        for rank, item in enumerate(ranking, start=1):
            fused[item] = fused.get(item, 0.0) + weight / (k + rank)
    return fused


def mmr_order(relevance: np.ndarray, vectors: np.ndarray, k: int, lam: float) -> list[int]:
    """Maximal marginal relevance: greedily take the item with the best trade-off between its
    relevance (scaled to 0..1) and its similarity to what is already taken."""
    import numpy as np

    n = len(relevance)
    if n == 0:
        return []
    span = float(relevance.max() - relevance.min())
    rel = (relevance - relevance.min()) / span if span > 0 else np.ones(n)
    sims = vectors @ vectors.T
    chosen: list[int] = []
    redundancy = np.full(n, -np.inf)
    available = np.ones(n, dtype=bool)
    for _ in range(min(k, n)):
        gain = lam * rel - (1 - lam) * np.where(np.isfinite(redundancy), redundancy, 0.0)
        gain[~available] = -np.inf
        best = int(np.argmax(gain))
        chosen.append(best)
        available[best] = False
        redundancy = np.maximum(redundancy, sims[best])
    return chosen


class Searcher:
    """The retriever of whatever index version is live: a new version is searched from the
    next question on. The reranker (when configured) is loaded once and shared."""

    def __init__(
        self, live: LiveIndex, embedder: Embedder, settings: RetrievalSettings, *, allow_download: bool = False
    ) -> None:
        self.live = live
        self.embedder = embedder
        self.settings = settings
        self.allow_download = allow_download
        self._retriever: Retriever | None = None
        self._reranker: Any = None
        self._lock = threading.Lock()

    def retriever(self) -> Retriever:
        index = self.live.current()
        current = self._retriever
        if current is None or current.index is not index:
            current = self._retriever = Retriever(index, self.embedder, self.settings, reranker=self._load_reranker)
        return current

    def _load_reranker(self) -> Any:
        with self._lock:
            if self._reranker is None:
                from ..index.embedding import load_cross_encoder

                self._reranker = load_cross_encoder(self.settings.reranker_model, allow_download=self.allow_download)
            return self._reranker


class Retriever:
    """Hybrid search over one index version. Safe to share between threads."""

    def __init__(
        self, index: LoadedIndex, embedder: Embedder, settings: RetrievalSettings | None = None, *, reranker: Any = None
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.settings = settings or RetrievalSettings()
        self._is_resource = [index.documents[c.doc_id].kind == "resource" for c in index.chunks]
        self._authors = AuthorNames(index)
        self._reranker = reranker  # a loader: () -> CrossEncoder

    def authors_named_in(self, question: str) -> list[str]:
        """The essays (doc ids) whose author the question names ("what did Nathan Lambert say ...")."""
        return self._authors.named_in(question)

    @functools.cached_property
    def speller(self) -> Speller:
        """Typo correction against this version's words (built on first use, kept with the
        version). A typo may also be of a stop word ("shoud" -> "should") or of a chat-glossary
        word ("sophmore" -> "sophomore", which the glossary then writes out); an author's name
        and chat filler are left alone."""
        from ..text.glossary import INFORMAL
        from ..text.spelling import Speller
        from .relevance import CHAT_FILLER

        also = [*stopwords(), *(key for key in INFORMAL if key.isalpha())]
        targets = {**dict.fromkeys(also, 1), **self.index.bm25.word_counts()}
        return Speller(targets, known=(CHAT_FILLER | self.author_words).__contains__)

    @property
    def author_words(self) -> frozenset[str]:
        """The words of the essays' authors' names, lower case: known to the corpus even when no
        essay's text says them."""
        return self._authors.words

    def search(
        self,
        query: str,
        k: int | None = None,
        *,
        mode: str | None = None,
        mmr: bool | None = None,
        qvec: np.ndarray | None = None,
        timings: dict[str, float] | None = None,
    ) -> list[Passage]:
        """The k best passages for a standalone query, best first; `qvec` is the query's vector
        when the caller has already encoded it."""
        import numpy as np

        cfg = self.settings
        k = cfg.top_k if k is None else k
        mode = mode or cfg.mode
        if mode not in MODES:
            raise SettingsError(f"Retrieval mode must be one of {', '.join(MODES)}, not {mode!r}.")
        use_mmr = cfg.mmr if mmr is None else mmr
        timings = timings if timings is not None else {}
        if k <= 0 or not len(self.index):
            return []
        depth = max(cfg.candidate_depth, k)

        clock = time.perf_counter()
        if qvec is None:
            qvec = self.embedder.encode_query(query)
            clock = _lap(timings, "embed", clock)

        dense_rows: list[int] = []
        if mode != "bm25":
            rows, _ = vector_ops.search(self.index.vector_index, qvec, depth)
            dense_rows = [int(r) for r in rows]
            if self.index.unit_index is not None and cfg.unit_weight > 0:
                unit_rows, _ = vector_ops.search(self.index.unit_index, qvec, depth)
                owners = self.index.unit_table[unit_rows, 0] if len(unit_rows) else []  # type: ignore[index]
                dense_rows.extend(int(o) for o in owners)
            clock = _lap(timings, "dense", clock)
        bm25_rows: list[int] = []
        bm25_scores: dict[int, float] = {}
        if mode != "dense":
            rows, scores = self.index.bm25.search(query, depth)
            bm25_rows = [int(r) for r in rows]
            bm25_scores = dict(zip(bm25_rows, (float(s) for s in scores), strict=True))
            clock = _lap(timings, "bm25", clock)

        named_rows = self._authors.rows_named_in(query) if mode == "hybrid" and cfg.author_weight > 0 else []
        candidates = list(dict.fromkeys(dense_rows + bm25_rows + named_rows))
        if not candidates:
            return []
        chunk_cos, unit_cos = self._dense_scores(qvec, candidates)
        dense = (1 - cfg.unit_weight) * chunk_cos + cfg.unit_weight * unit_cos
        dense_by_row = dict(zip(candidates, dense.tolist(), strict=True))
        dense_rank = [r for r in sorted(dense_by_row, key=lambda r: -dense_by_row[r])][:depth] if mode != "bm25" else []
        if mode == "hybrid":
            # the named author's best few passages: what BM25 would find if essays said their author's name
            named_rank = sorted(named_rows, key=lambda r: -dense_by_row[r])[:NAMED_PASSAGES]
            fused = rrf_fuse(
                [dense_rank, bm25_rows, named_rank], [cfg.dense_weight, cfg.bm25_weight, cfg.author_weight], cfg.rrf_k
            )
        elif mode == "dense":
            fused = {r: dense_by_row[r] for r in dense_rank}
        else:
            fused = {r: bm25_scores[r] for r in bm25_rows}
        order = sorted(fused, key=lambda r: -fused[r])
        clock = _lap(timings, "fusion", clock)

        if cfg.reranker_model:
            order, rerank_scores = self._rerank(query, order)
            clock = _lap(timings, "rerank", clock)
        else:
            rerank_scores = {}
        if use_mmr and len(order) > k:
            pool = order[: max(2 * k, 10)]
            if rerank_scores:  # rows past the reranked head rank below all of it
                floor = min(rerank_scores.values()) - 1.0
                rel = np.array([rerank_scores.get(r, floor) for r in pool], dtype=np.float32)
            else:
                rel = np.array([fused[r] for r in pool], dtype=np.float32)
            vecs = vector_ops.rows(self.index.vector_index, np.array(pool))
            order = [pool[i] for i in mmr_order(rel, vecs, len(pool), cfg.mmr_lambda)] + order[len(pool) :]
            _lap(timings, "mmr", clock)
        order = self._cap(order, k)

        where = {r: i for i, r in enumerate(candidates)}
        out: list[Passage] = []
        for rank, row in enumerate(order[:k], start=1):
            i = where[row]
            parts = {"dense": float(dense[i]), "chunk": float(chunk_cos[i]), "unit": float(unit_cos[i])}
            if row in bm25_scores:
                parts["bm25"] = bm25_scores[row]
            if mode == "hybrid":
                parts["rrf"] = fused[row]
            if row in rerank_scores:
                parts["rerank"] = rerank_scores[row]
            out.append(self._passage(row, rerank_scores.get(row, fused[row]), rank, parts))
        return out

    def _dense_scores(self, qvec: np.ndarray, rows: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """Cosine of each chunk, and of its best sentence unit (the chunk's own when it has none)."""
        import numpy as np

        chunk_cos = vector_ops.rows(self.index.vector_index, np.array(rows)) @ qvec
        unit_cos = chunk_cos.copy()
        idx = self.index
        if idx.unit_index is None or idx.unit_offsets is None:
            return chunk_cos, unit_cos
        spans = [idx.units_of(r) for r in rows]
        flat = np.fromiter((u for span in spans for u in span), dtype=np.int64)
        if not len(flat):
            return chunk_cos, unit_cos
        sims = vector_ops.rows(idx.unit_index, flat) @ qvec
        at = 0
        for i, span in enumerate(spans):
            if len(span):
                unit_cos[i] = sims[at : at + len(span)].max()
                at += len(span)
        return chunk_cos, unit_cos

    def _cap(self, order: list[int], k: int) -> list[int]:
        """Move items over a cap out of the first k, keeping their order: at most
        max_resource_passages short resource entries (keyword-dense one-liners that lexical
        search ranks above the essays that explain), and at most max_passages_per_document
        from one document (so a question answered by several essays hears from several)."""
        res_cap, doc_cap = self.settings.max_resource_passages, self.settings.max_passages_per_document
        if res_cap < 0 and doc_cap <= 0 and not self.settings.resources_last:
            return order
        head: list[int] = []
        tail: list[int] = []
        resources = 0
        per_doc: dict[str, int] = {}
        for row in order:
            if len(head) >= k:
                tail.append(row)
                continue
            doc = self.index.chunks[row].doc_id
            if (res_cap >= 0 and self._is_resource[row] and resources >= res_cap) or (
                doc_cap > 0 and per_doc.get(doc, 0) >= doc_cap
            ):
                tail.append(row)
                continue
            resources += self._is_resource[row]
            per_doc[doc] = per_doc.get(doc, 0) + 1
            head.append(row)
        if self.settings.resources_last:
            head = [r for r in head if not self._is_resource[r]] + [r for r in head if self._is_resource[r]]
        return head + tail

    def _rerank(self, query: str, order: list[int]) -> tuple[list[int], dict[int, float]]:
        """Reorder the first reranker_depth candidates by a cross-encoder's scores."""
        depth = self.settings.reranker_depth
        head, tail = order[:depth], order[depth:]
        if not head or self._reranker is None:
            return order, {}
        model = self._reranker()
        pairs = [(query, self._text(r)) for r in head]
        scores = [float(s) for s in model.predict(pairs, show_progress_bar=False)]
        by_row = dict(zip(head, scores, strict=True))
        return sorted(head, key=lambda r: -by_row[r]) + tail, by_row

    def _text(self, row: int) -> str:
        chunk = self.index.chunks[row]
        return embedding_text(chunk, self.index.documents[chunk.doc_id].title)

    def _passage(self, row: int, score: float, rank: int, scores: dict[str, float]) -> Passage:
        chunk = self.index.chunks[row]
        return Passage(
            chunk=chunk,
            document=self.index.documents[chunk.doc_id],
            score=score,
            rank=rank,
            scores=scores,
            unit_vectors=self.index.unit_vectors_of(row),
        )


def _lap(timings: dict[str, float], key: str, since: float) -> float:
    now = time.perf_counter()
    timings[key] = timings.get(key, 0.0) + (now - since)
    return now


class AuthorNames:
    """Which essays a question names by their author. An essay says "I", rarely its author's name,
    so "how did Nathan Lambert get into AI?" matches his essay neither by words nor by meaning
    (it found the NTU student's story). The question names an author by the full name, or by one
    part of it ("lambert", "joshua") that no other author shares, that is no stop word, and that
    the essays themselves use rarely (at most 1% of passages): a word they use often is a word,
    not a name ("Young", "Example")."""

    def __init__(self, index: LoadedIndex) -> None:
        self._rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(index.chunks):
            self._rows.setdefault(chunk.doc_id, []).append(row)
        self._full: list[tuple[tuple[str, ...], str]] = []
        parts: dict[str, set[str]] = {}
        for doc_id, doc in index.documents.items():
            if doc.kind == "resource" or not doc.author:
                continue
            name = tuple(_NAME.findall(doc.author.lower()))
            if name:
                self._full.append((name, doc_id))
            for part in name:
                parts.setdefault(part, set()).add(doc_id)
        self.words = frozenset(parts)  # every part of every author's name
        stop = stopwords()
        common = max(1, len(index.chunks) // 100)
        used = dict(index.bm25.term_stats(" ".join(parts))) if parts else {}

        def rare(part: str) -> bool:
            return len(part) >= 3 and part not in stop and used.get(stem_word(part), 0) <= common

        # a full name of words only ("Will Young") is read as words: "will a young engineer ..."
        self._full = [(name, doc_id) for name, doc_id in self._full if any(rare(part) for part in name)]
        self._single = {part: next(iter(ids)) for part, ids in parts.items() if len(ids) == 1 and rare(part)}

    def named_in(self, question: str) -> list[str]:
        """The essays whose author the question names, in the order it names them."""
        words = _NAME.findall(question.lower())
        out: list[str] = []
        for i, word in enumerate(words):
            for name, doc_id in self._full:
                if tuple(words[i : i + len(name)]) == name and doc_id not in out:
                    out.append(doc_id)
            single = self._single.get(word)
            if single is not None and single not in out:
                out.append(single)
        return out

    def rows_named_in(self, question: str) -> list[int]:
        return [row for doc_id in self.named_in(question) for row in self._rows.get(doc_id, [])]


_NAME = re.compile(r"[^\W\d_]+")
