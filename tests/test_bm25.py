from pathlib import Path

from advisor_bot.bm25 import BM25Index

TEXTS = ["How to prepare for an ML interview", "Practice LeetCode problems", "Choosing a PhD supervisor"]


def test_stemmed_search_and_round_trip(tmp_path: Path) -> None:
    index = BM25Index.build(TEXTS)
    rows, scores = index.search("interviewing preparation", 3)
    assert rows.tolist() == [0] and scores[0] > 0  # stemming joins interview/interviewing
    index.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    assert again.search("leetcode", 3)[0].tolist() == [1]
    assert again.scores("supervisor").argmax() == 2


def test_unknown_and_stop_words_score_nothing() -> None:
    index = BM25Index.build(TEXTS)
    assert index.search("the of and zebra", 3)[0].size == 0
    assert not index.scores("zebra").any()


def test_empty_index(tmp_path: Path) -> None:
    index = BM25Index.build([])
    index.save(tmp_path / "e")
    assert BM25Index.load(tmp_path / "e").search("anything", 5)[0].size == 0
