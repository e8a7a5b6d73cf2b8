"""Markdown -> blocks (paragraph, heading, list item, quote, table row, code) with plain display text.

markdown-it-py parses (raw HTML off: an essay's HTML is text, never markup). Each block keeps
the source offsets of every display character, as piecewise-linear runs, so a sentence found
in the display text can be highlighted exactly in the original. Display text drops markdown
syntax: emphasis markers go, links become their text (the link target stays in `links`),
images become their alt text, wrapped lines are joined.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from markdown_it import MarkdownIt
    from markdown_it.token import Token


@dataclass(frozen=True)
class Link:
    text: str
    url: str


@dataclass(frozen=True)
class Block:
    """One block of the document. `runs` map display offsets to source offsets: a run
    (display_start, source_start, length) says display[d] came from source[s + (d - display_start)]."""

    kind: str  # paragraph | heading | item | table | code
    display: str
    start: int  # source span of the whole block
    end: int
    runs: tuple[tuple[int, int, int], ...] = ()
    quoted: bool = False  # inside a blockquote
    depth: int = 0  # list nesting (0 = not in a list)
    label: str = ""  # a leading bold attribution ("@jeremyphoward, Answer.AI") kept out of sentences
    label_end: int = 0  # display offset where the text after the label starts
    links: tuple[Link, ...] = ()
    _starts: tuple[int, ...] = field(default=(), repr=False, compare=False)

    def source_offset(self, display_offset: int) -> int:
        """Where display character `display_offset` sits in the source (clamped into the block)."""
        if not self.runs:
            return self.start
        starts = self._starts or tuple(r[0] for r in self.runs)
        i = max(bisect.bisect_right(starts, display_offset) - 1, 0)
        d0, s0, n = self.runs[i]
        return s0 + min(max(display_offset - d0, 0), max(n - 1, 0))

    def source_span(self, start: int, end: int) -> tuple[int, int]:
        """Source (start, end) of the display characters start..end (end exclusive)."""
        if end <= start:
            s = self.source_offset(start)
            return s, s
        return self.source_offset(start), self.source_offset(end - 1) + 1


@functools.cache
def _parser() -> MarkdownIt:
    from markdown_it import MarkdownIt

    # text_join off: escapes and entities stay separate tokens, so the text around them is found verbatim
    return MarkdownIt("commonmark", {"html": False}).enable("table").disable("text_join")


def parse_blocks(text: str) -> list[Block]:
    """The blocks of a markdown text, in reading order."""
    tokens = _parser().parse(text)
    line_starts = _line_starts(text)
    blocks: list[Block] = []
    quote_depth = 0
    list_depth = 0
    item_open = 0  # list items whose first paragraph is still to come
    kind_stack: list[str] = []
    row_cells: list[tuple[str, tuple[tuple[int, int, int], ...], tuple[Link, ...]]] = []
    row_span: tuple[int, int] | None = None
    for tok in tokens:
        t = tok.type
        if t == "blockquote_open":
            quote_depth += 1
        elif t == "blockquote_close":
            quote_depth -= 1
        elif t in ("bullet_list_open", "ordered_list_open"):
            list_depth += 1
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_depth -= 1
        elif t == "list_item_open":
            item_open += 1
        elif t in ("paragraph_open", "heading_open"):
            kind_stack.append("heading" if t == "heading_open" else ("item" if item_open else "paragraph"))
            if t == "paragraph_open" and item_open:
                item_open -= 1
        elif t in ("paragraph_close", "heading_close"):
            if kind_stack:
                kind_stack.pop()
        elif t in ("fence", "code_block") and tok.map:
            start, end = _span(tok.map, line_starts, len(text))
            blocks.append(
                Block(kind="code", display=tok.content, start=start, end=end, quoted=quote_depth > 0, depth=list_depth)
            )
        elif t == "tr_open" and tok.map:
            row_cells, row_span = [], _span(tok.map, line_starts, len(text))
        elif t == "tr_close" and row_span is not None:
            blocks.append(_table_row(row_cells, row_span, quote_depth > 0))
            row_span = None
        elif t == "inline" and tok.map:
            region = _span(tok.map, line_starts, len(text))
            display, runs, links, label_end = _render_inline(tok, text, region)
            if row_span is not None:
                row_cells.append((display, tuple(runs), links))
                continue
            kind = kind_stack[-1] if kind_stack else "paragraph"
            label = display[:label_end].strip() if label_end else ""
            if not display.strip():
                continue
            blocks.append(
                _block(
                    kind,
                    display,
                    runs,
                    region,
                    quoted=quote_depth > 0,
                    depth=list_depth,
                    label=label,
                    label_end=label_end,
                    links=links,
                )
            )
    return blocks


def _block(
    kind: str,
    display: str,
    runs: list[tuple[int, int, int]],
    region: tuple[int, int],
    *,
    quoted: bool,
    depth: int,
    label: str = "",
    label_end: int = 0,
    links: tuple[Link, ...] = (),
) -> Block:
    runs_t = tuple(runs)
    return Block(
        kind=kind,
        display=display,
        start=region[0],
        end=region[1],
        runs=runs_t,
        quoted=quoted,
        depth=depth,
        label=label,
        label_end=label_end,
        links=links,
        _starts=tuple(r[0] for r in runs_t),
    )


def _table_row(
    cells: list[tuple[str, tuple[tuple[int, int, int], ...], tuple[Link, ...]]], span: tuple[int, int], quoted: bool
) -> Block:
    """A table row as one block: its cells joined with "; "."""
    display = ""
    runs: list[tuple[int, int, int]] = []
    links: list[Link] = []
    for text, cell_runs, cell_links in cells:
        if not text.strip():
            continue
        if display:
            display += "; "
        base = len(display)
        runs.extend((base + d, s, n) for d, s, n in cell_runs)
        display += text
        links.extend(cell_links)
    return _block("table", display, runs, span, quoted=quoted, depth=0, links=tuple(links))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _span(line_map: list[int], line_starts: list[int], n: int) -> tuple[int, int]:
    start = line_starts[line_map[0]] if line_map[0] < len(line_starts) else n
    end = line_starts[line_map[1]] if line_map[1] < len(line_starts) else n
    return start, end


def _content_map(content: str, source: str, base: int) -> list[tuple[int, int, int]]:
    """Runs (content_start, source_start, length) placing each content line in the source region.

    markdown-it strips container prefixes ("> ", list indentation) and leading blanks from each
    line, so each content line is found in its source line; a line that is not (tabs expanded)
    is matched character by character."""
    runs: list[tuple[int, int, int]] = []
    src_lines = source.split("\n")
    c = 0
    li = 0
    line_base = 0
    for line in content.split("\n"):
        placed = False
        while li < len(src_lines):
            src = src_lines[li]
            at = src.find(line) if line else 0
            li += 1
            here = line_base
            line_base += len(src) + 1
            if at >= 0:
                if line:
                    runs.append((c, base + here + at, len(line)))
                placed = True
                break
            greedy = _greedy(line, src)
            if greedy:
                runs.extend((c + ci, base + here + si, n) for ci, si, n in greedy)
                placed = True
                break
        if not placed and line:
            runs.append((c, base + max(len(source) - 1, 0), 1))
        c += len(line) + 1
    return runs


def _greedy(line: str, src: str) -> list[tuple[int, int, int]]:
    """Runs matching line's characters, in order, to a subsequence of src (or [] if impossible)."""
    runs: list[tuple[int, int, int]] = []
    j = 0
    for i, ch in enumerate(line):
        k = src.find(ch, j)
        if k < 0:
            return []
        if runs and runs[-1][0] + runs[-1][2] == i and runs[-1][1] + runs[-1][2] == k:
            runs[-1] = (runs[-1][0], runs[-1][1], runs[-1][2] + 1)
        else:
            runs.append((i, k, 1))
        j = k + 1
    return runs


