"""answer/condense.py: a follow-up becomes a standalone query, so retrieval never searches with
raw history (nor with citations or notices of earlier answers)."""

from __future__ import annotations

import pytest

from advisor_bot import Advisor, Message
from advisor_bot.answer.condense import condense, list_items, needs_context, resolve_ordinal
from advisor_bot.text.words import content_words

AREAS = (
    "The NTU blog lists foundations to learn first: traditional ML, neural networks, time series, "
    "computer vision and NLP [1]."
)
# The start of the real corpus's answer to "how do I prepare for an ML interview?"
INTERVIEW_ANSWER = (
    "I have been through some technical interviews, and most of the time, as long as you have a good "
    "foundation in ML/AI, you should be fine. [1]\n\n"
    "- Practice Leetcode and other coding platforms - Surprisingly, this is still used even for ML research "
    "roles. [1]\n- Review Math, Statistics and Probability - This is the heart of AI. [1]\n"
)
INTERNSHIPS = (
    "He interned at FAIR in 2019 after Roberto Calandra invited him, and later got a second internship at "
    "DeepMind [1].\n\n*The local generator failed (timeout); this answer was written by the extractive "
    "generator instead.*"
)


def turns(question: str, answer: str) -> list[Message]:
    return [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]


def test_without_history_the_question_is_the_query() -> None:
    assert condense("  how do I prepare for an ML interview? ") == "how do I prepare for an ML interview?"
    assert condense("how do I prepare?", []) == "how do I prepare?"


def test_a_self_contained_question_is_searched_as_asked_with_chat_spellings_written_out() -> None:
    """Essays say "calculus", never "calc": searched as typed, the question would match nothing."""
    assert condense("can i skip calc?") == "can i skip calculus?"
    assert "statistics" in condense("do i need stats for ML research?")
    q = "how should I choose a PhD supervisor in a competitive lab?"
    assert condense(q, turns("what areas of AI should a beginner learn first?", AREAS)) == q


def test_what_about_follow_up_keeps_the_topic_not_the_previous_answer() -> None:
    query = condense("and what about the maths?", turns("how do I prepare for an ML interview?", INTERVIEW_ANSWER))
    words = set(content_words(query))
    assert "math" in words and "interview" in words
    # nothing of the previous answer: only the question it answered says what the topic is
    assert not words & {"leetcode", "statistics", "probability", "foundation", "technical", "coding"}
    assert "[1]" not in query and not query.lower().startswith("and what about")


MATHS_ANSWER = "Review Math, Statistics and Probability - This is the heart of AI. [1]"


def test_a_chain_of_follow_ups_keeps_the_conversation_topic() -> None:
    """Each follow-up is read against the previous question made standalone: the third turn is
    still about the interview, and "that" after a named subject points at that subject."""
    history = turns("how do I prepare for an ML interview?", INTERVIEW_ANSWER) + turns(
        "and what about the maths?", MATHS_ANSWER
    )
    swapped = condense("ok what about leetcode, how much time on that?", history)
    words = set(content_words(swapped))
    assert {"leetcode", "interview"} <= words
    assert not words & {"math", "statistics", "probability", "heart"}  # the subject it swapped out, and the answer
    onward = set(content_words(condense("how long should I spend on it?", history)))
    assert {"math", "interview"} <= onward  # "it" is the maths, asked about the interview


def test_what_about_a_pronoun_keeps_the_subject_it_points_at() -> None:
    history = turns("how do I prepare for an ML interview?", INTERVIEW_ANSWER) + turns(
        "and what about the maths?", "Start with linear algebra. [1]"
    )
    # "that" is the maths: not a new subject that would swap it out for the interview alone
    assert {"math", "interview"} <= set(content_words(condense("what about that?", history)))


def test_each_question_is_paired_with_the_answer_that_followed_it() -> None:
    """A greeting before the first question belongs to no question: the follow-up still points
    at the answer to the question it follows."""
    greeting: list[Message] = [{"role": "assistant", "content": "Hello! Ask me about internships."}]
    history = (
        greeting
        + turns("what internships did the interconnects author do?", INTERNSHIPS)
        + turns("how did he get it?", "Roberto asked him to join. [1]")
    )
    words = set(content_words(condense("was it worth it?", history)))
    # the second turn, made standalone, points at the first answer, not at the greeting
    assert "fair" in words and "hello" not in words


def test_first_one_becomes_the_first_listed_item() -> None:
    history = turns("what areas of AI should a beginner learn first?", AREAS)
    query = condense("ok for the first one, which specific algorithms should i start with?", history)
    assert "traditional ML, which specific algorithms" in query
    assert "first one" not in query
    assert {"areas", "beginner"} <= set(content_words(query))  # the topic of the earlier question


def test_last_one_and_missing_items() -> None:
    history = turns("what areas of AI should a beginner learn first?", AREAS)
    last = condense("ok and the last one?", history)
    assert "NLP" in last and "[1]" not in last  # the item, without the earlier answer's citation
    assert resolve_ordinal("tell me about the ninth one", AREAS) == "tell me about the ninth one"  # no such item
    assert resolve_ordinal("the second one?", "No list here.") == "the second one?"


def test_bulleted_answers_resolve_too() -> None:
    answer = "Do these:\n- read papers [1]\n- write code [2]\n- ask for feedback [1]"
    assert list_items(answer) == ["read papers [1]", "write code [2]", "ask for feedback [1]"]
    assert condense("what about the second one?", turns("what should a new PhD student do?", answer)).startswith(
        "write code"
    )


