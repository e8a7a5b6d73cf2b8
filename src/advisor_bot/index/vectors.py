"""FAISS: exact inner-product search while the corpus is small, HNSW beyond a threshold.

Vectors are unit length, so inner product is cosine similarity; both index types answer
the same `search` call and can hand their vectors back for reuse in the next build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..settings import IndexSettings

if TYPE_CHECKING:
    import numpy as np


def build_vector_index(vectors: np.ndarray, config: IndexSettings | None = None) -> Any:
    """An index over `vectors` (n x d float32, unit rows), exact or HNSW by size (ann_threshold)."""
    import faiss
    import numpy as np

    config = config or IndexSettings()
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    index: Any
    if n > config.ann_threshold:
        index = faiss.IndexHNSWFlat(d, config.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = config.hnsw_ef_construction
        index.hnsw.efSearch = config.hnsw_ef_search
    else:
        index = faiss.IndexFlatIP(d)
    if n:
        index.add(vectors)
    return index


def expected_kind(n: int, config: IndexSettings) -> str:
    """The index type a build makes for n vectors."""
    return "hnsw" if n > config.ann_threshold else "flat"


def index_kind(index: Any) -> str:
    import faiss

    return "hnsw" if isinstance(index, faiss.IndexHNSWFlat) else "flat"


def set_search_depth(index: Any, ef_search: int) -> None:
    import faiss

    if isinstance(index, faiss.IndexHNSWFlat):
        index.hnsw.efSearch = ef_search


def search(index: Any, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(row ids, cosine scores) of the k nearest rows, best first; empty when the index is."""
    import numpy as np

    k = min(k, index.ntotal)
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    scores, rows = index.search(np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32), k)
    keep = rows[0] >= 0
    return rows[0][keep].astype(np.int64), scores[0][keep]


def all_vectors(index: Any) -> np.ndarray:
    """Every stored vector, in row order (flat and HNSW-flat indexes keep them exactly)."""
    import numpy as np

    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_n(0, index.ntotal)


def rows(index: Any, ids: np.ndarray) -> np.ndarray:
    """Vectors of some rows, for MMR and sentence scoring."""
    import numpy as np

    if len(ids) == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return index.reconstruct_batch(np.asarray(ids, dtype=np.int64))


def write(index: Any, path: Path) -> None:
    import faiss

    faiss.write_index(index, str(path))


def read(path: Path, *, mmap: bool = False) -> Any:
    import faiss

    flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
    return faiss.read_index(str(path), flags)
