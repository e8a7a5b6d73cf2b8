import json
from pathlib import Path

import pytest

from advisor_bot.chunking import ChunkingConfig
from advisor_bot.corpus import load_corpus
from advisor_bot.embedding import SentenceEmbedder
from advisor_bot.errors import IndexCorruptError, IndexMismatchError, IndexMissingError
from advisor_bot.store import CURRENT, BuildConfig, IndexStore


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    return IndexStore(tmp_path / "index", BuildConfig(chunking=ChunkingConfig(300, 40)))


@pytest.fixture
def docs(tiny_root: Path):
    return load_corpus(tiny_root / "corpus").documents


def test_build_then_open(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    report = store.build(docs, embedder)
    assert report.version and not report.up_to_date
    assert report.embedded == report.chunks > 0 and report.reused == 0
    loaded = store.open(model_name=embedder.name)
    assert loaded.version == report.version == store.current_version()
    assert len(loaded) == report.chunks
    assert loaded.vector_index.ntotal == report.chunks
    assert set(loaded.documents) == {d.doc_id for d in docs}
    chunk = loaded.chunks[0]
    assert loaded.documents[chunk.doc_id].text[chunk.start:chunk.end] == chunk.text
    manifest = loaded.manifest
    assert manifest["model"] == {"name": embedder.name, "dimension": 384}
    assert set(manifest["files"]) >= {"chunks.jsonl", "documents.jsonl", "vectors.faiss"}


def test_unchanged_corpus_is_up_to_date(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    first = store.build(docs, embedder)
    again = store.build(docs, embedder)
    assert again.up_to_date and again.version == first.version
    assert store.versions() == [first.version]


def test_rebuild_embeds_everything(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    store.build(docs, embedder)
    report = store.build(docs, embedder, rebuild=True)
    assert report.embedded == report.chunks and report.reused == 0


def test_missing_index_says_how_to_build(store: IndexStore) -> None:
    with pytest.raises(IndexMissingError, match="advisor-bot index"):
        store.open()


def test_other_model_is_a_clear_error(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    store.build(docs, embedder)
    with pytest.raises(IndexMismatchError, match=r"built with embedding model .*advisor-bot index --rebuild"):
        store.open(model_name="intfloat/e5-small-v2")


def test_other_format_is_a_clear_error(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    report = store.build(docs, embedder)
    manifest_path = store.path / report.version / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = 999
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexMismatchError, match=r"format version 999.*--rebuild"):
        store.open()


@pytest.mark.parametrize("victim", ["chunks.jsonl", "vectors.faiss", "documents.jsonl"])
def test_corrupted_file_is_detected(store: IndexStore, docs, embedder: SentenceEmbedder, victim: str) -> None:
    report = store.build(docs, embedder)
    path = store.path / report.version / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"{victim}.*checksum.*--rebuild"):
        store.open()


def test_truncated_and_deleted_files_are_detected(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    report = store.build(docs, embedder)
    folder = store.path / report.version
    original = (folder / "chunks.jsonl").read_bytes()
    (folder / "chunks.jsonl").write_bytes(original[:100])
    with pytest.raises(IndexCorruptError, match="truncated"):
        store.open()
    (folder / "chunks.jsonl").write_bytes(original)
    store.open()
    (folder / "vectors.faiss").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        store.open()


def test_current_pointing_nowhere(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    store.build(docs, embedder)
    (store.path / CURRENT).write_text("v-gone\n")
    with pytest.raises(IndexCorruptError, match=r"v-gone.*missing"):
        store.open()


def test_status_lists_what_is_out_of_date(store: IndexStore, docs, embedder: SentenceEmbedder) -> None:
    assert store.status(docs).version is None
    store.build(docs, embedder)
    status = store.status(docs, model_name=embedder.name)
    assert status.up_to_date and status.documents == len(docs)
    fewer = [d for d in docs if d.doc_id != "interviews"]
    status = store.status(fewer, model_name=embedder.name)
    assert status.deleted == ["interviews"] and not status.up_to_date
