"""The real corpus, the real model, the real index: the product's main promise."""

from __future__ import annotations

import pytest

from advisor_bot import Advisor, Coverage
from advisor_bot.evaluation import statement_lines
from advisor_bot.server.render import topic_examples

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
    assert not answer.refused and answer.coverage is Coverage.ANSWERED
    assert answer.citations
    sections = [c.section for c in answer.citations]
    assert any(s.endswith("For Technical Interview") for s in sections), sections
    assert answer.citations[0].section.endswith("For Technical Interview")
    assert "Leetcode" in answer.text or "Review" in answer.text
    cited, clean, broken = statement_lines(answer.text)
    assert cited and clean == cited, broken  # every cited line reads as a whole statement


def test_off_topic_question_is_refused(real_advisor: Advisor) -> None:
    answer = real_advisor.ask("What is the best recipe for sourdough bread?")
    assert answer.refused and answer.citations == []


def test_example_questions_are_grammatical_and_answered(real_advisor: Advisor) -> None:
    """The UI offers these as examples: each must read as a question and get an answer."""
    index = real_advisor.index
    examples = topic_examples(list(index.documents.values()), index.chunks)
    assert examples
    for question in examples:
        assert question.endswith("?") and question[0].isupper()
        assert not question.startswith("What do the essays say about"), question
        assert " your " not in question, question  # "How do I find my ...", not "... your ..."
        assert not real_advisor.ask(question).refused, question
