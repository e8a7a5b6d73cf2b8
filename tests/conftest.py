"""Shared fixtures: one real embedding model for the session, the tiny corpus, and the real one.

The model is the packaged all-MiniLM-L6-v2, loaded once: tests exercise the real embedder, and
the tiny corpus (tests/helpers.py) keeps each index build to a second or two. Fixtures that
build the product's own corpus are only used by tests marked `slow`.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from helpers import REPO, write_tiny_corpus

from advisor_bot import Advisor, Settings
from advisor_bot.index.embedding import Embedder, make_embedder
from advisor_bot.settings import EmbeddingSettings

# The tiny corpus is too small for the relevance thresholds calibrated on the real one; these
# keep its questions answered unless a test asks otherwise.
TINY = {
    "chunking.chunk_size": 300,
    "chunking.chunk_overlap": 40,
    "answer.partial_threshold": 0.1,
    "answer.answered_threshold": 0.2,
}


@pytest.fixture(scope="session")
def embedder(tmp_path_factory: pytest.TempPathFactory) -> Embedder:
    """The product's own encoder: the model exported to ONNX (taken from the user's cache, or
    exported into it once per machine), as every question runs it. Tests of the
    sentence-transformers encoder build their own."""
    encoder = make_embedder(EmbeddingSettings(), tmp_path_factory.mktemp("encoder-index"))
    encoder.prepare_build(Path())
    assert encoder.backend == "onnx", "the ONNX export failed; see the log"
    return encoder


@pytest.fixture
def tiny_root(tmp_path: Path) -> Path:
    write_tiny_corpus(tmp_path)
    return tmp_path


@pytest.fixture
def tiny_settings(tiny_root: Path) -> Settings:
    return Settings.load(tiny_root, env={}, **TINY)


@pytest.fixture
def tiny_advisor(tiny_settings: Settings, embedder: Embedder) -> Advisor:
    advisor = Advisor(tiny_settings, embedder=embedder)
    advisor.build_index()
    return advisor


@pytest.fixture(scope="session")
def real_advisor(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The product's own corpus/, indexed into a temporary folder (never the user's index/).
    Only for tests marked slow: building it takes about 25 s."""
    root = tmp_path_factory.mktemp("real")
    shutil.copytree(REPO / "corpus", root / "corpus")
    advisor = Advisor(Settings.load(root, env={}), embedder=embedder)
    advisor.build_index()
    return advisor
