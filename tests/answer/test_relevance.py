"""answer/relevance.py: graded coverage (answered, partial, refused) from the best statement's
cosine, the question's words no essay uses, and numbers asked for but not found."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import TINY
from helpers import write_tiny_corpus

from advisor_bot import Advisor, Coverage, Outcome, Settings
from advisor_bot.answer.relevance import grade, informative_stems, signals, unknown_words
from advisor_bot.generators.wording import REFUSAL
from advisor_bot.index.embedding import Embedder
from advisor_bot.records import Query

SALARY = "what salary does an ML research scientist at Google make?"
PAY_ESSAY = """---
title: "Internship pay"
kind: note
---

## Pay

Research interns at big labs are paid about 8,000 dollars a month. Startups pay their interns less.
"""


def build(root: Path, embedder: Embedder) -> Advisor:
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus, read-only here. None of its statements holds a number."""
    root = tmp_path_factory.mktemp("relevance")
    write_tiny_corpus(root)
    return build(root, embedder)


def with_answer(bot: Advisor, **answer: object) -> Advisor:
    """The same index with some answer settings changed."""
    settings = bot.settings.with_overrides(**{f"answer.{k}": v for k, v in answer.items()})
    return Advisor(settings, embedder=bot.embedder)


def test_unknown_words_are_the_ones_the_corpus_never_uses(bot: Advisor) -> None:
    bm25 = bot.index.bm25
    assert unknown_words("LeetCode interviews", bm25) == []
    unknown = unknown_words("visa sponsorship paperwork", bm25)
    assert [w for w, _ in unknown] == ["visa", "sponsorship", "paperwork"]
    assert sum(share for _, share in unknown) == pytest.approx(1.0)
    [(word, share)] = unknown_words("LeetCode visa", bm25)
    assert word == "visa" and 0.0 < share < 1.0


def test_an_authors_name_is_not_an_unknown_word(bot: Advisor) -> None:
    """An essay says "I", not its author's name: a question naming the author asks about it."""
    bm25 = bot.index.bm25
    assert [w for w, _ in unknown_words("what did Lovelace say about LeetCode", bm25)] == ["lovelace"]
    assert unknown_words("what did Lovelace say about LeetCode", bm25, frozenset({"sam", "lovelace"})) == []
    assert unknown_words("what did the Lovelaces say", bm25, frozenset({"lovelace"})) == []  # a plural


def test_chat_filler_and_numbers_are_not_informative(bot: Advisor) -> None:
    assert unknown_words("ok kinda gimme LeetCode interviews lol 2024", bot.index.bm25) == []
    assert unknown_words("", bot.index.bm25) == []
    assert informative_stems("ok kinda gimme LeetCode interviews lol 2024") == ["leetcod", "interview"]


def test_unknown_key_words_lower_the_relevance(bot: Advisor) -> None:
    known = bot.ask("how do I practice for coding interviews?")
    unknown = bot.ask("how do I apply for an O-1 visa?")
    assert known.relevance is not None and unknown.relevance is not None
    assert known.relevance > unknown.relevance
    bm25 = bot.index.bm25
    plain = signals(unknown.query, unknown.passages, bm25, bot.embedder, bot.settings.answer)
    assert "visa" in plain.missing and plain.central_unknown > 0
    no_penalty = with_answer(bot, oov_penalty=0.0).settings.answer
    assert plain.relevance(no_penalty) == pytest.approx(plain.best)


def test_no_passages_is_refused(bot: Advisor) -> None:
    query = Query("anything", standalone="anything")
    assert grade(query, [], bot.index.bm25, bot.embedder, bot.settings.answer) == (Coverage.REFUSED, -1.0, ())


def test_thresholds_give_three_outcomes(bot: Advisor) -> None:
    question = "how do I practice for coding interviews?"
    answered = bot.ask(question)
    assert answered.coverage is Coverage.ANSWERED and answered.outcome is Outcome.ANSWERED
    r = answered.relevance
    assert r is not None and answered.citations

    partial = with_answer(bot, partial_threshold=r - 0.05, answered_threshold=r + 0.05).ask(question)
    assert partial.coverage is Coverage.PARTIAL and partial.outcome is Outcome.PARTIAL
    assert partial.text.startswith("The essays don't answer this directly") and partial.citations

    refused = with_answer(bot, partial_threshold=r + 0.01, answered_threshold=r + 0.05).ask(question)
    assert refused.coverage is Coverage.REFUSED and refused.outcome is Outcome.REFUSED and refused.refused
    assert refused.text.startswith(REFUSAL) and "nearest topics" in refused.text
    assert refused.citations == [] and refused.resources == [] and "[" not in refused.text
    assert refused.to_dict()["outcome"] == "refused" and refused.to_dict()["coverage"] == "refused"


