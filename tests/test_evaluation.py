"""Metric code on hand-made cases, so that the numbers we quote mean what ../shared/eval/README.md says."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from advisor_bot import Answer, Citation, Coverage, Outcome, Passage, Query
from advisor_bot.evaluation import (
    Question,
    covers,
    dangling,
    evaluate,
    load_questions,
    mentioned,
    normalize,
    retrieval_scores,
    statement_lines,
    table_rows,
)
from advisor_bot.records import Chunk, Document

QUOTE = "Practice Leetcode and other coding platforms - Surprisingly, this is still used even for ML research roles"


def make_passage(text: str, rank: int) -> Passage:
    """A real Passage around a text, as retrieval would return it."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    doc = Document(doc_id=f"doc{rank}", title=f"Essay {rank}", text=text, path=f"doc{rank}.md", sha256=digest)
    chunk = Chunk(chunk_id=digest[:16], doc_id=doc.doc_id, section="", text=text, start=0, end=len(text))
    return Passage(chunk=chunk, document=doc, score=1.0 / rank, rank=rank)


def make_answer(
    text: str,
    passages: Sequence[str] = (),
    cited: Sequence[int] = (),
    *,
    coverage: Coverage = Coverage.ANSWERED,
    question: str = "q?",
) -> Answer:
    """A real Answer: passage texts in rank order, and the passage numbers cited as [1], [2], ..."""
    ranked = [make_passage(t, i) for i, t in enumerate(passages, start=1)]
    citations = [Citation(n=n, passage=ranked[p - 1]) for n, p in enumerate(cited, start=1)]
    return Answer(
        query=Query(question=question, standalone=question),
        text=text,
        citations=[] if coverage is Coverage.REFUSED else citations,
        passages=ranked,
        coverage=coverage,
        outcome=Outcome(coverage.value),
    )


def test_normalize_drops_markdown_and_link_targets() -> None:
    assert normalize("**Bold** _it_ # > `code` [link](https://x.org/a)  \n next") == "bold it code [link] next"
    assert normalize("ﬁne") == "fine"  # NFKC


