"""What the chat page shows, as plain functions of answer dicts (`Answer.to_dict()`): no Gradio
here, so it is easy to test.

Safety rule: essay markdown is rendered by a parser with raw HTML off, images become plain
links (a reader's browser never fetches an essay's image), and the result passes an
allow-list sanitiser (nh3); answer text and anything else from an essay, a model or a user is
escaped. The only other markup is the one these functions write themselves.
"""

from __future__ import annotations

import functools
import html
import re
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..generators.wording import corrections_note, plain_section, plain_title
from ..records import SIDE_SCORE
from ..text.markers import MARKER, NUMBER

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

    from ..records import Chunk, Document

MARK_OPEN, MARK_CLOSE = "\ue000", "\ue001"  # private-use sentinels: never in essay text after cleaning
ALLOWED_TAGS = {
    "p",
    "br",
    "hr",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "b",
    "i",
    "code",
    "pre",
    "blockquote",
    "a",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "del",
    "s",
}
_LINE_PREFIX = re.compile(r"[ \t]*(?:>[ \t]?)*[ \t]*")
_TAG = re.compile(r"(<[^>]*>)")
# Imperative headings ("Develop Strong Coding Skills") become "How do I ...?" examples.
_VERBS = frozenset(
    [
        "develop",
        "build",
        "find",
        "establish",
        "prioritise",
        "prioritize",
        "review",
        "learn",
        "read",
        "start",
        "get",
        "choose",
        "keep",
        "stay",
        "make",
        "write",
        "apply",
        "prepare",
        "practice",
        "practise",
        "join",
        "seek",
        "pick",
        "focus",
        "avoid",
        "balance",
        "master",
        "network",
        "publish",
    ]
)
_FIRST_PERSON = {"your": "my", "yours": "mine", "yourself": "myself"}
GENERIC_HEADINGS = {
    "introduction",
    "conclusion",
    "foundations",
    "more resources",
    "other general tips",
    "where it all began...",
    "key advice from industry leaders",
    "research experiences",
    "tl;dr",
    "summary",
    "overview",
    "background",
    "final thoughts",
    "acknowledgements",
    "references",
}


def escape_markdown_html(text: str) -> str:
    """Answer text is markdown: any HTML inside it (from an essay or a model) is shown as text,
    and an image (`![alt](url)`) as a link, so a reader's browser never fetches a URL from it."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("![", "!\\[")


@functools.cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").enable("strikethrough")

    def image_as_link(renderer: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        # bound to the renderer by add_render_rule, so the renderer comes first
        tok = tokens[idx]
        alt = html.escape(tok.content or "image")
        src = str(tok.attrs.get("src", ""))
        if not src.startswith(("http://", "https://")):
            return f"[image: {alt}]"
        return f'<a href="{html.escape(src, quote=True)}">[image: {alt}]</a>'

    md.add_render_rule("image", image_as_link)
    return md


def render_markdown(text: str, highlights: Sequence[Sequence[int]] = ()) -> str:
    """Essay markdown as safe HTML, with the given character spans of `text` wrapped in <mark>."""
    import nh3

    marked = _insert_marks(text.replace(MARK_OPEN, "").replace(MARK_CLOSE, ""), highlights)
    raw = _markdown().render(marked)
    clean = nh3.clean(
        raw,
        tags=ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return _balance_marks(clean)


def _insert_marks(text: str, highlights: Sequence[Sequence[int]]) -> str:
    """Sentinels around each span, one pair per line, after a line's quote or indent prefix
    (so a mark never breaks a blockquote or a list)."""
    cuts: list[tuple[int, str]] = []
    last = -1
    for start, end in sorted((max(0, int(a)), min(len(text), int(b))) for a, b in highlights):
        start = max(start, last)
        if end <= start:
            continue
        pos = start
        while pos < end:
            nl = text.find("\n", pos, end)
            stop = end if nl == -1 else nl
            if stop > pos:
                cuts += [(pos, MARK_OPEN), (stop, MARK_CLOSE)]
            if nl == -1:
                break
            pos = nl + 1
            pos += len(_LINE_PREFIX.match(text, pos).group(0))  # type: ignore[union-attr]
        last = end
    out: list[str] = []
    prev = 0
    for at, sentinel in cuts:
        out.append(text[prev:at])
        out.append(sentinel)
        prev = at
    out.append(text[prev:])
    return "".join(out)


def _balance_marks(markup: str) -> str:
    """Sentinels -> <mark>...</mark>, closed before and reopened after every tag, so marks
    never overlap elements."""
    out: list[str] = []
    open_ = False
    for part in _TAG.split(markup):
        if not part:
            continue
        if part.startswith("<"):
            out.append(f"</mark>{part}<mark>" if open_ else part)
            continue
        for ch in part:
            if ch == MARK_OPEN:
                if not open_:
                    out.append("<mark>")
                open_ = True
            elif ch == MARK_CLOSE:
                if open_:
                    out.append("</mark>")
                open_ = False
            else:
                out.append(ch)
    if open_:
        out.append("</mark>")
    return re.sub(r"<mark>(\s*)</mark>", r"\1", "".join(out))


def _corrections(record: dict[str, Any]) -> str:
    """The note on what the search corrected, from an answer record (Answer.to_dict())."""
    return corrections_note([(c["typed"], c["searched"]) for c in record["corrected"]])


def answer_markdown(record: dict[str, Any]) -> str:
    """The chat message: escaped text whose [n] markers link to the cited passage's card."""
    known = {c["n"] for c in record.get("citations", [])}
    turn = record.get("turn", 0)

    def link(m: re.Match[str]) -> str:
        numbers = [int(n) for n in NUMBER.findall(m.group(2))]
        if not numbers or any(n not in known for n in numbers):
            return m.group(0)
        return m.group(1) + "".join(f"[\\[{n}\\]](#source-{turn}-{n})" for n in numbers)

    text = MARKER.sub(link, escape_markdown_html(record["text"]))
    if record.get("corrected"):
        text += f"\n\n> {escape_markdown_html(_corrections(record))}"
    if record.get("notice"):
        text += f"\n\n> {escape_markdown_html(record['notice'])}"
    return text


