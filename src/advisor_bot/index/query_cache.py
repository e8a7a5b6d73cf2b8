"""Question vectors kept between questions: a chat asks the same question again more often than
you'd think (a retry, the same example button), and a cached vector costs no encoding."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np
from cachetools import LRUCache


class QueryVectors:
    """A thread-safe LRU of question -> read-only unit vector; size 0 keeps nothing."""

    def __init__(self, size: int) -> None:
        self._cache: LRUCache[str, np.ndarray] | None = LRUCache(maxsize=size) if size else None
        self._lock = threading.Lock()
        self.hits = 0

    def get_or_encode(self, text: str, encode: Callable[[str], np.ndarray]) -> np.ndarray:
        if self._cache is not None:
            with self._lock:
                hit = self._cache.get(text)
            if hit is not None:
                self.hits += 1
                return hit
        vector = np.ascontiguousarray(encode(text), dtype=np.float32)
        vector.setflags(write=False)
        if self._cache is not None:
            with self._lock:
                self._cache[text] = vector
        return vector
