import itertools
from dataclasses import replace

import pytest

from advisor_bot.chunking import ChunkingConfig, chunk_document, embedding_text
from advisor_bot.records import Document

TEXT = """Intro paragraph before any heading, long enough to stand on its own as a chunk of text.

# Tips and FAQ

## For Technical Interview

- Practice Leetcode and other coding platforms. It is still used for research roles.
- Review Math, Statistics and Probability. This is the heart of AI.
- Review basics of ML and AI. Understand the why behind each technique.

## Other General Tips

Just start. """ + " ".join(f"Try idea number {i} and learn from it." for i in range(40))


def doc(text: str = TEXT, doc_id: str = "essay") -> Document:
    return Document(doc_id=doc_id, title="My Essay", text=text, path=f"{doc_id}.md", sha256="0" * 64)


def test_offsets_point_at_the_chunk_text() -> None:
    d = doc()
    for chunk in chunk_document(d, ChunkingConfig(chunk_size=300, chunk_overlap=50)):
        assert d.text[chunk.start:chunk.end] == chunk.text
        assert chunk.text.strip()


def test_heading_path_is_kept() -> None:
    chunks = chunk_document(doc(), ChunkingConfig(chunk_size=300, chunk_overlap=50))
    sections = [c.section for c in chunks]
    assert sections[0] == ""
    assert "Tips and FAQ > For Technical Interview" in sections
    assert "Tips and FAQ > Other General Tips" in sections
    interview = next(c for c in chunks if c.section.endswith("For Technical Interview"))
    assert "Practice Leetcode" in interview.text


def test_heading_without_body_joins_the_next_section() -> None:
    chunks = chunk_document(doc(), ChunkingConfig(chunk_size=300, chunk_overlap=50))
    assert not any(c.text.strip() == "# Tips and FAQ" for c in chunks)
    assert any(c.text.startswith("# Tips and FAQ") and "Practice Leetcode" in c.text for c in chunks)


def test_long_sections_are_bounded_with_overlap() -> None:
    chunks = chunk_document(doc(), ChunkingConfig(chunk_size=300, chunk_overlap=60))
    tips = [c for c in chunks if c.section.endswith("Other General Tips")]
    assert len(tips) > 2
    assert all(len(c.text) <= 300 + ChunkingConfig().min_chunk_chars for c in tips)
    assert any(a.end > b.start for a, b in itertools.pairwise(tips))  # neighbours overlap


def test_ids_are_stable_and_follow_content() -> None:
    cfg = ChunkingConfig(chunk_size=300, chunk_overlap=50)
    first = [c.chunk_id for c in chunk_document(doc(), cfg)]
    assert first == [c.chunk_id for c in chunk_document(doc(), cfg)]
    assert len(set(first)) == len(first)
    edited = chunk_document(doc(TEXT.replace("Review basics", "Revise basics")), cfg)
    assert len(edited) == len(first)
    changed = [c.chunk_id for c in edited if c.chunk_id not in first]
    assert 1 <= len(changed) < len(first)  # only the edited chunk gets a new id
    renamed = chunk_document(replace(doc(), title="Another Title"), cfg)
    assert not set(first) & {c.chunk_id for c in renamed}  # the title is embedded, so it is in the id


def test_embedding_text_carries_title_and_heading_path() -> None:
    chunk = next(c for c in chunk_document(doc(), ChunkingConfig(300, 50)) if c.section)
    text = embedding_text(chunk, "My Essay")
    assert text.startswith(f"My Essay\n{chunk.section}\n\n")
    assert text.endswith(chunk.text)


def test_identical_text_gets_identical_ids() -> None:
    chunks = chunk_document(doc("Same words again and again. " * 60), ChunkingConfig(chunk_size=200, chunk_overlap=0))
    assert len({c.chunk_id for c in chunks}) < len(chunks)  # the store indexes a repeated chunk once


def test_document_without_headings() -> None:
    d = doc(" ".join(f"Sentence number {i}." for i in range(100)))
    chunks = chunk_document(d, ChunkingConfig(chunk_size=200, chunk_overlap=20))
    assert len(chunks) > 5
    assert all(c.section == "" for c in chunks)
    assert all(c.text.endswith(".") for c in chunks[:-1])  # cut at sentence ends, not mid-word


def test_bad_config_is_refused() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        ChunkingConfig(chunk_size=100, chunk_overlap=100)
    with pytest.raises(ValueError, match="too small"):
        ChunkingConfig(chunk_size=10, chunk_overlap=0)
