"""Incremental, atomic and locked index updates, as `advisor-bot add` / `index` do them.

Adding one essay must embed only that essay; a second writer must be told who holds the lock;
and a build killed at any moment must leave an index that opens, with every document once.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import REPO, CountingEmbedder

from advisor_bot import Advisor, BuildReport, IndexLockedError, Settings, Upload
from advisor_bot.index.chunking import embedding_text
from advisor_bot.index.embedding import Embedder
from advisor_bot.index.locking import WriteLock
from advisor_bot.index.onnx_encoder import ENCODERS_DIR
from advisor_bot.index.store import BUILD_STAGES, CURRENT, TMP_PREFIX

NEW_ESSAY = """# Writing Your First Paper

Pick a venue first, then write the abstract, then the experiments section.
Ask a senior student to read the draft two weeks before the deadline; they will find the holes reviewers find.
"""

SMALL = {"chunking.chunk_size": 300, "chunking.chunk_overlap": 40}


@pytest.fixture
def counting(tiny_settings: Settings, embedder: Embedder) -> tuple[Advisor, CountingEmbedder]:
    spy = CountingEmbedder(embedder)
    advisor = Advisor(tiny_settings, embedder=spy)  # type: ignore[arg-type]
    advisor.build_index()
    spy.texts.clear()
    return advisor, spy


def test_adding_an_essay_embeds_only_its_text(counting: tuple[Advisor, CountingEmbedder]) -> None:
    advisor, spy = counting
    before = advisor.index
    result = advisor.add_documents([Upload("first-paper.md", NEW_ESSAY)])
    assert [a.doc_id for a in result.added] == ["writing-your-first-paper"]
    report = result.build
    assert isinstance(report, BuildReport)
    assert report.added == ["writing-your-first-paper"] and report.reused == len(before)
    new_chunks = [c for c in advisor.index.chunks if c.doc_id == "writing-your-first-paper"]
    assert report.embedded == len(new_chunks) > 0
    # what was embedded is exactly the new chunks and their sentences, nothing of the old essays
    title = advisor.index.documents["writing-your-first-paper"].title
    expected = {embedding_text(c, title) for c in new_chunks} | {u.text for c in new_chunks for u in c.units}
    assert spy.texts and set(spy.texts) == expected
    top = advisor.retrieve("when should someone read my paper draft before the deadline?", 1)[0]
    assert top.chunk.doc_id == "writing-your-first-paper"


def test_editing_and_deleting_drop_old_chunks(counting: tuple[Advisor, CountingEmbedder]) -> None:
    advisor, spy = counting
    essays = advisor.settings.corpus_path / "essays"
    path = essays / "phd-supervisor.txt"
    path.write_text(path.read_text() + "\nAsk the supervisor's current students how often they meet.\n")
    report = advisor.refresh()
    assert report.changed == ["phd-supervisor"] and report.embedded >= 1
    assert report.reused == len(advisor.index) - report.embedded
    texts = [c.text for c in advisor.index.chunks if c.doc_id == "phd-supervisor"]
    assert any("current students" in t for t in texts)
    spy.texts.clear()
    path.unlink()
    report = advisor.refresh()
    assert report.deleted == ["phd-supervisor"] and report.embedded == 0 and not spy.texts
    assert all(c.doc_id != "phd-supervisor" for c in advisor.index.chunks)
    assert "phd-supervisor" not in advisor.index.documents


def test_build_reports_the_files_it_skipped(tiny_advisor: Advisor) -> None:
    essays = tiny_advisor.settings.corpus_path / "essays"
    (essays / "empty.md").write_bytes(b"")
    (essays / "notes.pdf").write_bytes(b"%PDF-1.4")
    report = tiny_advisor.build_index()
    assert sorted(p.path for p in report.problems) == ["essays/empty.md", "essays/notes.pdf"]
    assert report.up_to_date  # the skipped files change nothing
    assert report.to_dict()["problems"][0].startswith("essays/empty.md: ")


def test_a_running_advisor_sees_a_version_published_by_another(tiny_settings: Settings, embedder: Embedder) -> None:
    serving = Advisor(tiny_settings, embedder=embedder)
    serving.build_index()
    old = serving.index.version
    writer = Advisor(tiny_settings, embedder=embedder)  # e.g. `advisor-bot add` in another terminal
    writer.add_documents([Upload("first-paper.md", NEW_ESSAY)])
    top = serving.retrieve("who should read my paper draft before the deadline?", 1)[0]
    assert serving.index.version != old and top.chunk.doc_id == "writing-your-first-paper"


def test_refused_upload_changes_nothing(counting: tuple[Advisor, CountingEmbedder]) -> None:
    advisor, spy = counting
    version = advisor.index.version
    result = advisor.add_documents([Upload("../../etc/x.md", NEW_ESSAY), Upload("empty.md", b"")])
    assert not result.added and result.build is None and len(result.refused) == 2
    assert advisor.store.current_version() == version and not spy.texts


def test_adding_without_reindex_writes_the_essay_only(counting: tuple[Advisor, CountingEmbedder]) -> None:
    """`add --no-index`: the essay is in the corpus, the index is untouched until the next build."""
    advisor, spy = counting
    version = advisor.index.version
    result = advisor.add_documents([Upload("first-paper.md", NEW_ESSAY)], reindex=False)
    assert [a.doc_id for a in result.added] == ["writing-your-first-paper"] and result.build is None
    assert advisor.index.version == version and not spy.texts
    assert advisor.status().added == ["writing-your-first-paper"]
    assert advisor.refresh().added == ["writing-your-first-paper"]


def test_old_versions_are_pruned(tiny_root: Path, embedder: Embedder) -> None:
    advisor = Advisor(Settings.load(tiny_root, env={}, **SMALL, **{"index.keep_versions": 2}), embedder=embedder)
    advisor.build_index()
    for i in range(2):  # three versions in all, two kept
        essay = tiny_root / "corpus" / "essays" / f"extra-{i}.md"
        essay.write_text(f"# Extra {i}\n\nEssay number {i} about research taste.\n")
        advisor.refresh()
    assert len(advisor.store.versions()) == 2 and advisor.index.version == advisor.store.versions()[-1]


HOLD_LOCK = """
import sys, time
from pathlib import Path
from advisor_bot.index.locking import WriteLock
from advisor_bot.index.onnx_encoder import ENCODERS_DIR
with WriteLock(Path(sys.argv[1])):
    print("held", flush=True)
    time.sleep(60)
