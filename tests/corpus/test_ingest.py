"""Adding essays: names, types, sizes, HTML conversion, front matter, duplicates.

Everything offered is checked before anything is written, so a refused upload can never
overwrite or corrupt an essay that is already indexed.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import frontmatter
import pytest

from advisor_bot.corpus.ingest import Upload, add_uploads, check_upload_name, html_to_markdown, prepare
from advisor_bot.corpus.loading import load_corpus
from advisor_bot.errors import UploadError

PAGE = """<html><head><title>Finding a Research Mentor</title>
<meta name="author" content="Jane Doe"><link rel="canonical" href="https://example.org/mentor">
<script>alert('head')</script><style>body {color: red}</style></head>
<body><nav>Home | About</nav><h1>Finding a Research Mentor</h1>
<p>Write to <b>graduate students</b> before professors; they answer more often.</p>
<script>document.write('evil')</script><img src="x.png" onerror="alert(1)">
<h2>What to send</h2><ul><li>One paragraph about a paper of theirs</li><li>Your code</li></ul></body></html>"""

ESSAY = "# Debugging Neural Networks\n\nStart with a tiny dataset and overfit it before you scale anything up.\n"


@pytest.mark.parametrize("name", ["../x.md", "..\\x.md", "a/b.md", "/etc/passwd.md", ".hidden.md", "x\x00.md", " x.md"])
def test_names_with_path_parts_are_refused(name: str) -> None:
    with pytest.raises(UploadError, match="path parts"):
        check_upload_name(name)


@pytest.mark.parametrize("name", ["essay.pdf", "essay", "essay.md.exe"])
def test_unknown_extensions_are_refused(name: str) -> None:
    with pytest.raises(UploadError, match="unsupported file type"):
        check_upload_name(name)


@pytest.mark.parametrize(("name", "suffix"), [("a.md", ".md"), ("B.MARKDOWN", ".markdown"), ("c.Htm", ".htm")])
def test_supported_names_give_their_suffix(name: str, suffix: str) -> None:
    assert check_upload_name(name) == suffix


def test_a_blank_name_is_refused() -> None:
    with pytest.raises(UploadError, match="give the file a name"):
        check_upload_name("  ")


def test_html_becomes_markdown_without_scripts() -> None:
    body, meta = html_to_markdown(PAGE)
    assert meta == {
        "title": "Finding a Research Mentor",
        "author": "Jane Doe",
        "source_url": "https://example.org/mentor",
    }
    assert "# Finding a Research Mentor" in body and "## What to send" in body
    assert "**graduate students**" in body and "- Your code" in body
    for gone in ("alert", "evil", "color: red", "Home | About", "<", "onerror"):
        assert gone not in body


def test_front_matter_is_inferred_and_overridden() -> None:
    meta, body = prepare(Upload("debugging.md", ESSAY), max_bytes=10_000)
    assert body.startswith("# Debugging Neural Networks")
    assert meta["title"] == "Debugging Neural Networks" and meta["kind"] == "essay"
    assert str(meta["added"]) == dt.date.today().isoformat()
    meta, _ = prepare(
        Upload(
            "notes.txt",
            "Start small and overfit one batch before anything else.",
            title="Tiny data",
            author="A. Person",
            source_url="https://example.org/t",
            tags=[" debugging ", ""],
        ),
        max_bytes=10_000,
    )
    assert (meta["title"], meta["author"], meta["source_url"]) == ("Tiny data", "A. Person", "https://example.org/t")
    assert meta["tags"] == ["debugging"]


def test_existing_front_matter_is_kept_and_url_is_renamed() -> None:
    text = "---\ntitle: Own Title\nurl: https://example.org/own\nkind: Blog\n---\n" + ESSAY
    meta, body = prepare(Upload("own.md", text), max_bytes=10_000)
    assert meta["title"] == "Own Title" and meta["source_url"] == "https://example.org/own" and "url" not in meta
    assert meta["kind"] == "blog"
    assert not body.startswith("---")


def test_a_plain_text_essay_without_heading_is_named_after_its_file() -> None:
    meta, _ = prepare(
        Upload("research_taste-notes.txt", "Taste is knowing which problems matter most."), max_bytes=1000
    )
    assert meta["title"] == "Research taste notes"


@pytest.mark.parametrize(
    ("upload", "reason"),
    [
        (Upload("empty.md", b""), "empty"),
        (Upload("blank.md", b"   \n\n"), "empty"),
        (Upload("bin.md", b"\x89PNG\r\n\x1a\n\x00\x00\x00IHDR" * 20), "binary"),
        (Upload("header-only.md", "---\ntitle: x\n---\n"), "no essay text"),
        (
            Upload("bad-yaml.md", "---\ntitle: [unclosed\n---\nSome text here that is long enough to count."),
            "not valid YAML",
        ),
        (Upload("big.md", "word " * 5000), "over the"),
        (Upload("link.md", ESSAY, source_url="javascript:alert(1)"), "not an http"),
        (Upload("kind.md", ESSAY, kind="novel"), "kind 'novel' is not one of"),
    ],
)
def test_bad_uploads_are_refused_with_the_reason(upload: Upload, reason: str) -> None:
    with pytest.raises(UploadError, match=reason):
        prepare(upload, max_bytes=20_000)


def test_a_folder_is_not_an_upload(tmp_path: Path) -> None:
    with pytest.raises(UploadError, match="is a folder"):
        Upload.from_path(tmp_path)


def test_add_writes_new_files_and_refuses_the_rest_by_name(tiny_root: Path, tmp_path: Path) -> None:
    corpus = tiny_root / "corpus"
    before = {p.name: p.read_bytes() for p in (corpus / "essays").iterdir()}
    page = tmp_path / "mentor.html"
    page.write_text(PAGE)
    duplicate = Upload("copy.md", (corpus / "essays" / "interviews.md").read_bytes())
    report = add_uploads(
        [page, Upload("debugging.md", ESSAY), Upload("../escape.md", ESSAY), duplicate, tmp_path / "missing.md"],
        corpus,
        max_bytes=100_000,
    )
    assert [a.path.name for a in report.added] == ["finding-a-research-mentor.md", "debugging-neural-networks.md"]
    assert [a.doc_id for a in report.added] == ["finding-a-research-mentor", "debugging-neural-networks"]
    assert report.build is None  # add_uploads only writes; the Advisor reindexes
    refused = {r.path: r.reason for r in report.refused}
    assert set(refused) == {"../escape.md", "copy.md", str(tmp_path / "missing.md")}
    assert "same text as interviews.md" in refused["copy.md"]
    assert "cannot be read" in refused[str(tmp_path / "missing.md")]
    assert not (tiny_root / "corpus" / "escape.md").exists() and not (tiny_root / "escape.md").exists()
    post = frontmatter.load(corpus / "essays" / "finding-a-research-mentor.md")
    assert post["author"] == "Jane Doe" and post["source_url"] == "https://example.org/mentor"
    # what was there is untouched, and adding the same essay again is a duplicate
    assert all((corpus / "essays" / name).read_bytes() == data for name, data in before.items())
    again = add_uploads([Upload("debugging-2.md", ESSAY)], corpus, max_bytes=100_000)
    assert not again.added and "same text" in again.refused[0].reason
    # and what was written loads like any other essay
    loaded = load_corpus(corpus)
    assert loaded.problems == []
    assert {"finding-a-research-mentor", "debugging-neural-networks"} <= {d.doc_id for d in loaded.documents}
    assert not [p for p in (corpus / "essays").iterdir() if p.name.startswith(".add-")]


def test_details_given_for_paths_go_into_front_matter(tiny_root: Path, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("Write the abstract last, once the experiments say what the paper is about.")
    meta = {"title": "Abstracts Last", "author": "B. Writer", "source_url": "https://example.org/abs"}
    report = add_uploads([path], tiny_root / "corpus", max_bytes=10_000, meta=meta)
    post = frontmatter.load(report.added[0].path)
    assert report.added[0].path.name == "abstracts-last.md"
    assert (post["title"], post["author"], post["source_url"]) == (
        "Abstracts Last",
        "B. Writer",
        "https://example.org/abs",
    )


def test_same_title_gets_a_new_name_not_an_overwrite(tiny_root: Path) -> None:
    corpus = tiny_root / "corpus"
    first = add_uploads([Upload("a.md", ESSAY)], corpus, max_bytes=100_000).added[0]
    second = add_uploads(
        [Upload("b.md", ESSAY + "\nA second version with one more line.\n")], corpus, max_bytes=100_000
    ).added[0]
    assert first.path.name == "debugging-neural-networks.md" and second.path.name == "debugging-neural-networks-2.md"
