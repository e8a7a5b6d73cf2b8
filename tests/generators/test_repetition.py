"""generators/repetition.py: a stream that has started repeating itself ends there; text that
only looks repetitive (an ellipsis, a table rule, a numbered list) streams on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from advisor_bot.generators.repetition import until_repeating


def test_a_runaway_line_ends_soon_after_it_starts_looping() -> None:
    pieces = ["The researcher in the 1", *[".1"] * 200]
    out = "".join(until_repeating(iter(pieces)))
    assert out.startswith("The researcher in the 1.1")
    assert len(out) < 60


def test_a_repeated_sentence_ends_after_a_few_times() -> None:
    said = "I had to be sure to balance my work with my internship. "
    out = "".join(until_repeating(iter(["I was excited. ", *list(said * 20)])))
    assert out.startswith("I was excited. " + said)
    assert out.count("balance") <= 4


def test_the_stream_is_read_no_further_than_the_loop() -> None:
    """The model stops generating: the pieces after the loop are never asked for."""
    read = 0

    def model() -> Iterator[str]:
        nonlocal read
        for piece in ["Start. ", *["again "] * 1000]:
            read += 1
            yield piece

    list(until_repeating(model()))
    assert read < 10


@pytest.mark.parametrize(
    "text",
    [
        "Practice LeetCode problems every week. [1] Review the math. [1]",
        "Hmm.... wait!!!! really???? ok",
        "| a | b | c | d | e |\n|---|---|---|---|---|---|---|\n| 1 | 2 | 3 | 4 | 5 |",
        "1. Read. 2. Write. 3. Build. 4. Share. 5. Repeat.",
        "very very very very good",
    ],
)
def test_text_that_only_looks_repetitive_streams_whole(text: str) -> None:
    assert "".join(until_repeating(iter(list(text)))) == text
