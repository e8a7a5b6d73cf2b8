"""The real corpus, the real model, the real index: the product's main promise."""

import pytest

from advisor_bot.advisor import Advisor

pytestmark = pytest.mark.slow


def test_real_corpus_loads_cleanly(real_advisor: Advisor) -> None:
    assert real_advisor.problems == []
    docs = real_advisor.index.documents
    essays = [d for d in docs.values() if d.kind != "resource"]
    resources = [d for d in docs.values() if d.kind == "resource"]
    assert len(essays) == 5 and len(resources) >= 30
    assert any(d.title.startswith("\N{ELECTRIC LIGHT BULB} TIL") for d in essays)  # mojibake repaired


def test_interview_question_cites_the_interview_tips(real_advisor: Advisor) -> None:
    answer = real_advisor.ask("how do I prepare for an ML interview?")
    assert not answer.refused
    assert answer.citations
    sections = [c.section for c in answer.citations]
    assert any(s.endswith("For Technical Interview") for s in sections), sections
    assert answer.citations[0].section.endswith("For Technical Interview")
    assert "Leetcode" in answer.text or "Review" in answer.text
