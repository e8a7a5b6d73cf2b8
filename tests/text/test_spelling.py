"""text/spelling.py: a typo is searched as the corpus word one edit away; everything else as typed."""

from __future__ import annotations

import pytest

from advisor_bot.text.spelling import Speller, is_english

COUNTS = {
    "interviews": 5,
    "interview": 9,
    "prepare": 3,
    "research": 40,
    "mentor": 4,
    "microrobot": 2,
    "supervisor": 3,
    "should": 100,  # a stop word: a target too ("shoud")
    "sophomore": 100,
    "whether": 6,
    "latest": 5,
    "lattes": 1,
}


@pytest.fixture(scope="module")
def speller() -> Speller:
    return Speller(COUNTS, known={"nathan"}.__contains__)


@pytest.mark.parametrize(
    ("typed", "searched"),
    [
        ("how do i prepre for intervews", "how do i prepare for interviews"),  # a letter dropped, one missing
        ("shoud i do a phd", "should i do a phd"),
        ("how to find a mentr", "how to find a mentor"),
        ("reserch tips", "research tips"),
        ("Reserch tips", "Research tips"),  # the capital is kept
        ("how do i find a supervisro", "how do i find a supervisor"),  # two letters swapped
    ],
)
def test_a_typo_is_searched_as_the_corpus_word(speller: Speller, typed: str, searched: str) -> None:
    assert speller.correct(typed) == searched


@pytest.mark.parametrize(
    "typed",
    [
        "whats the weather in singapore",  # "weather" is English, not a typo of "whether"
        "should i learn jax",  # short: many words are one edit from a four-letter word
        "are GANs worth it",  # a capital inside: a name
        "is gpt4 good",  # a digit
        "what did nathen say",  # a word the caller spares (an author's name, chat filler)
        "the microrobots project",  # another form of a corpus word ("microrobot")
        "interview prep",  # corpus words
        "is tensorflow good",  # no corpus word one edit away
        "don't-care self-taught",
    ],
)
def test_everything_else_is_left_as_typed(speller: Speller, typed: str) -> None:
    assert speller.correct(typed) == typed


def test_the_word_more_texts_use_wins() -> None:
    """ "lattes" and "latest" are both one edit from "lattest"; the corpus uses "latest" more."""
    assert Speller(COUNTS).correct("lattest papers") == "latest papers"


def test_a_corrected_word_is_written_as_the_rewrite_says() -> None:
    """A typo of a chat-glossary word ("sophmore") is written out as the glossary writes the word."""
    speller = Speller(COUNTS, rewrite=lambda word: "second-year (Year 2) student" if word == "sophomore" else word)
    assert speller.correct("im a sophmore") == "im a second-year (Year 2) student"


def test_the_english_dictionary_is_pyspellchecker_s() -> None:
    assert is_english("weather") and is_english("fraud")
    assert not is_english("intervews") and not is_english("definately")