def sources_html(records: Sequence[dict[str, Any]], *, show_scores: bool = False) -> str:
    """The sources panel: the current answer's cited passages open, earlier answers' folded."""
    if not records:
        return "<div class='sources-panel'><p class='source-empty'>Sources for the answer appear here.</p></div>"
    groups = [_answer_group(r, current=i == len(records) - 1, show_scores=show_scores) for i, r in enumerate(records)]
    return "<div class='sources-panel'>" + "".join(reversed(groups)) + "</div>"


def _answer_group(record: dict[str, Any], *, current: bool, show_scores: bool) -> str:
    turn = record.get("turn", 0)
    citations = record.get("citations", [])
    if citations:
        heading = "Sources"
        cards = [
            _card(c, f"source-{turn}-{c['n']}", f"[{c['n']}]", open_=current, show_scores=show_scores)
            for c in citations
        ]
    else:
        # the question's own passages first, not those a comparison's option brought
        nearest = sorted(record.get("passages", []), key=lambda p: p.get("scores", {}).get(SIDE_SCORE, 0) > 0)[:3]
        heading = "Nearest passages (not cited)" if nearest else "No sources"
        cards = [
            _card(p, f"nearest-{turn}-{i}", f"#{i}", open_=False, show_scores=show_scores)
            for i, p in enumerate(nearest, 1)
        ]
    for i, r in enumerate(record.get("resources") or [], 1):
        cards.append(_resource_card(r, f"resource-{turn}-{i}"))
    summary = f"{heading} for: {html.escape(_shorten(record['question'], 80))}"
    query = ""
    if show_scores and record.get("query") and record["query"] != record["question"]:
        query = f"<div class='query'>searched for: {html.escape(_shorten(record['query'], 200))}</div>"
    outcome = ""
    if show_scores:
        rel = record.get("relevance")
        outcome = (
            f"<div class='scores'>outcome {html.escape(str(record.get('outcome')))}"
            + (f" · relevance {rel:.3f}" if isinstance(rel, (int, float)) else "")
            + "</div>"
        )
    return (
        f"<details class='answer-sources' id='answer-{turn}'{' open' if current else ''}>"
        f"<summary>{summary}</summary>{query}{outcome}{''.join(cards)}</details>"
    )


