"""Property-based tests (hypothesis): arbitrary input to the loader, the chunker, the upload
checks and question handling gives a result or our own error, never a crash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from advisor_bot import Advisor, DocumentError, InvalidQuestionError, Upload, UploadError
from advisor_bot.advisor import validate_question
from advisor_bot.corpus.ingest import prepare
from advisor_bot.corpus.loading import clean_text, load_essay
from advisor_bot.index.chunking import chunk_document
from advisor_bot.records import Document
from advisor_bot.settings import ChunkingSettings
from advisor_bot.text.normalize import clean_input

# Unicode of every category: control characters, lone surrogates (what Python makes of invalid
# UTF-8 on a command line), line and paragraph separators included.
any_text = st.text(st.characters(codec=None), max_size=3000) | st.lists(
    st.sampled_from(["\ud800", "\udfff", "\u2028", "\u2029", "\u200b", "a", " ", "\n"]), max_size=200
).map("".join)
# Structures nested far deeper than any essay: blockquotes, lists, HTML elements.
deep_markdown = st.integers(50, 600).map(
    lambda n: "> " * n + "deep words\n" + "".join("  " * i + "- x\n" for i in range(n))
)
deep_html = st.integers(100, 2000).map(lambda n: "<div>" * n + "words of an essay in here" + "</div>" * n)
markdownish = st.lists(
    st.sampled_from(
        [
            "# Title\n",
            "## Part\n",
            "### Sub\n",
            "text ",
            "more words. ",
            "\n\n",
            "- item\n",
            "> quoted line\n",
            "```\ncode\n```\n",
            "<figure>x</figure>",
            "\x00",
            "é",
            "😀",
            "\u2028",
        ]
    ),
    max_size=400,
).map("".join)
QUICK = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@QUICK
@given(raw=st.binary(max_size=5000) | any_text.map(lambda s: s.encode("utf-8", "surrogatepass")))
def test_loader_reads_or_reports_any_file(tmp_path: Path, raw: bytes) -> None:
    path = tmp_path / "essay.md"
    path.write_bytes(raw)
    try:
        doc = load_essay(path, doc_id="essay", max_file_bytes=4000)
    except DocumentError as exc:
        assert exc.path and exc.reason
        return
    assert doc.text.strip() and doc.title and "\x00" not in doc.text


@QUICK
@given(body=markdownish | any_text | deep_markdown, size=st.integers(200, 3000))
def test_chunks_cover_the_text_and_point_back_into_it(body: str, size: int) -> None:
    body = clean_text(clean_input(body))  # as every document's text is, on its way from a file
    if not body.strip():
        return
    doc = Document(doc_id="d", title="T", text=body, path="d.md", sha256=hashlib.sha256(body.encode()).hexdigest())
    chunks = chunk_document(doc, ChunkingSettings(chunk_size=size, chunk_overlap=min(100, size // 4)))
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert len(c.text) <= size + 200  # a heading line may ride along
        for u in c.units:  # sentence units point into their chunk (what the UI highlights)
            assert 0 <= u.start < u.end <= len(c.text)
    # ids are stable hashes of the content: equal only for a repeated identical passage
    assert len({c.chunk_id for c in chunks}) == len({(c.section, c.text) for c in chunks})


@QUICK
@given(name=st.text(max_size=40) | st.just("page.html"), data=st.binary(max_size=3000) | any_text | deep_html)
def test_uploads_are_prepared_or_refused(name: str, data: bytes | str) -> None:
    try:
        meta, body = prepare(Upload(name, data), max_bytes=20_000)
    except UploadError as exc:
        assert str(exc)
        return
    assert meta["title"] and body.strip() and "/" not in name and ".." not in name


@QUICK
@given(question=any_text | st.just("x" * 60_000) | st.integers() | st.none())
def test_questions_are_cleaned_or_refused(question: object) -> None:
    try:
        cleaned = validate_question(question, 2000)
    except InvalidQuestionError as exc:
        assert "question" in str(exc).lower()
        return
    assert cleaned and len(cleaned) <= 2000 and "\x00" not in cleaned and "\u2028" not in cleaned
    assert not any("\ud800" <= ch <= "\udfff" for ch in cleaned)
    cleaned.encode("utf-8")  # always encodable: the tokenizer and every file accept it


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=any_text)
def test_asking_anything_answers_or_refuses_cleanly(tiny_advisor: Advisor, question: str) -> None:
    try:
        answer = tiny_advisor.ask(question)
    except InvalidQuestionError:
        return
    assert answer.text
    assert all(1 <= c.n <= len(answer.passages) for c in answer.citations)
    assert not answer.refused or answer.citations == []
