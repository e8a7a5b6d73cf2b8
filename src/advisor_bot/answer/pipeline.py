"""The answer pipeline: question -> Query -> passages -> coverage -> evidence -> text -> checked Answer.

    condense (rules, or the generator's own condenser) -> encode once -> retrieve (each option
    of an "X or Y" question too) -> grade coverage -> select points and resources -> generate
    -> check [n] markers (and, for LLM text, ground every sentence) -> Answer

It is given its parts (the searcher, the encoder, the generator registry, its settings) and
never sees the Advisor. A generator that fails or writes an ungrounded answer yields to the
extractive one, with a notice; the outcome says so.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import GeneratorError
from ..generators import GeneratorRegistry
from ..generators.prompts import source_header
from ..generators.wording import about_the_assistant, partial_lead, refusal_text, small_talk_reply
from ..records import SIDE_SCORE, Answer, Citation, Coverage, Evidence, Message, Outcome, Passage, Query, Side, Unit
from ..settings import AnswerSettings, RetrievalSettings
from .citations import CitationFilter
from .condense import condense, needs_context
from .grounding import Grounder, split_sentences
from .options import comparison_options
from .relevance import grade
from .retrieval import Retriever, Searcher
from .select import select_points, select_resources

if TYPE_CHECKING:
    from ..index.embedding import Embedder

log = logging.getLogger("advisor_bot")

EXTRACTIVE = "extractive"
SIDE_PASSAGES = 2  # extra passages retrieved for each option of an "X or Y" question


class AnswerPipeline:
    """Answers one question at a time; safe to share between threads."""

    def __init__(
        self,
        searcher: Searcher,
        embedder: Embedder,
        generators: GeneratorRegistry,
        answer: AnswerSettings,
        retrieval: RetrievalSettings,
    ) -> None:
        self.searcher = searcher
        self.embedder = embedder
        self.generators = generators
        self.settings = answer
        self.retrieval = retrieval

    def stream(
        self, question: str, history: Sequence[Message] = (), *, generator: str | None = None, k: int | None = None
    ) -> AnswerStream:
        """Iterate for the text as it is written; `.answer` holds the checked Answer afterwards.
        An unknown generator name raises UnknownGeneratorError here, before anything runs."""
        name = generator or self.settings.generator
        self.generators.generator_class(name)
        return AnswerStream(self, Query(question=question, history=tuple(history)), name, k)

    # ---------- steps ----------

    def make_query(
        self, query: Query, generator: str, timings: dict[str, float], retriever: Retriever | None = None
    ) -> Query:
        """The standalone query (typos corrected to the words of the retriever's corpus, then
        condensed), its vector, and the options of a comparison."""
        t0 = time.perf_counter()
        speller = (retriever or self.searcher.retriever()).speller if self.settings.correct_spelling else None
        # before the chat glossary, which writes out what the typo meant ("grad shcool"); again
        # after condensing, for the earlier turns' words a follow-up brings in
        question, corrected = speller.fix(query.question) if speller else (query.question, [])
        timings["spelling"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        standalone = condense(question, query.history)
        if query.history and generator != EXTRACTIVE and self.settings.llm_condenser and needs_context(query.question):
            standalone = self._llm_condense(query, generator) or standalone
        timings["condense"] = time.perf_counter() - t1
        if speller and query.history:
            t2 = time.perf_counter()
            standalone, more = speller.fix(standalone)
            corrected += [pair for pair in more if pair not in corrected]
            timings["spelling"] += time.perf_counter() - t2
        t3 = time.perf_counter()
        options = comparison_options(standalone)
        texts = [standalone] + [q for _, q in options]
        vectors = [self.embedder.encode_query(t) for t in texts]
        timings["embed"] = time.perf_counter() - t3
        sides = tuple(Side(label, v) for (label, _), v in zip(options, vectors[1:], strict=True))
        return replace(query, standalone=standalone, vector=vectors[0], sides=sides, corrected=tuple(corrected))

    def _llm_condense(self, query: Query, generator: str) -> str | None:
        try:
            gen = self.generators.get(generator)
            if not gen.can_condense:
                return None
            text = " ".join(str(gen.condense(query)).split())[:300].strip(" \"'")
        except Exception as exc:  # a failing model must not block retrieval
            log.warning("LLM condenser of %s failed (%s); using the rule-based query", generator, type(exc).__name__)
            return None
        return text if len(text.split()) >= 2 else None

    def retrieve(self, retriever: Retriever, query: Query, k: int | None, timings: dict[str, float]) -> list[Passage]:
        """The question's passages; for a comparison, each option's best passage that the
        question's own search did not find takes one of the last places of the first k (the
        passages it displaces follow it, the question's best stays first), then the options'
        further passages. With fewer than k passages of its own, the options' best just follow."""
        passages = retriever.search(query.text, k, qvec=query.vector, mmr=self.retrieval.mmr, timings=timings)
        found = [retriever.search(side.label, SIDE_PASSAGES, qvec=side.vector, mmr=False) for side in query.sides]
        seen = {p.chunk.chunk_id for p in passages}
        best: list[Passage] = []
        more: list[Passage] = []
        for depth in range(SIDE_PASSAGES):  # every option's best first, then their next ones
            for n, side_passages in enumerate(found, start=1):
                fresh = [p for p in side_passages if p.chunk.chunk_id not in seen]
                if fresh:
                    seen.add(fresh[0].chunk.chunk_id)
                    (best if depth == 0 else more).append(replace(fresh[0], scores={**fresh[0].scores, SIDE_SCORE: n}))
        width = self.retrieval.top_k if k is None else k
        keep = max(min(len(passages), width - len(best)), 1)
        merged = passages[:keep] + best + passages[keep:] + more
        return [replace(p, rank=rank) for rank, p in enumerate(merged, start=1)]

    def evidence(self, retriever: Retriever, query: Query, passages: list[Passage]) -> Evidence:
        coverage, relevance, uncovered = grade(
            query, passages, retriever.index.bm25, self.embedder, self.settings, names=retriever.author_words
        )
        # the user's own words first: a follow-up's condensed query carries the author asked about before
        named = retriever.authors_named_in(query.question) or retriever.authors_named_in(query.text)
        points = select_points(query, passages, self.settings, named=named) if coverage is not Coverage.REFUSED else []
        resources = select_resources(passages, points, self.settings, question=query.text) if points else []
        if not points and not resources:
            coverage = Coverage.REFUSED
        return Evidence(
            passages=passages,
            points=points,
            resources=resources,
            coverage=coverage,
            uncovered=uncovered,
            relevance=relevance,
        )


