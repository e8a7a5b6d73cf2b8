"""Documents -> chunks: heading sections, bounded sizes, stable ids, and whole-sentence units.

Chunk ids decide which vectors a rebuild may reuse, offsets let a citation show the passage in
context, and units are what an answer quotes: each has to stay right when essays change.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

import pytest

from advisor_bot.errors import SettingsError
from advisor_bot.index.chunking import UNIT_IN_CHUNK, attach_units, bm25_text, chunk_document, embedding_text
from advisor_bot.records import Chunk, Document, Unit, UnitKind
from advisor_bot.settings import ChunkingSettings, Settings
from advisor_bot.text.sentences import split_units

TEXT = """Intro paragraph before any heading, long enough to stand on its own as a chunk of text.

# Tips and FAQ

## For Technical Interview

- Practice Leetcode and other coding platforms. It is still used for research roles.
- Review Math, Statistics and Probability. This is the heart of AI.
- Review basics of ML and AI. Understand the why behind each technique.

## Other General Tips

Just start. """ + " ".join(f"Try idea number {i} and learn from it." for i in range(40))

QUOTED = """# Advice

> **[@someone](https://x.com/s)** Mid-career AI researchers (in
> fact all levels!): focus on becoming really good coders. Learn to replicate
> interesting research papers from scratch.

Topics to learn:

