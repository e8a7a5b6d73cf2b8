"""Follow-up questions -> standalone queries, so that raw history never reaches the retriever."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .generators import Message


def condense(question: str, history: Sequence[Message] | None = None) -> str:
    """The question as a standalone query. Without history it is the question itself."""
    return question.strip()
