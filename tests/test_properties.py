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
from advisor_bot.corpus.loading import load_essay
from advisor_bot.index.chunking import chunk_document
from advisor_bot.records import Document
from advisor_bot.settings import ChunkingSettings

# Unicode of every category, control characters and lone surrogates' neighbours included.
any_text = st.text(st.characters(codec=None, exclude_categories=("Cs",)), max_size=3000)
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
@given(body=markdownish | any_text, size=st.integers(200, 3000))
def test_chunks_cover_the_text_and_point_back_into_it(body: str, size: int) -> None:
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
@given(name=st.text(max_size=40), data=st.binary(max_size=3000) | any_text)
def test_uploads_are_prepared_or_refused(name: str, data: bytes | str) -> None:
    try:
        meta, body = prepare(Upload(name, data), max_bytes=2000)
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
