"""What a "do I need X?" question asks is needed, and sentences that say so."""

from __future__ import annotations

import pytest

from advisor_bot.text.needs import needed_words, states_need


@pytest.mark.parametrize(
    ("question", "needed"),
    [
        ("do i need a phd to do ai research?", {"phd"}),
        ("do i need a masters for ml research", {"master"}),
        ("do you actually need neurips papers to land an industry research job?", {"neurip", "paper"}),
        ("do i need to speak chinese to do research at ntu", {"chines"}),
        ("can i get into ai research without a phd", {"phd"}),
        # the same asked the other way
        ("can i skip calculus?", {"calculus"}),
        ("can i get away without math for ml", {"math"}),
        ("is a masters really necessary?", {"master"}),
        ("is math required for ai research", {"math"}),
        ("can i skip the math part", {"math"}),
        ("can i ask questions in the lab", set()),
        # nothing specific is asked for: no lift
        ("do i need to be good at math for ml research", set()),
        ("do i need to come up with something totally new from scratch?", set()),
        ("how do I prepare for an ML interview?", set()),
    ],
)
def test_what_is_asked_for(question: str, needed: set[str]) -> None:
    assert needed_words(question) == needed


def test_a_sentence_states_a_need_for_the_asked_thing() -> None:
    phd = needed_words("do i need a phd?")
    assert states_need(
        "Now, to become a professional researcher you will need professional training = a PhD programme.", phd
    )
    assert not states_need("AI Residency: Excellent bridge between a PhD and an industry job.", phd)  # no need said
    assert not states_need("You will need a lot of patience.", phd)  # a need, not of a PhD
    research = frozenset({"research"})
    assert not states_need("Only a few has to do with current state-of-the-art research.", research)
    assert not states_need("You need a PhD.", frozenset())
