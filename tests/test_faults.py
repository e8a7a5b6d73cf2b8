"""Index faults while serving: files deleted or corrupted under a running Advisor, and a full
disk during a build. The previous version keeps answering; a rebuild recovers."""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from advisor_bot import Advisor, IndexCorruptError, IndexWriteError, Settings, Upload
from advisor_bot.index.embedding import Embedder

QUESTION = "How do I prepare for coding interviews?"
NEW_ESSAY = (
    "# Lab Notebooks\n\nKeep a lab notebook with one line per experiment: the command, the commit and the result.\n"
)


@pytest.mark.slow  # two builds
def test_deleted_index_keeps_serving_then_recovers(tiny_advisor: Advisor, embedder: Embedder) -> None:
    assert tiny_advisor.ask(QUESTION).citations
    shutil.rmtree(tiny_advisor.store.path)
    assert tiny_advisor.ask(QUESTION).citations  # the loaded version answers from memory
    fresh = Advisor(tiny_advisor.settings, embedder=embedder)
    fresh.build_index()  # what `advisor-bot index` does
    assert tiny_advisor.index.version == fresh.index.version and tiny_advisor.ask(QUESTION).citations


@pytest.mark.slow  # two builds
def test_corrupted_index_is_reported_and_rebuilt(tiny_advisor: Advisor, embedder: Embedder) -> None:
    old = tiny_advisor.index.version
    victim = tiny_advisor.index.path / "vectors.faiss"
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    assert tiny_advisor.ask(QUESTION).citations  # still serving what it loaded
    with pytest.raises(IndexCorruptError, match=r"vectors.faiss does not match its checksum.*Run `advisor-bot index`"):
        Advisor(tiny_advisor.settings, embedder=embedder).index  # noqa: B018
    status = Advisor(tiny_advisor.settings, embedder=embedder).status()
    assert status.error and "vectors.faiss" in status.error  # `index --status` names the file too
    report = Advisor(tiny_advisor.settings, embedder=embedder).build_index()  # plain `advisor-bot index`
    assert report.version != old and report.reused == 0  # nothing reused from a corrupt version
    assert tiny_advisor.index.version == report.version and tiny_advisor.ask(QUESTION).citations


def test_truncated_index_file_is_reported(tiny_advisor: Advisor, embedder: Embedder) -> None:
    victim = tiny_advisor.index.path / "chunks.jsonl"
    victim.write_bytes(victim.read_bytes()[:-10])
    with pytest.raises(IndexCorruptError, match=r"chunks.jsonl is \d+ bytes, expected \d+ \(truncated\?\)"):
        Advisor.load(tiny_advisor.settings, embedder=embedder)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs, where mounting is allowed (root); skipped with the reason elsewhere."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({done.stderr.strip() or 'not root'})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.slow
def test_disk_full_during_a_build_leaves_the_old_index_serving(
    tiny_settings: Settings, small_disk: Path, embedder: Embedder
) -> None:
    settings = tiny_settings.with_overrides(**{"index.dir": str(small_disk / "index")})
    advisor = Advisor(settings, embedder=embedder)
    advisor.build_index()
    old = advisor.index.version
    stat = os.statvfs(small_disk)
    ballast = small_disk / f"ballast-{uuid.uuid4().hex}"
    ballast.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 16_384))  # leave 16 KB
    with pytest.raises(IndexWriteError, match=r"still serving.*Free some disk space and run `advisor-bot index` again"):
        advisor.add_documents([Upload("notebooks.md", NEW_ESSAY)])
    assert advisor.store.current_version() == old and advisor.ask(QUESTION).citations
    assert not [p for p in (small_disk / "index").iterdir() if p.name.startswith(".tmp-")]
    assert not (settings.corpus_path / "essays" / "lab-notebooks.md").exists()  # the add was taken back
    reader = Advisor(settings, embedder=embedder)
    assert reader.index.version == old  # a new process opens the old version, checksums and all
    ballast.unlink()
    report = advisor.add_documents([Upload("notebooks.md", NEW_ESSAY)])
    assert report.build is not None and report.build.added == ["lab-notebooks"]
    assert advisor.retrieve("what should a lab notebook record per experiment?", 1)[0].title == "Lab Notebooks"