def _skip_link_target(content: str, cursor: int) -> int:
    """Past the "](url "title")", "][ref]" or ">" that closes a link, so later text is not
    looked for inside the URL."""
    if content.startswith("](", cursor):
        depth = 0
        for k in range(cursor + 2, len(content)):
            ch = content[k]
            if ch == "(":
                depth += 1
            elif ch == ")":
                if depth == 0:
                    return k + 1
                depth -= 1
        return cursor
    if content.startswith("][", cursor):
        close = content.find("]", cursor + 2)
        return close + 1 if close >= 0 else cursor
    if content.startswith(("]", ">"), cursor):
        return cursor + 1
    return cursor


def _render_inline(
    tok: Token, text: str, region: tuple[int, int]
) -> tuple[str, list[tuple[int, int, int]], tuple[Link, ...], int]:
    """Display text of an inline token, its runs into the source, its links, and where a
    leading bold label ends (0 when there is none)."""
    content = tok.content
    cmap = _content_map(content, text[region[0] : region[1]], region[0])
    cstarts = [r[0] for r in cmap]

    def to_source(ci: int) -> int:
        k = max(bisect.bisect_right(cstarts, ci) - 1, 0)
        if not cmap:
            return region[0]
        c0, s0, n = cmap[k]
        return s0 + min(max(ci - c0, 0), max(n - 1, 0))

    out: list[str] = []
    runs: list[tuple[int, int, int]] = []
    links: list[Link] = []
    length = 0
    cursor = 0
    link_href: str | None = None
    link_text_start = 0
    label_end = 0
    strong_at_start = False
    children = tok.children or []

    def emit(piece: str, content_at: int | None) -> None:
        nonlocal length
        if not piece:
            return
        if content_at is None:
            # not found verbatim (an escape or entity): pin every character to the cursor
            src = to_source(cursor)
            runs.append((length, src, 1))
        else:
            # split at content line breaks so each part maps through its own line run
            d = length
            ci = content_at
            for part in piece.split("\n"):
                if part:
                    s = to_source(ci)
                    end_s = to_source(ci + len(part) - 1)
                    if end_s - s == len(part) - 1:
                        runs.append((d, s, len(part)))
                    else:
                        runs.extend((d + k, to_source(ci + k), 1) for k in range(len(part)))
                d += len(part) + 1
                ci += len(part) + 1
        out.append(piece)
        length += len(piece)

    for child in children:
        ct = child.type
        if ct in ("text", "code_inline", "html_inline"):
            piece = child.content
            at = content.find(piece, cursor) if piece else -1
            if at >= 0:
                emit(piece, at)
                cursor = at + len(piece)
            else:
                emit(piece, None)
        elif ct == "text_special":
            # an escape ("\\*") or entity ("&amp;"): its character, placed on the escaped character or the "&"
            at = content.find(child.markup, cursor) if child.markup else -1
            if at >= 0 and child.info == "escape":
                emit(child.content, at + len(child.markup) - len(child.content))
            else:
                cursor = at if at >= 0 else cursor
                emit(child.content, None)
            if at >= 0:
                cursor = at + len(child.markup)
        elif ct in ("softbreak", "hardbreak"):
            at = content.find("\n", cursor)
            if at >= 0:
                cursor = at + 1
            if out and not out[-1].endswith(" "):
                emit(" ", None if at < 0 else at)
        elif ct == "image":
            alt = child.content or "".join(c.content for c in child.children or [])
            at = content.find(alt, cursor) if alt else -1
            if alt:
                emit(alt, at if at >= 0 else None)
                if at >= 0:
                    cursor = at + len(alt)
            src_url = str(child.attrs.get("src", ""))
            if src_url:
                links.append(Link(alt or src_url, src_url))
        elif ct == "link_open":
            link_href = str(child.attrs.get("href", ""))
            link_text_start = length
        elif ct == "link_close":
            if link_href:
                links.append(Link("".join(out)[link_text_start:length], link_href))
            link_href = None
            cursor = _skip_link_target(content, cursor)
        elif ct == "strong_open" and length == 0:
            strong_at_start = True
        elif ct == "strong_close" and strong_at_start and not label_end:
            label_end = length
            strong_at_start = False
    display = "".join(out)
    if label_end:
        # a bold opening followed by a new sentence is an attribution, not part of the sentence;
        # "**Paths**: after ..." is a label that belongs to its sentence
        rest = display[label_end:]
        stripped = rest.lstrip()
        if (
            not stripped
            or stripped[:1] in ":;,.–—-"
            or display[:label_end].rstrip().endswith((":", ".", "!", "?"))
            or not (stripped[:1].isupper() or stripped[:1].isdigit() or stripped[:1] in "\"“'‘([")
        ):
            label_end = 0
        else:
            label_end = label_end + (len(rest) - len(stripped))
    return display, runs, tuple(links), label_end
