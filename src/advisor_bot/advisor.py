"""Advisor: the one object the UI, the CLI and Python users talk to.

question (+history) -> standalone query -> passages -> generator -> checked citations -> Answer
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import generators as generator_registry
from .citations import CitationFilter, attribute_uncited, sentences_citing
from .condense import condense, needs_context
from .corpus import CorpusLoad, Problem, load_corpus
from .embedding import Embedder, SentenceEmbedder
from .errors import GeneratorError, IndexMissingError, InvalidQuestionError
from .generators import Generator, GeneratorContext, Message
from .ingest import Added, Upload, add_uploads
from .prompts import is_refusal, refusal_text
from .records import Answer, Citation, Passage
from .relevance import relevance as relevance_score
from .retrieval import RetrievalConfig, Retriever
from .sentences import split_units
from .settings import Settings
from .store import BuildConfig, BuildReport, IndexStatus, IndexStore, LoadedIndex

log = logging.getLogger("advisor_bot")

_WORD = re.compile(r"\w+")
MAX_HISTORY_TURNS = 8


@dataclass
class BuildResult:
    """A build report plus the files that were skipped while loading the corpus."""

    report: BuildReport
    problems: list[Problem] = field(default_factory=list)


@dataclass
class AddResult:
    """What `add_documents` wrote, what it refused and why, and the index build that followed."""

    added: list[Added] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)
    build: BuildResult | None = None


class Advisor:
    """Answers questions from the indexed corpus. Thread-safe for concurrent `ask` calls."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings.load()
        s = self.settings
        self.embedder: Embedder = embedder or SentenceEmbedder(
            s.embedding_model,
            batch_size=s.embedding_batch_size,
            threads=s.embedding_threads,
            query_threads=s.query_threads,
            cache_size=s.query_cache_size,
            allow_download=s.allow_model_download,
        )
        self.store = IndexStore(s.index_path, build_config(s), verify_checksums=s.verify_checksums)
        self._index: LoadedIndex | None = None
        self._retriever: Retriever | None = None
        self._reload_lock = threading.Lock()
        self._generators: dict[str, Generator] = {}
        self.problems: list[Problem] = []  # files skipped by the last corpus load

    # ---------- opening ----------

    @classmethod
    def load(cls, settings: Settings | None = None, *, build: bool = True, progress: bool = False,
             **overrides: Any) -> Advisor:
        """Open the index, building it first from the corpus when none exists (and `build`)."""
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.with_overrides(**overrides)
        advisor = cls(settings)
        if advisor.store.current_version() is None:
            if not build:
                raise IndexMissingError(f"No index in {advisor.store.path}. Run `advisor-bot index` to build it.")
            advisor.build_index(progress=progress)
        advisor.index  # noqa: B018 - open now, so errors surface at load time
        return advisor

    @property
    def index(self) -> LoadedIndex:
        """The live index version; reopened when another process publishes a new one."""
        current = self.store.current_version()
        if self._index is None or (current is not None and current != self._index.version):
            with self._reload_lock:
                current = self.store.current_version()
                if self._index is None or (current is not None and current != self._index.version):
                    loaded = self.store.open(model_name=self.embedder.name)
                    self._retriever = Retriever(loaded, self.embedder, RetrievalConfig.from_settings(self.settings))
                    self._index = loaded
                    log.info("opened index %s (%d chunks)", loaded.version, len(loaded))
        assert self._index is not None
        return self._index

    @property
    def retriever(self) -> Retriever:
        self.index  # noqa: B018 - refreshes the retriever with the index
        assert self._retriever is not None
        return self._retriever

    # ---------- the index ----------

    def load_corpus(self) -> CorpusLoad:
        loaded = load_corpus(self.settings.corpus_path, max_file_bytes=self.settings.max_file_bytes)
        self.problems = loaded.problems
        for problem in loaded.problems:
            log.warning("skipped %s", problem)
        return loaded

    def build_index(self, *, rebuild: bool = False, progress: bool = False, lock_timeout: float = 0.0,
                    on_stage: Callable[[str], None] | None = None) -> BuildResult:
        """Sync the index with corpus/: embed new chunks, drop deleted ones, publish atomically."""
        loaded = self.load_corpus()
        report = self.store.build(loaded.documents, self.embedder, rebuild=rebuild, progress=progress,
                                  lock_timeout=lock_timeout, on_stage=on_stage)
        return BuildResult(report=report, problems=loaded.problems)

    def refresh(self, *, progress: bool = False, lock_timeout: float = 0.0,
                on_stage: Callable[[str], None] | None = None) -> BuildResult:
        """Bring the index in line with corpus/ (new, changed, deleted files) and serve the result
        from the next question on."""
        result = self.build_index(progress=progress, lock_timeout=lock_timeout, on_stage=on_stage)
        self.index  # noqa: B018 - reopen now rather than on the next question
        return result

    def add_documents(self, items: Iterable[Upload | str | Path], *, index: bool = True, progress: bool = False,
                      lock_timeout: float = 0.0, on_stage: Callable[[str], None] | None = None,
                      meta: Mapping[str, Any] | None = None) -> AddResult:
        """Copy essays (paths, or `Upload`s of bytes/text with optional title, author, url) into
        corpus/essays/ as markdown with front matter, then refresh the index. `meta` gives the
        details (title, author, source_url, kind) of essays passed as paths. Refused files are
        listed in the result with the reason; nothing already in the corpus is touched."""
        report = add_uploads(items, self.settings.corpus_path, max_bytes=self.settings.max_file_bytes, meta=meta)
        build = None
        if index and report.added:
            build = self.refresh(progress=progress, lock_timeout=lock_timeout, on_stage=on_stage)
        return AddResult(added=report.added, refused=report.refused, build=build)

    def status(self, *, check_corpus: bool = True) -> IndexStatus:
        documents = self.load_corpus().documents if check_corpus else None
        return self.store.status(documents, model_name=self.embedder.name)

    # ---------- asking ----------

    def retrieve(self, query: str, k: int | None = None, *, mode: str | None = None,
                 mmr: bool = False) -> list[Passage]:
        """The k best passages for a standalone query, ranked by relevance alone unless
        `mmr` asks for the diversity the chat uses."""
        return self.retriever.search(validate_question(query, self.settings.max_question_chars), k,
                                     mode=mode, mmr=mmr)

    def ask(self, question: str, history: Sequence[Message] | None = None, *, generator: str | None = None,
            k: int | None = None) -> Answer:
        """Answer a question (with earlier turns, for follow-ups). Never raises for generator
        failures: those fall back to the extractive generator with a notice."""
        stream = self.stream(question, history, generator=generator, k=k)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(self, question: str, history: Sequence[Message] | None = None, *, generator: str | None = None,
               k: int | None = None) -> AnswerStream:
        """Like ask, but iterate to receive text as it is written; `.answer` is set at the end.
        Bad questions raise InvalidQuestionError here, before anything streams."""
        question = validate_question(question, self.settings.max_question_chars)
        return AnswerStream(self, question, clean_history(history), generator or self.settings.generator, k)

    def _generator_context(self) -> GeneratorContext:
        # the lambda reads the live index at call time, so a reloaded version is used at once
        return GeneratorContext(self.settings, self.embedder,
                                stored_unit_vectors=lambda chunk: self.index.stored_unit_vectors(chunk))

    def generator_availability(self) -> dict[str, str | None]:
        """name -> None when the generator can run here, else the reason it cannot."""
        return generator_registry.availability(self._generator_context())

    def available_generators(self) -> list[str]:
        return [name for name, reason in self.generator_availability().items() if reason is None]

    def generator(self, name: str) -> Generator:
        if name not in self._generators:
            self._generators[name] = generator_registry.create(name, self._generator_context())
        return self._generators[name]

    def condense(self, question: str, history: Sequence[Message], generator: str | None = None) -> str:
        """The standalone query for retrieval: written by the LLM generator when one is active
        (llm_condenser), else by the rules in condense.py; raw history is never retrieved with."""
        rules = condense(question, history)
        name = generator or self.settings.generator
        if not history or name == "extractive" or not self.settings.llm_condenser or not needs_context(question):
            return rules
        try:
            rewrite = getattr(self.generator(name), "condense", None)
            if rewrite is None:
                return rules
            text = " ".join(str(rewrite(question, history)).split())[:300].strip(" \"'")
        except Exception as exc:  # a failing model must not block retrieval
            log.warning("LLM condenser of %s failed (%s); using the rule-based query", name, type(exc).__name__)
            return rules
        return text if len(text.split()) >= 2 else rules

    def relevance(self, query: str, passages: Sequence[Passage]) -> float:
        """How well the passages can answer the query (see relevance.py)."""
        return relevance_score(query, passages, self.index.bm25, self.settings.refusal_oov_penalty)

    def is_relevant(self, query: str, passages: Sequence[Passage]) -> bool:
        """Whether the passages are close enough to the query to answer from."""
        return bool(passages) and self.relevance(query, passages) >= self.settings.refusal_threshold


