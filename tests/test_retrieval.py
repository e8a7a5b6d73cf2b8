from advisor_bot.advisor import Advisor
from advisor_bot.retrieval import RetrievalConfig, Retriever


def test_dense_search_ranks_the_relevant_passage_first(tiny_advisor: Advisor) -> None:
    timings: dict[str, float] = {}
    passages = tiny_advisor.retriever.search("how should I pick a PhD advisor?", 3, timings=timings)
    assert passages[0].document.doc_id == "phd-supervisor"
    assert [p.rank for p in passages] == [1, 2, 3]
    assert passages[0].score >= passages[1].score >= passages[2].score
    assert passages[0].scores["dense"] == passages[0].score
    assert {"embed", "dense"} <= set(timings)


def test_k_is_bounded_by_the_index(tiny_advisor: Advisor) -> None:
    r = Retriever(tiny_advisor.index, tiny_advisor.embedder, RetrievalConfig(k=3))
    assert len(r.search("interviews")) == 3
    assert len(r.search("interviews", 10_000)) == len(tiny_advisor.index)
    assert r.search("interviews", 0) == []
