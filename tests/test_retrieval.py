from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from advisor_bot.advisor import Advisor
from advisor_bot.errors import ModelLoadError, SettingsError
from advisor_bot.retrieval import RetrievalConfig, Retriever, mmr_order, rrf_fuse


def test_hybrid_search_ranks_the_relevant_passage_first(tiny_advisor: Advisor) -> None:
    timings: dict[str, float] = {}
    passages = tiny_advisor.retriever.search("how should I pick a PhD advisor?", 3, timings=timings)
    assert passages[0].document.doc_id == "phd-supervisor"
    assert [p.rank for p in passages] == [1, 2, 3]
    assert passages[0].score >= passages[1].score >= passages[2].score
    assert {"dense", "chunk", "unit", "rrf"} <= set(passages[0].scores)
    assert {"embed", "dense", "bm25", "fusion"} <= set(timings)


def test_dense_score_blends_chunk_and_best_sentence(tiny_advisor: Advisor) -> None:
    p = tiny_advisor.retriever.search("Implement logistic regression from scratch", 1, mode="dense")[0]
    w = tiny_advisor.retriever.config.unit_weight
    assert p.scores["dense"] == pytest.approx((1 - w) * p.scores["chunk"] + w * p.scores["unit"], abs=1e-5)
    # the matching sentence is closer to the query than its whole chunk is
    assert p.scores["unit"] > p.scores["chunk"]


def test_each_mode_answers(tiny_advisor: Advisor) -> None:
    r = tiny_advisor.retriever
    for mode in ("dense", "bm25", "hybrid"):
        top = r.search("LeetCode practice for coding interviews", 2, mode=mode)
        assert top, mode
    with pytest.raises(SettingsError, match="dense, bm25, hybrid"):
        r.search("x", 2, mode="magic")


def test_bm25_finds_an_exact_name_dense_ranks_lower(tiny_advisor: Advisor) -> None:
    top = tiny_advisor.retriever.search("Mario", 1, mode="bm25")
    assert top[0].document.doc_id == "interviews" and "Mario" in top[0].text


def test_k_is_bounded_by_the_index(tiny_advisor: Advisor) -> None:
    r = Retriever(tiny_advisor.index, tiny_advisor.embedder, RetrievalConfig(k=3))
    assert len(r.search("interviews")) == 3
    assert len(r.search("interviews", 10_000)) == len(tiny_advisor.index)
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


def test_mmr_in_search_changes_order_not_membership_of_the_pool(tiny_advisor: Advisor) -> None:
    r = tiny_advisor.retriever
    plain = r.search("interviews projects coding", 4, mmr=False)
    diverse = r.search("interviews projects coding", 4, mmr=True)
    assert plain[0].chunk.chunk_id == diverse[0].chunk.chunk_id  # the best stays first
    assert len(diverse) == 4


def test_resource_cap_keeps_short_entries_from_filling_the_top(tiny_advisor: Advisor) -> None:
    base = tiny_advisor.retriever.config
    query = "LeetCode Sutton Barto reinforcement learning book coding practice"
    capped = Retriever(tiny_advisor.index, tiny_advisor.embedder, dataclasses.replace(base, max_resource_passages=1))
    free = Retriever(tiny_advisor.index, tiny_advisor.embedder, dataclasses.replace(base, max_resource_passages=-1))
    kinds_free = [p.document.kind for p in free.search(query, 3)]
    kinds_capped = [p.document.kind for p in capped.search(query, 3)]
    assert kinds_free.count("resource") == 2
    assert kinds_capped.count("resource") == 1
    # the capped entry is moved down, not dropped
    assert [p.document.kind for p in capped.search(query, 10)].count("resource") == 2


def test_per_document_cap(tiny_advisor: Advisor) -> None:
    cfg = dataclasses.replace(tiny_advisor.retriever.config, max_passages_per_document=1, max_resource_passages=-1)
    r = Retriever(tiny_advisor.index, tiny_advisor.embedder, cfg)
    docs = [p.document.doc_id for p in r.search("interviews coding projects", 4)]
    assert len(docs) == len(set(docs))


def test_reranker_hook_reorders_with_a_cross_encoder(tiny_advisor: Advisor, tmp_path: Path) -> None:
    """No cross-encoder weights exist offline here, so this builds a tiny, untrained one from
    the packaged MiniLM folder: it checks the code path (load, score pairs, reorder), not the
    quality of the ordering."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import CrossEncoder

    from advisor_bot.embedding import resolve_model

    source, _ = resolve_model("all-MiniLM-L6-v2")
    folder = tmp_path / "tiny-cross-encoder"
    CrossEncoder(source, num_labels=1, device="cpu", local_files_only=True).save(str(folder))
    cfg = dataclasses.replace(tiny_advisor.retriever.config, reranker_model=str(folder), reranker_depth=4,
                              max_resource_passages=-1)
    r = Retriever(tiny_advisor.index, tiny_advisor.embedder, cfg)
    timings: dict[str, float] = {}
    top = r.search("how do I read papers quickly?", 4, mmr=False, timings=timings)
    assert "rerank" in timings
    scores = [p.scores["rerank"] for p in top]
    assert scores == sorted(scores, reverse=True)
    assert [p.score for p in top] == scores


def test_reranker_that_is_not_a_folder_fails_clearly(tiny_advisor: Advisor) -> None:
    cfg = dataclasses.replace(tiny_advisor.retriever.config, reranker_model="cross-encoder/ms-marco-MiniLM-L6-v2")
    r = Retriever(tiny_advisor.index, tiny_advisor.embedder, cfg)
    with pytest.raises(ModelLoadError, match="reranker_model"):
        r.search("papers", 2)


def test_index_without_sentence_units_still_searches(tiny_advisor: Advisor) -> None:
    """A chunk with no units (or an index loaded without them) falls back to the chunk cosine."""
    idx = dataclasses.replace(tiny_advisor.index, unit_index=None, unit_table=None, unit_offsets=None)
    top = Retriever(idx, tiny_advisor.embedder).search("PhD supervisor", 1, mode="dense")
    assert top[0].scores["unit"] == pytest.approx(top[0].scores["chunk"])


def test_config_validation() -> None:
    with pytest.raises(SettingsError):
        RetrievalConfig(mode="sparse")
    with pytest.raises(SettingsError):
        RetrievalConfig(unit_weight=1.5)


def test_beir_bench_loader_and_metrics(tmp_path: Path) -> None:
    """bench/beir.py reads BEIR folders; a three-document sample keeps this fast."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("beir_bench", Path(__file__).resolve().parents[1] / "bench" / "beir.py")
    assert spec and spec.loader
    beir = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(beir)
    folder = tmp_path / "mini"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(d) for d in [
        {"_id": "1", "title": "Cats", "text": "Cats purr."}, {"_id": "2", "title": "Dogs", "text": "Dogs bark."}]))
    (folder / "queries.jsonl").write_text(json.dumps({"_id": "q", "text": "what purrs"}))
    (folder / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq\t1\t1\n")
    docs, queries, qrels = beir.load_beir(folder, "test")
    assert [d.doc_id for d in docs] == ["1", "2"] and queries == {"q": "what purrs"} and qrels == {"q": {"1": 1}}
    assert beir.ndcg_at(["1", "2"], qrels["q"], 10) == 1.0
    assert beir.ndcg_at(["2", "1"], qrels["q"], 10) == pytest.approx(1 / np.log2(3))
    assert beir.recall_at(["2"], qrels["q"], 10) == 0.0 and beir.rr_at(["2", "1"], qrels["q"], 10) == 0.5
    shutil.rmtree(folder)
