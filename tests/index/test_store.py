"""The index on disk: build, open, checksums, format and model checks, units, HNSW depth.

A reader must never get half an index or one built for another model or format; when it
cannot open one, the message must say how to fix it (errors.REBUILD_HINT).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import write_tiny_corpus

from advisor_bot.corpus.loading import load_corpus
from advisor_bot.errors import REBUILD_HINT, IndexCorruptError, IndexMismatchError, IndexMissingError
from advisor_bot.index import vectors as vector_ops
from advisor_bot.index.chunking import BM25_TEXT, chunk_document, embedding_head
from advisor_bot.index.embedding import Embedder
from advisor_bot.index.onnx_encoder import ENCODERS_DIR
from advisor_bot.index.store import CHUNKS, CURRENT, FORMAT_VERSION, MANIFEST, TMP_PREFIX, IndexStore, build_choices
from advisor_bot.records import Document, UnitKind
from advisor_bot.settings import ChunkingSettings, IndexSettings, Settings
from advisor_bot.text.sentences import SPLITTER_VERSION

CHUNKING = ChunkingSettings(chunk_size=300, chunk_overlap=40)
# one unit of every kind: question, statement, leaning statement, fragment, lead + items
KINDS_ESSAY = """Is a PhD worth it? Professors are busy. They often work at universities. Not always.

Topics to learn:

- CNNs
- ResNet
- YOLO

Here is what I did:
"""


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> list[Document]:
    root = tmp_path_factory.mktemp("tiny")
    write_tiny_corpus(root)
    return load_corpus(root / "corpus").documents


@pytest.fixture(scope="module")
def prebuilt(tmp_path_factory: pytest.TempPathFactory, docs: list[Document], embedder: Embedder) -> Path:
    """The tiny corpus indexed once per module: embedding is the slow part of a build."""
    path = tmp_path_factory.mktemp("prebuilt") / "index"
    IndexStore(path, IndexSettings(), CHUNKING).build(docs, embedder)
    return path


@pytest.fixture
def store(tmp_path: Path) -> IndexStore:
    """An empty index folder."""
    return IndexStore(tmp_path / "index", IndexSettings(), CHUNKING)


@pytest.fixture
def built(tmp_path: Path, prebuilt: Path) -> IndexStore:
    """A copy of the prebuilt index, the test's own to change or break."""
    shutil.copytree(prebuilt, tmp_path / "index")
    return IndexStore(tmp_path / "index", IndexSettings(), CHUNKING)


def edit_manifest(store: IndexStore, version: str, **changes: object) -> None:
    path = store.path / version / MANIFEST
    manifest = json.loads(path.read_text())
    manifest.update(changes)
    path.write_text(json.dumps(manifest))