"""


@pytest.mark.slow
def test_second_writer_is_told_who_holds_the_lock(tiny_root: Path, tiny_advisor: Advisor) -> None:
    """Changed from v1: an add under another writer's lock now writes nothing (v1 wrote the essay,
    then failed to index it)."""
    essays = tiny_root / "corpus" / "essays"
    before = sorted(p.name for p in essays.iterdir())
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(tiny_advisor.store.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IndexLockedError, match=rf"being updated by process {holder.pid} .*Wait for that build"):
            tiny_advisor.add_documents([Upload("first-paper.md", NEW_ESSAY)])
        assert sorted(p.name for p in essays.iterdir()) == before
        cli = subprocess.run(
            [sys.executable, "-m", "advisor_bot", "--root", str(tiny_root), "index"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert cli.returncode == 1 and f"process {holder.pid}" in cli.stderr and "Traceback" not in cli.stderr
    finally:
        holder.kill()
        holder.wait()
    # the kernel released the lock with the dead holder: writing works again at once
    with WriteLock(tiny_advisor.store.path):
        pass
    result = tiny_advisor.add_documents([Upload("first-paper.md", NEW_ESSAY)])
    assert result.build is not None and result.build.added == ["writing-your-first-paper"]


BUILD_FOREVER = """
import sys
from pathlib import Path
from advisor_bot import Advisor, Settings
advisor = Advisor(Settings.load(Path(sys.argv[1]), env={}, **{"chunking.chunk_size": 300, "chunking.chunk_overlap": 40}))
advisor.embedder.encode(["load the model before saying ready"])
print("ready", flush=True)
essays = Path(sys.argv[1]) / "corpus" / "essays"
i = 0
while True:  # alternate adding an essay and rebuilding from scratch, until killed
    i += 1
    # written whole or not at all: a kill between write_text's truncation and its write left an
    # empty essay, which the final build rightly skips (what is under test is the index)
    tmp = essays / f".generated-{i % 3}.tmp"
    tmp.write_text(f"# Generated {i}\\n\\nRound {i} of a build that is killed at random.\\n")
    tmp.replace(essays / f"generated-{i % 3}.md")
    advisor.build_index(rebuild=i % 2 == 0, on_stage=lambda stage: print(stage, flush=True))
