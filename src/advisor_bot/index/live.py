"""The index version readers use now: opened once, reopened when another process publishes.

Every request asks `current()`, which costs one small read of CURRENT; a new version (from
`advisor-bot add` in another process or replica) is opened on the next request.
"""

from __future__ import annotations

import logging
import threading

from .store import IndexStore, LoadedIndex

log = logging.getLogger("advisor_bot")


class LiveIndex:
    """Thread-safe holder of the live LoadedIndex of one store."""

    def __init__(self, store: IndexStore, model_name: str, fingerprint: str = "") -> None:
        self.store = store
        self.model_name = model_name
        self.fingerprint = fingerprint
        self._index: LoadedIndex | None = None
        self._lock = threading.Lock()

    def current(self) -> LoadedIndex:
        """The published version; if CURRENT moved since the last call, the new one. While a
        version serves, a broken newer one raises here and the caller keeps what it has."""
        name = self.store.current_version()
        loaded = self._index
        if loaded is not None and (name is None or name == loaded.version):
            return loaded
        with self._lock:
            name = self.store.current_version()
            if self._index is None or (name is not None and name != self._index.version):
                self._index = self.store.open(model_name=self.model_name, fingerprint=self.fingerprint)
                log.info("opened index %s (%d chunks)", self._index.version, len(self._index))
            return self._index

    @property
    def loaded(self) -> LoadedIndex | None:
        return self._index
