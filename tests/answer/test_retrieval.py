"""answer/retrieval.py: hybrid search (dense + BM25 fused by RRF), MMR, caps and the reranker hook,
on the tiny corpus with the real embedder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import TINY
from helpers import write_tiny_corpus

from advisor_bot import Advisor, ModelLoadError, Settings, SettingsError
from advisor_bot.answer.retrieval import AuthorNames, Retriever, mmr_order, rrf_fuse
from advisor_bot.index.embedding import Embedder
from advisor_bot.settings import RetrievalSettings

# A section made only of code: its chunk has no sentence units at all.
CODE_ESSAY = """---
title: "Snippets"
kind: note
---

## Zeros in NumPy

```python
import numpy as np
zeros_matrix = np.zeros((3, 3))
```
"""


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """One tiny index (plus a code-only essay) for the module: these tests only read it."""
    root = tmp_path_factory.mktemp("retrieval")
    write_tiny_corpus(root)
    (root / "corpus" / "essays" / "snippets.md").write_text(CODE_ESSAY, encoding="utf-8")
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def retriever(bot: Advisor, **overrides: object) -> Retriever:
    """A retriever over the module's index with some retrieval settings changed (validated)."""
    settings = bot.settings.with_overrides(**{f"retrieval.{k}": v for k, v in overrides.items()})
    return Retriever(bot.index, bot.embedder, settings.retrieval)


def test_hybrid_search_ranks_the_relevant_passage_first(bot: Advisor) -> None:
    timings: dict[str, float] = {}
    passages = bot.searcher.retriever().search("how should I pick a PhD advisor?", 3, timings=timings)
    assert passages[0].document.doc_id == "phd-supervisor"
    assert [p.rank for p in passages] == [1, 2, 3]
    for kind in ("essay", "resource"):  # best first among essays, then among resources
        scores = [p.score for p in passages if (p.document.kind == "resource") == (kind == "resource")]
        assert scores == sorted(scores, reverse=True)
    assert {"dense", "chunk", "unit", "rrf"} <= set(passages[0].scores)
    assert {"embed", "dense", "bm25", "fusion"} <= set(timings)


def test_passages_carry_their_sentences_stored_vectors(bot: Advisor, embedder: Embedder) -> None:
    """Later steps score sentences with these instead of embedding them again."""
    p = bot.searcher.retriever().search("Implement logistic regression from scratch", 1)[0]
    assert p.unit_vectors is not None and p.unit_vectors.shape == (len(p.units), embedder.dimension)
    fresh = embedder.encode([u.text for u in p.units])
    assert np.allclose(p.unit_vectors, fresh, atol=1e-4)


def test_a_given_query_vector_is_not_encoded_again(bot: Advisor, embedder: Embedder) -> None:
    from helpers import CountingEmbedder

    spy = CountingEmbedder(embedder)
    r = Retriever(bot.index, spy, bot.settings.retrieval)  # type: ignore[arg-type]
    qvec = embedder.encode_query("coding interviews")
    r.search("coding interviews", 2, qvec=qvec)
    assert spy.queries == []
    r.search("coding interviews", 2)
    assert spy.queries == ["coding interviews"]


def test_dense_score_blends_chunk_and_best_sentence(bot: Advisor) -> None:
    p = bot.searcher.retriever().search("Implement logistic regression from scratch", 1, mode="dense")[0]
    w = bot.settings.retrieval.unit_weight
    assert p.scores["dense"] == pytest.approx((1 - w) * p.scores["chunk"] + w * p.scores["unit"], abs=1e-5)
    # the matching sentence is closer to the query than its whole chunk is
    assert p.scores["unit"] > p.scores["chunk"]


def test_each_mode_answers_and_a_bad_mode_names_the_choices(bot: Advisor) -> None:
    r = bot.searcher.retriever()
    for mode in ("dense", "bm25", "hybrid"):
        assert r.search("LeetCode practice for coding interviews", 2, mode=mode), mode
    with pytest.raises(SettingsError, match="dense, bm25, hybrid"):
        r.search("x", 2, mode="magic")


