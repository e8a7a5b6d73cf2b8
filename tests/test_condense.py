from __future__ import annotations

from advisor_bot.condense import answer_terms, clean_answer, condense, list_items, needs_context, resolve_ordinal

AREAS = ("The NTU blog lists foundations to learn first: traditional ML, neural networks, time series, "
         "computer vision and NLP [1].")


def turns(q: str, a: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


def test_without_history_the_question_is_the_query() -> None:
    assert condense("  how do I prepare for an ML interview? ") == "how do I prepare for an ML interview?"
    assert condense("how do I prepare?", []) == "how do I prepare?"


def test_a_self_contained_question_ignores_history() -> None:
    history = turns("what areas of AI should a beginner learn first?", AREAS)
    q = "how should I choose a PhD supervisor in a competitive lab?"
    assert condense(q, history) == q


def test_first_one_becomes_the_first_listed_item() -> None:
    history = turns("what areas of AI should a beginner learn first?", AREAS)
    query = condense("ok for the first one, which specific algorithms should i start with?", history)
    assert query.startswith("ok for traditional ML, which specific algorithms")
    assert "what areas of AI should a beginner learn first?" in query


def test_pronoun_follow_up_brings_the_topic_not_the_raw_turns() -> None:
    answer = ("He interned at FAIR in 2019 after Roberto Calandra invited him, and later got a second "
              "internship at DeepMind [1].\n\n*The local generator failed (timeout); this answer was written "
              "by the extractive generator instead.*")
    query = condense("how did the deepmind one go?", turns("what internships did the interconnects author do?", answer))
    assert "interconnects author" in query and "FAIR" in query and "Calandra" in query
    assert "[1]" not in query and "generator failed" not in query  # citations and notices are not topics


def test_needs_context() -> None:
    assert needs_context("what about the second one?")
    assert needs_context("and for PhDs?")
    assert needs_context("why?")
    assert not needs_context("how do I prepare for a machine learning interview at a big lab?")


def test_list_items_and_ordinals() -> None:
    assert list_items("Do these:\n- read papers\n- write code\n- ask") == ["read papers", "write code", "ask"]
    assert list_items(AREAS)[:2] == ["traditional ML", "neural networks"]
    assert resolve_ordinal("tell me about the last one", AREAS) == "tell me about NLP [1]"[: len("tell me about NLP")] or \
        resolve_ordinal("tell me about the last one", AREAS).startswith("tell me about ")
    assert resolve_ordinal("the ninth one?", AREAS) == "the ninth one?"  # no such item: unchanged
    assert resolve_ordinal("the second one?", "No list here.") == "the second one?"


def test_answer_terms_drop_stop_words_and_repeats() -> None:
    terms = answer_terms("The sources say the FAIR internship was the FAIR start", exclude="internship")
    assert terms == ["FAIR", "start"]
    assert clean_answer("Here is what the sources say:\n- Practice [2]") == "- Practice"
