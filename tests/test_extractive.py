from advisor_bot.advisor import Advisor
from advisor_bot.generators.extractive import ExtractiveGenerator
from advisor_bot.prompts import REFUSAL


def test_answer_quotes_relevant_sentences_with_citations(tiny_advisor: Advisor) -> None:
    passages = tiny_advisor.retrieve("how should I pick a PhD supervisor?", 3)
    gen = ExtractiveGenerator(tiny_advisor.embedder)
    text = "".join(gen.generate("how should I pick a PhD supervisor?", passages, []))
    assert "mentor" in text
    assert "[1]" in text  # the PhD passage ranks first
    body = [line for line in text.splitlines() if line.startswith("- ")]
    assert body and all(line.rstrip().endswith("]") for line in body)


def test_sentences_are_not_repeated(tiny_advisor: Advisor) -> None:
    passages = tiny_advisor.retrieve("practice leetcode coding interview", 5)
    gen = ExtractiveGenerator(tiny_advisor.embedder, max_units=10, relative_floor=0.0, min_similarity=0.0)
    groups = gen.select("practice leetcode coding interview", passages + passages)  # every passage twice
    texts = [u.text for _, units in groups for u in units]
    assert len(texts) == len(set(texts))


def test_nothing_relevant_is_a_refusal(tiny_advisor: Advisor) -> None:
    passages = tiny_advisor.retrieve("how do I bake sourdough bread?", 3)
    gen = ExtractiveGenerator(tiny_advisor.embedder, min_similarity=0.6)
    text = "".join(gen.generate("how do I bake sourdough bread?", passages, []))
    assert text.startswith(REFUSAL)
    assert "closest topics" in text
    assert "[" not in text


def test_no_passages_is_a_refusal(tiny_advisor: Advisor) -> None:
    text = "".join(ExtractiveGenerator(tiny_advisor.embedder).generate("anything", [], []))
    assert text.startswith(REFUSAL)


def test_stored_sentence_vectors_spare_the_embedding(tiny_advisor: Advisor) -> None:
    from conftest import CountingEmbedder

    from advisor_bot.generators.extractive import ExtractiveGenerator

    passages = tiny_advisor.retrieve("How do I prepare for coding interviews?", 3)
    spy = CountingEmbedder(tiny_advisor.embedder)  # type: ignore[arg-type]
    fresh = ExtractiveGenerator(spy).select("prepare for coding interviews", passages)  # type: ignore[arg-type]
    assert spy.texts  # without the index's vectors, every sentence is embedded
    spy.texts.clear()
    reused = ExtractiveGenerator(spy, stored_vectors=tiny_advisor.index.stored_unit_vectors)  # type: ignore[arg-type]
    assert reused.select("prepare for coding interviews", passages) == fresh
    assert not spy.texts
