"""generators/cited_lines.py: the grammar allows only the prompt's source numbers, and streamed
"[n] text" lines reach the reader as "text [n]" however the model's tokens cut them."""

from __future__ import annotations

import importlib.util

import pytest

from advisor_bot.generators.cited_lines import grammar, markers_last


def shown(pieces: list[str]) -> str:
    return "".join(markers_last(pieces))


def test_the_grammar_names_only_the_given_numbers_and_caps_the_lines() -> None:
    text = grammar([3, 1, 3], max_lines=2)
    assert "root ::= line line?\n" in text
    assert 'num ::= "1" | "3"\n' in text
    assert '"2"' not in text


def test_a_grammar_needs_a_number_and_a_line() -> None:
    with pytest.raises(ValueError, match="source number"):
        grammar([], max_lines=3)
    with pytest.raises(ValueError, match="max_lines"):
        grammar([1], max_lines=0)


@pytest.mark.skipif(importlib.util.find_spec("llama_cpp") is None, reason="needs llama-cpp-python")
def test_llama_cpp_parses_the_grammar() -> None:
    from llama_cpp import LlamaGrammar

    LlamaGrammar.from_string(grammar([1, 2, 5], max_lines=3), verbose=False)


@pytest.mark.parametrize(
    "pieces",
    [
        ["[1] Read papers in passes.\n[2] Ask for help.\n"],
        ["[", "1", "]", " Read", " papers in passes.", "\n", "[2", "] Ask for help.\n"],
        list("[1] Read papers in passes.\n[2] Ask for help.\n"),
    ],
    ids=["whole", "tokens", "characters"],
)
def test_markers_move_to_the_end_of_their_line_however_the_stream_is_cut(pieces: list[str]) -> None:
    assert shown(pieces) == "Read papers in passes. [1] Ask for help. [2] "


def test_the_words_of_a_line_stream_before_its_line_ends() -> None:
    out = markers_last(iter(["[1] Read", " papers", " in passes.\n"]))
    assert next(out) == "Read"  # the first word arrives while the model is still writing the line
    assert next(out) == " papers"


def test_a_last_line_without_a_break_still_gets_its_marker() -> None:
    assert shown(["[4]Keep it short."]) == "Keep it short. [4]"


def test_lines_without_a_number_pass_through_unchanged() -> None:
    assert shown(["The sources agree.\n\n[3] Start small.\n"]) == "The sources agree.\n\nStart small. [3] "
