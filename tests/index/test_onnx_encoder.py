"""The exported ONNX encoder: the same vectors as sentence-transformers, whatever the batching.

Questions run on the ONNX export while an index may have been built by either encoder
(AutoEmbedder falls back to sentence-transformers when the export fails), so the two must agree
to within 1e-4 cosine on every kind of text the product encodes.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from advisor_bot.errors import ModelLoadError
from advisor_bot.index.cpu_load import usable_cores
from advisor_bot.index.embedding import AutoEmbedder, Embedder, SentenceEmbedder, make_embedder
from advisor_bot.index.onnx_encoder import (
    LEGACY_ONNX_FILES,
    LOAD_READINGS,
    ONNX_FILE,
    UNFUSED_PASSES,
    OnnxEmbedder,
    _batches,
    export,
)
from advisor_bot.settings import EmbeddingSettings

TEXTS = [
    "how do I prepare for an ML interview?",  # a question
    "can i skip calc?",  # short and informal
    "Research is a marathon. Pick a problem you care about, then read five to twenty papers on it.",
    "Über-naïve café résumé — “quotes”, emoji 🙂 and CJK 研究 survive tokenising.",
    # longer than the model's 256 tokens: both encoders truncate it the same way
    " ".join(f"Sentence {i} says that practice beats talent in coding interviews." for i in range(60)),
    "",
]


def _onnx(embedder: Embedder) -> OnnxEmbedder:
    impl = embedder._current()  # type: ignore[attr-defined]
    assert isinstance(impl, OnnxEmbedder)
    return impl


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_onnx_vectors_match_sentence_transformers(embedder: Embedder) -> None:
    reference = SentenceEmbedder().encode(TEXTS)
    for vectors in (embedder.encode(TEXTS), np.stack([embedder.encode_query(t) for t in TEXTS])):
        cosines = np.sum(vectors * reference, axis=1)
        assert cosines.min() > 1 - 1e-4, cosines
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_both_encoders_count_the_tokens_the_model_reads(embedder: Embedder) -> None:
    """Token counts weigh sentence vectors into chunk vectors, so an index built by either
    encoder pools the same way: special tokens aside, cut at the model's 256."""
    counts = embedder.token_counts(TEXTS)
    np.testing.assert_array_equal(counts, SentenceEmbedder().token_counts(TEXTS))
    assert counts[1] == 6  # can, i, skip, cal, ##c, ?
    assert counts[4] == 254 and counts[5] == 0


def test_batching_by_tokens_changes_no_vector(embedder: Embedder) -> None:
    onnx = _onnx(embedder)
    settings = onnx.settings
    one_by_one = OnnxEmbedder(
        onnx.name, onnx.model_dir, onnx.onnx_path, settings.model_copy(update={"batch_size": 1})
    ).encode(TEXTS)
    unlimited = OnnxEmbedder(
        onnx.name, onnx.model_dir, onnx.onnx_path, settings.model_copy(update={"batch_tokens": 1_000_000})
    ).encode(TEXTS)
    default = onnx.encode(TEXTS)
    np.testing.assert_allclose(default, one_by_one, atol=1e-5)
    np.testing.assert_allclose(unlimited, one_by_one, atol=1e-5)
    np.testing.assert_allclose(default[0], onnx.encode_query(TEXTS[0]), atol=1e-5)


@pytest.mark.parametrize(("pooling", "normalize"), [("mean", True), ("mean", False), ("cls", True), ("cls", False)])
def test_a_question_pools_as_a_batch_does(embedder: Embedder, pooling: str, normalize: bool) -> None:
    """The single-question path pools on its own (a sum and a dot product, no padding): for
    each pooling a model may declare, it gives the batch path's vector."""
    onnx = _onnx(embedder)
    encoder = OnnxEmbedder(onnx.name, onnx.model_dir, onnx.onnx_path, onnx.settings)
    encoder.pooling, encoder.normalize = pooling, normalize
    for text in TEXTS:
        np.testing.assert_allclose(encoder.encode_query(text), encoder.encode([text])[0], rtol=1e-5, atol=1e-6)