def _card(p: dict[str, Any], anchor: str, label: str, *, open_: bool, show_scores: bool) -> str:
    link = ""
    url = p.get("url") or ""
    if url.startswith(("http://", "https://")):
        link = (
            f" <a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener noreferrer nofollow'>source ↗</a>"
        )
    section = f"<div class='section'>{html.escape(plain_section(p['section']))}</div>" if p.get("section") else ""
    scores = ""
    if show_scores and "score" in p:
        parts = [f"score {p['score']:.3f}"] + [f"{k} {v:.3f}" for k, v in sorted(p.get("scores", {}).items())]
        scores = f"<div class='scores'>{html.escape(' · '.join(parts))}</div>"
    body = render_markdown(p["text"], p.get("highlights", ()))
    return (
        f"<details class='source-card' id='{anchor}'{' open' if open_ else ''}>"
        f"<summary><b>{html.escape(label)}</b> {html.escape(plain_title(p['title']))}</summary>"
        f"<div class='source-head'>{section}{link}</div>{scores}"
        f"<div class='passage'>{body}</div></details>"
    )


def _resource_card(r: dict[str, Any], anchor: str) -> str:
    """A curated resource the answer lists under "Where to learn": its name, link and why."""
    url = r.get("url") or ""
    link = ""
    if url.startswith(("http://", "https://")):
        link = (
            f" <a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener noreferrer nofollow'>open ↗</a>"
        )
    about = html.escape(r.get("summary") or "")
    return (
        f"<details class='source-card resource-card' id='{anchor}'><summary><b>Where to learn</b> "
        f"{html.escape(plain_title(r.get('title') or ''))}</summary><div class='source-head'>{link}</div>"
        f"<div class='passage'>{about}</div></details>"
    )


def export_markdown(records: Sequence[dict[str, Any]]) -> str:
    """The conversation as a markdown document, each answer followed by its sources."""
    lines = ["# advisor-bot conversation", "", f"Exported {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    for r in records:
        lines += [f"## {r['question']}", "", r["text"].strip(), ""]
        if r.get("corrected"):
            lines += [f"> {_corrections(r)}", ""]
        if r.get("notice"):
            lines += [f"> {r['notice']}", ""]
        if r.get("citations"):
            lines.append("Sources:")
            lines.append("")
            for c in r["citations"]:
                where = f"{c['title']} > {c['section']}" if c.get("section") else c["title"]
                lines.append(f"- [{c['n']}] {where}" + (f" <{c['url']}>" if c.get("url") else ""))
            lines.append("")
    return "\n".join(lines)


def heading_question(heading: str) -> str | None:
    """A question a student would ask about a section, from its heading; None for generic ones."""
    text = re.sub(r"^\s*(?:\d+[.)]\s*)+", "", heading).strip(" #:")
    if len(text.split()) < 2 or text.lower() in GENERIC_HEADINGS:
        return None
    if text.endswith("?"):
        return text
    words = text.split()
    body = " ".join(
        w if (len(w) > 1 and any(c.isupper() for c in w[1:])) or (w.isupper() and len(w) > 1) else w.lower()
        for w in words
    )
    # the heading speaks to the reader, the question is the reader's: "Find Your Perspective" ->
    # "How do I find my perspective?"
    body = re.sub(r"\b(your|yours|yourself)\b", lambda m: _FIRST_PERSON[m.group(1)], body)
    if words[0].lower() in _VERBS:
        return f"How do I {body}?"
    return None


def topic_examples(documents: Sequence[Document], chunks: Sequence[Chunk], *, limit: int = 6) -> list[str]:
    """Example questions from the corpus's own imperative section headings, spread over the essays."""
    per_doc: dict[str, list[str]] = {}
    titles = {d.doc_id: d.title for d in documents if d.kind != "resource"}
    for c in chunks:
        if c.doc_id not in titles or not c.section:
            continue
        question = heading_question(c.section.split(" > ")[-1])
        if question is None or question == titles[c.doc_id]:
            continue
        bucket = per_doc.setdefault(c.doc_id, [])
        if question not in bucket:
            bucket.append(question)
    out: list[str] = []
    while len(out) < limit and any(per_doc.values()):
        for doc_id in sorted(per_doc):
            if per_doc[doc_id] and len(out) < limit:
                out.append(per_doc[doc_id].pop(0))
    return out


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
