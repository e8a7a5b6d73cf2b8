"""Wording shared by every generator: how answers open, and how a refusal reads."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .records import Passage

ANSWER_LEAD = "Here is what the sources say:\n"
REFUSAL = "The sources don't cover this question."
# Phrases by which a model says the same thing in its own words.
_REFUSAL_PATTERNS = re.compile(
    r"(sources|passages|context|documents)\s+(provided\s+)?(do not|don't|does not|doesn't)\s+(cover|answer|address|mention|contain)"
    r"|no (information|mention) (about|of|on) this in the (sources|passages)",
    re.IGNORECASE,
)


def refusal_text(passages: Sequence[Passage] = ()) -> str:
    """The refusal, with the nearest topics the corpus does cover, so the user can rephrase."""
    topics: list[str] = []
    for p in passages:
        label = p.title if not p.section else f"{p.title} ({p.section.split(' > ')[-1]})"
        if label not in topics:
            topics.append(label)
        if len(topics) == 3:
            break
    if not topics:
        return REFUSAL + " Try asking about AI research careers, learning resources, PhDs or interviews."
    return REFUSAL + " The closest topics they do cover:\n" + "".join(f"\n- {t}" for t in topics) + "\n"


def is_refusal(text: str) -> bool:
    """Whether an answer says the sources do not cover the question."""
    head = text.strip()[:400]
    return head.startswith(REFUSAL) or bool(_REFUSAL_PATTERNS.search(head))
