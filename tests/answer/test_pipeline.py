"""answer/pipeline.py: question -> Query (encoded once) -> passages -> coverage -> evidence -> text
-> checked Answer, built from its parts and never from the Advisor."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from conftest import TINY
from helpers import CountingEmbedder, write_tiny_corpus

from advisor_bot import Advisor, AnswerStream, Outcome, Query, Settings, UnknownGeneratorError
from advisor_bot.answer.pipeline import AnswerPipeline
from advisor_bot.answer.retrieval import Searcher
from advisor_bot.generators import GeneratorRegistry
from advisor_bot.generators.wording import plain_title
from advisor_bot.index.embedding import Embedder
from advisor_bot.index.live import LiveIndex
from advisor_bot.index.store import IndexStore
from advisor_bot.records import Passage

QUESTION = "How do I prepare for coding interviews?"


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus, indexed once; tests open their own Advisor on it when they need a spy
    or other settings."""
    root = tmp_path_factory.mktemp("pipeline")
    write_tiny_corpus(root)
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def spied(bot: Advisor) -> tuple[Advisor, CountingEmbedder]:
    spy = CountingEmbedder(bot.embedder)  # type: ignore[arg-type]
    return Advisor(bot.settings, embedder=spy), spy  # type: ignore[arg-type]


def test_the_query_is_encoded_once_per_answer(bot: Advisor) -> None:
    advisor, spy = spied(bot)
    answer = advisor.ask(QUESTION)
    assert spy.queries == [QUESTION]
    assert answer.query.vector is not None and answer.citations


def test_a_follow_up_encodes_only_its_standalone_query(bot: Advisor) -> None:
    advisor, spy = spied(bot)
    history = [{"role": "user", "content": QUESTION}, {"role": "assistant", "content": "Practice LeetCode. [1]"}]
    answer = advisor.ask("and what about projects?", history)
    assert spy.queries == [answer.query.standalone]
    assert answer.query.standalone != answer.query.question


def test_a_question_with_typos_is_searched_spelt_right_and_shown_as_typed(bot: Advisor) -> None:
    typed = "How do I prepre for coding intervews?"
    answer = bot.ask(typed)
    assert answer.query.question == typed
    assert answer.query.standalone == QUESTION
    assert answer.text == bot.ask(QUESTION).text


def test_a_follow_up_brings_in_the_earlier_turn_s_words_spelt_right(bot: Advisor) -> None:
    history = [
        {"role": "user", "content": "How do I prepre for coding intervews?"},
        {"role": "assistant", "content": "Practice LeetCode. [1]"},
    ]
    standalone = bot.ask("and what about projects?", history).query.standalone
    assert "interviews" in standalone and "intervews" not in standalone and "prepre" not in standalone


def test_small_talk_is_answered_without_a_search_and_leaves_the_topic_alone(bot: Advisor) -> None:
    hi = bot.ask("hi")
    assert hi.outcome is Outcome.REFUSED and hi.text.startswith("Hi!")
    assert hi.passages == [] and hi.citations == [] and hi.resources == []
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": "Practice LeetCode. [1]"},
        {"role": "user", "content": "thanks!"},
        {"role": "assistant", "content": "You're welcome! Ask another question whenever you like."},
    ]
    follow_up = bot.ask("and what about projects?", history)
    assert "interviews" in follow_up.query.standalone and "thanks" not in follow_up.query.standalone


@pytest.mark.parametrize("question", ["what can you do?", "who are you", "help", "what essays do you have?"])
def test_a_question_about_the_assistant_lists_the_essays_it_answers_from(bot: Advisor, question: str) -> None:
    answer = bot.ask(question)
    assert answer.outcome is Outcome.REFUSED and answer.passages == [] and answer.citations == []
    essays = [d for d in bot.index.documents.values() if d.kind != "resource"]
    assert essays and all(plain_title(d.title) in answer.text for d in essays)
    assert "curated learning resources" in answer.text


def test_a_question_naming_a_topic_is_searched(bot: Advisor) -> None:
    assert bot.ask("what do you know about coding interviews?").citations


