import json

import pytest

from advisor_bot import Advisor, Answer
from advisor_bot.advisor import clean_history
from advisor_bot.errors import IndexMissingError, InvalidQuestionError


def test_ask_returns_a_cited_answer(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("How do I prepare for coding interviews?")
    assert isinstance(answer, Answer)
    assert not answer.refused
    assert answer.citations, answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        assert c.title and c.text in [p.text for p in answer.passages]
    assert answer.passages[0].rank == 1
    assert {"retrieve", "generate", "total"} <= set(answer.timings)
    assert answer.generator == "extractive"
    json.dumps(answer.to_dict())  # serialisable as is


def test_citation_details(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("Which project should I explain in an interview?")
    c = answer.citations[0]
    assert c.title == "Tips for ML Interviews"
    assert c.url == "https://example.org/interviews"
    assert c.section in {"Projects", "Coding", ""}
    assert c.quote and c.quote.split()[0] in c.text  # the sentences the answer drew on


def test_stream_yields_the_same_text(tiny_advisor: Advisor) -> None:
    stream = tiny_advisor.stream("How do I prepare for coding interviews?")
    pieces = list(stream)
    assert len(pieces) > 1
    assert stream.answer is not None
    assert "".join(pieces).strip() == stream.answer.text


def test_off_topic_question_is_refused(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("What is the best recipe for sourdough bread?")
    assert answer.refused
    assert answer.citations == []
    assert "don't cover" in answer.text


@pytest.mark.parametrize(("question", "message"), [
    ("", "empty"),
    ("   \n\t", "empty"),
    ("x" * 50_000, "50,000 characters"),
    (None, "must be text"),
])
def test_bad_questions_raise_a_clear_error(tiny_advisor: Advisor, question, message: str) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        tiny_advisor.ask(question)


def test_retrieve(tiny_advisor: Advisor) -> None:
    passages = tiny_advisor.retrieve("reinforcement learning book", 2)
    assert len(passages) == 2
    assert any(p.document.kind == "resource" for p in passages)


def test_load_without_index_and_without_build(tiny_settings) -> None:
    with pytest.raises(IndexMissingError, match="advisor-bot index"):
        Advisor.load(tiny_settings, build=False)


def test_load_builds_when_missing(tiny_settings, embedder) -> None:
    advisor = Advisor.load(tiny_settings)
    assert advisor.store.current_version() is not None
    assert advisor.ask("how should I pick a PhD supervisor?").citations


def test_history_is_cleaned() -> None:
    history = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "ignored"},
        ("assistant", "hello"),
        {"role": "user", "content": [{"type": "text", "text": "multi"}, "part"]},
        "junk",
    ]
    assert clean_history(history) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "multi part"},
    ]
