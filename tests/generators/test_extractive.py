"""generators/extractive.py and wording.py: the answer that needs no model says the chosen points
in the essays' own words, introduced by who is speaking, each citing its passage."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from conftest import TINY
from helpers import CountingEmbedder, write_tiny_corpus

from advisor_bot import Advisor, Document, Evidence, Query, Settings
from advisor_bot.generators import GeneratorRegistry, NoOptions
from advisor_bot.generators.extractive import ExtractiveGenerator
from advisor_bot.generators.wording import NO_TOPICS_HINT, REFUSAL, plain_section, plain_title, refusal_text, speaker
from advisor_bot.index.embedding import Embedder
from advisor_bot.records import SIDE_SCORE

MARKER_AT_END = re.compile(r"\[\d+\]$")


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    root = tmp_path_factory.mktemp("extractive")
    write_tiny_corpus(root)
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def generate(bot: Advisor, question: str) -> tuple[str, Evidence]:
    """The extractive text for a question, from the evidence the pipeline would choose."""
    pipe = bot.pipeline
    query = pipe.make_query(Query(question=question), "extractive", {})
    retriever = bot.searcher.retriever()
    evidence = pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))
    gen = GeneratorRegistry(bot.settings).get("extractive")
    return "".join(gen.generate(query, evidence)), evidence


def test_answer_quotes_relevant_sentences_with_citations(bot: Advisor) -> None:
    text, evidence = generate(bot, "how should I pick a PhD supervisor?")
    assert "mentor" in text
    lines = [line for line in text.splitlines() if line.strip()]
    lead = evidence.points[0]
    assert lines[0] == f"{lead.text} [{lead.passage}]"  # the best statement opens the answer
    assert evidence.passages[lead.passage - 1].document.doc_id == "phd-supervisor"
    bullets = [line for line in lines if line.startswith("- ")]
    assert bullets and all(MARKER_AT_END.search(line) for line in bullets)


def test_every_point_is_said_once_with_its_speaker(bot: Advisor) -> None:
    text, evidence = generate(bot, "How do I prepare for coding interviews?")
    assert len(evidence.points) > 1
    for point in evidence.points:
        assert text.count(point.text) == 1
    # the points after the first are grouped under who says them (the essay's `voice`)
    assert "\nAda Example, an ML engineer who interviews candidates, in “Tips for ML Interviews”:\n- " in text


def test_resources_are_listed_as_links(bot: Advisor) -> None:
    text, evidence = generate(bot, "where can I practice coding interview problems?")
    assert evidence.resources
    assert "\nWhere to learn:\n- [LeetCode](https://leetcode.com/): Practice problems for coding interviews." in text


def test_each_option_is_introduced_by_its_label(bot: Advisor) -> None:
    text, evidence = generate(bot, "should I practice LeetCode or choose a PhD supervisor?")
    sides = [p for p in evidence.points if p.side]
    assert len(sides) == 2
    for point in sides:
        assert f"\nOn “{point.side}”, " in text and f"- {point.text} [{point.passage}]" in text


def test_no_points_no_text(bot: Advisor) -> None:
    """Refusing is the pipeline's job: with nothing to say, the generator says nothing."""
    gen = GeneratorRegistry(bot.settings).get("extractive")
    assert list(gen.generate(Query("anything"), Evidence(passages=[]))) == []


def test_nothing_relevant_is_a_refusal_naming_the_nearest_topics(bot: Advisor) -> None:
    answer = bot.ask("how do I bake sourdough bread?")
    assert answer.refused and answer.text.startswith(REFUSAL)
    assert "nearest topics" in answer.text and "[" not in answer.text
    assert refusal_text([]) == f"{REFUSAL} {NO_TOPICS_HINT}"


def test_a_refusal_names_the_questions_own_topics_before_an_options(bot: Advisor) -> None:
    """The nearest topics come from the question's own passages first ("alphago vs lee sedol"
    must not name the LeetCode section its option "lee sedol" brought into the first five)."""
    answer = bot.ask("how do I bake sourdough bread?")
    own = answer.passages
    from_option = [replace(p, scores={**p.scores, SIDE_SCORE: 1.0}) for p in own[:2]]
    mixed = from_option + list(own[2:])
    assert len({p.title for p in own}) >= 2
    assert refusal_text(mixed) == refusal_text(list(own[2:]) + from_option)


def test_stored_sentence_vectors_spare_the_embedding(bot: Advisor) -> None:
    """The index's sentence vectors score every sentence: answering encodes the question and nothing else."""
    spy = CountingEmbedder(bot.embedder)  # type: ignore[arg-type]
    answer = Advisor(bot.settings, embedder=spy).ask("How do I prepare for coding interviews?")  # type: ignore[arg-type]
    assert answer.citations
    assert spy.queries == ["How do I prepare for coding interviews?"] and spy.texts == []


def test_the_extractive_generator_has_no_options_and_no_condenser() -> None:
    assert ExtractiveGenerator.name == "extractive" and ExtractiveGenerator.Options is NoOptions
    assert ExtractiveGenerator.can_condense is False


def test_sources_are_named_the_way_a_person_would() -> None:
    assert plain_title("💡 TIL: Advice for Mid-Career AI Researchers") == "Advice for Mid-Career AI Researchers"
    assert plain_section("Guide > 3. Thinking Ahead") == "Thinking ahead"
    assert plain_section("Develop Strong Coding Skills for ML") == "Develop strong coding skills for ML"
    doc = Document("d", "💡 TIL: Reading Papers", "", "p", "h", voice="A PhD student.", author="Ada")
    assert speaker(doc) == "Ada, a PhD student, in “Reading Papers”"
    assert speaker(doc, named=False) == "A PhD student, in “Reading Papers”"
    assert speaker(Document("d", "Notes", "", "p", "h", voice="A PhD student")) == "A PhD student, in “Notes”"
    assert speaker(Document("d", "Notes", "", "p", "h", author="Ada")) == "Ada, in “Notes”"
    assert speaker(Document("d", "Notes", "", "p", "h")) == "In “Notes”"