def test_spelling_correction_can_be_turned_off(bot: Advisor) -> None:
    advisor = Advisor(bot.settings.with_overrides(**{"answer.correct_spelling": False}), embedder=bot.embedder)
    typed = "How do I prepre for coding intervews?"
    assert advisor.ask(typed).query.standalone == typed


def test_each_option_of_a_comparison_adds_its_own_encoding(bot: Advisor) -> None:
    advisor, spy = spied(bot)
    answer = advisor.ask("should I practice LeetCode or choose a PhD supervisor?")
    assert spy.queries == [answer.query.standalone, "should I practice LeetCode?", "should I choose a PhD supervisor?"]
    assert len(answer.query.sides) == 2


def test_the_first_k_passages_of_a_comparison_speak_to_every_option(bot: Advisor) -> None:
    """Each option's best passage that the question's own search missed takes one of the last of
    the first k places (the ones it displaces follow it), is marked with its option, and the
    options' further passages come after; nothing retrieved is lost."""
    question = "should I practice LeetCode or choose a PhD supervisor?"
    query = bot.pipeline.make_query(Query(question=question), "extractive", {})
    retriever = bot.pipeline.searcher.retriever()
    own = retriever.search(query.text, 5, qvec=query.vector, mmr=bot.settings.retrieval.mmr)
    passages = bot.pipeline.retrieve(retriever, query, 5, {})
    assert [p.rank for p in passages] == list(range(1, len(passages) + 1))
    assert {p.chunk.chunk_id for p in own} <= {p.chunk.chunk_id for p in passages}
    assert len({p.chunk.chunk_id for p in passages}) == len(passages)
    for n, side in enumerate(query.sides, start=1):
        found = {p.chunk.chunk_id for p in retriever.search(side.label, 2, qvec=side.vector, mmr=False)}
        assert {p.chunk.chunk_id for p in passages[:5]} & found, side.label  # every option is heard in the first 5
        assert all(p.chunk.chunk_id in found for p in passages if p.from_option == n)
    brought = [p for p in passages if p.from_option]
    assert brought and all(p.chunk.chunk_id not in {o.chunk.chunk_id for o in own} for p in brought)
    assert all(p.from_option == 0 for p in passages if p.chunk.chunk_id in {o.chunk.chunk_id for o in own})


class ScriptedRetriever:
    """Test double: fixed passages per query text, to cause overlaps between the options'
    searches that the tiny corpus does not give."""

    def __init__(self, results: dict[str, list[Passage]]) -> None:
        self.results = results

    def search(self, query: str, k: int | None = None, **_: object) -> list[Passage]:
        return self.results[query][: k or 5]


def test_every_option_gets_its_best_passage_before_any_option_gets_a_second(bot: Advisor) -> None:
    query = bot.pipeline.make_query(Query(question="should I practice LeetCode or choose a PhD supervisor?"), "x", {})
    x, y = (side.label for side in query.sides)
    pool = bot.pipeline.searcher.retriever().search("research advice interviews papers", 7, mmr=False)
    assert len({p.chunk.chunk_id for p in pool}) == 7
    a, b, c, d, x1, y1, y2 = pool
    scripted = ScriptedRetriever({query.text: [a, b, c, d], x: [x1, y1], y: [y1, y2]})
    got = bot.pipeline.retrieve(scripted, query, 4, {})  # type: ignore[arg-type]
    assert [p.chunk.chunk_id for p in got] == [p.chunk.chunk_id for p in (a, b, x1, y1, c, d, y2)]
    assert [p.from_option for p in got] == [0, 0, 1, 2, 0, 0, 2]  # y1 is the second option's best
    assert [p.rank for p in got] == list(range(1, 8))
    # fewer than k passages of the question's own: the options' best follow them, nothing is pushed down
    scripted = ScriptedRetriever({query.text: [a, b], x: [x1, y1], y: [y1, y2]})
    got = bot.pipeline.retrieve(scripted, query, 4, {})  # type: ignore[arg-type]
    assert [p.chunk.chunk_id for p in got] == [p.chunk.chunk_id for p in (a, b, x1, y1, y2)]