def test_batches_keep_both_limits_and_every_text_once() -> None:
    lengths = [3, 250, 12, 12, 40, 256, 7, 30]
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches = _batches(order, lengths, max_texts=3, max_tokens=100)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    assert [i for b in batches for i in b] == order  # shortest first, nothing reordered
    for batch in batches:
        padded = len(batch) * max(lengths[i] for i in batch)
        assert len(batch) <= 3 and (padded <= 100 or len(batch) == 1)
    assert [lengths[i] for i in batches[-1]] == [256]  # a text over the budget runs alone


@pytest.mark.parametrize("spinning", [False, True])
def test_the_question_encoder_spins_only_when_asked(embedder: Embedder, spinning: bool) -> None:
    """Told to spin or not, the threads do so always (the default, "auto", decides per question
    below): spinning ones are faster on an idle machine and slower beside a busy server
    (bench/query_encoding.py)."""
    onnx = _onnx(embedder)
    encoder = OnnxEmbedder(
        onnx.name, onnx.model_dir, onnx.onnx_path, onnx.settings.model_copy(update={"query_spinning": spinning})
    )
    options = encoder.query_session().get_session_options()
    key = "session.intra_op.allow_spinning"  # onnxruntime spins unless told "0"
    if spinning:
        with pytest.raises(RuntimeError, match="does not have configuration"):
            options.get_session_config_entry(key)
    else:
        assert options.get_session_config_entry(key) == "0"
    np.testing.assert_allclose(encoder.encode_query(TEXTS[0]), onnx.encode([TEXTS[0]])[0], atol=1e-5)


def _auto(embedder: Embedder, tmp_path: Path) -> OnnxEmbedder:
    """An encoder with query_spinning "auto", two threads, and its load read from tmp_path (a
    test double: a machine's real load cannot be set for a test)."""
    if usable_cores() < 2:
        pytest.skip("needs 2 cores")
    onnx = _onnx(embedder)
    settings = onnx.settings.model_copy(update={"query_spinning": "auto", "query_threads": 2})
    encoder = OnnxEmbedder(onnx.name, onnx.model_dir, onnx.onnx_path, settings)
    encoder.loadavg = tmp_path / "loadavg"
    encoder.cgroup = tmp_path / "cgroup"  # no CPU quota
    encoder.load_ttl = 0  # every question reads the load (the tests change it between questions)
    return encoder


def _running(encoder: OnnxEmbedder, tasks: int) -> None:
    encoder.loadavg.write_text(f"0.50 0.50 0.50 {tasks}/300 4242\n", encoding="ascii")


@pytest.mark.parametrize("others", ["none", "all but one core", "unknown"])
def test_auto_spinning_spins_only_with_every_thread_on_a_free_core(
    embedder: Embedder, tmp_path: Path, others: str
) -> None:
    """With query_spinning "auto" the two threads spin when no other process's task runs (only
    this one's in /proc/loadavg), and sleep when other tasks leave one core or the load is
    unknown. Preloading builds the session an idle machine would use, whatever the start-up's
    own load."""
    encoder = _auto(embedder, tmp_path)
    machine = os.cpu_count() or 1
    tasks = {"none": 1, "all but one core": machine, "unknown": None}[others]
    if tasks is not None:
        _running(encoder, tasks)
    encoder.query_session()
    assert set(encoder._sessions) == {(2, others != "unknown")}
    spins = others == "none"
    assert encoder._spins_now(2) is spins
    np.testing.assert_allclose(encoder.encode_query(TEXTS[0]), _onnx(embedder).encode([TEXTS[0]])[0], atol=1e-5)
    assert (2, spins) in encoder._sessions  # the question ran on the session the load called for