def test_covers_needs_half_the_trigrams() -> None:
    assert covers("- " + QUOTE + ". But not too much.", QUOTE)
    words = QUOTE.split()
    first_half = " ".join(words[: len(words) // 2 + 2])
    second_half = " ".join(words[len(words) // 2 - 2 :])
    assert covers(first_half, QUOTE) and covers(second_half, QUOTE)  # a quote split across two chunks
    assert not covers(" ".join(words[:4]), QUOTE)
    assert covers("see the **[documentary](https://youtu.be/x)** on AlphaGo", "the [documentary](https://y) on AlphaGo")


def test_short_quotes_use_containment() -> None:
    assert covers("Mario RL impressed them", "Mario RL")
    assert not covers("Luigi", "Mario RL")
    assert not covers("anything", "")


def test_retrieval_scores() -> None:
    passages = [
        "nothing here",
        "also nothing",
        "Review Math, Statistics and Probability - This is the heart of AI",
        QUOTE,
    ]
    gold = [
        QUOTE,
        "Review Math, Statistics and Probability - This is the heart of AI",
        "Never retrieved quote about cats",
    ]
    s = retrieval_scores(passages, gold, k=3)
    assert s["recall"] == pytest.approx(1 / 3)  # only the third passage is inside the top 3
    assert s["hit"] == 1.0
    assert s["rr"] == pytest.approx(1 / 3)
    assert retrieval_scores(passages, gold, k=4)["recall"] == pytest.approx(2 / 3)
    assert retrieval_scores(["x"], gold, k=5) == {"recall": 0.0, "hit": 0.0, "rr": 0.0}


def test_mentioned_uses_most_content_words_with_stemming() -> None:
    answer = "Interviewers still ask LeetCode questions; review mathematics and statistics."
    assert mentioned(answer, "leetcode")
    assert mentioned(answer, "review math, statistics and probability") is False  # 2 of 4 is not most
    assert mentioned(answer + " Probability too.", "review math, statistics and probability")
    assert mentioned("He interviewed twice.", "interviews")  # stemming
    assert mentioned("anything", "the of and")  # nothing to find


def test_dangling_counts_markers_without_citations() -> None:
    assert dangling("A [1]. B [2]. C [1][3].", [1, 2]) == 1
    assert dangling("no markers", []) == 0


@pytest.mark.parametrize(
    ("line", "whole"),
    [
        ("- fact all levels!): focus on becoming really good coders. [1]", False),  # cut mid-sentence
        ("General pros about doing ML research: [3]", False),  # a bare heading
        ("So, is ML research for you? [5]", False),  # a question copied from an essay
        ("since that's [2]", False),
        ("Short one. [1]", False),  # under 12 characters
        ("**Practice LeetCode** every week. [1]", True),  # emphasis removed first
        ("- Practice LeetCode every week. [1]", True),  # and the bullet
        ("2. Read the abstract, then the figures! [2][3]", True),
        ('"Ship small projects often." [4]', True),  # an opening quote may start it
        ("Read widely, then narrow down (to one field). [1]", True),
        ("Practice [1] every single week.", True),  # the marker may sit mid-line
    ],
)
def test_whole_statement_lines_follow_the_eval_readme(line: str, whole: bool) -> None:
    cited, clean, broken = statement_lines(line)
    assert cited == 1
    assert clean == int(whole) and len(broken) == int(not whole)


def test_whole_statements_count_only_cited_lines() -> None:
    text = (
        "Some tips:\n\n- Practice LeetCode every week. [1]\n- General pros about doing ML research: [2]\nno marker here"
    )
    cited, clean, broken = statement_lines(text)
    assert (cited, clean) == (2, 1)
    assert broken == ["General pros about doing ML research:"]  # shown without marker and bullet


def test_whole_statements_leave_refused_answers_out() -> None:
    questions = [
        Question(id="a", question="interview?", type="advice", gold=(QUOTE,)),
        Question(id="b", question="research?", type="advice", gold=(QUOTE,)),
        Question(id="u", question="visa?", type="unanswerable"),
    ]
    answers = {
        "a": make_answer("**Practice LeetCode** every week. [1]\nSo, is ML research for you? [1]", [QUOTE], [1]),
        "b": make_answer("- fact all levels!): focus on becoming really good coders. [1]", [QUOTE], [1]),
        # a refusal is never scored for whole statements, whatever its text
        "u": make_answer("General pros about doing ML research: [1]", [QUOTE], coverage=Coverage.REFUSED),
    }
    report = evaluate(lambda q: answers[q.id], questions, k=5, generator="test")
    assert report.summary()["whole_statements"] == pytest.approx(1 / 3)
    by_id = {r.id: r for r in report.results}
    assert (by_id["a"].cited_lines, by_id["a"].clean_lines) == (2, 1)
    assert by_id["u"].cited_lines == 0 and by_id["u"].broken_lines == []
    only_refused = evaluate(lambda q: answers["u"], questions[2:], k=5)
    assert only_refused.summary()["whole_statements"] is None  # nothing to score, not 0


def test_evaluate_scores_every_metric() -> None:
    questions = [
        Question(id="a", question="interview?", type="advice", gold=(QUOTE,), must_mention=("leetcode", "probability")),
        Question(id="u", question="visa?", type="unanswerable"),
        Question(id="f", question="phd?", type="factoid", gold=("a PhD is professional training for research",)),
    ]
    refusal = "The essays don't cover this question."
    answers = {
        "a": make_answer("Practice LeetCode [1]. Unrelated [2]. Ghost [3].", [QUOTE, "other"], [1, 2]),
        "u": make_answer(refusal, coverage=Coverage.REFUSED),
        "f": make_answer(refusal, ["unrelated"], coverage=Coverage.REFUSED),
    }
    report = evaluate(lambda q: answers[q.id], questions, k=5, generator="test")
    s = report.summary()
    assert s["recall@5"] == 0.5 and s["hit@5"] == 0.5 and s["mrr@10"] == 0.5
    assert s["mention_coverage"] == 0.5  # only "a" has phrases to mention: 1 of 2
    assert s["citation_precision"] == 0.5  # one of two citations covers gold
    assert s["dangling_citations"] == 1
    assert s["refusal_accuracy"] == 1.0
    assert s["false_refusals"] == 0.5
    assert s["outcomes"] == {"answered": 1, "refused": 2}
    assert s["generator"] == "test" and s["questions"] == 3
    assert set(report.by_type()) == {"advice", "unanswerable", "factoid"}
    json.dumps(report.to_dict())  # --json writes it as is
    heads, rows = table_rows(report)
    assert "R@5" in heads and "whole" in heads
    assert [r[0] for r in rows] == ["all", "advice", "factoid", "unanswerable"]


def test_load_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    record = {
        "id": "q1",
        "question": "x?",
        "type": "factoid",
        "gold": [{"file": "f", "quote": "y"}],
        "history": [{"role": "user", "content": "hi"}],
    }
    path.write_text(json.dumps(record) + "\n\n", encoding="utf-8")
    (q,) = load_questions(path)
    assert q.gold == ("y",) and q.answerable and q.history[0]["content"] == "hi"
    path.write_text('{"id": 1}\n', encoding="utf-8")
    with pytest.raises(ValueError, match=":1: not a question record"):
        load_questions(path)