def test_pronoun_follow_up_brings_the_key_words_of_the_answer_not_its_citations_or_notice() -> None:
    query = condense(
        "how did he get that internship?", turns("what internships did the interconnects author do?", INTERNSHIPS)
    )
    words = set(content_words(query))
    assert {"interconnects", "author"} <= words  # the earlier question's topic
    assert {"fair", "calandra"} <= words  # what "he" and "that" point at
    assert "[1]" not in query and not words & {"generator", "failed", "timeout", "extractive"}


def test_he_or_she_is_the_person_the_earlier_question_named_not_the_answers_words() -> None:
    """ "did he publish a lot during his phd?" after "how did nathan lambert get into AI?": "he" is
    Nathan Lambert, whom the earlier question names; the answer's first sentence (an aside about
    Tyler Cowen, in the real corpus) would only pull the search away from his PhD."""
    aside = "Other thinkers I follow closely have begun to follow Tyler Cowen's lead on writing for the AIs. [1]"
    query = condense("did he publish a lot during his phd?", turns("how did nathan lambert get into AI?", aside))
    words = set(content_words(query))
    assert query.startswith("did he publish a lot during his phd?")
    assert {"nathan", "lambert"} <= words
    assert not words & {"tyler", "cowen", "thinkers"}
    mixed = condense("how did he get that internship?", turns("how did nathan lambert get into AI?", INTERNSHIPS))
    assert {"fair", "calandra"} <= set(content_words(mixed))  # "that" still points into the answer


def test_there_is_the_place_the_answer_named_but_is_there_is_no_place() -> None:
    """ "what did he do there?" after the A*STAR story: "there" is A*STAR, which only the answer
    names (searched without it, the NTU student's Continental internship answered)."""
    story = "Fortunately, after speaking with a senior at A*STAR, I applied for an internship. [1]"
    earlier = turns("how did joshua get his first research internship", story)
    assert "star" in content_words(condense("what did he do there", earlier))
    assert "star" in content_words(condense("what was it like there?", earlier))
    for existential in ("is there a course for that?", "are there any labs like it?", "there's more?"):
        assert "star" not in content_words(condense(existential.replace("that", "rl").replace("it", "ml"), earlier))


def test_a_named_follow_up_takes_the_topic_of_the_previous_question() -> None:
    """ "the deepmind one" names what it asks about: only the earlier question's topic is added
    (the previous rules also pulled in the answer's words; these add them only for he/it/that)."""
    query = condense(
        "how did the deepmind one go?", turns("what internships did the interconnects author do?", INTERNSHIPS)
    )
    assert query.startswith("how did the deepmind one go?")
    assert "interconnects author" in query
    assert "calandra" not in query.lower()


def test_needs_context() -> None:
    assert needs_context("what about the second one?")
    assert needs_context("and for PhDs?")
    assert needs_context("why?")
    assert not needs_context("how do I prepare for a machine learning interview at a big lab?")


@pytest.mark.parametrize(
    "question",
    ["how did the FAIR internship go?", "what was the interview like?", "how did his PhD turn out?"],
)
def test_how_an_event_went_leans_on_the_person_or_plan_before(question: str) -> None:
    """ "how did the FAIR internship go?" after a question about Nathan Lambert asks about his
    internship: searched alone it found another student's internship at Continental."""
    assert needs_context(question)
    query = condense(question, turns("how did nathan lambert get into ai research?", "Starting my PhD ... [1]"))
    assert query.startswith(question) and "nathan lambert" in query


def test_a_question_naming_its_own_event_and_what_it_asks_stands_alone() -> None:
    assert not needs_context("what was the most useful course for the deep learning specialization exam?")
    assert not needs_context("how did the first year of the PhD go for most students?")


def test_list_items() -> None:
    assert list_items("Do these:\n- read papers\n- write code\n- ask") == ["read papers", "write code", "ask"]
    assert list_items(AREAS)[:2] == ["traditional ML", "neural networks"]
    assert list_items("Nothing to list here.") == []


def test_the_pipeline_searches_with_the_standalone_query(tiny_advisor: Advisor) -> None:
    """Answer.query keeps the question as asked and the query retrieval used."""
    history = turns("how do I prepare for coding interviews?", "Practice LeetCode problems every week. [1]")
    answer = tiny_advisor.ask("and what about projects?", history)
    assert answer.query.question == "and what about projects?"
    assert "projects" in answer.query.standalone and "interviews" in answer.query.standalone
    assert "LeetCode" not in answer.query.standalone
    assert answer.to_dict()["query"] == answer.query.standalone


@pytest.mark.slow
def test_maths_follow_up_on_the_real_corpus_cites_the_maths_advice(real_advisor: Advisor) -> None:
    first = real_advisor.ask("how do I prepare for an ML interview?")
    answer = real_advisor.ask("and what about the maths?", turns(first.question, first.text))
    assert "math" in answer.query.standalone and "interview" in answer.query.standalone
    quoted = [u.text for c in answer.citations for u in c.quotes]
    assert any("Review Math, Statistics and Probability" in q for q in quoted)
    assert "Review Math, Statistics and Probability" in answer.text


@pytest.mark.slow
def test_how_an_internship_went_after_a_question_about_lambert_is_answered_by_him(real_advisor: Advisor) -> None:
    first = real_advisor.ask("how did nathan lambert get into ai research")
    answer = real_advisor.ask("how did the FAIR internship go?", turns(first.question, first.text))
    assert "Working at FAIR was wonderful" in answer.text
    assert {c.title for c in answer.citations} == {"My path into AI"}