def test_a_partial_answer_names_the_words_the_essays_do_not_use(bot: Advisor) -> None:
    """The tiny corpus says "supervisor", never "advisor"."""
    answer = with_answer(bot, partial_threshold=-1.0, answered_threshold=1.0).ask("how should I pick a PhD advisor?")
    assert answer.coverage is Coverage.PARTIAL and answer.citations
    assert answer.text.startswith("The essays don't address “advisor” directly")
    assert "supervisor" in answer.text


def test_nothing_worth_saying_is_refused_whatever_the_thresholds(bot: Advisor) -> None:
    """With no statement close enough to quote, there is no partial answer to give."""
    answer = with_answer(bot, partial_threshold=-1.0).ask("how do I apply for an O-1 visa?")
    assert answer.coverage is Coverage.REFUSED and answer.citations == []


def test_asking_for_a_number_the_statements_lack_is_a_quantity_gap(bot: Advisor) -> None:
    answer = bot.ask(SALARY)
    found = signals(answer.query, answer.passages, bot.index.bm25, bot.embedder, bot.settings.answer)
    assert found.quantity_gap
    penalty = bot.settings.answer.quantity_penalty
    ignore_numbers = with_answer(bot, quantity_penalty=0.0).settings.answer
    assert found.relevance(ignore_numbers) - found.relevance(bot.settings.answer) == pytest.approx(penalty)
    assert answer.coverage is not Coverage.ANSWERED
    # the same passages, asked for no number: no gap
    other = Query("what do ML research scientists at Google do?", vector=answer.query.vector)
    assert not signals(other, answer.passages, bot.index.bm25, bot.embedder, bot.settings.answer).quantity_gap


def test_a_statement_holding_the_number_closes_the_gap(tmp_path: Path, embedder: Embedder) -> None:
    write_tiny_corpus(tmp_path)
    (tmp_path / "corpus" / "essays" / "pay.md").write_text(PAY_ESSAY, encoding="utf-8")
    bot = build(tmp_path, embedder)
    answer = bot.ask("how much are research interns paid per month?")
    found = signals(answer.query, answer.passages, bot.index.bm25, embedder, bot.settings.answer)
    assert not found.quantity_gap
    assert answer.coverage is Coverage.ANSWERED and "8,000" in answer.text


@pytest.mark.slow
def test_off_topic_refused_and_on_topic_answered_on_the_real_corpus(real_advisor: Advisor) -> None:
    off = real_advisor.ask("what's the capital of australia?")
    assert off.outcome is Outcome.REFUSED and off.coverage is Coverage.REFUSED
    assert off.text.startswith(REFUSAL) and off.citations == []
    on = real_advisor.ask("how should I choose a PhD supervisor?")
    assert on.outcome is Outcome.ANSWERED and on.citations
    assert "supervisor" in on.text.lower()


@pytest.mark.slow
def test_salary_question_on_the_real_corpus_is_not_answered_as_if_covered(real_advisor: Advisor) -> None:
    """The essays talk about pay ("tons of money") but give no salary: not a full answer, and the
    reader is told which word they do not address."""
    answer = real_advisor.ask(SALARY)
    assert answer.coverage is Coverage.PARTIAL
    assert answer.text.startswith("The essays don't address “salary” directly")


@pytest.mark.slow
def test_downsides_are_the_cons_the_essays_list(real_advisor: Advisor) -> None:
    """No essay says "downsides"; the NTU student lists "General cons about doing ML research".
    Searched as typed, the unknown word refused the question."""
    answer = real_advisor.ask("what are the downsides of ml research")
    assert answer.outcome is Outcome.ANSWERED
    assert "It can be very discouraging at times" in answer.text


@pytest.mark.slow
def test_a_typo_is_not_taken_for_a_word_the_essays_do_not_use(real_advisor: Advisor) -> None:
    """ "shoud" was reported as a topic the essays do not address."""
    answer = real_advisor.ask("shoud i sign up for a bunch of hackathons")
    assert answer.outcome is Outcome.ANSWERED
    assert "shoud" not in answer.text and "hackathon" in answer.text.lower()


@pytest.mark.slow
def test_a_typo_in_a_glossary_phrase_is_written_out_as_the_phrase_is(real_advisor: Advisor) -> None:
    """The typo is corrected before the chat glossary reads the question: "grad shcool" is
    searched as "grad school" is, "graduate school"."""
    typo = real_advisor.ask("should i go to grad shcool")
    assert typo.query.standalone == real_advisor.ask("should i go to grad school").query.standalone
    assert typo.query.standalone == "should i go to graduate school"


@pytest.mark.slow
def test_how_much_time_is_answered_by_an_amount_in_words(real_advisor: Advisor) -> None:
    """No figure, but an answer: "I do not recommend spending too much time on it". Refused before
    as a question asking for a number that the statements do not hold."""
    answer = real_advisor.ask("how much time should i spend on leetcode")
    assert answer.outcome is Outcome.ANSWERED
    assert "I do not recommend spending too much time on it" in answer.text.split("\n")[0]
