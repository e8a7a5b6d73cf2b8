"""advisor-bot: cited answers to questions about getting into AI, from a corpus of essays.

    from advisor_bot import Advisor
    bot = Advisor.load()                 # opens index/ (builds it from corpus/ if missing)
    answer = bot.ask("how do I prepare for an ML interview?")
    print(answer.text)
    for c in answer.citations:
        print(c.n, c.title, c.section, c.url)

This module is the public face: everything a user needs is importable from here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    AdvisorError,
    CorpusError,
    DocumentError,
    FeedbackError,
    GeneratorError,
    GeneratorUnavailableError,
    IndexCorruptError,
    IndexLockedError,
    IndexMismatchError,
    IndexMissingError,
    IndexWriteError,
    InvalidQuestionError,
    ModelLoadError,
    SettingsError,
    UnknownGeneratorError,
    UploadError,
)
from .records import (
    Answer,
    Chunk,
    Citation,
    Coverage,
    Document,
    Evidence,
    Message,
    Outcome,
    Passage,
    Point,
    Query,
    Unit,
    UnitKind,
)

if TYPE_CHECKING:
    from .advisor import Advisor
    from .answer.pipeline import AnswerStream
    from .corpus.ingest import AddReport, Upload
    from .generators import BaseGenerator, Generator, Setup
    from .index.store import BuildReport, IndexStatus
    from .settings import Settings

# The parts that pull in the whole pipeline load on first use, so `advisor-bot --help` and a
# bad --set answer at once; `from advisor_bot import Advisor` works the same.
_LAZY = {
    "Advisor": ".advisor",
    "AnswerStream": ".answer.pipeline",
    "AddReport": ".corpus.ingest",
    "Upload": ".corpus.ingest",
    "BaseGenerator": ".generators",
    "Generator": ".generators",
    "Setup": ".generators",
    "BuildReport": ".index.store",
    "IndexStatus": ".index.store",
    "Settings": ".settings",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'advisor_bot' has no attribute {name!r}")


__version__ = "0.2.0"

__all__ = [
    "AddReport",
    "Advisor",
    "AdvisorError",
    "Answer",
    "AnswerStream",
    "BaseGenerator",
    "BuildReport",
    "Chunk",
    "Citation",
    "CorpusError",
    "Coverage",
    "Document",
    "DocumentError",
    "Evidence",
    "FeedbackError",
    "Generator",
    "GeneratorError",
    "GeneratorUnavailableError",
    "IndexCorruptError",
    "IndexLockedError",
    "IndexMismatchError",
    "IndexMissingError",
    "IndexStatus",
    "IndexWriteError",
    "InvalidQuestionError",
    "Message",
    "ModelLoadError",
    "Outcome",
    "Passage",
    "Point",
    "Query",
    "Settings",
    "SettingsError",
    "Setup",
    "Unit",
    "UnitKind",
    "UnknownGeneratorError",
    "Upload",
    "UploadError",
    "__version__",
]