def test_auto_spinning_counts_its_own_running_workers_as_its_own(embedder: Embedder, tmp_path: Path) -> None:
    """onnxruntime's worker spins on after a question: while it runs it is ours, not load. The
    session's workers are the threads its construction started; their state is read from
    /proc/self/task (here a test double folder, as the load file is)."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, 1)
    encoder.query_session()  # the spinning session
    assert encoder._workers  # the real session started worker threads, and they were noted
    encoder.tasks = tmp_path / "task"
    encoder._workers = {101}
    machine = os.cpu_count() or 1

    def worker(state: str) -> None:
        (encoder.tasks / "101").mkdir(parents=True, exist_ok=True)
        (encoder.tasks / "101" / "stat").write_text(f"101 (onnx worker) {state} 1 2 3\n", encoding="ascii")

    worker("R")
    _running(encoder, 2)  # the asking thread and our spinning worker
    assert encoder._spins_now(2) is True
    encoder._free.clear()
    _running(encoder, 1 + machine)  # ... and every other core busy but one
    assert encoder._spins_now(2) is False
    encoder._free.clear()
    worker("S")
    _running(encoder, 2)  # our worker sleeps: the second task is another process's
    assert encoder._spins_now(2) is (machine - 1 >= 2)


def test_auto_spinning_sleeps_under_a_cpu_quota(embedder: Embedder, tmp_path: Path) -> None:
    """docker --cpus=2 on a big host: loadavg counts the host's tasks, and a spinning worker
    would spend the quota the rest of the process needs."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, 1)
    encoder.cgroup.mkdir()
    (encoder.cgroup / "cpu.max").write_text("200000 100000\n", encoding="ascii")
    assert encoder._spins_now(2) is False


def test_auto_spinning_takes_a_task_seen_once_for_a_blip_and_three_times_for_load(
    embedder: Embedder, tmp_path: Path
) -> None:
    """A kernel thread running at the instant of one reading is no reason to sleep; another
    process's task seen by LOAD_READINGS readings in a row is, and its end is seen at once."""
    encoder = _auto(embedder, tmp_path)
    machine = os.cpu_count() or 1
    _running(encoder, 1)
    assert encoder._spins_now(2) is True
    _running(encoder, machine)  # other tasks leave one core
    assert [encoder._spins_now(2) for _ in range(LOAD_READINGS)] == [True] * (LOAD_READINGS - 1) + [False]
    assert encoder._spins_now(2) is False
    _running(encoder, 1)
    assert encoder._spins_now(2) is True


def test_auto_spinning_reads_the_load_at_most_once_per_load_ttl(embedder: Embedder, tmp_path: Path) -> None:
    """After an idle pause every /proc read costs 0.2-0.3 ms, so questions within load_ttl
    seconds of a reading reuse its decision; the next question after that reads again."""
    encoder = _auto(embedder, tmp_path)
    encoder.load_ttl = 3600
    machine = os.cpu_count() or 1
    _running(encoder, 1)
    assert encoder._spins_now(2) is True
    encoder.loadavg.unlink()  # unknown from now on: a reading would say "sleep"
    assert [encoder._spins_now(2) for _ in range(3)] == [True] * 3
    encoder.load_ttl = 0
    assert encoder._spins_now(2) is False
    _running(encoder, machine + 1)  # every core busy: read, but one reading is a blip
    assert encoder._spins_now(2) is True
    assert list(encoder._free)[-1] == 0


def test_preloading_asks_what_an_idle_machine_needs_and_leaves_the_decision_alone(
    embedder: Embedder, tmp_path: Path
) -> None:
    """The preload builds the session an idle machine would use, whatever the last question
    decided, and does not change what the next question reuses."""
    encoder = _auto(embedder, tmp_path)
    encoder.load_ttl = 3600
    _running(encoder, 1)
    encoder._decided = (time.monotonic(), False)  # a question just saw load
    assert encoder._spins_now(2, idle=True) is True
    assert encoder._decided[1] is False
    assert encoder._spins_now(2) is False  # reused


