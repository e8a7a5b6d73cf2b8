"""Markdown -> blocks: what the display text keeps and drops, and that it maps back to the source.

Sentence units, highlights and citations all read block display text; if a display character
does not point at the same source character, the page highlights the wrong words.
"""

from __future__ import annotations

import pytest

from advisor_bot.text.markdown import Block, Link, parse_blocks

DOC = """# A *Title* here

Read [the paper](https://arxiv.org/abs/1) and ![a robot arm](img/robot.png) **twice**, _slowly_.
Some <b>bold</b> html and <script>alert(1)</script> stay as text.

| Name | Why |
|------|-----|
| LeetCode | *coding* practice |
| [fast.ai](https://fast.ai) | courses |

```python
x = 1
```

> quoted **text** across
> two lines.

- item one
  - nested item
1. ordered `code` item
"""


def blocks_of(kind: str, text: str = DOC) -> list[Block]:
    return [b for b in parse_blocks(text) if b.kind == kind]


def test_block_kinds_in_reading_order() -> None:
    """Each markdown construct becomes its own kind of block, in the order it is read."""
    kinds = [b.kind for b in parse_blocks(DOC)]
    assert kinds == ["heading", "paragraph", "table", "table", "table", "code", "paragraph", "item", "item", "item"]


def test_links_become_their_text_and_keep_the_url() -> None:
    paragraph = blocks_of("paragraph")[0]
    assert paragraph.display.startswith("Read the paper and ")
    assert "https://" not in paragraph.display and "](" not in paragraph.display
    assert Link("the paper", "https://arxiv.org/abs/1") in paragraph.links


def test_images_become_their_alt_text() -> None:
    paragraph = blocks_of("paragraph")[0]
    assert "and a robot arm twice" in paragraph.display
    assert "![" not in paragraph.display and "robot.png" not in paragraph.display
    assert Link("a robot arm", "img/robot.png") in paragraph.links


def test_emphasis_markers_are_dropped() -> None:
    assert blocks_of("heading")[0].display == "A Title here"
    paragraph = blocks_of("paragraph")[0]
    assert "twice, slowly." in paragraph.display
    assert "*" not in paragraph.display and "_" not in paragraph.display


def test_raw_html_stays_text() -> None:
    """HTML is off in the parser: an essay's tags are shown as written, never interpreted."""
    paragraph = blocks_of("paragraph")[0]
    assert "Some <b>bold</b> html and <script>alert(1)</script> stay as text." in paragraph.display


def test_wrapped_lines_are_joined() -> None:
    paragraph = blocks_of("paragraph")[0]
    assert "\n" not in paragraph.display
    assert "slowly. Some <b>" in paragraph.display


def test_table_rows_become_blocks() -> None:
    rows = blocks_of("table")
    assert [r.display for r in rows] == ["Name; Why", "LeetCode; coding practice", "fast.ai; courses"]
    assert rows[2].links == (Link("fast.ai", "https://fast.ai"),)


def test_quotes_lists_and_code_are_marked() -> None:
    quote = blocks_of("paragraph")[1]
    assert quote.quoted and quote.display == "quoted text across two lines."
    items = blocks_of("item")
    assert [(i.display, i.depth) for i in items] == [("item one", 1), ("nested item", 2), ("ordered code item", 1)]
    code = blocks_of("code")[0]
    assert code.display == "x = 1\n"


def test_bold_attribution_is_a_label() -> None:
    """A bold opening followed by a new sentence names the speaker; it is kept out of sentences."""
    block = parse_blocks("> **[@karpathy](https://x.com/k)** Build things. Then build more.\n")[0]
    assert block.label == "@karpathy"
    assert block.display[block.label_end :] == "Build things. Then build more."
    assert block.links == (Link("@karpathy", "https://x.com/k"),)


@pytest.mark.parametrize(
    "text",
    [
        "**Paths**: after the degree, most people go to industry.\n",  # a label belonging to its sentence
        "**Note.** This is what I learned.\n",  # ends its own sentence
        "**Be patient** with yourself and others.\n",  # bold start of one sentence
    ],
)
def test_bold_start_of_a_sentence_is_not_a_label(text: str) -> None:
    block = parse_blocks(text)[0]
    assert block.label == "" and block.label_end == 0


@pytest.mark.parametrize(
    "text",
    [
        DOC,
        "> **[@a](https://x.com/a), [@b](https://x.com/b)** Mid-career AI researchers (in\n"
        "> fact all levels!): focus on becoming really good coders.\n",
        "1. First [a link](http://e.org) with `code` and *emphasis*\n   wrapped onto a second line.\n",
        "\tTabbed\n\n- item\twith\ttabs and **bold**\n",
        "Caf\u00e9 cr\u00e8me &amp; entities \\*escaped\\* stay put.\n",
    ],
)
def test_display_characters_point_at_the_same_source_characters(text: str) -> None:
    """Every letter and digit shown maps to that same character in the source (highlighting
    depends on it); separators added by the parser ("; ", joined lines) are exempt."""
    for block in parse_blocks(text):
        if block.kind == "code":
            continue
        for i, ch in enumerate(block.display):
            if ch.isalnum():
                at = block.source_offset(i)
                assert text[at] == ch, (block.display, i, ch, text[at - 5 : at + 5])
        assert block.start <= block.source_offset(0) < block.end


def test_source_span_of_a_wrapped_phrase() -> None:
    text = "> Learn to replicate\n> interesting research papers from scratch.\n"
    block = parse_blocks(text)[0]
    phrase = "replicate interesting research"
    at = block.display.index(phrase)
    start, end = block.source_span(at, at + len(phrase))
    assert text[start:end] == "replicate\n> interesting research"
    assert block.source_span(at, at) == (start, start)


def test_escapes_and_entities_keep_the_offsets_of_the_text_around_them() -> None:
    """markdownify escapes "_" and "*" in essays added from HTML; the escaped character, the
    entity and the words after them still point at their own source characters."""
    text = "Use snake\\_case names \\*always\\* &amp; keep going &#8217;now.\n"
    block = parse_blocks(text)[0]
    assert block.display == "Use snake_case names *always* & keep going \u2019now."
    for i, ch in enumerate(block.display):
        if ch not in " \u2019":
            assert text[block.source_offset(i)] == ch, (i, ch)
    keep = block.display.index("keep going")
    start, end = block.source_span(keep, keep + len("keep going"))
    assert text[start:end] == "keep going"
    assert text[block.source_offset(block.display.index("\u2019"))] == "&"