def test_build_then_open(store: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    report = store.build(docs, embedder)
    assert report.version and not report.up_to_date
    assert report.embedded == report.chunks > 0 and report.reused == 0
    assert report.added == sorted(d.doc_id for d in docs) and not report.changed and not report.deleted
    loaded = store.open(model_name=embedder.name)
    assert loaded.version == report.version == store.current_version()
    assert store.versions() == [report.version]
    assert len(loaded) == report.chunks
    assert loaded.vector_index.ntotal == report.chunks
    assert loaded.bm25.size == report.chunks
    assert set(loaded.documents) == {d.doc_id for d in docs}
    assert loaded.documents["interviews"] == next(d for d in docs if d.doc_id == "interviews")
    chunk = loaded.chunks[0]
    assert loaded.documents[chunk.doc_id].text[chunk.start : chunk.end] == chunk.text
    manifest = loaded.manifest
    assert manifest["format_version"] == FORMAT_VERSION == 3
    assert manifest["model"]["name"] == embedder.name and manifest["model"]["dimension"] == 384
    assert loaded.model == embedder.name and loaded.dimension == 384
    assert manifest["index_type"] == "flat"
    assert manifest["settings"]["units"] == SPLITTER_VERSION
    assert manifest["settings"]["chunking"]["chunk_size"] == 300
    assert set(manifest["files"]) >= {"chunks.jsonl", "documents.jsonl", "vectors.faiss", "units.faiss", "units.npy"}
    assert any(name.startswith("bm25/") for name in manifest["files"])
    assert {d: m["chunks"] for d, m in manifest["documents"].items()} == {
        d.doc_id: sum(c.doc_id == d.doc_id for c in loaded.chunks) for d in docs
    }
    assert report.summary().startswith(f"Built index {report.version}: {len(docs)} documents")


def test_chunks_round_trip_with_their_units(store: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    """chunks.jsonl keeps every unit (text, offsets, kind, block, leaning) as chunking made it."""
    every_kind = Document(doc_id="kinds", title="Kinds", text=KINDS_ESSAY, path="essays/kinds.md", sha256="1" * 64)
    store.build([*docs, every_kind], embedder)
    loaded = store.open()
    expected = [c for d in [*docs, every_kind] for c in chunk_document(d, CHUNKING)]
    assert loaded.chunks == expected
    assert all(c.units for c in loaded.chunks)
    kinds = {u.kind for c in loaded.chunks for u in c.units}
    assert kinds == set(UnitKind) and all(type(k) is UnitKind for k in kinds)
    assert any(u.dependent for c in loaded.chunks for u in c.units)
    assert len({u.block for c in loaded.chunks if c.doc_id == "kinds" for u in c.units}) > 1
    first_line = json.loads((loaded.path / CHUNKS).read_text(encoding="utf-8").splitlines()[0])
    assert first_line["units"][0][2] == loaded.chunks[0].units[0].text  # [start, end, text, kind, block, dependent]


def test_every_unit_has_its_stored_vector(built: IndexStore, embedder: Embedder) -> None:
    loaded = built.open()
    assert loaded.unit_table is not None
    assert loaded.unit_index.ntotal == len(loaded.unit_table) == sum(len(c.units) for c in loaded.chunks)
    row = next(r for r, c in enumerate(loaded.chunks) if len(c.units) > 1)
    chunk = loaded.chunks[row]
    vectors = loaded.unit_vectors_of(row)
    assert vectors.shape == (len(chunk.units), 384)
    table = loaded.unit_table[list(loaded.units_of(row))]
    assert [tuple(r) for r in table.tolist()] == [(row, u.start, u.end) for u in chunk.units]
    np.testing.assert_allclose(vectors, embedder.encode([u.text for u in chunk.units]), atol=1e-5)


def test_unchanged_corpus_is_up_to_date(built: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    version = built.current_version()
    again = built.build(docs, embedder)
    assert again.up_to_date and again.version == version and again.reused == again.chunks == len(built.open())
    assert built.versions() == [version]
    assert "is up to date" in again.summary()


def test_rebuild_embeds_everything(built: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    version = built.current_version()
    report = built.build(docs, embedder, rebuild=True)
    assert report.embedded == report.chunks and report.reused == 0
    assert report.version != version and built.current_version() == report.version


def test_new_chunking_rechunks_and_reuses_what_it_can(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    version = built.current_version()
    wider = IndexStore(built.path, IndexSettings(), ChunkingSettings(chunk_size=400, chunk_overlap=40))
    assert wider.status(docs, model_name=embedder.name).settings_changed == ["chunking"]
    report = wider.build(docs, embedder)
    assert not report.up_to_date and report.version != version
    assert (
        report.embedded + report.reused == report.chunks and report.reused > 0
    )  # short essays are one chunk either way


def test_a_build_clears_what_killed_builds_left(built: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    """A build killed by SIGKILL leaves its half-written version folder, CURRENT.tmp or a partial
    model export (up to 90 MB each); the next build, under the same lock, removes them."""
    half = built.path / f"{TMP_PREFIX}v20200101T000000000000-abcdef"
    half.mkdir()
    (half / CHUNKS).write_text("{")
    (built.path / f"{CURRENT}.tmp").write_text("v20200101T000000000000-abcdef\n")
    export = built.path / ENCODERS_DIR / "0123456789abcdef" / ".export-k1ll3d.onnx"
    export.parent.mkdir(parents=True)
    export.write_bytes(b"half an onnx graph")
    assert built.build(docs, embedder).up_to_date
    assert not half.exists() and not (built.path / f"{CURRENT}.tmp").exists() and not export.exists()
    built.open()


def test_missing_index_says_how_to_build(store: IndexStore) -> None:
    with pytest.raises(IndexMissingError, match="advisor-bot index"):
        store.open()


def test_other_model_is_a_clear_error(built: IndexStore) -> None:
    with pytest.raises(IndexMismatchError, match=r"built with embedding model .*intfloat/e5-small-v2") as err:
        built.open(model_name="intfloat/e5-small-v2")
    assert str(err.value).endswith(REBUILD_HINT)


def test_other_weights_under_the_same_name_are_refused(built: IndexStore, embedder: Embedder) -> None:
    """The manifest records a hash of the weights, so a fine-tuned copy saved under the same
    model name cannot silently search vectors made by the original."""
    assert built.open().manifest["model"]["fingerprint"] == embedder.fingerprint != ""
    built.open(model_name=embedder.name, fingerprint=embedder.fingerprint)
    with pytest.raises(IndexMismatchError, match="built with other weights") as err:
        built.open(model_name=embedder.name, fingerprint="0" * 16)
    assert str(err.value).endswith(REBUILD_HINT)


@pytest.mark.parametrize("found", [2, 999])
def test_other_format_is_a_clear_error(built: IndexStore, docs: list[Document], embedder: Embedder, found: int) -> None:
    """An index from v1 of this package (format 2: no units in chunks.jsonl) or a future one is
    refused with the rebuild hint, never read wrongly."""
    edit_manifest(built, built.current_version(), format_version=found)
    with pytest.raises(IndexMismatchError, match=rf"format version {found}; this advisor-bot reads version 3") as err:
        built.open()
    assert str(err.value).endswith(REBUILD_HINT)
    assert "format version" in (built.status(docs).error or "")
    # and a build replaces it with a readable one instead of failing on it
    fresh = built.build(docs, embedder)
    assert not fresh.up_to_date and fresh.embedded == fresh.chunks
    assert built.open().manifest["format_version"] == FORMAT_VERSION


@pytest.mark.parametrize("victim", ["chunks.jsonl", "vectors.faiss", "documents.jsonl", "units.faiss", "units.npy"])
def test_corrupted_file_is_detected(built: IndexStore, victim: str) -> None:
    path = built.path / str(built.current_version()) / victim
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match=f"{victim}.*checksum") as err:
        built.open()
    assert str(err.value).endswith(REBUILD_HINT)


def test_truncated_and_deleted_files_are_detected(built: IndexStore) -> None:
    folder = built.path / str(built.current_version())
    original = (folder / "chunks.jsonl").read_bytes()
    (folder / "chunks.jsonl").write_bytes(original[:100])
    with pytest.raises(IndexCorruptError, match="truncated"):
        built.open()
    (folder / "chunks.jsonl").write_bytes(original)
    built.open()
    (folder / "vectors.faiss").unlink()
    with pytest.raises(IndexCorruptError, match="missing"):
        built.open()


def test_inconsistent_files_are_detected_without_checksums(built: IndexStore) -> None:
    """With verify_checksums off, the row counts still have to agree."""
    unchecked = IndexStore(built.path, IndexSettings(verify_checksums=False), CHUNKING)
    path = built.path / str(built.current_version()) / CHUNKS
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:-1]), encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="inconsistent: ") as err:
        unchecked.open()
    assert str(err.value).endswith(REBUILD_HINT)


def test_unreadable_manifest_is_corrupt(built: IndexStore) -> None:
    (built.path / str(built.current_version()) / MANIFEST).write_text('{"format_version": 3,')
    with pytest.raises(IndexCorruptError, match="unreadable or truncated"):
        built.open()


def test_current_pointing_nowhere(built: IndexStore) -> None:
    gone = "v20200101T000000000000-abcdef"
    (built.path / CURRENT).write_text(f"{gone}\n")
    with pytest.raises(IndexCorruptError, match=rf"names version {gone}, but .* is missing"):
        built.open()


def test_status_before_the_first_build(store: IndexStore, docs: list[Document]) -> None:
    before = store.status(docs)
    assert before.version is None and not before.up_to_date and before.added == sorted(d.doc_id for d in docs)


def test_status_lists_what_is_out_of_date(built: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    status = built.status(docs, model_name=embedder.name)
    assert status.up_to_date and status.documents == len(docs) and status.index_type == "flat"
    assert status.model == embedder.name and status.error is None
    fewer = [d for d in docs if d.doc_id != "interviews"]
    status = built.status(fewer, model_name=embedder.name)
    assert status.deleted == ["interviews"] and not status.up_to_date
    assert built.status(docs, model_name="other/model").settings_changed == ["model"]


def test_an_index_from_an_older_splitter_is_stale(built: IndexStore, docs: list[Document], embedder: Embedder) -> None:
    """Units are stored with their chunks; when the splitter changes (SPLITTER_VERSION), a build
    must re-split even though no essay and no chunk id changed."""
    version = str(built.current_version())
    manifest = json.loads((built.path / version / MANIFEST).read_text())
    edit_manifest(built, version, settings={**manifest["settings"], "units": SPLITTER_VERSION - 1})
    assert built.status(docs, model_name=embedder.name).settings_changed == ["units"]
    report = built.build(docs, embedder)
    assert not report.up_to_date and report.embedded == 0 and report.reused == report.chunks


def test_crossing_the_ann_threshold_rebuilds_the_index_type(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    version = built.current_version()
    hnsw = IndexStore(built.path, IndexSettings(ann_threshold=0), CHUNKING)
    report = hnsw.build(docs, embedder)
    assert not report.up_to_date and report.version != version
    assert report.embedded == 0 and report.reused == report.chunks  # vectors come back out of the flat index
    assert hnsw.open().manifest["index_type"] == "hnsw"
    assert hnsw.build(docs, embedder).up_to_date


def test_hnsw_search_depth_comes_from_the_settings(
    tmp_path: Path, built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    """A saved HNSW index remembers the efSearch it was built with; opening applies the
    current setting instead, so it can be tuned without a rebuild."""
    forced = Settings.load(tmp_path, env={}, **{"index.ann_threshold": 0})
    assert forced.index_path == built.path
    report = IndexStore(forced.index_path, forced.index, CHUNKING).build(docs, embedder)
    tuned = Settings.load(tmp_path, env={}, **{"index.ann_threshold": 0, "index.hnsw_ef_search": 40})
    assert forced.index.hnsw_ef_search != 40
    loaded = IndexStore(tuned.index_path, tuned.index, CHUNKING).open(model_name=embedder.name)
    assert loaded.version == report.version and loaded.manifest["index_type"] == "hnsw"
    assert vector_ops.index_kind(loaded.vector_index) == vector_ops.index_kind(loaded.unit_index) == "hnsw"
    assert loaded.vector_index.hnsw.efSearch == 40
    assert loaded.unit_index.hnsw.efSearch == 40
    rows, scores = vector_ops.search(loaded.vector_index, embedder.encode_query("coding interview practice"), 3)
    assert len(rows) == 3 and scores[0] >= scores[-1]


def test_chunk_vectors_from_units_are_their_mean_and_never_mixed_with_encoded_ones(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    """index.chunk_vectors = "units" averages a chunk's sentence vectors and its head's (title and
    heading path), each weighed by its token count, instead of encoding it; switching either
    way re-makes every chunk vector rather than mixing the two kinds."""
    averaging = IndexStore(built.path, IndexSettings(chunk_vectors="units"), CHUNKING)
    assert averaging.status(docs, model_name=embedder.name).settings_changed == ["chunk_vectors", "unit_pooling"]
    report = averaging.build(docs, embedder)
    assert report.embedded == report.chunks and report.reused == 0
    loaded = averaging.open()
    assert loaded.manifest["settings"]["chunk_vectors"] == "units"
    vectors = vector_ops.all_vectors(loaded.vector_index)
    for row, chunk in enumerate(loaded.chunks):
        head_text = embedding_head(chunk, loaded.documents[chunk.doc_id].title)
        texts = [u.text for u in chunk.units] + [head_text]
        weights = embedder.token_counts(texts).astype(np.float32)
        assert weights.min() > 0
        parts = np.vstack([loaded.unit_vectors_of(row), embedder.encode([head_text])])
        mean = (parts * weights[:, None]).sum(axis=0)
        np.testing.assert_allclose(vectors[row], mean / np.linalg.norm(mean), atol=1e-5)
    back = built.build(docs, embedder)
    assert back.embedded == back.chunks and back.reused == 0
    assert built.open().manifest["settings"]["chunk_vectors"] == "encode"


def test_chunk_vectors_pooled_without_token_weights_are_made_again(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    """An index whose "units" chunk vectors were plain means (built before token weights) is
    stale, and its next build re-makes every chunk vector instead of reusing the old ones."""
    averaging = IndexStore(built.path, IndexSettings(chunk_vectors="units"), CHUNKING)
    averaging.build(docs, embedder)
    version = str(averaging.current_version())
    manifest = json.loads((averaging.path / version / MANIFEST).read_text())
    edit_manifest(averaging, version, settings={k: v for k, v in manifest["settings"].items() if k != "unit_pooling"})
    assert averaging.status(docs, model_name=embedder.name).settings_changed == ["unit_pooling"]
    report = averaging.build(docs, embedder)
    assert report.embedded == report.chunks and report.reused == 0
    assert averaging.status(docs, model_name=embedder.name).up_to_date


def test_an_index_with_bm25_built_the_old_way_is_rebuilt_reusing_every_vector(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    """BM25 text made without the heading counted twice (before 2026-12-07) makes the index
    stale; the next build re-makes BM25 only: no chunk or sentence is embedded again."""
    version = str(built.current_version())
    manifest = json.loads((built.path / version / MANIFEST).read_text())
    assert manifest["settings"]["bm25"]["text"] == BM25_TEXT
    old = dict(manifest["settings"], bm25={k: v for k, v in manifest["settings"]["bm25"].items() if k != "text"})
    edit_manifest(built, version, settings=old)
    assert built.status(docs, model_name=embedder.name).settings_changed == ["bm25"]
    report = built.build(docs, embedder)
    assert not report.up_to_date and report.embedded == 0 and report.reused == report.chunks
    assert built.status(docs, model_name=embedder.name).up_to_date


def test_an_index_built_before_chunk_vectors_existed_is_up_to_date(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    version = str(built.current_version())
    manifest = json.loads((built.path / version / MANIFEST).read_text())
    settings = {k: v for k, v in manifest["settings"].items() if k != "chunk_vectors"}
    edit_manifest(built, version, settings=settings)
    assert built.status(docs, model_name=embedder.name).up_to_date
    assert built.build(docs, embedder).up_to_date


def test_a_large_corpus_takes_the_fast_build_unless_told_otherwise(
    built: IndexStore, docs: list[Document], embedder: Embedder
) -> None:
    """The 'auto' defaults build a corpus of index.large_corpus documents or more with chunk
    vectors from sentence vectors and blingfire sentences, a smaller one with encoded chunks and
    pysbd; the manifest records what was done, and an explicit choice is kept."""
    small = built.open().manifest["settings"]
    assert small["chunk_vectors"] == "encode" and small["chunking"]["segmenter"] == "pysbd"
    large = IndexStore(built.path, IndexSettings(large_corpus=len(docs)), CHUNKING)
    assert large.status(docs, model_name=embedder.name).settings_changed == [
        "chunk_vectors",
        "chunking",
        "unit_pooling",
    ]
    large.build(docs, embedder)
    done = large.open().manifest["settings"]
    assert done["chunk_vectors"] == "units" and done["chunking"]["segmenter"] == "blingfire"
    assert large.status(docs, model_name=embedder.name).up_to_date
    assert large.status(model_name=embedder.name).up_to_date  # without the corpus: the manifest's count
    told = IndexStore(
        built.path,
        IndexSettings(large_corpus=len(docs), chunk_vectors="encode"),
        CHUNKING.model_copy(update={"segmenter": "pysbd"}),
    )
    assert told.status(docs, model_name=embedder.name).settings_changed == ["chunk_vectors", "chunking"]


@pytest.mark.parametrize(
    ("documents", "segmenter", "vectors", "expected"),
    [
        (999, "auto", "auto", ("pysbd", "encode")),
        (1000, "auto", "auto", ("blingfire", "units")),
        (5000, "pysbd", "encode", ("pysbd", "encode")),
        (10, "blingfire", "units", ("blingfire", "units")),
    ],
)
def test_build_choices_resolve_auto_by_corpus_size(
    documents: int, segmenter: str, vectors: str, expected: tuple[str, str]
) -> None:
    chunking, chunk_vectors = build_choices(
        IndexSettings(chunk_vectors=vectors), ChunkingSettings(segmenter=segmenter), documents
    )
    assert (chunking.segmenter, chunk_vectors) == expected
