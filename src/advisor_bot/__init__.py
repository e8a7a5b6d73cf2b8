"""advisor-bot: cited answers to questions about getting into AI, from a corpus of essays.

    from advisor_bot import Advisor
    bot = Advisor.load()                 # opens index/ (builds it from corpus/ if missing)
    answer = bot.ask("how do I prepare for an ML interview?")
    print(answer.text)
    for c in answer.citations:
        print(c.n, c.title, c.section, c.url)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Advisor",
    "AdvisorError",
    "Answer",
    "AnswerStream",
    "Chunk",
    "Citation",
    "Document",
    "Passage",
    "Settings",
    "Upload",
    "__version__",
]

if TYPE_CHECKING:
    from .advisor import Advisor, AnswerStream
    from .errors import AdvisorError
    from .ingest import Upload
    from .records import Answer, Chunk, Citation, Document, Passage
    from .settings import Settings

_LAZY = {
    "Advisor": ".advisor",
    "AnswerStream": ".advisor",
    "AdvisorError": ".errors",
    "Answer": ".records",
    "Chunk": ".records",
    "Citation": ".records",
    "Document": ".records",
    "Passage": ".records",
    "Settings": ".settings",
    "Upload": ".ingest",
}


def __getattr__(name: str) -> Any:
    """Import on first use, so `advisor-bot --help` and `index --status` start fast."""
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advisor_bot' has no attribute {name!r}")