class AnswerStream:
    """Iterate for text pieces; afterwards `.answer` holds the complete, checked Answer."""

    def __init__(self, pipeline: AnswerPipeline, query: Query, generator: str, k: int | None) -> None:
        self.pipeline = pipeline
        self.query = query
        self.generator_name = generator
        self.k = k
        self.answer: Answer | None = None
        self.notice: str | None = None
        self._first_token: float | None = None  # seconds from asking the LLM to its first text
        self._iterator: Iterator[str] | None = None

    def __iter__(self) -> Iterator[str]:
        if self._iterator is None:
            self._iterator = self._run()
        return self._iterator

    def _run(self) -> Iterator[str]:
        pipe = self.pipeline
        timings: dict[str, float] = {}
        started = time.perf_counter()
        retriever = pipe.searcher.retriever()  # one index version for the whole answer
        # "hi", "thanks!", "what can you do?": nothing to correct, encode or search for
        small_talk = small_talk_reply(self.query.question) or about_the_assistant(
            self.query.question, list(retriever.index.documents.values())
        )
        query = self.query if small_talk else pipe.make_query(self.query, self.generator_name, timings, retriever)
        t0 = time.perf_counter()
        passages = [] if small_talk else pipe.retrieve(retriever, query, self.k, timings)
        timings["retrieve"] = time.perf_counter() - t0
        evidence = (
            Evidence(passages, coverage=Coverage.REFUSED) if small_talk else pipe.evidence(retriever, query, passages)
        )
        t1 = time.perf_counter()
        outcome = Outcome(evidence.coverage.value)
        quotes: dict[int, list[Unit]] = {}
        checker = CitationFilter(len(passages))
        used = self.generator_name
        grounder: Grounder | None = None
        if evidence.coverage is Coverage.REFUSED:
            text = small_talk or refusal_text(passages)
            yield text
        else:
            lead = partial_lead(evidence.uncovered) if evidence.coverage is Coverage.PARTIAL else ""
            if lead:
                yield lead
            if used == EXTRACTIVE:
                body = yield from self._extractive(query, evidence, checker, quotes)
            else:
                headers = [source_header(n, p) for n, p in enumerate(passages, start=1)]
                grounder = Grounder(pipe.embedder, passages, pipe.settings, headers, question=query.text)
                body = yield from self._llm(used, query, evidence, checker, grounder)
                if self.notice is None:
                    self.notice = self._judge(used, checker, grounder)
                if self.notice is not None:
                    if body:
                        yield "\n\n---\n"
                    yield f"*{self.notice}*\n\n"
                    checker = CitationFilter(len(passages))
                    quotes = {}
                    body = yield from self._extractive(query, evidence, checker, quotes)
                    used, outcome = EXTRACTIVE, Outcome.FELL_BACK
                else:
                    for claim in grounder.shown:
                        for n, unit in claim.evidence:
                            quotes.setdefault(n, []).append(unit)
            text = lead + body.strip()
        timings["generate"] = time.perf_counter() - t1
        if self._first_token is not None:
            timings["first_token"] = self._first_token
        timings["total"] = time.perf_counter() - started
        refused = evidence.coverage is Coverage.REFUSED
        self.answer = Answer(
            query=query,
            text=text.strip(),
            citations=[] if refused else _citations(passages, checker.order, quotes),
            passages=passages,
            coverage=evidence.coverage,
            outcome=outcome,
            notice=self.notice,
            generator=used,
            dropped_citations=checker.dropped,
            attributed_citations=sum(c.attributed for c in grounder.shown) if grounder else 0,
            supported_sentences=len(grounder.shown) if grounder else 0,
            unsupported_sentences=grounder.unsupported if grounder else 0,
            relevance=evidence.relevance,
            index_version=retriever.index.version,
            resources=[passages[n - 1] for n in evidence.resources] if outcome is not Outcome.REFUSED else [],
            timings=timings,
        )

    def _extractive(
        self, query: Query, evidence: Evidence, checker: CitationFilter, quotes: dict[int, list[Unit]]
    ) -> Generator[str, None, str]:
        pieces: list[str] = []
        for point in evidence.points:
            quotes.setdefault(point.passage, []).extend(point.units)
        for piece in checker.stream(self.pipeline.generators.get(EXTRACTIVE).generate(query, evidence)):
            pieces.append(piece)
            yield piece
        return "".join(pieces)

    def _llm(
        self, name: str, query: Query, evidence: Evidence, checker: CitationFilter, grounder: Grounder
    ) -> Generator[str, None, str]:
        """The LLM's text, released sentence by sentence once grounded; on failure or timeout
        it stops and sets the notice."""
        settings = self.pipeline.settings
        deadline = time.monotonic() + settings.generator_timeout
        shown: list[str] = []
        buffer = ""
        try:
            generator = self.pipeline.generators.get(name)
            started = time.perf_counter()
            for piece in generator.generate(query, evidence):
                self._first_token = self._first_token or time.perf_counter() - started
                buffer += piece
                sentences, buffer = split_sentences(buffer, final=False)
                for sentence in sentences:
                    out = self._release(sentence, grounder, checker)
                    if out:
                        shown.append(out)
                        yield out
                if time.monotonic() > deadline:
                    raise GeneratorError(
                        f"no complete answer within {settings.generator_timeout:.0f}s", kind="timeout", where=name
                    )
            sentences, _ = split_sentences(buffer, final=True)
            for sentence in sentences:
                out = self._release(sentence, grounder, checker)
                if out:
                    shown.append(out)
                    yield out
            tail = checker.flush()
            if tail:
                shown.append(tail)
                yield tail
        except Exception as exc:
            self.notice = _failure_notice(name, exc)
            log.warning("%s", self.notice)
        return "".join(shown)

    @staticmethod
    def _release(sentence: str, grounder: Grounder, checker: CitationFilter) -> str:
        claim = grounder.check(sentence)
        if not claim.supported or claim.scaffolding:
            return ""
        return checker.feed(claim.text)

    def _judge(self, name: str, checker: CitationFilter, grounder: Grounder) -> str | None:
        """Why an LLM answer that ran to the end is not shown, or None when it is."""
        settings = self.pipeline.settings
        if settings.require_citations and not checker.order:
            return (
                f"The {name} generator's answer cited none of the sources, so it is not shown; "
                "the extractive answer, built from the sources, follows."
            )
        if grounder.supported_share < settings.min_supported_share:
            return (
                f"Most sentences of the {name} generator's answer were not supported by the passages they "
                "cite, so it is not shown; the extractive answer, built from the sources, follows."
            )
        return None


def _failure_notice(name: str, exc: BaseException) -> str:
    kind = getattr(exc, "kind", None) or type(exc).__name__
    where = getattr(exc, "where", None)
    place = f" at {where}" if where and where != name else ""
    return (
        f"The {name} generator failed{place} ({kind}: {exc}); "
        "this answer was written by the extractive generator instead."
    )


def _citations(passages: Sequence[Passage], order: dict[int, int], quotes: dict[int, list[Unit]]) -> list[Citation]:
    """Citation objects in order of first use, each with the passage units the answer drew on."""
    out: list[Citation] = []
    for passage_n, n in sorted(order.items(), key=lambda kv: kv[1]):
        units = tuple(dict.fromkeys(quotes.get(passage_n, [])))
        out.append(Citation(n=n, passage=passages[passage_n - 1], quotes=tuple(sorted(units, key=lambda u: u.start))))
    return out