- CNNs
- ResNet
- YOLO
"""


def doc(text: str = TEXT, doc_id: str = "essay") -> Document:
    return Document(doc_id=doc_id, title="My Essay", text=text, path=f"{doc_id}.md", sha256="0" * 64)


def cfg(size: int = 300, overlap: int = 50, **more: object) -> ChunkingSettings:
    return ChunkingSettings(chunk_size=size, chunk_overlap=overlap, **more)


def test_offsets_point_at_the_chunk_text() -> None:
    d = doc()
    for chunk in chunk_document(d, cfg()):
        assert d.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text.strip()
        assert chunk.doc_id == "essay"


def test_heading_path_is_kept() -> None:
    chunks = chunk_document(doc(), cfg())
    sections = [c.section for c in chunks]
    assert sections[0] == ""
    assert "Tips and FAQ > For Technical Interview" in sections
    assert "Tips and FAQ > Other General Tips" in sections
    interview = next(c for c in chunks if c.section.endswith("For Technical Interview"))
    assert "Practice Leetcode" in interview.text


def test_the_documents_own_title_is_not_in_the_heading_path() -> None:
    text = "# My Essay\n\n## Start\n\nPick one small project and finish it before you start the next.\n"
    assert [c.section for c in chunk_document(doc(text), cfg())] == ["Start"]


def test_heading_without_body_joins_the_next_section() -> None:
    chunks = chunk_document(doc(), cfg())
    assert not any(c.text.strip() == "# Tips and FAQ" for c in chunks)
    assert any(c.text.startswith("# Tips and FAQ") and "Practice Leetcode" in c.text for c in chunks)


def test_long_sections_are_bounded_with_overlap() -> None:
    chunks = chunk_document(doc(), cfg(overlap=60))
    tips = [c for c in chunks if c.section.endswith("Other General Tips")]
    assert len(tips) > 2
    assert all(len(c.text) <= 300 + ChunkingSettings().min_chunk_chars for c in tips)
    assert any(a.end > b.start for a, b in itertools.pairwise(tips))  # neighbours overlap


def test_ids_are_stable_and_follow_content() -> None:
    first = [c.chunk_id for c in chunk_document(doc(), cfg())]
    assert first == [c.chunk_id for c in chunk_document(doc(), cfg())]
    assert len(set(first)) == len(first)
    edited = chunk_document(doc(TEXT.replace("Review basics", "Revise basics")), cfg())
    assert len(edited) == len(first)
    changed = [c.chunk_id for c in edited if c.chunk_id not in first]
    assert 1 <= len(changed) < len(first)  # only the edited chunk gets a new id
    renamed = chunk_document(replace(doc(), title="Another Title"), cfg())
    assert not set(first) & {c.chunk_id for c in renamed}  # the title is embedded, so it is in the id
    other_doc = chunk_document(doc(doc_id="copy"), cfg())
    assert not set(first) & {c.chunk_id for c in other_doc}  # and so is the document


def test_embedding_text_carries_title_and_heading_path() -> None:
    chunk = next(c for c in chunk_document(doc(), cfg()) if c.section)
    text = embedding_text(chunk, "My Essay")
    assert text.startswith(f"My Essay\n{chunk.section}\n\n")
    assert text.endswith(chunk.text)
    intro = chunk_document(doc(), cfg())[0]
    assert embedding_text(intro, "My Essay") == f"My Essay\n\n{intro.text}"


def test_bm25_text_counts_the_sections_own_heading_twice() -> None:
    """BM25 weighs a section's own heading (the last part of its path) like a title field; a
    chunk without a heading is indexed as embedded."""
    chunk = next(c for c in chunk_document(doc(), cfg()) if " > " in c.section)
    own = chunk.section.rsplit(" > ", 1)[-1]
    text = bm25_text(chunk, "My Essay")
    assert text == f"{embedding_text(chunk, 'My Essay')}\n{own}"
    assert text.count(own) >= 2
    intro = chunk_document(doc(), cfg())[0]
    assert not intro.section and bm25_text(intro, "My Essay") == embedding_text(intro, "My Essay")


def test_identical_text_gets_identical_ids() -> None:
    chunks = chunk_document(doc("Same words again and again. " * 60), cfg(200, 0))
    assert len({c.chunk_id for c in chunks}) < len(chunks)  # the store indexes a repeated chunk once


def test_document_without_headings() -> None:
    d = doc(" ".join(f"Sentence number {i}." for i in range(100)))
    chunks = chunk_document(d, cfg(200, 20))
    assert len(chunks) > 5
    assert all(c.section == "" for c in chunks)
    assert all(c.text.endswith(".") for c in chunks[:-1])  # cut at sentence ends, not mid-word


def test_default_settings_keep_a_short_essay_whole() -> None:
    chunks = chunk_document(doc())
    assert len(chunks) == 3  # one per section: the defaults are section-sized
    assert [len(c.units) for c in chunks] == [1, 6, 41]


def test_short_neighbouring_sections_can_be_packed() -> None:
    text = (
        "# Tips\n\n## Interviews\n\n"
        "Practice coding problems every week and explain your thinking out loud while you do.\n\n"
        "## Internships\n\n"
        "Apply early in the autumn, because the big labs fill their places before winter comes.\n"
    )
    d = replace(doc(text), title="Tips")
    apart = chunk_document(d, cfg(400, 0, min_chunk_chars=20))
    packed = chunk_document(d, cfg(400, 0, min_chunk_chars=20, pack_sections=True))
    assert [c.section for c in apart] == ["Interviews", "Internships"]
    assert [c.section for c in packed] == ["Interviews; Internships"]
    assert packed[0].text == text[: packed[0].end] and len(packed[0].units) == 2


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="chunk_overlap"):
        ChunkingSettings(chunk_size=300, chunk_overlap=300)
    with pytest.raises(ValueError, match="greater than or equal to 200"):
        ChunkingSettings(chunk_size=10, chunk_overlap=0)
    with pytest.raises(SettingsError, match=r"chunking\.chunk_size = 10 .*keyword"):
        Settings.load(".", env={}, **{"chunking.chunk_size": 10})


# ---------- units in chunks ----------


def squash(text: str) -> str:
    """Source text as displayed: quote markers, list bullets and line breaks collapsed."""
    text = re.sub(r"(?m)^\s*(?:>\s?|[-*]\s+)", "", text)
    return " ".join(text.split())


def test_every_chunk_carries_the_units_inside_it() -> None:
    d = doc()
    chunks = chunk_document(d, cfg())
    for chunk in chunks:
        assert chunk.units
        for unit in chunk.units:
            assert 0 <= unit.start < unit.end <= len(chunk.text)
            if unit.kind is not UnitKind.ITEMS:  # a bullet may have been given its full stop
                assert squash(chunk.text[unit.start : unit.end]) in (unit.text, unit.text[:-1])
    # every sentence of the document is in some chunk, in reading order
    units = split_units(d.text)
    attached = {u.text for c in chunks for u in c.units}
    assert [u.text for u in units if u.text in attached] == [u.text for u in units]


def test_units_are_whole_sentences_of_markdown_blocks() -> None:
    """Changed from v1: a unit is a sentence of a paragraph, item or quote (wrapped lines
    joined, attribution left out), not a line of the source."""
    d = doc(QUOTED, "quoted")
    (chunk,) = chunk_document(d, cfg(1000, 0))
    assert [(u.text, u.kind) for u in chunk.units] == [
        ("Mid-career AI researchers (in fact all levels!): focus on becoming really good coders.", UnitKind.STATEMENT),
        ("Learn to replicate interesting research papers from scratch.", UnitKind.STATEMENT),
        ("Topics to learn: CNNs; ResNet; YOLO.", UnitKind.ITEMS),
    ]
    for unit in chunk.units[:2]:
        assert squash(chunk.text[unit.start : unit.end]) == unit.text


def test_unit_offsets_are_relative_to_their_chunk() -> None:
    d = doc()
    chunk = chunk_document(d, cfg())[2]
    assert chunk.start > 0
    for unit in chunk.units:
        assert d.text[chunk.start + unit.start : chunk.start + unit.end] == chunk.text[unit.start : unit.end]


def test_segmenter_setting_is_used() -> None:
    text = "Is it worth it? I think so. Mr. Smith disagrees, e.g. on cost."
    for name in ("pysbd", "blingfire"):
        (chunk,) = chunk_document(doc(text), cfg(segmenter=name))
        assert chunk.units[0].text == "Is it worth it?"
        assert chunk.units[0].kind is UnitKind.QUESTION


def test_a_sentence_across_a_boundary_goes_with_the_chunk_holding_most_of_it() -> None:
    text = "a" * 100
    chunks = [
        Chunk(chunk_id="1", doc_id="d", section="", text=text[:60], start=0, end=60),
        Chunk(chunk_id="2", doc_id="d", section="", text=text[40:], start=40, end=100),
    ]
    mostly_first = Unit(text="x", start=10, end=55)  # 45 of 45 in the first, 15 in the second
    straddling = Unit(text="y", start=30, end=70)  # 30 of 40 in the first, 30 in the second: both
    mostly_second = Unit(text="z", start=50, end=95)  # 10 in the first, 45 in the second
    first, second = attach_units(chunks, [mostly_first, straddling, mostly_second])
    assert [u.text for u in first.units] == ["x", "y"]
    assert [u.text for u in second.units] == ["y", "z"]
    assert 15 < UNIT_IN_CHUNK * 45 <= 30  # the threshold these cases sit on either side of
    assert first.units[1].start == 30 and first.units[1].end == 60  # clipped to the chunk
    assert second.units[-1].start == 10 and second.units[-1].end == 55