def test_a_question_asked_while_preloading_waits_and_runs_on_the_preloaded_session(
    embedder: Embedder, tmp_path: Path
) -> None:
    """While the preload builds the question session, its thread is one more running task; a
    question reading the load then took it for another process's and built a second session
    beside the first (~0.3 s and ~120 MB on a cold `ask`). It now waits for the preload. The
    slow build is a test double: the load file says two tasks run while it builds."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, os.cpu_count() or 1)  # until the build ends, a reading sees every core but one busy
    build = encoder.query_session

    def slow_build() -> object:
        time.sleep(0.3)
        try:
            return build()
        finally:
            _running(encoder, 1)

    encoder.query_session = slow_build  # type: ignore[method-assign]
    encoder.preload()
    vector = encoder.encode_query(TEXTS[0])
    assert set(encoder._sessions) == {(2, True)}
    np.testing.assert_allclose(vector, _onnx(embedder).encode([TEXTS[0]])[0], atol=1e-5)


def test_after_a_preload_one_busy_reading_is_a_blip_and_load_seen_throughout_is_load(
    embedder: Embedder, tmp_path: Path
) -> None:
    """The idle machine the preloaded session was built for counts as one reading: the first
    question keeps to it though a task ran at the instant it read the load; LOAD_READINGS busy
    readings in a row are load, as without a preload."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, 1)
    encoder.preload()
    encoder._preloaded.wait()
    _running(encoder, os.cpu_count() or 1)  # other tasks leave one core
    encoder.encode_query(TEXTS[0])
    assert set(encoder._sessions) == {(2, True)}
    time.sleep(0.2)  # onnxruntime's worker, spinning after the question, is ours and not load: let it sleep
    assert [encoder._spins_now(2) for _ in range(LOAD_READINGS)] == [True] + [False] * (LOAD_READINGS - 1)


def test_a_preload_is_done_once_and_seeds_no_reading_for_a_sleeping_session(embedder: Embedder, tmp_path: Path) -> None:
    """A second preload, or one after a question, builds nothing and adds no reading; one that
    builds the sleeping session (fewer usable cores than threads) claims no idle core."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, 1)
    encoder.preload()
    encoder.preload()  # under way: nothing more
    assert encoder._preloaded.wait(timeout=60)
    encoder.preload()  # done: nothing more
    assert encoder._preloaded.wait(timeout=60)
    assert set(encoder._sessions) == {(2, True)} and list(encoder._free) == [2]

    one_core = _auto(embedder, tmp_path)
    one_core._quota, one_core._cores = False, (1, 2)  # the process may use one of the machine's two cores
    one_core.preload()
    assert one_core._preloaded.wait(timeout=60)
    assert set(one_core._sessions) == {(2, False)} and not one_core._free


def test_a_failed_preload_leaves_the_question_to_report_the_error(embedder: Embedder, tmp_path: Path) -> None:
    """A preload that fails does not leave questions waiting: the first one builds the session
    itself and raises what went wrong."""
    encoder = _auto(embedder, tmp_path)
    _running(encoder, 1)
    encoder.onnx_path = tmp_path / "missing.onnx"
    encoder.preload()
    assert encoder._preloaded.wait(timeout=60)  # a regression fails here rather than hanging
    with pytest.raises(ModelLoadError, match="index --rebuild"):
        encoder.encode_query(TEXTS[0])


def test_the_embedder_follows_its_export_when_the_cache_copy_goes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """Running on the copy in the user's cache, the embedder moves to the index's own copy once a
    build has placed it, even after the cache is cleared; on the index's copy it stays put."""
    fused = _onnx(embedder).onnx_path
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    auto = make_embedder(EmbeddingSettings(), tmp_path / "index")
    assert isinstance(auto, AutoEmbedder)
    auto.cached_path.parent.mkdir(parents=True)
    shutil.copyfile(fused, auto.cached_path)
    assert _onnx(auto).onnx_path == auto.cached_path
    auto.onnx_path.parent.mkdir(parents=True)
    shutil.copyfile(fused, auto.onnx_path)  # a build placed the index's copy
    shutil.rmtree(tmp_path / "cache")  # and the cache was cleared
    current = _onnx(auto)
    assert current.onnx_path == auto.onnx_path
    np.testing.assert_allclose(auto.encode_query(TEXTS[0]), embedder.encode_query(TEXTS[0]), atol=1e-5)
    assert _onnx(auto) is current


def test_the_export_is_fused_into_one_attention_node_per_layer(embedder: Embedder) -> None:
    """The traced graph (about 400 nodes) is fused by onnxruntime's transformer optimizer, so a
    question's time goes to the matrix products; the vectors still match sentence-transformers
    (test above)."""
    import onnx

    path = _onnx(embedder).onnx_path
    assert path.name == ONNX_FILE
    ops = Counter(node.op_type for node in onnx.load(str(path), load_external_data=False).graph.node)
    assert ops["Attention"] == 6  # all-MiniLM-L6-v2 has six layers
    assert ops["EmbedLayerNormalization"] == 1 and ops["BiasGelu"] == 6
    # each residual Add stays beside its LayerNormalization: onnxruntime 1.30+ runs the fused
    # SkipLayerNormalization 3x slower, and sessions open without the pass that would fuse it
    assert ops["LayerNormalization"] == 12 and ops["SkipLayerNormalization"] == 0
    assert sum(ops.values()) < 100


