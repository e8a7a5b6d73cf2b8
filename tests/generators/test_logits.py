"""generators/logits.py: the processor lifts the source tokens by the bias and refuses, within
the line being written, a token that would say an n-gram again; nothing across lines."""

from __future__ import annotations

import numpy as np

from advisor_bot.generators.logits import SourceCopying, repeated_next

NEWLINE = 9


def breaks_line(token: int) -> bool:
    return token == NEWLINE


def scores() -> np.ndarray:
    return np.zeros(16, dtype=np.single)


def test_repeated_next_refuses_what_followed_the_same_start() -> None:
    assert repeated_next([5, 6, 5, 6], 3) == {5}  # "5 6" was followed by 5: "5 6 5" may not be said again
    assert repeated_next([5, 6, 7, 5, 6], 3) == {7}
    assert repeated_next([5, 6, 7, 8], 3) == set()
    assert repeated_next([5, 6], 3) == set()  # too short for any n-gram
    assert repeated_next([5, 5, 5], 1) == set()  # n < 2 refuses nothing


def test_the_bias_lifts_only_the_given_tokens() -> None:
    copying = SourceCopying({2: 5.0, 3: 5.0}, ngram=0, breaks_line=breaks_line)
    out = copying(np.array([1, 2, 3], dtype=np.intc), scores())
    assert out[2] == out[3] == 5.0
    assert np.count_nonzero(out) == 2


def test_a_loop_within_the_line_is_refused_but_the_same_words_on_a_new_line_are_not() -> None:
    copying = SourceCopying({}, ngram=3, breaks_line=breaks_line)
    prompt = [1, 1, 1]
    copying(np.array(prompt, dtype=np.intc), scores())  # the first call marks where the answer starts
    looping = [*prompt, 5, 6, 5, 6]
    out = copying(np.array(looping, dtype=np.intc), scores())
    assert out[5] == -np.inf and np.isfinite(np.delete(out, 5)).all()
    new_line = [*prompt, 5, 6, 5, NEWLINE, 5, 6]
    assert np.isfinite(copying(np.array(new_line, dtype=np.intc), scores())).all()


def test_the_prompt_is_not_part_of_the_line() -> None:
    """The sources the prompt holds are said again on purpose: only the answer's tokens count."""
    copying = SourceCopying({}, ngram=3, breaks_line=breaks_line)
    prompt = [5, 6, 7, 8]
    copying(np.array(prompt, dtype=np.intc), scores())
    assert np.isfinite(copying(np.array([*prompt, 5, 6], dtype=np.intc), scores())).all()


def test_an_ngram_the_sources_say_may_be_said_again() -> None:
    """ "you're not just designing models, you're helping ship them" repeats ", you're": a
    faithful copy must not be bent ("you's also helping") by the loop rule."""
    copying = SourceCopying({}, ngram=3, breaks_line=breaks_line, source=[4, 5, 6, 7, 5, 6, 8])
    copying(np.array([1], dtype=np.intc), scores())
    copying_line = [1, 4, 5, 6, 7, 5]  # "5 6" was followed by 7 in the line; the sources also say "5 6 8"
    out = copying(np.array([*copying_line, 6], dtype=np.intc), scores())
    assert np.isfinite(out).all()  # "5 6 7" is in the sources: not refused
    loop = [1, 11, 5, 6, 11, 5, 6]  # "5 6 11" said again: not a source n-gram
    assert copying(np.array(loop, dtype=np.intc), scores())[11] == -np.inf
