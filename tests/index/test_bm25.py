"""BM25: stemmed lexical search saved beside the vectors, with the text toolkit's words.

Dense vectors miss exact names ("LeetCode", "URECA"); BM25 catches them, and the relevance
gate asks it which question words the corpus never uses.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from helpers import in_a_fresh_process

from advisor_bot.index.bm25 import PARAMS_FILE, BM25Index, bm25_files
from advisor_bot.text.words import content_stems

TEXTS = ["How to prepare for an ML interview", "Practice LeetCode problems", "Choosing a PhD supervisor"]


def build(texts: list[str] = TEXTS, k1: float = 1.2, b: float = 0.75) -> BM25Index:
    return BM25Index.build(texts, k1=k1, b=b)


def test_stemmed_search_and_round_trip(tmp_path: Path) -> None:
    index = build()
    rows, scores = index.search("interviewing preparation", 3)
    assert rows.tolist() == [0] and scores[0] > 0  # stemming joins interview/interviewing
    index.save(tmp_path / "bm25")
    again = BM25Index.load(tmp_path / "bm25")
    assert again.search("leetcode", 3)[0].tolist() == [1]
    assert again.scores("supervisor").argmax() == 2
    assert (again.size, again.k1, again.b) == (3, 1.2, 0.75)
    np.testing.assert_allclose(again.scores("interview supervisor"), index.scores("interview supervisor"))


def test_parameters_are_used_and_saved(tmp_path: Path) -> None:
    """k1 and b come from index settings; a saved index keeps the ones it was built with."""
    texts = ["interview " * 8 + "tips", "interview advice", "supervisor"]
    flat, saturating = build(texts, k1=0.01, b=0.0), build(texts, k1=5.0, b=0.0)
    ratio_flat = flat.scores("interview")[0] / flat.scores("interview")[1]
    ratio_saturating = saturating.scores("interview")[0] / saturating.scores("interview")[1]
    assert ratio_flat < ratio_saturating  # repeated terms count for more as k1 grows
    saturating.save(tmp_path / "b")
    assert (tmp_path / "b" / PARAMS_FILE).is_file()
    loaded = BM25Index.load(tmp_path / "b")
    assert (loaded.k1, loaded.b) == (5.0, 0.0)


def test_unknown_and_stop_words_score_nothing() -> None:
    index = build()
    assert index.search("the of and zebra", 3)[0].size == 0
    assert not index.scores("zebra").any()
    assert index.query_tokens("the of and zebra") == []


def test_search_returns_at_most_k_best_first() -> None:
    index = build([*TEXTS, "Interview questions and interview answers"])
    rows, scores = index.search("interview", 1)
    assert rows.tolist() == [3] and scores.size == 1
    rows, scores = index.search("interview", 50)
    assert sorted(rows.tolist()) == [0, 3] and list(scores) == sorted(scores, reverse=True)


def test_term_stats_count_documents_per_stem() -> None:
    index = build([*TEXTS, "Interview questions"])
    stats = dict(index.term_stats("The interviews about salary and supervisors"))
    assert stats == {"interview": 2, "salari": 0, "supervisor": 1}


def test_query_words_are_the_text_toolkits_stems() -> None:
    """BM25 and the relevance gate must agree on words: each content stem is a BM25 term."""
    index = build(["interviewing leetcode supervisors"])
    assert {s for s, n in index.term_stats("interviewing leetcode supervisors") if n} == content_stems(
        "interviewing leetcode supervisors"
    )


def test_word_counts_are_the_indexed_words_whatever_was_searched(tmp_path: Path) -> None:
    """bm25s adds each word it is asked about to its word table; the typo vocabulary must not
    grow with the questions asked (nor be read while another thread's search adds to it)."""
    index = build()
    counts = index.word_counts()
    assert counts["interview"] == 1 and counts["leetcode"] == 1 and "for" not in counts
    index.save(tmp_path)  # as a build does, before any search
    index.search("reserchers interviewing zebras", 3)
    assert index.word_counts() == counts
    loaded = BM25Index.load(tmp_path)
    loaded.search("reserchers interviewing zebras", 3)
    assert loaded.word_counts() == counts


def test_knows_prefix() -> None:
    index = build(["internship applications"])
    assert index.knows_prefix("intern", 6)  # "internship" is indexed
    assert not index.knows_prefix("interview", 6)  # "interv" is no indexed stem's start
    assert not index.knows_prefix("int", 6)  # shorter than the prefix length


def test_empty_index(tmp_path: Path) -> None:
    index = build([])
    index.save(tmp_path / "e")
    loaded = BM25Index.load(tmp_path / "e")
    assert loaded.search("anything", 5)[0].size == 0
    assert loaded.scores("anything").shape == (0,)
    assert loaded.term_stats("anything") == []
    assert bm25_files(tmp_path / "e") and bm25_files(tmp_path / "missing") == []


def test_a_section_named_by_the_question_ranks_above_one_that_only_mentions_it() -> None:
    """bm25_text counts a section's own heading twice: "Generative AI" ranks above "Deep Tech
    Startups" for a question about the generative AI wave, though the startups section says
    "wave" and the other does not (the dev question that chose this, docs/RETRIEVAL.md)."""
    from advisor_bot.index.chunking import bm25_text
    from advisor_bot.records import Chunk

    def chunk(section: str, text: str) -> Chunk:
        return Chunk(chunk_id=section, doc_id="essay", section=section, text=text, start=0, end=len(text))

    startups = chunk("Careers > Deep Tech Startups", "A new wave of AI-native startups builds assistants and agents.")
    generative = chunk("Subfields of AI > Generative AI", "Recent fields, driven by Transformer and Diffusion models.")
    filler = [chunk(f"Careers > Role {i}", f"Generative models matter in role {i}.") for i in range(2)]
    filler += [chunk(f"Careers > Path {i}", f"Careers in research, path {i}.") for i in range(4)]
    chunks = [startups, generative, *filler]
    question = "what kicked off the generative AI wave?"
    plain = build([f"Essay\n{c.section}\n\n{c.text}" for c in chunks])
    weighted = build([bm25_text(c, "Essay") for c in chunks])
    assert plain.search(question, 1)[0].tolist() == [0]
    assert weighted.search(question, 1)[0].tolist() == [1]


def test_the_numpy_backend_builds_the_matrix_the_scipy_one_does() -> None:
    """The matrix bm25s builds on its numpy backend (ours) is the one its SciPy backend builds."""
    script = (
        "import json, bm25s, numpy as np\n"
        "from advisor_bot.index.bm25 import _tokenizer\n"
        "texts = [f'{w} practice interview paper {i}' for i, w in enumerate(['leetcode', 'phd', 'math'] * 20)]\n"
        "ids = _tokenizer().tokenize(texts, update_vocab=True, return_as='tuple', show_progress=False)\n"
        "model = bm25s.BM25(k1=1.2, b=0.75, csc_backend='scipy')\n"
        "model.index(ids, show_progress=False)\n"
        "print(json.dumps({k: np.asarray(model.scores[k]).tolist() for k in ('data', 'indices', 'indptr')}))\n"
    )
    _, scipy_built = in_a_fresh_process(script)
    ours = BM25Index.build(
        [f"{w} practice interview paper {i}" for i, w in enumerate(["leetcode", "phd", "math"] * 20)], k1=1.2, b=0.75
    )
    for key in ("data", "indices", "indptr"):
        np.testing.assert_array_equal(np.asarray(ours._model.scores[key]), np.asarray(scipy_built[key]))
