import os
from pathlib import Path

import pytest

from advisor_bot.corpus import clean_text, load_corpus, load_essay, slugify
from advisor_bot.errors import CorpusError, DocumentError


def test_loads_essays_and_resources(tiny_root: Path) -> None:
    loaded = load_corpus(tiny_root / "corpus")
    assert loaded.problems == []
    ids = {d.doc_id for d in loaded.documents}
    assert {"interviews", "reading-papers", "phd-supervisor", "resource/leetcode"} <= ids
    essay = next(d for d in loaded.documents if d.doc_id == "interviews")
    assert essay.title == "Tips for ML Interviews"
    assert essay.author == "Ada Example"
    assert essay.source_url == "https://example.org/interviews"
    assert essay.date == "2024-05-01"
    assert essay.kind == "blog"
    assert essay.tags == ("interviews", "careers")
    assert len(essay.sha256) == 64


def test_mojibake_title_is_repaired(tiny_root: Path) -> None:
    doc = next(d for d in load_corpus(tiny_root / "corpus").documents if d.doc_id == "reading-papers")
    assert doc.title == "\N{ELECTRIC LIGHT BULB} TIL: Reading Papers Fast"


def test_figure_markup_becomes_its_caption(tiny_root: Path) -> None:
    doc = next(d for d in load_corpus(tiny_root / "corpus").documents if d.doc_id == "interviews")
    assert "Figure 1: The robot from my first project" in doc.text
    assert "<figure" not in doc.text and "<img" not in doc.text


def test_plain_text_essay_gets_a_title_from_its_name(tiny_root: Path) -> None:
    doc = next(d for d in load_corpus(tiny_root / "corpus").documents if d.doc_id == "phd-supervisor")
    assert doc.title == "Phd supervisor"
    assert doc.text.startswith("Choosing a PhD supervisor")


def test_resource_entries_read_as_passages(tiny_root: Path) -> None:
    doc = next(d for d in load_corpus(tiny_root / "corpus").documents if d.doc_id == "resource/leetcode")
    assert doc.kind == "resource"
    assert doc.source_url == "https://leetcode.com/"
    assert "Practice problems for coding interviews." in doc.text
    assert "Recommended in: Tips for ML Interviews." in doc.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "is empty"),
        ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("bad-yaml.md", b"---\ntitle: [unclosed\n---\nbody text", "front matter is not valid YAML"),
        ("header-only.md", b"---\ntitle: x\n---\n", "no text"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
    ],
)
def test_broken_files_are_reported_by_name_and_skipped(tiny_root: Path, name: str, content: bytes, reason: str) -> None:
    (tiny_root / "corpus" / "essays" / name).write_bytes(content)
    loaded = load_corpus(tiny_root / "corpus")
    assert len([d for d in loaded.documents if not d.doc_id.startswith("resource/")]) == 3  # the rest still load
    assert [p.path for p in loaded.problems] == [f"essays/{name}"]
    assert reason in loaded.problems[0].reason


def test_oversized_file_is_skipped(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "essays" / "huge.md").write_text("word " * 1000)
    loaded = load_corpus(tiny_root / "corpus", max_file_bytes=1000)
    assert any(p.path == "essays/huge.md" and "max_file_bytes" in p.reason for p in loaded.problems)


def test_broken_link_is_reported(tiny_root: Path) -> None:
    os.symlink(tiny_root / "nowhere.md", tiny_root / "corpus" / "essays" / "dangling.md")
    loaded = load_corpus(tiny_root / "corpus")
    assert any(p.path == "essays/dangling.md" and "cannot be read" in p.reason for p in loaded.problems)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_file_is_reported(tiny_root: Path) -> None:
    path = tiny_root / "corpus" / "essays" / "secret.md"
    path.write_text("text")
    path.chmod(0)
    loaded = load_corpus(tiny_root / "corpus")
    assert any(p.path == "essays/secret.md" and "cannot be read" in p.reason for p in loaded.problems)


def test_duplicate_text_is_skipped(tiny_root: Path) -> None:
    src = tiny_root / "corpus" / "essays" / "phd-supervisor.txt"
    (tiny_root / "corpus" / "essays" / "copy.txt").write_bytes(src.read_bytes())
    loaded = load_corpus(tiny_root / "corpus")
    assert [p.path for p in loaded.problems] == ["essays/phd-supervisor.txt"]  # copy.txt sorts first and is kept
    assert "same text" in loaded.problems[0].reason


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cafe.md"
    path.write_bytes("Le caf\u00e9 est ouvert et la cr\u00e8me br\u00fbl\u00e9e aussi, tous les jours de la semaine.".encode("latin-1"))
    assert "caf\u00e9" in load_essay(path, doc_id="cafe").text


def test_bad_resources_file_is_reported(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "resources.yaml").write_text("resources:\n  - name: No URL\n  - [not, a, mapping]\n")
    loaded = load_corpus(tiny_root / "corpus")
    reasons = {p.path: p.reason for p in loaded.problems}
    assert "missing url" in reasons["resources.yaml entry #1"]
    assert "not a mapping" in reasons["resources.yaml entry #2"]


def test_missing_corpus_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_clean_text_drops_comments_and_control_characters() -> None:
    assert clean_text("a<!--more-->b\x07c\r\nd") == "abc\nd"


def test_load_essay_raises_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot be read"):
        load_essay(tmp_path / "missing.md", doc_id="missing")


def test_slugify() -> None:
    assert slugify("Caf\u00e9: Deep Learning (2nd ed.)") == "cafe-deep-learning-2nd-ed"
    assert slugify("///") == "untitled"
