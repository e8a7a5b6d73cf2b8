"""Reading corpus/: front matter, mojibake repair, resources, and a bad file skipped by name.

One broken essay must never stop the others from loading, and the user must be told which
file it was and why.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from helpers import REPO

from advisor_bot.corpus.loading import clean_text, load_corpus, load_essay, resource_document, slugify
from advisor_bot.errors import CorpusError, DocumentError
from advisor_bot.records import Document


def by_id(root: Path, doc_id: str) -> Document:
    return next(d for d in load_corpus(root / "corpus").documents if d.doc_id == doc_id)


def test_loads_essays_and_resources(tiny_root: Path) -> None:
    loaded = load_corpus(tiny_root / "corpus")
    assert loaded.problems == []
    ids = {d.doc_id for d in loaded.documents}
    assert {"interviews", "reading-papers", "phd-supervisor", "resource/leetcode", "resource/sutton-and-barto"} == ids
    essay = by_id(tiny_root, "interviews")
    assert essay.title == "Tips for ML Interviews"
    assert essay.author == "Ada Example"
    assert essay.source_url == "https://example.org/interviews"
    assert essay.date == "2024-05-01"
    assert essay.kind == "blog"
    assert essay.tags == ("interviews", "careers")
    assert essay.voice == "An ML engineer who interviews candidates"
    assert essay.path == "essays/interviews.md"
    assert len(essay.sha256) == 64
    assert not essay.text.startswith("---")  # front matter is metadata, not text


def test_mojibake_title_is_repaired(tiny_root: Path) -> None:
    assert by_id(tiny_root, "reading-papers").title == "\N{ELECTRIC LIGHT BULB} TIL: Reading Papers Fast"


def test_figure_markup_becomes_its_caption(tiny_root: Path) -> None:
    doc = by_id(tiny_root, "interviews")
    assert "Figure 1: The robot from my first project" in doc.text
    assert "<figure" not in doc.text and "<img" not in doc.text


def test_figure_without_caption_becomes_its_alt_text() -> None:
    assert clean_text('a <figure><img src="x.png" alt="A robot arm"></figure> b') == "a A robot arm b"


def test_plain_text_essay_gets_a_title_from_its_name(tiny_root: Path) -> None:
    doc = by_id(tiny_root, "phd-supervisor")
    assert doc.title == "Phd supervisor"
    assert doc.kind == "essay"
    assert doc.text.startswith("Choosing a PhD supervisor")


def test_title_falls_back_to_the_first_heading(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("# Debugging Neural Networks\n\nStart with a tiny dataset and overfit it.\n")
    assert load_essay(path, doc_id="notes").title == "Debugging Neural Networks"


def test_resource_entries_read_as_passages(tiny_root: Path) -> None:
    doc = by_id(tiny_root, "resource/leetcode")
    assert doc.kind == "resource"
    assert doc.title == "LeetCode"
    assert doc.source_url == "https://leetcode.com/"
    assert doc.summary == "Practice problems for coding interviews."
    assert doc.tags == ("coding interviews",)
    assert doc.text.startswith("**LeetCode** (site; level: all; topics: coding interviews): Practice problems")
    assert "Recommended in: Tips for ML Interviews." in doc.text
    assert doc.text.endswith("Link: https://leetcode.com/")


def test_resource_ids_and_hashes_follow_the_entry() -> None:
    entry = {"name": "Deep Learning Book", "url": "https://example.org/dl", "why": "Theory."}
    a = resource_document(entry, essay_titles={}, path="resources.yaml#1")
    b = resource_document({**entry, "why": "Theory, carefully."}, essay_titles={}, path="resources.yaml#1")
    assert a.doc_id == b.doc_id == "resource/deep-learning-book"
    assert a.sha256 != b.sha256  # an edited entry is re-indexed
    assert a.text.endswith("Link: https://example.org/dl") and "Recommended in" not in a.text


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.md", b"", "is empty"),
        ("blank.md", b"  \n\n ", "is empty"),
        ("binary.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR", "binary"),
        ("bad-yaml.md", b"---\ntitle: [unclosed\n---\nbody text", "front matter is not valid YAML"),
        ("header-only.md", b"---\ntitle: x\n---\n", "no text"),
        ("bad-date.md", b"---\ndate: 2020-13-45\n---\nbody text", "not a calendar date"),
        ("alias.md", b"---\na: &x [1, 2]\nb: *x\n---\nbody text", "alias"),
        ("notes.pdf", b"%PDF-1.4", "unsupported file type .pdf"),
    ],
)
def test_broken_files_are_reported_by_name_and_skipped(tiny_root: Path, name: str, content: bytes, reason: str) -> None:
    (tiny_root / "corpus" / "essays" / name).write_bytes(content)
    loaded = load_corpus(tiny_root / "corpus")
    assert len([d for d in loaded.documents if not d.doc_id.startswith("resource/")]) == 3  # the rest still load
    assert [p.path for p in loaded.problems] == [f"essays/{name}"]
    assert reason in loaded.problems[0].reason
    assert str(loaded.problems[0]).startswith(f"essays/{name}: ")


def test_hidden_files_are_ignored(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "essays" / ".draft.md").write_text("A draft that is not ready to be indexed yet.")
    loaded = load_corpus(tiny_root / "corpus")
    assert loaded.problems == [] and "draft" not in {d.doc_id for d in loaded.documents}


def test_essays_in_subfolders_get_path_ids(tiny_root: Path) -> None:
    folder = tiny_root / "corpus" / "essays" / "guides"
    folder.mkdir()
    (folder / "first-paper.md").write_text("# Writing Your First Paper\n\nPick a venue first, then write.\n")
    assert by_id(tiny_root, "guides/first-paper").path == "essays/guides/first-paper.md"


def test_oversized_file_is_skipped(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "essays" / "huge.md").write_text("word " * 1000)
    loaded = load_corpus(tiny_root / "corpus", max_file_bytes=1000)
    assert any(p.path == "essays/huge.md" and "max_file_bytes" in p.reason for p in loaded.problems)


def test_links_are_reported_not_followed(tiny_root: Path, tmp_path: Path) -> None:
    """Changed from v1 (which read a link to a file): a link could point anywhere (/etc/passwd),
    so links in essays/ are reported, whether or not their target exists."""
    outside = tmp_path / "outside.md"
    outside.write_text("Text from outside the corpus that must not be indexed through a link.")
    essays = tiny_root / "corpus" / "essays"
    os.symlink(tiny_root / "nowhere.md", essays / "dangling.md")
    os.symlink(outside, essays / "elsewhere.md")
    loaded = load_corpus(tiny_root / "corpus")
    reasons = {p.path: p.reason for p in loaded.problems}
    assert set(reasons) == {"essays/dangling.md", "essays/elsewhere.md"}
    assert all("symbolic link" in r for r in reasons.values())
    assert {"dangling", "elsewhere"}.isdisjoint(d.doc_id for d in loaded.documents)
    assert len([d for d in loaded.documents if d.kind != "resource"]) == 3


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


def test_duplicate_id_is_reported(tiny_root: Path) -> None:
    """interviews.md and interviews.txt would both be "interviews": the second is refused."""
    (tiny_root / "corpus" / "essays" / "interviews.txt").write_text("Completely different text about interviews.")
    loaded = load_corpus(tiny_root / "corpus")
    assert [p.path for p in loaded.problems] == ["essays/interviews.txt"]
    assert "same id 'interviews'" in loaded.problems[0].reason


def test_latin1_file_is_decoded(tmp_path: Path) -> None:
    path = tmp_path / "cafe.md"
    text = "Le caf\u00e9 est ouvert et la cr\u00e8me br\u00fbl\u00e9e aussi, tous les jours de la semaine."
    path.write_bytes(text.encode("latin-1"))
    assert "caf\u00e9" in load_essay(path, doc_id="cafe").text


def test_utf8_bom_and_windows_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "bom.md"
    path.write_bytes("\ufeff---\ntitle: BOM\n---\r\nFirst line.\r\nSecond line.\r\n".encode())
    doc = load_essay(path, doc_id="bom")
    assert doc.title == "BOM" and doc.text.strip() == "First line.\nSecond line."


def test_bad_resources_file_is_reported(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "resources.yaml").write_text("resources:\n  - name: No URL\n  - [not, a, mapping]\n")
    loaded = load_corpus(tiny_root / "corpus")
    reasons = {p.path: p.reason for p in loaded.problems}
    assert "missing url" in reasons["resources.yaml entry #1"]
    assert "not a mapping" in reasons["resources.yaml entry #2"]


def test_unparsable_resources_file_is_reported(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "resources.yaml").write_text("resources: [unclosed\n")
    loaded = load_corpus(tiny_root / "corpus")
    assert [p.path for p in loaded.problems] == ["resources.yaml"]
    assert "not valid YAML" in loaded.problems[0].reason
    assert len(loaded.documents) == 3  # the essays still load


def test_missing_corpus_folder_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(tmp_path / "nope")


def test_clean_text_drops_comments_and_control_characters() -> None:
    assert clean_text("a<!--more-->b\x07c\r\nd") == "abc\nd"


def test_clean_text_normalises_to_nfc() -> None:
    assert clean_text("cafe\u0301") == "caf\u00e9"


def test_load_essay_raises_document_error(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="cannot be read"):
        load_essay(tmp_path / "missing.md", doc_id="missing")


def test_slugify() -> None:
    assert slugify("Caf\u00e9: Deep Learning (2nd ed.)") == "cafe-deep-learning-2nd-ed"
    assert slugify("///") == "untitled"
    assert len(slugify("word " * 40)) <= 60 and not slugify("word " * 40).endswith("-")


def test_the_real_corpus_loads_without_problems() -> None:
    loaded = load_corpus(REPO / "corpus")
    assert loaded.problems == []
    essays = [d for d in loaded.documents if d.kind != "resource"]
    assert len(essays) >= 5
    assert all(d.title and d.text.strip() and "\u00f0\u0178" not in d.title for d in essays)
