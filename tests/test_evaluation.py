"""Metric code on hand-made cases, so that the numbers we quote mean what the README says."""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from advisor_bot.evaluation import (
    Question,
    covers,
    dangling,
    evaluate,
    format_table,
    load_questions,
    mentioned,
    normalize,
    retrieval_scores,
)

QUOTE = "Practice Leetcode and other coding platforms - Surprisingly, this is still used even for ML research roles"


def test_normalize_drops_markdown_and_link_targets() -> None:
    assert normalize("**Bold** _it_ # > `code` [link](https://x.org/a)  \n next") == "bold it code [link] next"
    assert normalize("ﬁne") == "fine"  # NFKC


def test_covers_needs_half_the_trigrams() -> None:
    assert covers("- " + QUOTE + ". But not too much.", QUOTE)
    words = QUOTE.split()
    first_half = " ".join(words[: len(words) // 2 + 2])
    second_half = " ".join(words[len(words) // 2 - 2:])
    assert covers(first_half, QUOTE) or covers(second_half, QUOTE)  # a quote split across chunks
    assert not covers(" ".join(words[:4]), QUOTE)
    assert covers("see the **[documentary](https://youtu.be/x)** on AlphaGo", "the [documentary](https://y) on AlphaGo")


def test_short_quotes_use_containment() -> None:
    assert covers("Mario RL impressed them", "Mario RL")
    assert not covers("Luigi", "Mario RL")


def test_retrieval_scores() -> None:
    passages = ["nothing here", "also nothing", "Review Math, Statistics and Probability - This is the heart of AI", QUOTE]
    gold = [QUOTE, "Review Math, Statistics and Probability - This is the heart of AI", "Never retrieved quote about cats and dogs"]
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


@dataclass
class FakeCitation:  # test double: only the fields evaluate() reads
    n: int
    text: str


@dataclass
class FakePassage:
    text: str


@dataclass
class FakeAnswer:
    text: str
    passages: list = field(default_factory=list)
    citations: list = field(default_factory=list)
    refused: bool = False
    notice: str | None = None


def test_evaluate_scores_every_metric() -> None:
    questions = [
        Question(id="a", question="interview?", type="advice", gold=(QUOTE,), must_mention=("leetcode", "probability")),
        Question(id="u", question="visa?", type="unanswerable"),
        Question(id="f", question="phd?", type="factoid", gold=("a PhD is professional training for research",)),
    ]
    answers = {
        "a": FakeAnswer("Practice LeetCode [1]. Unrelated [2]. Ghost [3].", [FakePassage(QUOTE), FakePassage("other")],
                        [FakeCitation(1, QUOTE), FakeCitation(2, "other")]),
        "u": FakeAnswer("The sources don't cover this question.", refused=True),
        "f": FakeAnswer("The sources don't cover this question.", [FakePassage("unrelated")], refused=True),
    }
    report = evaluate(lambda q: answers[q.id], questions, k=5, generator="test")
    s = report.summary()
    assert s["recall@5"] == 0.5 and s["hit@5"] == 0.5 and s["mrr@10"] == 0.5
    assert s["mention_coverage"] == 0.5  # only "a" has phrases to mention: 1 of 2
    assert s["citation_precision"] == 0.5  # one of two citations covers gold
    assert s["dangling_citations"] == 1
    assert s["refusal_accuracy"] == 1.0
    assert s["false_refusals"] == 0.5
    assert set(report.by_type()) == {"advice", "unanswerable", "factoid"}
    table = format_table(report)
    assert "R@5" in table and "unanswerable" in table


def test_load_questions(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"id": "q1", "question": "x?", "type": "factoid", "gold": [{"file": "f", "quote": "y"}],
                                "history": [{"role": "user", "content": "hi"}]}) + "\n\n")
    (q,) = load_questions(path)
    assert q.gold == ("y",) and q.answerable and q.history[0]["content"] == "hi"
    path.write_text('{"id": 1}\n')
    with pytest.raises(ValueError, match=":1: not a question record"):
        load_questions(path)