"""


@pytest.mark.slow
def test_sigkill_at_random_moments_leaves_a_complete_index(tiny_root: Path, embedder: Embedder) -> None:
    """A real build process is killed with SIGKILL at random moments, over and over; after each kill
    the index must open (checksums and all) with every document of some corpus state exactly once.
    The moment is random but spread over the stages: after a random number of stage reports from
    the child (chunking, embedding, indexing, writing, pruning) plus a random delay of up to 50 ms."""
    rng = random.Random(20261123)
    settings = Settings.load(tiny_root, env={}, **SMALL)
    Advisor(settings, embedder=embedder).build_index()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    kills = 0
    stages_hit: list[str] = []
    for _ in range(10):
        child = subprocess.Popen(
            [sys.executable, "-c", BUILD_FOREVER, str(tiny_root)], stdout=subprocess.PIPE, text=True, env=env
        )
        try:
            assert child.stdout is not None and child.stdout.readline().strip() == "ready"
            stage = ""
            for _ in range(rng.randint(1, 12)):
                stage = child.stdout.readline().strip()
            assert stage in BUILD_STAGES
            stages_hit.append(stage)
            time.sleep(rng.uniform(0.0, 0.05))
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait()
        kills += 1
        reader = Advisor(settings, embedder=embedder)
        index = reader.index  # verifies every file against the manifest's checksums
        docs_in_chunks = [c.doc_id for c in index.chunks]
        assert set(docs_in_chunks) == set(index.documents)
        manifest_counts = {d: m["chunks"] for d, m in index.manifest["documents"].items()}
        assert {d: docs_in_chunks.count(d) for d in index.documents} == manifest_counts
        assert len({c.chunk_id for c in index.chunks}) == len(index.chunks)  # nothing twice
        assert {"interviews", "reading-papers", "phd-supervisor"} <= set(index.documents)
        assert index.vector_index.ntotal == len(index.chunks)
        assert index.unit_index.ntotal == sum(len(c.units) for c in index.chunks)
    # and the next ordinary build cleans up after the dead ones and brings the index up to date
    final = Advisor(settings, embedder=embedder)
    final.refresh()
    on_disk = {p.stem for p in (tiny_root / "corpus" / "essays").iterdir() if not p.name.startswith(".")}
    assert {d for d in final.index.documents if not d.startswith("resource/")} == on_disk
    assert not [p for p in final.store.path.iterdir() if p.name.startswith(TMP_PREFIX)]
    assert not list(final.store.path.glob(f"{ENCODERS_DIR}/*/.export-*"))  # no half-exported model either
    assert len(set(stages_hit)) >= 3, stages_hit  # the kills really were spread over the build
    manifest = json.loads((final.index.path / "manifest.json").read_text())
    assert kills == 10 and manifest["version"] == (final.store.path / CURRENT).read_text().strip()
