"""The exported ONNX encoder: the same vectors as sentence-transformers, whatever the batching.

Questions run on the ONNX export while an index may have been built by either encoder
(AutoEmbedder falls back to sentence-transformers when the export fails), so the two must agree
to within 1e-4 cosine on every kind of text the product encodes.
"""

from __future__ import annotations

import numpy as np
import pytest

from advisor_bot.index.embedding import Embedder, SentenceEmbedder
from advisor_bot.index.onnx_encoder import OnnxEmbedder, _batches

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
    """Sleeping threads by default: spinning ones are faster on an idle machine and slower beside
    a busy server (bench/query_encoding.py)."""
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