def test_sessions_open_without_fusing_the_layer_norms_back(tmp_path: Path, embedder: Embedder) -> None:
    """The pass named in UNFUSED_PASSES is the one that would undo the export's choice: with it
    a session's graph holds SkipLayerNormalization again, without it none."""
    import onnx
    import onnxruntime as ort

    def optimized(disabled: list[str] | None) -> Counter[str]:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.optimized_model_filepath = str(tmp_path / f"optimized-{bool(disabled)}.onnx")
        path = str(_onnx(embedder).onnx_path)
        ort.InferenceSession(path, options, providers=["CPUExecutionProvider"], disabled_optimizers=disabled)
        graph = onnx.load(options.optimized_model_filepath, load_external_data=False).graph
        return Counter(node.op_type for node in graph.node)

    assert optimized(None)["SkipLayerNormalization"] == 12  # what makes this test meaningful
    assert optimized(UNFUSED_PASSES)["SkipLayerNormalization"] == 0


def test_an_unfused_export_serves_until_a_build_puts_the_fused_one_in_its_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """An index exported before (model.onnx unfused, model.fused.onnx with SkipLayerNormalization)
    answers on onnxruntime, not torch, the newer export first; its next build places the current
    export, switches to it and deletes the older copies."""
    fused = _onnx(embedder).onnx_path
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    auto = make_embedder(EmbeddingSettings(), tmp_path / "index")
    assert isinstance(auto, AutoEmbedder)
    assert [p.name for p in auto.legacy_paths] == [name for name in LEGACY_ONNX_FILES for _ in range(2)]
    for path in auto.legacy_paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(fused, path)  # its content is no matter here: which file serves is
    in_index = auto.legacy_paths[0]  # the newer export, in the index
    assert auto.backend == "onnx" and _onnx(auto).onnx_path == in_index
    before = auto.encode_query(TEXTS[0])
    auto.cached_path.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(fused, auto.cached_path)  # exported on this machine for another project
    auto.prepare_build(tmp_path / "index")
    assert auto.onnx_path.is_file() and not any(p.exists() for p in auto.legacy_paths)
    # an older copy left beside the current one (a build of an older version, a crash) goes too
    for path in auto.legacy_paths:
        shutil.copyfile(fused, path)
    auto.prepare_build(tmp_path / "index")
    assert not any(p.exists() for p in auto.legacy_paths)
    assert _onnx(auto).onnx_path == auto.onnx_path
    np.testing.assert_allclose(auto.encode_query(TEXTS[1]), embedder.encode_query(TEXTS[1]), atol=1e-5)
    np.testing.assert_allclose(before, embedder.encode_query(TEXTS[0]), atol=1e-5)


@pytest.mark.slow  # exports the model (imports torch)
def test_an_optimizer_failure_keeps_the_traced_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, embedder: Embedder
) -> None:
    """A test double for a fault we cannot cause otherwise: onnxruntime's optimizer raising. The
    export still succeeds, unfused, with the same vectors."""
    import onnx
    import onnxruntime.transformers.optimizer as optimizer

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("optimizer broke")

    monkeypatch.setattr(optimizer, "optimize_model", broken)
    onnx_encoder = _onnx(embedder)
    target = tmp_path / "encoders" / "x" / ONNX_FILE
    export(onnx_encoder.model_dir, target)
    ops = Counter(node.op_type for node in onnx.load(str(target), load_external_data=False).graph.node)
    assert ops["Attention"] == 0 and sum(ops.values()) > 100
    traced = OnnxEmbedder(onnx_encoder.name, onnx_encoder.model_dir, target, onnx_encoder.settings)
    np.testing.assert_allclose(traced.encode(TEXTS), embedder.encode(TEXTS), atol=1e-5)
