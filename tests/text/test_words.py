"""Words, stop words, stems, citation markers and the chat glossary: the shared vocabulary.

BM25, the relevance gate, grounding and the evaluation all tokenise with text/words.py and
find markers with text/markers.py; if these drift, the steps stop agreeing on what a word is.
"""

from __future__ import annotations

import pytest

from advisor_bot.text.glossary import INFORMAL, formalise
from advisor_bot.text.markers import markers, strip_markers
from advisor_bot.text.words import WORD, content_stems, content_words, stem_word, stems, stopwords, words

# ---------- words ----------


def test_words_are_lowercased_runs_of_two_or_more_word_characters() -> None:
    assert words("Don't skip LeetCode: a B2 e.g. x_y caf\u00e9") == [
        "don",
        "skip",
        "leetcode",
        "b2",
        "x_y",
        "caf\u00e9",
    ]


def test_the_pattern_is_bm25s_own() -> None:
    """bm25s' default token pattern: our words and the BM25 tokenizer's must be the same."""
    assert WORD.pattern == r"(?u)\b\w\w+\b"
    assert WORD.findall("a I ok x2") == ["ok", "x2"]


def test_content_words_drop_stop_words() -> None:
    assert content_words("Don't skip the LeetCode problems for an interview") == [
        "skip",
        "leetcode",
        "problems",
        "interview",
    ]


def test_stop_words_are_english_with_contraction_stems() -> None:
    stop = stopwords()
    assert {"the", "and", "of", "what", "don", "t"} <= stop
    assert not {"interview", "phd", "research", "python"} & stop
    assert isinstance(stop, frozenset)


def test_stems_join_inflections() -> None:
    assert stems(["interviewing", "interviews", "interview"]) == ["interview"] * 3
    assert stem_word("learning") == "learn"
    assert content_stems("Interviews and interviewing, the interviewers") == {"interview"}
    assert content_stems("the and of") == set()


# ---------- markers ----------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Practice daily [1].", [1]),
        ("Both say so [1, 2] and [3;4].", [1, 2, 3, 4]),
        ("As [source 2] and [Passage 4; doc 5] and [document 6] say.", [2, 4, 5, 6]),
        ("Not markers: [x], [1000], [ ], [a1].", []),
        ("[ 7 ] spaced", [7]),
    ],
)
def test_markers_are_found_in_order(text: str, found: list[int]) -> None:
    assert markers(text) == found


def test_strip_markers_takes_the_leading_space_with_it() -> None:
    assert strip_markers("Practice daily [1]. Read papers [2, 3].") == "Practice daily. Read papers."
    assert strip_markers("[source 1] Start here.") == " Start here."
    assert strip_markers("No markers here.") == "No markers here."


# ---------- glossary ----------


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("can i skip calc?", "can i skip calculus?"),
        ("ppl say uni profs w/ stats matter", "people say university professors with statistics matter"),
        ("w/o a PhD rn", "without a PhD right now"),
        ("Is CS enough for an MLE role?", "Is computer science enough for an machine learning engineer role?"),
        ("grad school or industry", "graduate school or industry"),
        ("how should i prep for ml interviews lol", "how should i prepare for ml interviews lol"),
        ("how did they do their lit review", "how did they do their literature review"),
        ("theory vs empirical, whats the diff", "theory vs empirical, what's the difference"),
        ("how should i pick a phd supervisor?", "how should i choose a phd supervisor?"),
        ("my advisor doesnt help me", "my advisor (supervisor) doesn't help me"),
        ("any drawbacks or benefits of ml research?", "any cons or pros of ml research?"),
    ],
)
def test_chat_spelling_is_written_out(typed: str, searched: str) -> None:
    assert formalise(typed) == searched


def test_only_whole_words_are_replaced() -> None:
    """ "calc" inside "Calculator" or "u" inside "you" must stay as typed."""
    assert formalise("Calculator calcium you, menu, w/out") == "Calculator calcium you, menu, w/out"
    assert formalise("Calc first") == "calculus first"


def test_glossary_keys_are_lower_case() -> None:
    """Matching is case-insensitive through a lower-cased lookup, so keys must be lower case."""
    assert all(key == key.lower() for key in INFORMAL)
