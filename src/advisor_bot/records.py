"""Plain data passed between the steps: files -> Document -> Chunk (Units) -> Passage -> Answer.

A question becomes one `Query` that every later step reads; an `Answer` has one `to_dict()`
that the CLI, the UI, the HTTP API and the feedback log all use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypedDict

if TYPE_CHECKING:
    import numpy as np


class Message(TypedDict):
    """One earlier turn of a conversation."""

    role: str  # "user" | "assistant"
    content: str


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
    # who is speaking, in a few words ("An NTU undergraduate who interned in ML research"): the
    # extractive answer introduces each source's points with it
    voice: str | None = None
    summary: str | None = None  # one line on what it is (curated resources: why it is recommended)

    def meta(self) -> dict[str, Any]:
        """Everything but the text: what the manifest and citations need."""
        data = asdict(self)
        data.pop("text")
        data["tags"] = list(self.tags)
        return data


class UnitKind(StrEnum):
    """What a sentence unit is, so that only whole statements are quoted as advice."""

    STATEMENT = "statement"  # a complete declarative or imperative sentence
    QUESTION = "question"
    LEAD = "lead"  # introduces what follows ("Some tips:"), says nothing alone
    FRAGMENT = "fragment"  # no sentence end, too short, or a label
    ITEMS = "items"  # a run of short list items, joined ("Topics: CNNs; ResNet; YOLO")


@dataclass(frozen=True)
class Unit:
    """A sentence of a chunk: `text` is for display (markdown syntax removed, wrapped lines
    joined), `start`/`end` locate the original characters in the chunk text so the UI can
    highlight them; `block` numbers the markdown block (paragraph, list item, quote) it is in."""

    text: str
    start: int
    end: int
    kind: UnitKind = UnitKind.STATEMENT
    block: int = 0
    # the sentence leans on the one before it ("They often work at universities."): quote both
    dependent: bool = False

    @property
    def is_statement(self) -> bool:
        return self.kind in (UnitKind.STATEMENT, UnitKind.ITEMS)


@dataclass(frozen=True)
class Chunk:
    """A span of a document. `start`/`end` index into Document.text so a citation can show
    the passage in context; `chunk_id` hashes everything that is embedded, so an unchanged
    chunk keeps its id (and its stored vectors) across rebuilds."""

    chunk_id: str
    doc_id: str
    section: str
    text: str
    start: int
    end: int
    units: tuple[Unit, ...] = ()


SIDE_SCORE = "side"  # Passage.scores key: which comparison option's search brought it


@dataclass
class Passage:
    """A retrieved chunk with its document, how it scored, and its units' stored vectors."""

    chunk: Chunk
    document: Document
    score: float
    rank: int
    scores: dict[str, float] = field(default_factory=dict)
    unit_vectors: np.ndarray | None = field(default=None, repr=False)  # one row per chunk.units

    @property
    def text(self) -> str:
        return self.chunk.text

    @property
    def from_option(self) -> int:
        """The comparison option (from 1) whose own search brought this passage; 0 when the
        question's search did."""
        return int(self.scores.get(SIDE_SCORE, 0))

    @property
    def units(self) -> tuple[Unit, ...]:
        return self.chunk.units

    @property
    def title(self) -> str:
        return self.document.title

    @property
    def section(self) -> str:
        return self.chunk.section

    @property
    def url(self) -> str | None:
        return self.document.source_url

    @property
    def is_resource(self) -> bool:
        return self.document.kind == "resource"

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


@dataclass(frozen=True)
class Side:
    """One option of a comparison question ("a PhD" in "PhD or industry?")."""

    label: str
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Query:
    """A question as every step after validation sees it: made once, read by all."""

    question: str
    history: tuple[Message, ...] = ()
    standalone: str = ""  # what retrieval searches with (the question, or a follow-up rewritten)
    vector: np.ndarray | None = field(default=None, repr=False, compare=False)  # embedding of `standalone`
    sides: tuple[Side, ...] = ()  # the options of an "X or Y" question
    corrected: tuple[tuple[str, str], ...] = ()  # (typed, searched): typos the search corrected

    @property
    def text(self) -> str:
        return self.standalone or self.question


