"""generators/wording.py: the phrases every generator and the pipeline share (small talk,
spelling notes); source naming and refusals are tested with the extractive generator."""

from __future__ import annotations

import pytest

from advisor_bot.generators.wording import corrections_note, small_talk_reply


@pytest.mark.parametrize(
    ("message", "starts"),
    [
        ("hi", "Hi!"),
        ("Hello there!", "Hi!"),
        ("good morning", "Hi!"),
        ("thanks!", "You're welcome!"),
        ("ok cool thank you so much", "You're welcome!"),
        ("thx, that was helpful", "You're welcome!"),
        ("bye", "Good luck!"),
        ("ok", "Ask me a question"),
    ],
)
def test_a_greeting_a_thanks_or_a_goodbye_gets_a_reply_not_a_search(message: str, starts: str) -> None:
    reply = small_talk_reply(message)
    assert reply is not None and reply.startswith(starts)


@pytest.mark.parametrize(
    "message",
    [
        "is that good?",
        "hi, how do i prepare for ml interviews?",
        "thanks, and what about the math?",
        "good papers to read?",
        "",
        "hi " * 10,  # not a greeting any more
    ],
)
def test_anything_else_is_a_question(message: str) -> None:
    assert small_talk_reply(message) is None


def test_corrections_note_names_each_word() -> None:
    assert corrections_note([("prepre", "prepare"), ("intervews", "interviews")]) == (
        "Searched for “prepare” (typed “prepre”), “interviews” (typed “intervews”)."
    )
