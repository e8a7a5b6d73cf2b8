"""Advisor: the composition root. It builds every part from the settings, once, and is the one
object the UI, the CLI, the HTTP API and Python users talk to.

    settings -> encoder, index store (+ live version), searcher, generator registry -> AnswerPipeline

`Advisor.load()` is the one "open the index, or build it first" for every entry point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .answer.pipeline import AnswerPipeline, AnswerStream
from .answer.retrieval import Searcher
from .errors import AdvisorError, IndexMissingError, InvalidQuestionError
from .generators import GeneratorRegistry
from .index.embedding import Embedder, make_embedder
from .index.live import LiveIndex
from .index.store import BuildReport, IndexStatus, IndexStore, LoadedIndex
from .records import Answer, Message, Passage
from .settings import Settings
from .text.normalize import clean_input, has_words

if TYPE_CHECKING:  # reading and adding essays is not on the question path: imported when used
    from .corpus.ingest import AddReport, Upload
    from .corpus.loading import CorpusLoad

log = logging.getLogger("advisor_bot")

Say = Callable[[str], None]


class Advisor:
    """Answers questions from the indexed corpus. Thread-safe for concurrent `ask` calls."""

    def __init__(self, settings: Settings | None = None, *, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings.load()
        s = self.settings
        self.embedder: Embedder = embedder or make_embedder(s.embedding, s.index_path)
        self.store = IndexStore(s.index_path, s.index, s.chunking)
        self.live = LiveIndex(self.store, self.embedder.name, self.embedder.fingerprint)
        self.searcher = Searcher(self.live, self.embedder, s.retrieval, allow_download=s.embedding.allow_download)
        self.generators = GeneratorRegistry(s)
        self.pipeline = AnswerPipeline(self.searcher, self.embedder, self.generators, s.answer, s.retrieval)
        self.problems: list[Any] = []  # files skipped by the last corpus load

    # ---------- opening ----------

    @classmethod
    def load(
        cls,
        settings: Settings | None = None,
        *,
        build: bool = True,
        progress: bool = False,
        say: Say | None = None,
        embedder: Embedder | None = None,
        **overrides: Any,
    ) -> Advisor:
        """Open the index, building it first from the corpus when none exists (and `build`).
        `say` hears what is happening ("no index yet, building it ...") for a terminal or a log."""
        if settings is None:
            settings = Settings.load(**overrides)
        elif overrides:
            settings = settings.with_overrides(**overrides)
        advisor = cls(settings, embedder=embedder)
        tell = say or (lambda _message: None)
        if advisor.store.current_version() is None:
            if not build:
                raise IndexMissingError(f"No index in {advisor.store.path}. Run `advisor-bot index` to build it.")
            tell(f"no index yet: building it in {advisor.store.path} from {settings.corpus_path} (first run only) ...")
            report = advisor.build_index(progress=progress)
            for problem in report.problems:
                tell(f"skipped {problem}")
            tell(report.summary())
        preload = getattr(advisor.embedder, "preload", None)  # an optional capability of an Embedder
        if preload is not None:
            preload()
        advisor.index  # noqa: B018 - open now, so index errors surface at load time
        return advisor

    @property
    def index(self) -> LoadedIndex:
        """The live index version; reopened when another process publishes a new one."""
        return self.live.current()

    # ---------- the index ----------

    def load_corpus(self) -> CorpusLoad:
        from .corpus.loading import load_corpus

        loaded = load_corpus(self.settings.corpus_path, max_file_bytes=self.settings.corpus.max_file_bytes)
        self.problems = loaded.problems
        for problem in loaded.problems:
            log.warning("skipped %s", problem)
        return loaded

    def build_index(
        self,
        *,
        rebuild: bool = False,
        progress: bool = False,
        lock_timeout: float = 0.0,
        on_stage: Callable[[str], None] | None = None,
        locked: bool = False,
    ) -> BuildReport:
        """Sync the index with corpus/: embed new chunks, drop deleted ones, publish atomically."""
        loaded = self.load_corpus()
        report = self.store.build(
            loaded.documents,
            self.embedder,
            rebuild=rebuild,
            progress=progress,
            lock_timeout=lock_timeout,
            on_stage=on_stage,
            locked=locked,
        )
        report.problems = list(loaded.problems)
        return report

    def refresh(
        self, *, progress: bool = False, lock_timeout: float = 0.0, on_stage: Callable[[str], None] | None = None
    ) -> BuildReport:
        """Bring the index in line with corpus/ (new, changed, deleted files) and serve the result
        from the next question on."""
        report = self.build_index(progress=progress, lock_timeout=lock_timeout, on_stage=on_stage)
        self.index  # noqa: B018 - reopen now rather than on the next question
        return report

    def add_documents(
        self,
        items: Iterable[Upload | str | Path],
        *,
        reindex: bool = True,
        progress: bool = False,
        lock_timeout: float = 0.0,
        on_stage: Callable[[str], None] | None = None,
        meta: Mapping[str, Any] | None = None,
    ) -> AddReport:
        """Copy essays (paths, or `Upload`s of bytes/text with optional title, author, url) into
        corpus/essays/ as markdown with front matter, then refresh the index. `meta` gives the
        details (title, author, source_url, kind) of essays passed as paths. Refused files are
        listed in the report with the reason; nothing already in the corpus is touched.

        An add is one transaction: the index write lock is taken before any essay is written
        (another writer means nothing is written), and if the index build then fails (disk
        full, permissions), the essays it wrote are taken back, so the corpus is as it was."""
        from .corpus.ingest import add_uploads, remove_added

        limit = self.settings.corpus.max_file_bytes
        if not reindex:
            return add_uploads(items, self.settings.corpus_path, max_bytes=limit, meta=meta, indexed=self._indexed)
        with self.store.writer(timeout=lock_timeout):
            report = add_uploads(items, self.settings.corpus_path, max_bytes=limit, meta=meta, indexed=self._indexed)
            if report.added:
                try:
                    report.build = self.build_index(progress=progress, on_stage=on_stage, locked=True)
                except BaseException:
                    remove_added(report)
                    raise
        if report.build is not None:
            self.index  # noqa: B018 - serve the new version from the next question on
        return report

    def _indexed(self, doc_id: str) -> bool:
        """Whether an essay is in the published index (for the hint on a duplicate add)."""
        try:
            return doc_id in self.store.read_manifest().get("documents", {})
        except AdvisorError:
            return False

    def status(self, *, check_corpus: bool = True) -> IndexStatus:
        documents = self.load_corpus().documents if check_corpus else None
        return self.store.status(documents, model_name=self.embedder.name)

    # ---------- asking ----------

    def retrieve(
        self, query: str, k: int | None = None, *, mode: str | None = None, mmr: bool = False
    ) -> list[Passage]:
        """The k best passages for a standalone query, ranked by relevance alone unless
        `mmr` asks for the diversity the chat uses (with `retrieval.resources_last`, curated
        resources among the k come after the essays)."""
        text = validate_question(query, self.settings.answer.max_question_chars)
        return self.searcher.retriever().search(text, validate_k(k), mode=mode, mmr=mmr)

    def ask(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        generator: str | None = None,
        k: int | None = None,
    ) -> Answer:
        """Answer a question (with earlier turns, for follow-ups). Never raises for generator
        failures: those fall back to the extractive generator with a notice."""
        stream = self.stream(question, history, generator=generator, k=k)
        for _ in stream:
            pass
        assert stream.answer is not None
        return stream.answer

    def stream(
        self,
        question: str,
        history: Sequence[Message] | None = None,
        *,
        generator: str | None = None,
        k: int | None = None,
    ) -> AnswerStream:
        """Like ask, but iterate to receive text as it is written; `.answer` is set at the end.
        Bad input raises InvalidQuestionError here, before anything streams."""
        a = self.settings.answer
        question = validate_question(question, a.max_question_chars)
        turns = clean_history(history, max_turns=a.max_history_turns, max_chars=a.max_history_chars)
        return self.pipeline.stream(question, turns, generator=generator, k=validate_k(k))

    def generator_availability(self) -> dict[str, list[str]]:
        """name -> what is missing to run it here (empty when it can run)."""
        return self.generators.availability()

    def available_generators(self) -> list[str]:
        return [name for name, missing in self.generator_availability().items() if not missing]


def validate_question(question: Any, max_chars: int) -> str:
    """The question cleaned and stripped, or InvalidQuestionError saying how to fix it."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"The question must be text, not {type(question).__name__}.")
    cleaned = clean_input(question).strip()
    if not has_words(cleaned):
        raise InvalidQuestionError(
            "The question is empty. Type a question, for example: how do I prepare for an ML interview?"
        )
    if len(cleaned) > max_chars:
        raise InvalidQuestionError(
            f"The question is {len(cleaned):,} characters long; the limit is {max_chars:,} "
            "(setting answer.max_question_chars). Ask something shorter, or paste only the part you want answered."
        )
    return cleaned


def validate_k(k: Any) -> int | None:
    """The number of passages asked for: None (the setting), or an int from 1 to 50."""
    if k is None:
        return None
    if isinstance(k, bool) or not isinstance(k, int):
        raise InvalidQuestionError(f"k must be a whole number from 1 to 50, not {k!r}.")
    if not 1 <= k <= 50:
        raise InvalidQuestionError(f"k must be from 1 to 50, not {k}.")
    return k


def clean_history(history: Any, *, max_turns: int = 8, max_chars: int = 4000) -> list[Message]:
    """Earlier turns as {"role", "content"} dicts, newest last, capped in number and size."""
    if history is None:
        return []
    if isinstance(history, (str, bytes)) or not isinstance(history, Sequence):
        raise InvalidQuestionError(
            'history must be a list of {"role": "user"|"assistant", "content": ...} '
            f"turns, not {type(history).__name__}."
        )
    out: list[Message] = []
    for turn in list(history)[-max_turns * 2 :] if max_turns else []:
        if isinstance(turn, Mapping):
            role, content = turn.get("role"), turn.get("content")
        elif isinstance(turn, (list, tuple)) and len(turn) == 2:
            role, content = turn
        else:
            continue
        if role not in ("user", "assistant") or content is None:
            continue
        if isinstance(content, (list, tuple)):
            content = " ".join(str(c.get("text", "")) if isinstance(c, Mapping) else str(c) for c in content)
        out.append({"role": str(role), "content": clean_input(str(content)[:max_chars])})
    return out[-max_turns:] if max_turns else []