@dataclass(frozen=True)
class Point:
    """One thing an answer can say: whole sentences of one passage, in reading order (a
    sentence that leans on the one before it comes with it; a short sentence completing it
    comes too)."""

    passage: int  # 1-based number of the passage in Evidence.passages
    units: tuple[Unit, ...]
    score: float
    side: str | None = None  # the option of a comparison question it speaks to

    @property
    def text(self) -> str:
        return " ".join(u.text for u in self.units)

    @property
    def sentences(self) -> tuple[Unit, ...]:
        """Its own sentences, without the list lead-in that may head them ("General cons ...:")."""
        return tuple(u for u in self.units if u.kind is not UnitKind.LEAD) or self.units


class Coverage(StrEnum):
    """How well the essays cover a question (answer/relevance.py)."""

    ANSWERED = "answered"
    PARTIAL = "partial"
    REFUSED = "refused"


class Outcome(StrEnum):
    """What the reader got: the coverage, or `fell_back` when the chosen generator failed (or
    its answer was not grounded) and the extractive answer was shown instead."""

    ANSWERED = "answered"
    PARTIAL = "partial"
    REFUSED = "refused"
    FELL_BACK = "fell_back"


@dataclass
class Evidence:
    """What an answer may draw on, chosen once for every generator: the passages, the
    sentences worth saying (best first), the curated resources worth listing, and how well
    all of it covers the question."""

    passages: list[Passage]
    points: list[Point] = field(default_factory=list)
    resources: list[int] = field(default_factory=list)  # passage numbers of curated resources
    coverage: Coverage = Coverage.ANSWERED
    uncovered: tuple[str, ...] = ()  # question words no passage uses ("salary")
    relevance: float | None = None


@dataclass
class Citation:
    """Citation `n` as numbered in the answer text, pointing at one passage; `quotes` are the
    passage units the answer drew on (what the UI highlights)."""

    n: int
    passage: Passage
    quotes: tuple[Unit, ...] = ()

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

    @property
    def quote(self) -> str:
        return " ".join(u.text for u in self.quotes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "title": self.title,
            "section": self.section,
            "url": self.url,
            "author": self.passage.document.author,
            "kind": self.passage.document.kind,
            "doc_id": self.passage.document.doc_id,
            "chunk_id": self.passage.chunk.chunk_id,
            "passage_rank": self.passage.rank,
            "score": round(self.passage.score, 6),
            "scores": {k: round(v, 6) for k, v in self.passage.scores.items()},
            "quote": self.quote,
            "highlights": [[u.start, u.end] for u in self.quotes],
            "text": self.text,
        }


@dataclass
class Answer:
    """What `Advisor.ask` returns."""

    query: Query
    text: str
    citations: list[Citation]
    passages: list[Passage]
    coverage: Coverage = Coverage.ANSWERED
    outcome: Outcome = Outcome.ANSWERED
    notice: str | None = None
    generator: str = "extractive"
    dropped_citations: int = 0
    # markers added to uncited LLM sentences that one passage clearly supports
    attributed_citations: int = 0
    # an LLM's sentences: shown because a sentence of the passage they cite supports them, or
    # removed because none does (both counted even when the answer fell back)
    supported_sentences: int = 0
    unsupported_sentences: int = 0
    relevance: float | None = None
    index_version: str | None = None
    # curated resources the answer lists under "Where to learn" (links, not evidence for its claims)
    resources: list[Passage] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def question(self) -> str:
        return self.query.question

    @property
    def refused(self) -> bool:
        return self.coverage is Coverage.REFUSED

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.query.question,
            "query": self.query.standalone or self.query.question,
            "corrected": [{"typed": typed, "searched": searched} for typed, searched in self.query.corrected],
            "text": self.text,
            "outcome": self.outcome.value,
            "coverage": self.coverage.value,
            "refused": self.refused,
            "notice": self.notice,
            "generator": self.generator,
            "dropped_citations": self.dropped_citations,
            "attributed_citations": self.attributed_citations,
            "supported_sentences": self.supported_sentences,
            "unsupported_sentences": self.unsupported_sentences,
            "relevance": None if self.relevance is None else round(self.relevance, 4),
            "index_version": self.index_version,
            "citations": [c.to_dict() for c in self.citations],
            "resources": [
                {"title": p.title, "url": p.url, "summary": p.document.summary, "text": p.text} for p in self.resources
            ],
            "passages": [p.to_dict() for p in self.passages],
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }
