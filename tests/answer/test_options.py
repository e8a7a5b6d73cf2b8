"""answer/options.py: the options of an "X or Y" question, each with a question about it alone,
so the answer can give every side its own evidence."""

from __future__ import annotations

import pytest

from advisor_bot import Advisor
from advisor_bot.answer.options import comparison_options


def labels(question: str) -> list[str]:
    return [label for label, _ in comparison_options(question)]


def test_phd_or_industry_has_two_options_each_asked_alone() -> None:
    options = comparison_options("should I do a PhD or go to industry?")
    assert [label for label, _ in options] == ["a PhD", "go to industry"]
    # an option bringing its own verb replaces the frame's ("should I go to industry", not "do go")
    assert [about for _, about in options] == ["should I do a PhD?", "should I go to industry?"]


def test_who_says_is_the_option_and_what_about_is_asked_of_both() -> None:
    """Labels were "the berkeley phd guy say" and "the ntu student about internships"."""
    options = comparison_options("what does the berkeley phd guy say vs the ntu student about internships")
    assert options == [
        ("the berkeley phd guy", "what does the berkeley phd guy say about internships?"),
        ("the ntu student", "what does the ntu student say about internships?"),
    ]


def test_a_question_without_a_choice_has_no_options() -> None:
    assert comparison_options("how do I prepare for an ML interview?") == []
    assert comparison_options("") == []


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        (
            "PhD vs going straight into industry vs a startup for an AI career",
            ["PhD", "going straight into industry", "a startup"],
        ),
        ("famous but busy lab vs someone who'll guide me", ["famous but busy lab", "someone who'll guide me"]),
        ("should I learn PyTorch or TensorFlow?", ["PyTorch", "TensorFlow"]),
        ("did the NTU student or the Berkeley PhD have more papers?", ["the NTU student", "the Berkeley PhD"]),
        ("should I work or do a PhD?", ["work", "do a PhD"]),
        ("should I hire a tutor or do it myself?", ["hire a tutor", "do it myself"]),  # "do it": an option
        ("did he publish or perish?", ["publish", "perish"]),
        ("which did you prefer, academia or industry?", ["academia", "industry"]),
        ("is it better to do a PhD or just get a job?", ["a PhD", "just get a job"]),
    ],
)
def test_three_way_and_verbless_comparisons(question: str, expected: list[str]) -> None:
    assert labels(question) == expected


def test_what_follows_the_last_option_belongs_to_every_option() -> None:
    options = dict(comparison_options("PhD vs a startup for an AI career"))
    assert options == {"PhD": "PhD for an AI career?", "a startup": "a startup for an AI career?"}
    options = dict(comparison_options("did the NTU student or the Berkeley PhD have more papers?"))
    assert options["the NTU student"] == "did the NTU student have more papers?"


def test_compare_a_and_b_has_two_sides_each_asked_alone() -> None:
    options = comparison_options(
        "compare how the NTU student and the Berkeley PhD guy each got their first research break"
    )
    assert options == [
        ("the NTU student", "how the NTU student got their first research break?"),
        ("the Berkeley PhD guy", "how the Berkeley PhD guy got their first research break?"),
    ]
    assert labels("Compare PyTorch with TensorFlow.") == ["PyTorch", "TensorFlow"]
    assert labels("compare and contrast a PhD and industry") == ["a PhD", "industry"]
    assert labels("Compare PhD and industry. Which pays more?") == ["PhD", "industry"]  # one sentence only
    # what follows the second side belongs to both
    assert dict(comparison_options("compare PyTorch and TensorFlow for NLP")) == {
        "PyTorch": "PyTorch for NLP?",
        "TensorFlow": "TensorFlow for NLP?",
    }


@pytest.mark.parametrize(
    "question",
    [
        "should I do a PhD or not?",  # "not" is no option
        "can you compare the two essays?",  # nothing set beside anything
        "can you compare the two and tell me which is better?",
        "I compare myself with my peers and feel bad",  # "compare" told, not asked
        "compare the pros and cons of doing a PhD",  # one thing
        "is a PhD worth it or should I get a job?",  # two questions
        "is a PhD worth it or is it a waste of time?",
        "do they give housing or a relocation bonus or is that only for full time?",  # "is that ...": a question
        "do I need a PhD or can I get a research job with an MS?",
        "compare the advice and the advice",
        "do I need a PhD or something?",
        "which is better: a PhD in reinforcement learning at a famous university with a busy lab or not?",
        "PhD or PhD?",  # the same option twice
    ],
)
def test_no_real_choice_gives_no_options(question: str) -> None:
    assert comparison_options(question) == []


def test_the_pipeline_retrieves_for_each_option(tiny_advisor: Advisor) -> None:
    """Each side is encoded and searched, so its passage is among the evidence."""
    answer = tiny_advisor.ask("should I practice LeetCode or choose a PhD supervisor?")
    assert [s.label for s in answer.query.sides] == ["practice LeetCode", "choose a PhD supervisor"]
    assert all(s.vector is not None for s in answer.query.sides)
    docs = {p.document.doc_id for p in answer.passages}
    assert {"interviews", "phd-supervisor"} <= docs
