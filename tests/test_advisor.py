"""The Advisor as Python users meet it (README "Python"): ask, stream, retrieve, load, add."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest

from advisor_bot import (
    Advisor,
    Answer,
    Coverage,
    IndexMissingError,
    InvalidQuestionError,
    Outcome,
    Settings,
    UnknownGeneratorError,
    Upload,
)
from advisor_bot.advisor import clean_history
from advisor_bot.index.embedding import Embedder

INTERVIEWS = "How do I prepare for coding interviews?"


@pytest.fixture
def unbuilt(tiny_settings: Settings, embedder: Embedder) -> Advisor:
    """An Advisor over the tiny corpus with no index: input is checked before the index is needed."""
    return Advisor(tiny_settings, embedder=embedder)


def test_ask_returns_a_cited_answer(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask(INTERVIEWS)
    assert isinstance(answer, Answer)
    assert not answer.refused
    assert answer.coverage is Coverage.ANSWERED and answer.outcome is Outcome.ANSWERED
    assert answer.citations, answer.text
    assert [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        assert c.title and c.text in [p.text for p in answer.passages]
    assert answer.passages[0].rank == 1
    assert {"retrieve", "generate", "total"} <= set(answer.timings)
    assert answer.generator == "extractive" and answer.notice is None
    assert answer.question == INTERVIEWS and answer.index_version == tiny_advisor.index.version
    data = json.loads(json.dumps(answer.to_dict()))  # serialisable as is
    assert data["outcome"] == "answered" and data["coverage"] == "answered" and data["refused"] is False
    assert [c["n"] for c in data["citations"]] == [c.n for c in answer.citations]


def test_citation_details(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("Which project should I explain in an interview?")
    c = answer.citations[0]
    assert c.title == "Tips for ML Interviews"
    assert c.url == "https://example.org/interviews"
    assert c.section in {"Projects", "Coding", ""}
    assert c.quote and c.quote.split()[0] in c.text  # the sentences the answer drew on
    data = c.to_dict()
    assert data["highlights"] == [[u.start, u.end] for u in c.quotes]
    for (start, end), unit in zip(data["highlights"], c.quotes, strict=True):
        assert unit.text.split()[-1] in c.text[start:end]  # the spans locate the quoted sentences


def test_stream_yields_the_same_text(tiny_advisor: Advisor) -> None:
    stream = tiny_advisor.stream(INTERVIEWS)
    assert stream.answer is None  # nothing runs before iterating
    pieces = list(stream)
    assert len(pieces) > 1
    assert stream.answer is not None
    assert "".join(pieces).strip() == stream.answer.text


def test_off_topic_question_is_refused_with_the_nearest_topics(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("What is the best recipe for sourdough bread?")
    assert answer.refused
    assert answer.coverage is Coverage.REFUSED and answer.outcome is Outcome.REFUSED
    assert answer.citations == [] and answer.resources == []
    assert "don't cover" in answer.text
    assert "nearest topics" in answer.text and answer.passages  # where the user could go instead


def test_a_partly_covered_question_says_so(tiny_settings: Settings, tiny_advisor: Advisor) -> None:
    """With the full-answer bar out of reach, a relevant question is answered as partial."""
    strict = Advisor(tiny_settings.with_overrides(**{"answer.answered_threshold": 1.0}), embedder=tiny_advisor.embedder)
    answer = strict.ask(INTERVIEWS)
    assert answer.coverage is Coverage.PARTIAL and answer.outcome is Outcome.PARTIAL
    assert not answer.refused and answer.citations
    assert answer.text.startswith("The essays don't")


@pytest.mark.parametrize(
    ("question", "message"),
    [
        ("", "empty"),
        ("   \n\t", "empty"),
        ("\x00\u200b?!", "empty"),  # nothing a question is made of
        ("x" * 50_000, "50,000 characters"),
        (None, "must be text"),
        (42, "must be text"),
    ],
)
def test_bad_questions_raise_a_clear_error(unbuilt: Advisor, question: Any, message: str) -> None:
    with pytest.raises(InvalidQuestionError, match=message):
        unbuilt.ask(question)
    assert unbuilt.store.current_version() is None  # refused before any work


def test_bad_arguments_raise_before_anything_runs(unbuilt: Advisor) -> None:
    with pytest.raises(InvalidQuestionError, match="k must be from 1 to 50"):
        unbuilt.stream(INTERVIEWS, k=0)
    with pytest.raises(InvalidQuestionError, match="k must be a whole number"):
        unbuilt.ask(INTERVIEWS, k="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidQuestionError, match="history must be a list"):
        unbuilt.ask(INTERVIEWS, history="earlier")  # type: ignore[arg-type]
    with pytest.raises(UnknownGeneratorError, match="Available: extractive"):
        unbuilt.stream(INTERVIEWS, generator="nonexistent")


def test_retrieve(tiny_advisor: Advisor) -> None:
    passages = tiny_advisor.retrieve("reinforcement learning book", 2)
    assert len(passages) == 2
    assert [p.rank for p in passages] == [1, 2]
    assert any(p.document.kind == "resource" for p in passages)


def test_k_sets_the_number_of_passages(tiny_advisor: Advisor) -> None:
    assert len(tiny_advisor.ask(INTERVIEWS, k=2).passages) == 2


def test_load_without_index_and_without_build(tiny_settings: Settings, embedder: Embedder) -> None:
    with pytest.raises(IndexMissingError, match="advisor-bot index"):
        Advisor.load(tiny_settings, build=False, embedder=embedder)


def test_load_builds_when_missing_and_says_so(tiny_settings: Settings, embedder: Embedder) -> None:
    heard: list[str] = []
    advisor = Advisor.load(tiny_settings, say=heard.append, embedder=embedder)
    assert advisor.store.current_version() is not None
    assert any(m.startswith("no index yet") for m in heard) and any(m.startswith("Built index") for m in heard)
    assert advisor.ask("how should I pick a PhD supervisor?").citations
    heard.clear()
    again = Advisor.load(tiny_settings, say=heard.append, embedder=embedder, **{"retrieval.top_k": 2})
    assert heard == []  # an index exists: nothing to build, nothing to say
    assert again.settings.retrieval.top_k == 2 and len(again.ask(INTERVIEWS).passages) == 2
    assert again.settings.origins["retrieval.top_k"] == "keyword"


def test_added_essays_are_answered_from_after_reindexing(tiny_advisor: Advisor) -> None:
    essay = Upload(
        "diary.md", "# Research Diaries\n\nKeep a research diary with one line per experiment and its result.\n"
    )
    copied = tiny_advisor.add_documents([essay], reindex=False)
    assert [a.title for a in copied.added] == ["Research Diaries"] and copied.build is None
    assert (
        copied.added[0].path.is_file() and copied.added[0].path.parent == tiny_advisor.settings.corpus_path / "essays"
    )
    assert "research-diaries" not in tiny_advisor.index.documents  # copied only
    assert tiny_advisor.refresh().added == ["research-diaries"]
    assert tiny_advisor.retrieve("how should I log my experiments?", 1)[0].title == "Research Diaries"

    other = Upload(
        "mentors.md", "# Mentors\n\nWrite to graduate students first; they reply more often than professors.\n"
    )
    report = tiny_advisor.add_documents([other, essay])
    assert [a.doc_id for a in report.added] == ["mentors"]
    assert [r.path for r in report.refused] == ["diary.md"]  # already in the corpus
    assert report.build is not None and report.build.added == ["mentors"] and report.build.reused > 0


def test_history_is_cleaned() -> None:
    history = [
        {"role": "user", "content": "hi"},
        {"role": "system", "content": "ignored"},
        ("assistant", "hello"),
        {"role": "user", "content": [{"type": "text", "text": "multi"}, "part"]},
        {"role": "assistant", "content": "line\u2028break\x00"},
        "junk",
    ]
    assert clean_history(history) == [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"},
        {"role": "user", "content": "multi part"},
        {"role": "assistant", "content": "line\nbreak"},
    ]
    long = [{"role": "user", "content": f"turn {i} " + "x" * 100} for i in range(30)]
    kept = clean_history(long, max_turns=3, max_chars=20)
    assert [t["content"][:7] for t in kept] == ["turn 27", "turn 28", "turn 29"]
    assert all(len(t["content"]) <= 20 for t in kept)


def test_follow_up_keeps_its_history(tiny_advisor: Advisor) -> None:
    first = tiny_advisor.ask(INTERVIEWS)
    history = [{"role": "user", "content": INTERVIEWS}, {"role": "assistant", "content": first.text}]
    follow = tiny_advisor.ask("and what about projects?", history=history)
    assert follow.query.history == tuple(history)
    assert follow.query.text != "and what about projects?"  # rewritten into a standalone query
    assert not follow.refused and follow.citations


def test_a_script_that_exits_right_after_loading_exits_cleanly(tiny_advisor: Advisor) -> None:
    """Loading starts building the question encoder's session on a thread; a script that ends
    while it is still being built must wait for it, not die in onnxruntime (exit code 134,
    "terminate called without an active exception", 2 runs in 3 before the fix)."""
    root = tiny_advisor.settings.root
    script = f"from advisor_bot import Advisor, Settings\nAdvisor.load(Settings.load({str(root)!r}, env={{}}))\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    for _ in range(3):
        done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert "terminate called" not in done.stderr