def test_bm25_finds_an_exact_name(bot: Advisor) -> None:
    top = bot.searcher.retriever().search("Mario", 1, mode="bm25")
    assert top[0].document.doc_id == "interviews" and "Mario" in top[0].text


AUTHORED = {
    "practice-notes.md": "---\ntitle: Notes\nauthor: Sam Practice\n---\n\nI kept a notebook of every failed run.\n",
    # an author whose name is two words the essays use ("will", "young")
    "late-start.md": (
        "---\ntitle: A Late Start\nauthor: Will Young\n---\n\n"
        "When I was young I wanted to build robots. I learned to code late, at thirty.\n"
    ),
    "mentors.md": "---\ntitle: Mentors\n---\n\nYoung researchers should find a mentor early.\n",
    "lovelace.md": (
        "---\ntitle: A Long Road\nauthor: Sam Lovelace\n---\n\n"
        "My first two years went into building robots for a competition. "
        "Only after that did I write a paper, and it took eighteen months.\n"
    ),
}


@pytest.fixture(scope="module")
def authored(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus and two essays whose authors share a first name."""
    root = tmp_path_factory.mktemp("authored")
    write_tiny_corpus(root)
    for name, text in AUTHORED.items():
        (root / "corpus" / "essays" / name).write_text(text, encoding="utf-8")
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


def test_an_author_is_named_by_full_name_or_by_a_rare_name_of_their_own(authored: Advisor) -> None:
    names = AuthorNames(authored.index)
    assert names.named_in("what did Sam Lovelace do first?") == ["lovelace"]
    assert names.named_in("how long did lovelace's first paper take?") == ["lovelace"]  # a possessive, lower case
    assert names.named_in("what does Sam Practice keep?") == ["practice-notes"]  # the full name
    assert names.named_in("what does sam think?") == []  # two authors are called Sam
    assert names.named_in("how should I practice coding?") == []  # the essays use the word: not a name
    assert names.named_in("what does Ada Example say about LeetCode?") == ["interviews"]
    assert names.named_in("how do I prepare?") == []
    # a name made only of words the essays use is read as words
    assert names.named_in("will a young engineer still need to practice LeetCode?") == []


def test_a_question_naming_an_author_finds_their_essay(authored: Advisor) -> None:
    """Lovelace's essay never says "Lovelace": without the author's ranking a question about her
    finds other essays first."""
    question = "how did lovelace get started?"
    with_name = [p.document.doc_id for p in retriever(authored).search(question, 3, mmr=False)]
    without = [p.document.doc_id for p in retriever(authored, author_weight=0).search(question, 3, mmr=False)]
    assert with_name[0] == "lovelace"
    assert with_name[0] == "lovelace" and without[0] != "lovelace"
    for mode in ("dense", "bm25"):  # a ranking of hybrid search only
        on, off = (retriever(authored, author_weight=w).search(question, 3, mode=mode, mmr=False) for w in (0.7, 0))
        assert [(p.chunk.chunk_id, p.score) for p in on] == [(p.chunk.chunk_id, p.score) for p in off]


def test_a_question_naming_an_author_is_answered_from_their_essay(authored: Advisor) -> None:
    """ "what did Lovelace say about papers?" is answered by Lovelace, not padded with the other
    essays that speak of papers; with `answer.named_author_only` off, they may come in."""
    question = "what did lovelace say about writing papers?"
    answer = authored.ask(question)
    sources = {c.passage.document.doc_id for c in answer.citations}
    assert sources == {"lovelace"}
    loose = Advisor(authored.settings.with_overrides(**{"answer.named_author_only": False}), embedder=authored.embedder)
    assert {c.passage.document.doc_id for c in loose.ask(question).citations} != {
        "lovelace"
    }  # what makes this test meaningful


def test_a_follow_up_naming_another_author_is_answered_by_them(authored: Advisor) -> None:
    """The condensed follow-up carries the author asked about before ("... lovelace say failed
    runs papers"); the one the user names now answers, not both."""
    history = [
        {"role": "user", "content": "what did lovelace say about failed runs and papers?"},
        {"role": "assistant", "content": "Only after that did I write a paper, and it took eighteen months."},
    ]
    answer = authored.ask("and Sam Practice?", history=history)
    assert "lovelace" in answer.query.text.lower()  # both are named in what retrieval searches with
    assert {c.passage.document.doc_id for c in answer.citations} == {"practice-notes"}


def test_k_is_bounded_by_the_index(bot: Advisor) -> None:
    r = retriever(bot, top_k=3)
    assert len(r.search("interviews")) == 3
    assert len(r.search("interviews", 10_000)) == len(bot.index)
    assert r.search("interviews", 0) == []


def test_rrf_fuse_rewards_agreement_and_respects_weights() -> None:
    fused = rrf_fuse([[1, 2, 3], [3, 1, 4]], [1.0, 1.0], k=10)
    assert max(fused, key=fused.__getitem__) == 1  # 1st and 2nd beats 3rd and 1st
    assert fused[1] == pytest.approx(1 / 11 + 1 / 12)
    assert fused[4] == pytest.approx(1 / 13)
    lexical_heavy = rrf_fuse([[1, 2], [2, 1]], [0.2, 1.0], k=10)
    assert lexical_heavy[2] > lexical_heavy[1]


def test_mmr_skips_a_near_duplicate() -> None:
    vecs = np.array([[1, 0, 0], [0.999, 0.045, 0], [0, 1, 0]], dtype=np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    relevance = np.array([1.0, 0.95, 0.6])
    assert mmr_order(relevance, vecs, 3, lam=1.0) == [0, 1, 2]  # pure relevance
    assert mmr_order(relevance, vecs, 2, lam=0.5) == [0, 2]  # the duplicate waits
    assert mmr_order(np.array([]), vecs[:0], 3, lam=0.5) == []


def test_mmr_in_search_changes_order_not_the_best(bot: Advisor) -> None:
    """MMR takes the most relevant passage first. (With resources_last a resource that is the
    best moves behind the essays after MMR, and the essay MMR took second, being least like it,
    may then lead: that order is the resource rule's, tested below.)"""
    r = retriever(bot, resources_last=False)
    plain = r.search("interviews projects coding", 4, mmr=False)
    diverse = r.search("interviews projects coding", 4, mmr=True)
    assert plain[0].chunk.chunk_id == diverse[0].chunk.chunk_id  # the best stays first
    assert len(diverse) == 4


def test_resource_cap_keeps_short_entries_from_filling_the_top(bot: Advisor) -> None:
    query = "LeetCode Sutton Barto reinforcement learning book coding practice"
    capped = retriever(bot, max_resource_passages=1)
    free = retriever(bot, max_resource_passages=-1)
    assert [p.document.kind for p in free.search(query, 3)].count("resource") == 2
    assert [p.document.kind for p in capped.search(query, 3)].count("resource") == 1
    # the capped entry is moved down, not dropped
    assert [p.document.kind for p in capped.search(query, 10)].count("resource") == 2


def test_resources_follow_the_essays_within_the_top_k(bot: Advisor) -> None:
    query = "LeetCode coding practice for interviews"
    free = retriever(bot, resources_last=False).search(query, 4)
    kinds = [p.document.kind for p in free]
    assert kinds[0] == "resource" and "resource" not in kinds[-1:]  # what makes this test meaningful
    last = retriever(bot, resources_last=True).search(query, 4)
    assert {p.chunk.chunk_id for p in last} == {p.chunk.chunk_id for p in free}  # the same top k
    in_order = [p.document.kind == "resource" for p in last]
    assert in_order == sorted(in_order)  # essays first, then resources
    assert [p.rank for p in last] == [1, 2, 3, 4]


def test_per_document_cap(bot: Advisor) -> None:
    r = retriever(bot, max_passages_per_document=1, max_resource_passages=-1)
    docs = [p.document.doc_id for p in r.search("interviews coding projects", 4)]
    assert len(docs) == len(set(docs))


def test_retrieval_settings_are_validated(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"retrieval\.mode"):
        Settings.load(tmp_path, env={}, **{"retrieval.mode": "sparse"})
    with pytest.raises(SettingsError, match=r"retrieval\.unit_weight"):
        Settings.load(tmp_path, env={}, **{"retrieval.unit_weight": 1.5})
    assert RetrievalSettings().mode == "hybrid"


def test_a_chunk_without_sentences_falls_back_to_its_own_cosine(bot: Advisor) -> None:
    """A code-only section has no sentence units: its sentence score is the chunk's cosine."""
    top = bot.searcher.retriever().search("import numpy zeros matrix", 1, mode="dense")
    assert top[0].document.doc_id == "snippets" and top[0].units == ()
    assert top[0].scores["unit"] == pytest.approx(top[0].scores["chunk"])
    assert top[0].unit_vectors is not None and len(top[0].unit_vectors) == 0


@pytest.mark.slow  # imports torch for the CrossEncoder (about 10 s)
def test_reranker_hook_reorders_with_a_cross_encoder(bot: Advisor, tmp_path: Path) -> None:
    """No cross-encoder weights exist offline here, so this builds a tiny, untrained one from
    the packaged MiniLM folder: it checks the code path (load, score pairs, reorder), not the
    quality of the ordering."""
    from sentence_transformers import CrossEncoder

    from advisor_bot.index.embedding import resolve_model

    source, _ = resolve_model("all-MiniLM-L6-v2")
    folder = tmp_path / "tiny-cross-encoder"
    CrossEncoder(source, num_labels=1, device="cpu", local_files_only=True).save(str(folder))
    settings = bot.settings.with_overrides(
        **{
            "retrieval.reranker_model": str(folder),
            "retrieval.reranker_depth": 4,
            "retrieval.max_resource_passages": -1,
            "retrieval.resources_last": False,
        }
    )
    reranking = Advisor(settings, embedder=bot.embedder)
    timings: dict[str, float] = {}
    top = reranking.searcher.retriever().search("how do I read papers quickly?", 4, mmr=False, timings=timings)
    assert "rerank" in timings
    scores = [p.scores["rerank"] for p in top]
    assert scores == sorted(scores, reverse=True)
    assert [p.score for p in top] == scores


def test_reranker_that_is_not_a_folder_fails_clearly(bot: Advisor) -> None:
    settings = bot.settings.with_overrides(**{"retrieval.reranker_model": "cross-encoder/ms-marco-MiniLM-L6-v2"})
    with pytest.raises(ModelLoadError, match="reranker_model"):
        Advisor(settings, embedder=bot.embedder).retrieve("papers", 2)


def test_beir_bench_loader_and_metrics(tmp_path: Path) -> None:
    """bench/beir.py measures retrieval on BEIR folders; a two-document sample checks its
    loader and metrics without running the benchmark."""
    import importlib.util
    import json

    from helpers import REPO

    spec = importlib.util.spec_from_file_location("beir_bench", REPO / "bench" / "beir.py")
    assert spec and spec.loader
    beir = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(beir)
    folder = tmp_path / "mini"
    (folder / "qrels").mkdir(parents=True)
    docs = [{"_id": "1", "title": "Cats", "text": "Cats purr."}, {"_id": "2", "title": "Dogs", "text": "Dogs bark."}]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in docs))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "what purrs"}))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\t1\t1\n")
    loaded, queries, qrels = beir.load_beir(folder, "test")
    assert [d.doc_id for d in loaded] == ["1", "2"] and queries == {"q": "what purrs"} and qrels == {"q": {"1": 1}}
    assert beir.ndcg_at(["1", "2"], qrels["q"], 10) == 1.0
    assert beir.ndcg_at(["2", "1"], qrels["q"], 10) == pytest.approx(1 / np.log2(3))
    assert beir.recall_at(["2"], qrels["q"], 10) == 0.0 and beir.rr_at(["2", "1"], qrels["q"], 10) == 0.5
