"""text/spelling.py: a typo is searched as the corpus word one edit away; everything else as typed.

Each "left as typed" case has a corpus word one edit away, so it is the rule it names that
keeps it (take the rule away and the case is corrected)."""

from __future__ import annotations

import pytest

from advisor_bot.text.spelling import MAX_LOOKUPS, Speller, is_english

COUNTS = {
    "interviews": 5,
    "interview": 9,
    "prepare": 3,
    "research": 40,
    "mentor": 4,
    "microrobot": 2,
    "supervisor": 3,
    "should": 1,  # a stop word: a target too ("shoud")
    "expert": 7,
    "tax": 3,
    "pytorch": 4,
    "kaggle": 6,
    "later": 5,
    "paid": 4,
    "leetcode": 3,
    "joining": 2,
    "learning": 8,
}


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(COUNTS, known={"kaggler"}.__contains__)


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("how do i prepre for intervews", "how do i prepare for interviews"),  # a letter dropped, one missing
        ("shoud i do a phd", "should i do a phd"),
        ("how to find a mentr", "how to find a mentor"),
        ("reserch tips", "research tips"),
        ("Reserch tips", "Research tips"),  # the capital is kept
        ("(reserch) tips?", "(research) tips?"),  # and the punctuation around
        ("how do i find a supervisro", "how do i find a supervisor"),  # two letters swapped
        ("is joinning a lab worth it", "is joining a lab worth it"),  # its stem is "joining"'s, no ending makes it
        ("start learing deep learning", "start learning deep learning"),  # the word may be said again
    ],
)
def test_a_typo_is_searched_as_the_corpus_word(speller: Speller, typed: str, searched: str) -> None:
    assert speller.correct(typed) == searched


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("should i expect that", "an English word: 'expect' is not a typo of 'expert'"),
        ("should i learn jax", "under five letters: 'jax' is one edit from 'tax'"),
        ("is PyTorh good", "a capital inside: a name, though 'pytorch' is one edit away"),
        ("yolov8 or reserch123", "a token holding a digit"),
        ("learing_rate torch.nn.functionl", "code"),
        ("mail john.reserch@example.com or www.kagle.com", "an address"),
        ("a kaggler", "a word the caller spares (an author's name, chat filler)"),
        ("the microrobots project", "another form of a corpus word ('microrobot')"),
        ("how do i write a cover leter", "the word meant ('letter') is not a corpus word, 'later' is"),
        ("should i use neetcode or leetcode", "set beside 'leetcode': two things"),
        ("LeetCode vs neetcode?", "set beside 'leetcode': two things"),
        ("interview prep", "corpus words"),
        ("don't-care self-taugt", "not one word"),
    ],
)
def test_everything_else_is_left_as_typed(speller: Speller, typed: str, rule: str) -> None:
    assert speller.correct(typed) == typed, rule


def test_a_dropped_letter_first_then_the_commoner_word() -> None:
    # "upaid" drops the "n" of "unpaid": that, not the corpus's "paid", is what was meant
    assert Speller({**COUNTS, "unpaid": 1}).correct("an upaid internship") == "an unpaid internship"
    assert Speller(COUNTS).correct("an upaid internship") == "an upaid internship"
    # "papars" is one letter from "papers" and from "papas": English uses "papers" far more
    assert Speller({**COUNTS, "papers": 1, "papas": 9}).correct("read papars") == "read papers"


def test_a_long_text_is_looked_up_a_bounded_number_of_words() -> None:
    typed = " ".join(["reserch"] * (MAX_LOOKUPS + 5))
    assert Speller(COUNTS).correct(typed).split() == ["research"] * MAX_LOOKUPS + ["reserch"] * 5


def test_the_english_dictionary_is_pyspellchecker_s() -> None:
    assert is_english("weather") and is_english("expect")
    assert not is_english("intervews") and not is_english("definately")