class AnswerStream:
    """Iterate for text pieces; afterwards `.answer` holds the complete, checked Answer."""

    def __init__(self, advisor: Advisor, question: str, history: list[Message], generator: str, k: int | None) -> None:
        self.advisor = advisor
        self.question = question
        self.history = history
        self.generator_name = generator
        self.k = k
        self.answer: Answer | None = None
        self.passages: list[Passage] = []
        self.notice: str | None = None
        self._iterator: Iterator[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def _run(self) -> Iterator[str]:
        adv = self.advisor
        timings: dict[str, float] = {}
        started = time.perf_counter()
        query = adv.condense(self.question, self.history, self.generator_name)
        timings["condense"] = time.perf_counter() - started
        t0 = time.perf_counter()
        passages = adv.retriever.search(query, self.k, mmr=adv.settings.mmr, timings=timings)
        timings["retrieve"] = time.perf_counter() - t0
        self.passages = passages
        used = self.generator_name
        pieces: list[str] = []
        checker = CitationFilter(len(passages))
        t1 = time.perf_counter()
        score = adv.relevance(query, passages) if passages else -1.0
        relevant = score >= adv.settings.refusal_threshold
        attributed = 0
        if not relevant:
            text = refusal_text(passages)
            pieces.append(text)
            yield text
        else:
            for piece in checker.stream(self._generate(used, passages)):
                pieces.append(piece)
                yield piece
        text = "".join(pieces).strip()
        if relevant and used != "extractive" and self.notice is None:
            if adv.settings.attribute_uncited and not is_refusal(text):
                text, attributed = attribute_uncited(text, [p.text for p in passages], checker.order)
            if adv.settings.require_citations and not checker.order and not is_refusal(text):
                # An LLM answer that cites nothing is not grounded: show the extractive one, and say so.
                self.notice = (f"The {used} generator's answer cited none of the sources, so it is not shown as "
                               "the answer; the extractive answer, built from the sources, follows.")
        if self.notice is not None:
            # The chosen generator failed or cited nothing: readers of the stream see why, and the
            # Answer holds the extractive answer alone (its notice says what happened).
            if text:
                yield "\n\n---\n"
            yield f"*{self.notice}*\n\n"
            checker = CitationFilter(len(passages))
            pieces = []
            for piece in checker.stream(adv.generator("extractive").generate(self.question, passages, self.history)):
                pieces.append(piece)
                yield piece
            text, used, attributed = "".join(pieces).strip(), "extractive", 0
        timings["generate"] = time.perf_counter() - t1
        timings["total"] = time.perf_counter() - started
        refused = not checker.order and is_refusal(text)
        self.answer = Answer(
            question=self.question,
            text=text,
            citations=[] if refused else _citations(text, passages, checker.order),
            passages=passages,
            refused=refused or not relevant,
            notice=self.notice,
            generator=used,
            query=query,
            dropped_citations=checker.dropped,
            attributed_citations=attributed,
            timings=timings,
            relevance=score,
        )

    def _generate(self, name: str, passages: list[Passage]) -> Iterator[str]:
        """The chosen generator's text; on failure or timeout it stops and sets the notice."""
        adv = self.advisor
        deadline = time.monotonic() + adv.settings.generator_timeout
        try:
            generator = adv.generator(name)
            for piece in generator.generate(self.question, passages, self.history):
                yield piece
                if time.monotonic() > deadline:
                    raise GeneratorError(f"no complete answer within {adv.settings.generator_timeout:.0f}s",
                                         kind="timeout", where=name)
        except Exception as exc:
            if name == "extractive":
                raise
            self.notice = _failure_notice(name, exc)
            log.warning("%s", self.notice)


def _failure_notice(name: str, exc: BaseException) -> str:
    kind = getattr(exc, "kind", None) or type(exc).__name__
    where = getattr(exc, "where", None)
    place = f" at {where}" if where and where != name else ""
    return (f"The {name} generator failed{place} ({kind}: {exc}); "
            "this answer was written by the extractive generator instead.")


def _citations(text: str, passages: Sequence[Passage], order: dict[int, int]) -> list[Citation]:
    """Citation objects in order of first use, each with the passage sentences it drew on."""
    claims = sentences_citing(text)
    out: list[Citation] = []
    for passage_n, n in sorted(order.items(), key=lambda kv: kv[1]):
        passage = passages[passage_n - 1]
        out.append(Citation(n=n, passage=passage, quote=_best_quote(passage, claims.get(n, []))))
    return out


def _best_quote(passage: Passage, claims: list[str]) -> str:
    """The passage units that share the most words with the answer's claims."""
    units = split_units(passage.text)
    if not units or not claims:
        return ""
    picked: list[str] = []
    for claim in claims:
        words = set(_WORD.findall(claim.lower()))
        if not words:
            continue
        best = max(units, key=lambda u: len(words & set(_WORD.findall(u.text.lower()))) / (len(words) or 1))
        overlap = len(words & set(_WORD.findall(best.text.lower())))
        if overlap >= min(3, len(words)) and best.text not in picked:
            picked.append(best.text)
    return " ".join(picked)


def validate_question(question: Any, max_chars: int) -> str:
    """The question stripped, or InvalidQuestionError saying how to fix it."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
    cleaned = question.replace("\x00", "").strip()
    if not cleaned:
        raise InvalidQuestionError("The question is empty. Type a question, for example: how do I prepare for an ML interview?")
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,} "
            "(setting max_question_chars). Ask something shorter, or paste only the part you want answered."
        )
    return cleaned


def clean_history(history: Sequence[Any] | None) -> list[Message]:
    """Earlier turns as {"role", "content"} dicts, newest last, capped in number."""
    out: list[Message] = []
    for turn in history or []:
        if isinstance(turn, dict):
            role, content = turn.get("role"), turn.get("content")
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            role, content = turn
        else:
            continue
        if role not in ("user", "assistant") or content is None:
            continue
        if isinstance(content, (list, tuple)):
            content = " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
        out.append({"role": str(role), "content": str(content)[:4000]})
    return out[-MAX_HISTORY_TURNS:]


def build_config(s: Settings) -> BuildConfig:
    from .bm25 import BM25Config
    from .chunking import ChunkingConfig
    from .vectors import VectorIndexConfig

    return BuildConfig(
        chunking=ChunkingConfig(chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap,
                                pack_sections=s.pack_sections),
        bm25=BM25Config(k1=s.bm25_k1, b=s.bm25_b),
        vectors=VectorIndexConfig(ann_threshold=s.ann_threshold, hnsw_ef_search=s.hnsw_ef_search),
        keep_versions=s.keep_versions,
    )
