"""What the chat page shows, as plain functions of answers: no Gradio here, so it is easy to test.

Safety rule: every string that comes from an essay, a model or a user is escaped here before
it reaches the page; the only markup is the one these functions write themselves.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Sequence
from typing import Any

from .records import Answer, Passage

_MARKER = re.compile(r"\[(\d{1,2})\]")
_NUMBERING = re.compile(r"^\s*(?:\d+[.)]\s*)+")
GENERIC_HEADINGS = {"introduction", "conclusion", "foundations", "more resources", "other general tips",
                    "where it all began...", "key advice from industry leaders", "research experiences"}


def escape_markdown_html(text: str) -> str:
    """Answer text is markdown; any HTML inside it (from an essay or a model) is shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def answer_record(answer: Answer, *, turn: int, version: str | None = None) -> dict[str, Any]:
    """The JSON-ready facts about one answer that the page, the feedback log and the export use."""
    return {
        "turn": turn,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "question": answer.question,
        "query": answer.query,
        "text": answer.text,
        "refused": answer.refused,
        "notice": answer.notice,
        "generator": answer.generator,
        "index_version": version,
        "citations": [{**_passage_fields(c.passage), "n": c.n, "quote": c.quote} for c in answer.citations],
        "nearest": [] if answer.citations else [_passage_fields(p) for p in answer.passages[:3]],
    }


def _passage_fields(p: Passage) -> dict[str, Any]:
    return {"title": p.title, "section": p.section, "url": p.url, "text": p.text,
            "score": round(float(p.score), 4), "scores": {k: round(float(v), 4) for k, v in p.scores.items()}}


def answer_markdown(record: dict[str, Any]) -> str:
    """The chat message: escaped text whose [n] markers link to the cited passage's card."""
    known = {c["n"] for c in record["citations"]}
    turn = record["turn"]

    def link(m: re.Match[str]) -> str:
        n = int(m.group(1))
        return f"[\\[{n}\\]](#source-{turn}-{n})" if n in known else m.group(0)

    text = _MARKER.sub(link, escape_markdown_html(record["text"]))
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
    turn = record["turn"]
    if record["citations"]:
        heading = "Sources"
        cards = [_card(c, f"source-{turn}-{c['n']}", f"[{c['n']}]", open_=current, show_scores=show_scores)
                 for c in record["citations"]]
    else:
        heading = "Nearest passages (not cited)" if record["nearest"] else "No sources"
        cards = [_card(p, f"nearest-{turn}-{i}", f"#{i}", open_=False, show_scores=show_scores)
                 for i, p in enumerate(record["nearest"], 1)]
    summary = f"{heading} for: {html.escape(_shorten(record['question'], 80))}"
    return (f"<details class='answer-sources' id='answer-{turn}'{' open' if current else ''}>"
            f"<summary>{summary}</summary>{''.join(cards)}</details>")


def _card(p: dict[str, Any], anchor: str, label: str, *, open_: bool, show_scores: bool) -> str:
    link = ""
    url = p.get("url") or ""
    if url.startswith(("http://", "https://")):
        link = f" <a href='{html.escape(url, quote=True)}' target='_blank' rel='noopener noreferrer nofollow'>source ↗</a>"
    section = f"<div class='section'>{html.escape(p['section'])}</div>" if p.get("section") else ""
    scores = ""
    if show_scores:
        parts = [f"score {p['score']:.3f}"] + [f"{k} {v:.3f}" for k, v in sorted(p.get("scores", {}).items())]
        scores = f"<div class='scores'>{html.escape(' · '.join(parts))}</div>"
    return (f"<details class='source-card' id='{anchor}'{' open' if open_ else ''}>"
            f"<summary><b>{html.escape(label)}</b> {html.escape(p['title'])}</summary>"
            f"<div class='source-head'>{section}{link}</div>{scores}"
            f"<div class='passage'>{highlight(p['text'], p.get('quote', ''))}</div></details>")


def highlight(text: str, quote: str) -> str:
    """The passage, escaped, with the sentences the answer drew on wrapped in <mark>."""
    spans: list[tuple[int, int]] = []
    for sentence in re.split(r"(?<=[.!?])\s+|\n+", quote or ""):
        sentence = sentence.strip()
        if len(sentence) < 12:
            continue
        # the quote is cleaned text; in the passage it may wrap over lines of a blockquote
        pattern = r"(?:\s|>)+".join(re.escape(word) for word in sentence.split())
        m = re.search(pattern, text)
        if m:
            spans.append((m.start(), m.end()))
    out: list[str] = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        out.append(html.escape(text[pos:start]))
        out.append(f"<mark>{html.escape(text[start:end])}</mark>")
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def export_markdown(records: Sequence[dict[str, Any]]) -> str:
    """The conversation as a markdown document, each answer followed by its sources."""
    lines = ["# advisor-bot conversation", "", f"Exported {time.strftime('%Y-%m-%d %H:%M')}.", ""]
    for r in records:
        lines += [f"## {r['question']}", "", r["text"].strip(), ""]
        if r.get("notice"):
            lines += [f"> {r['notice']}", ""]
        if r["citations"]:
            lines.append("Sources:")
            lines.append("")
            for c in r["citations"]:
                where = f"{c['title']} > {c['section']}" if c.get("section") else c["title"]
                lines.append(f"- [{c['n']}] {where}" + (f" <{c['url']}>" if c.get("url") else ""))
            lines.append("")
    return "\n".join(lines)


def topic_examples(documents: Sequence[Any], chunks: Sequence[Any], *, limit: int = 6) -> list[str]:
    """Example questions from the corpus's own section headings, spread over the essays."""
    per_doc: dict[str, list[str]] = {}
    titles = {d.doc_id: d.title for d in documents if getattr(d, "kind", "") != "resource"}
    for c in chunks:
        if c.doc_id not in titles or not c.section:
            continue
        heading = _NUMBERING.sub("", c.section.split(" > ")[-1]).strip(" #")
        if len(heading.split()) < 2 or heading.lower() in GENERIC_HEADINGS or heading == titles[c.doc_id]:
            continue
        question = heading if heading.endswith("?") else f"What do the essays say about {_sentence_case(heading)}?"
        bucket = per_doc.setdefault(c.doc_id, [])
        if question not in bucket:
            bucket.append(question)
    out: list[str] = []
    while len(out) < limit and any(per_doc.values()):
        for doc_id in sorted(per_doc):
            if per_doc[doc_id] and len(out) < limit:
                out.append(per_doc[doc_id].pop(0))
    return out


def _sentence_case(heading: str) -> str:
    """"Develop Strong Coding Skills" -> "develop strong coding skills"; acronyms (AI, ML) stay."""
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in heading.split())


def _shorten(text: str, n: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"
