"""Plain data passed between the steps: files -> Document -> Chunk -> Passage -> Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One essay or curated resource, cleaned and ready to chunk."""

    doc_id: str
    title: str
    text: str
    path: str
    sha256: str
    kind: str = "essay"
    author: str | None = None
    source_url: str | None = None
    date: str | None = None
    tags: tuple[str, ...] = ()

    def meta(self) -> dict[str, Any]:
        """Everything but the text: what the manifest and citations need."""
        data = asdict(self)
        data.pop("text")
        data["tags"] = list(self.tags)
        return data


@dataclass(frozen=True)
class Chunk:
    """A span of a document. `start`/`end` index into Document.text so a citation can show
    the passage in context; `chunk_id` hashes everything that is embedded, so an unchanged
    chunk keeps its id (and its stored vector) across rebuilds."""

    chunk_id: str
    doc_id: str
    section: str
    text: str
    start: int
    end: int


@dataclass
class Passage:
    """A retrieved chunk with its document and how it scored."""

    chunk: Chunk
    document: Document
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def section(self) -> str:
        return self.chunk.section

    @property
    def url(self) -> str | None:
        return self.document.source_url

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "scores": {k: round(v, 6) for k, v in self.scores.items()},
            "chunk_id": self.chunk.chunk_id,
            "doc_id": self.document.doc_id,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "kind": self.document.kind,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "text": self.text,
        }


@dataclass
class Citation:
    """Citation `n` as numbered in the answer text, pointing at one passage."""

    n: int
    passage: Passage
    quote: str = ""  # the sentences of the passage the answer drew on, when known

    @property
    def title(self) -> str:
        return self.passage.title

    @property
    def section(self) -> str:
        return self.passage.section

    @property
    def url(self) -> str | None:
        return self.passage.url

    @property
    def text(self) -> str:
        return self.passage.text

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "doc_id": self.passage.document.doc_id,
            "chunk_id": self.passage.chunk.chunk_id,
            "passage_rank": self.passage.rank,
            "quote": self.quote,
            "text": self.text,
        }


@dataclass
class Answer:
    """What `Advisor.ask` returns."""

    question: str
    text: str
    citations: list[Citation]
    passages: list[Passage]
    refused: bool = False
    notice: str | None = None
    generator: str = "extractive"
    query: str = ""  # the standalone query actually retrieved with
    dropped_citations: int = 0
    # markers the Advisor added to uncited LLM sentences that one passage clearly supports
    attributed_citations: int = 0
    timings: dict[str, float] = field(default_factory=dict)
    relevance: float | None = None  # compared with settings.refusal_threshold

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "query": self.query,
            "text": self.text,
            "refused": self.refused,
            "notice": self.notice,
            "generator": self.generator,
            "dropped_citations": self.dropped_citations,
            "attributed_citations": self.attributed_citations,
            "relevance": None if self.relevance is None else round(self.relevance, 4),
            "citations": [c.to_dict() for c in self.citations],
            "passages": [p.to_dict() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