def test_answer_to_dict_carries_outcome_coverage_query_and_highlighted_citations(bot: Advisor) -> None:
    answer = bot.ask(QUESTION)
    data = json.loads(json.dumps(answer.to_dict()))  # plain JSON: the CLI, UI, API and feedback log share it
    assert data["outcome"] == "answered" and data["coverage"] == "answered" and data["refused"] is False
    assert data["question"] == QUESTION and data["query"] == answer.query.standalone
    assert data["generator"] == "extractive" and data["notice"] is None
    assert data["index_version"] == bot.index.version
    assert [c["n"] for c in data["citations"]] == list(range(1, len(answer.citations) + 1))
    for c in data["citations"]:
        assert c["highlights"] and all(c["text"][a:b] in c["quote"] for a, b in c["highlights"])
    assert {"condense", "embed", "retrieve", "generate", "total"} <= set(data["timings"])
    assert len(data["passages"]) == len(answer.passages)


def test_streamed_text_is_the_answer_text(bot: Advisor) -> None:
    stream = bot.stream(QUESTION)
    assert isinstance(stream, AnswerStream) and stream.answer is None
    pieces = list(stream)
    assert len(pieces) > 1 and stream.answer is not None
    assert "".join(pieces).strip() == stream.answer.text


def test_an_unknown_generator_is_refused_before_anything_runs(bot: Advisor) -> None:
    advisor, spy = spied(bot)
    with pytest.raises(UnknownGeneratorError, match="Available: extractive, local, openai_compat") as caught:
        advisor.stream(QUESTION, generator="gpt-17")
    assert "'gpt-17'" in str(caught.value)
    assert spy.queries == [] and spy.texts == []  # nothing was encoded, let alone searched


def unavailable_local(bot: Advisor, tmp_path: Path) -> Advisor:
    missing = tmp_path / "missing.gguf"
    return Advisor(bot.settings.with_overrides(**{"generators.local.model_path": str(missing)}), embedder=bot.embedder)


def test_an_unavailable_generator_falls_back_with_what_is_missing(bot: Advisor, tmp_path: Path) -> None:
    stream = unavailable_local(bot, tmp_path).stream(QUESTION, generator="local")
    shown = "".join(stream)
    answer = stream.answer
    assert answer is not None
    assert answer.outcome is Outcome.FELL_BACK and answer.generator == "extractive" and answer.citations
    assert answer.notice and "local generator failed" in answer.notice
    assert "missing.gguf is not a file" in answer.notice
    assert answer.notice in shown and answer.notice not in answer.text  # streamed once, not kept in the text
    assert answer.coverage.value == "answered"  # the essays covered it; only the generator changed


def test_every_missing_piece_is_in_the_notice(bot: Advisor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As on a machine without llama-cpp-python: the notice lists the package and the model at once."""
    monkeypatch.setitem(sys.modules, "llama_cpp", None)  # import and find_spec now fail, as if not installed
    answer = unavailable_local(bot, tmp_path).ask(QUESTION, generator="local")
    assert answer.outcome is Outcome.FELL_BACK and answer.notice
    assert "llama-cpp-python is not installed" in answer.notice and "missing.gguf is not a file" in answer.notice


def test_the_pipeline_is_built_from_parts_without_an_advisor(bot: Advisor) -> None:
    s = bot.settings
    store = IndexStore(s.index_path, s.index, s.chunking)
    searcher = Searcher(LiveIndex(store, bot.embedder.name), bot.embedder, s.retrieval)
    pipeline = AnswerPipeline(searcher, bot.embedder, GeneratorRegistry(s), s.answer, s.retrieval)
    stream = pipeline.stream(QUESTION)
    list(stream)
    assert stream.answer is not None
    assert stream.answer.text == bot.ask(QUESTION).text


def test_k_limits_the_passages(bot: Advisor) -> None:
    assert len(bot.ask(QUESTION, k=2).passages) == 2
    assert len(bot.ask(QUESTION, k=4).passages) == 4
