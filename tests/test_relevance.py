from __future__ import annotations

import pytest

from advisor_bot.advisor import Advisor
from advisor_bot.relevance import relevance, unknown_share


def test_unknown_share_counts_words_the_corpus_never_uses(tiny_advisor: Advisor) -> None:
    bm25 = tiny_advisor.index.bm25
    assert unknown_share("LeetCode interviews", bm25) == 0.0
    assert unknown_share("visa sponsorship paperwork", bm25) == 1.0
    mixed = unknown_share("LeetCode visa", bm25)
    assert 0.0 < mixed < 1.0


def test_chat_filler_and_numbers_are_not_informative(tiny_advisor: Advisor) -> None:
    bm25 = tiny_advisor.index.bm25
    assert unknown_share("ok kinda gimme LeetCode interviews lol 2024", bm25) == 0.0
    assert unknown_share("", bm25) == 0.0


def test_relevance_penalises_unknown_key_words(tiny_advisor: Advisor) -> None:
    bot = tiny_advisor
    known = bot.retrieve("how do I practice for coding interviews?", 3)
    unknown = bot.retrieve("how do I apply for an O-1 visa?", 3)
    assert relevance("x", [], bot.index.bm25, 0.4) == -1.0
    r_known = relevance("how do I practice for coding interviews?", known, bot.index.bm25, 0.4)
    r_unknown = relevance("how do I apply for an O-1 visa?", unknown, bot.index.bm25, 0.4)
    assert r_known > r_unknown
    no_penalty = relevance("how do I apply for an O-1 visa?", unknown, bot.index.bm25, 0.0)
    assert no_penalty == pytest.approx(max(p.scores["unit"] for p in unknown))


def test_threshold_decides_refusal(tiny_advisor: Advisor) -> None:
    bot = tiny_advisor
    answered = bot.ask("how do I practice for coding interviews?")
    assert not answered.refused and answered.relevance is not None
    strict = Advisor(bot.settings.with_overrides(refusal_threshold=answered.relevance + 0.01), embedder=bot.embedder)
    refused = strict.ask("how do I practice for coding interviews?")
    assert refused.refused and refused.text.startswith("The sources don't cover this question.")
    assert refused.citations == []
