"""bm25s, imported once for the whole package, without SciPy.

bm25s imports scipy.sparse on import, for an optional build backend that index/bm25.py does
not use (it builds on bm25s' numpy backend); SciPy in turn imports every numpy submodule (f2py,
testing, ...): 0.28 s of a 1.5 s cold `advisor-bot ask` (docs/PERFORMANCE.md). Every import of
bm25s goes through here, its stop-word list (text/words.py) included, so whichever comes first
on a path does not bring SciPy in.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import sys
from types import FrameType
from typing import Any


class _NoSciPyForBm25s(importlib.abc.MetaPathFinder):
    """Turns down bm25s' own `import scipy...`, and only that one: the finder looks at who is
    importing, so another thread importing SciPy meanwhile gets it as usual."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        if name.partition(".")[0] == "scipy" and _importer(sys._getframe(1)) == "bm25s":
            raise ModuleNotFoundError(f"{name} is not imported for bm25s (advisor_bot.text.bm25s_import)", name=name)
        return None


def _importer(frame: FrameType | None) -> str | None:
    """The module whose `import` statement is running, past the import machinery's own frames."""
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("importlib"):
        frame = frame.f_back
    return None if frame is None else frame.f_globals.get("__name__")


def bm25s_module() -> Any:  # the bm25s module
    """bm25s, imported without SciPy (`_NoSciPyForBm25s`) and with its logger, which it sets to
    DEBUG on import, kept out of our console. bm25s then holds SciPy unavailable for the whole
    process: only its "scipy" build backend needs it."""
    if "bm25s" not in sys.modules:
        # rebound, not changed in place: another thread's import may be walking the list now,
        # and a removal in place shifts it past the next finder (a spurious ModuleNotFoundError)
        finder = _NoSciPyForBm25s()
        sys.meta_path = [finder, *sys.meta_path]
        try:
            import bm25s
        finally:
            sys.meta_path = [f for f in sys.meta_path if f is not finder]
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s
