"""What the chat page shows (server/render.py): answer dicts in, safe markup out.

Essay text reaches the page as rendered markdown, never as raw HTML; highlights are <mark>s
that never break the markup around them; example questions read as questions.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from advisor_bot import Advisor
from advisor_bot.records import Chunk, Document
from advisor_bot.server.render import (
    answer_markdown,
    escape_markdown_html,
    export_markdown,
    heading_question,
    render_markdown,
    sources_html,
    topic_examples,
)
from advisor_bot.text.sentences import split_units

VOID = {"br", "hr", "img", "input", "meta", "link"}
INTERVIEWS = "How do I prepare for coding interviews?"


class Markup(HTMLParser):
    """Parses rendered HTML: checks that tags nest and close, that no element starts inside a
    <mark>, and keeps the visible text with a marked flag per character."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chars: list[tuple[str, bool]] = []
        self.feed(html)
        self.close()
        self.errors += [f"<{tag}> never closed" for tag in self.stack]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if "mark" in self.stack:
            self.errors.append(f"<{tag}> inside <mark>")
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        marked = "mark" in self.stack
        self.chars += [(ch, marked) for ch in data]

    def text(self) -> tuple[str, list[bool]]:
        """Visible text with white space runs collapsed, and whether each character is marked."""
        out: list[str] = []
        flags: list[bool] = []
        for ch, marked in self.chars:
            if ch.isspace():
                if out and out[-1] == " ":
                    continue
                ch = " "
            out.append(ch)
            flags.append(marked)
        return "".join(out), flags

    def unmarked_in(self, shown: str) -> str | None:
        """None when every visible character of `shown` is inside a <mark>, else what is not."""
        text, flags = self.text()
        target = " ".join(shown.split())
        at = text.find(target)
        assert at >= 0, f"{target!r} is not on the page: {text!r}"
        span = range(at, at + len(target))
        missed = "".join(text[i] for i in span if not flags[i])
        return missed.strip() or None


def check(html: str) -> Markup:
    parsed = Markup(html)
    assert parsed.errors == [], (parsed.errors, html)
    assert "\ue000" not in html and "\ue001" not in html  # no sentinel leaks out
    return parsed


# ---------- the answer message ----------


def test_answer_html_is_escaped() -> None:
    assert (
        escape_markdown_html("<script>alert(1)</script> **bold** [1] & co")
        == "&lt;script&gt;alert(1)&lt;/script&gt; **bold** [1] &amp; co"
    )


def test_markers_link_to_their_cards_and_unknown_ones_stay_text(tiny_advisor: Advisor) -> None:
    record = {**tiny_advisor.ask(INTERVIEWS).to_dict(), "turn": 3}
    record["text"] += " <b>x</b> [9]"
    record["notice"] = "The <i>local</i> generator failed"
    md = answer_markdown(record)
    assert "[\\[1\\]](#source-3-1)" in md and "[9]" in md and "#source-3-9" not in md
    assert "&lt;b&gt;x&lt;/b&gt;" in md and "<b>" not in md
    assert md.endswith("> The &lt;i&gt;local&lt;/i&gt; generator failed")
    panel = check(sources_html([record]))
    assert ("details", {"class": "source-card", "id": "source-3-1", "open": None}) in panel.tags
    assert "<mark>" in sources_html([record])


# ---------- the sources panel ----------


def test_sources_panel_escapes_document_text(tiny_advisor: Advisor) -> None:
    record = {**tiny_advisor.ask(INTERVIEWS).to_dict(), "turn": 0}
    record["citations"][0].update(
        text="<img src=x onerror=alert(1)> tail <script>alert(2)</script>",
        title="<script>t</script>",
        url="javascript:alert(1)",
        section="<b>Part</b>",
        highlights=[[0, 10]],
    )
    html = sources_html([record], show_scores=True)
    text = check(html).text()[0]
    assert "<img" not in html and "<script>" not in html and "javascript:" not in html and "<b>Part" not in html
    assert "<img src=x onerror=alert(1)> tail <script>alert(2)</script>" in text  # shown as text
    assert "t</script>" in text and "<b>Part</b>" in text  # (plain_title drops a leading "<")
    assert "score " in html and "outcome answered" in html


def test_refusal_shows_nearest_passages(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("What is the best sourdough starter recipe?")
    assert answer.refused
    record = {**answer.to_dict(), "turn": 0}
    assert record["passages"]
    html = sources_html([record])
    check(html)
    assert "Nearest passages (not cited)" in html and "id='nearest-0-1'" in html


def test_a_refusals_nearest_passages_are_the_questions_own_first(tiny_advisor: Advisor) -> None:
    """A passage that a comparison's option brought into the first k is not shown as nearest
    before the question's own ones."""
    answer = tiny_advisor.ask("What is the best sourdough starter recipe?")
    record = {**answer.to_dict(), "turn": 0}
    first = record["passages"][0]
    brought = {**first, "scores": {**first["scores"], "side": 1.0}}
    shown = sources_html([{**record, "passages": [brought, *record["passages"][1:]]}])
    check(shown)
    assert shown == sources_html([{**record, "passages": [*record["passages"][1:], brought]}])
    assert len(record["passages"]) > 3 and "nearest-0-4" not in shown  # three shown, the option's not among them


def test_the_current_answer_is_open_and_earlier_ones_folded(tiny_advisor: Advisor) -> None:
    first = {**tiny_advisor.ask(INTERVIEWS).to_dict(), "turn": 0}
    second = {**tiny_advisor.ask("How should I choose a PhD supervisor?").to_dict(), "turn": 1}
    parsed = check(sources_html([first, second]))
    groups = [attrs for tag, attrs in parsed.tags if attrs.get("class") == "answer-sources"]
    assert [(g["id"], "open" in g) for g in groups] == [("answer-1", True), ("answer-0", False)]  # newest first
    assert "Sources for the answer appear here" in sources_html([])


def test_source_links_open_safely(tiny_advisor: Advisor) -> None:
    record = {**tiny_advisor.ask(INTERVIEWS).to_dict(), "turn": 0}
    links = [attrs for tag, attrs in check(sources_html([record])).tags if tag == "a"]
    assert links and all(a["href"].startswith(("http://", "https://")) for a in links)
    assert all(set(a["rel"].split()) >= {"noopener", "nofollow"} for a in links)


# ---------- essay markdown ----------


def test_passage_markdown_is_rendered_with_raw_html_escaped() -> None:
    text = (
        "## Keeping a diary\n\nA diary is **useful** <script>window.__pwned = 1</script> for _tracking_.\n\n"
        '- one\n- two <img src=x onerror="alert(1)">\n\n<a href="https://evil.example">raw link</a>\n'
    )
    html = render_markdown(text)
    parsed = check(html)
    assert {"h2", "strong", "em", "ul", "li"} <= {tag for tag, _ in parsed.tags}
    assert not {"script", "img"} & {tag for tag, _ in parsed.tags}
    assert "<script>window.__pwned = 1</script>" in parsed.text()[0]  # shown as text
    assert '<img src=x onerror="alert(1)">' in parsed.text()[0]
    assert not [a for tag, a in parsed.tags if tag == "a"]  # a raw <a> is text, not a link


def test_links_get_rel_noopener_nofollow_and_bad_schemes_stay_text() -> None:
    parsed = check(
        render_markdown("See [the guide](https://example.org/g), [js](javascript:alert(1)) and <https://b.org>.")
    )
    links = [attrs for tag, attrs in parsed.tags if tag == "a"]
    assert [a["href"] for a in links] == ["https://example.org/g", "https://b.org"]
    for a in links:
        assert {"noopener", "nofollow"} <= set(a["rel"].split()) and a["target"] == "_blank"
    assert "[js](javascript:alert(1))" in parsed.text()[0]


def test_images_become_links_never_img() -> None:
    html = render_markdown("A robot: ![A robot](https://example.org/robot.jpg) and ![local](../images/x.png).")
    parsed = check(html)
    assert "<img" not in html
    assert (
        "a",
        {"href": "https://example.org/robot.jpg", "target": "_blank", "rel": "noopener noreferrer nofollow"},
    ) in (parsed.tags)
    text = parsed.text()[0]
    assert "[image: A robot]" in text and "[image: local]" in text and "../images" not in html


# ---------- highlights ----------

ESSAY = """# Tips

Practice **LeetCode** problems every week, even for research roles. Implement logistic regression
from scratch in [NumPy](https://numpy.org) before your interview.

> Interviewers ask what you built, what
> failed and what you learned. Keep it short.

- Prepare to explain one *personal project* in depth, such as an agent for Mario.
- Read the `abstract` first, then the figures, then the conclusion of every paper.

After the list comes a closing paragraph with a final thought.
"""


def test_every_highlight_span_is_inside_mark() -> None:
    units = split_units(ESSAY)
    assert len(units) >= 6
    spans = [[u.start, u.end] for u in units]
    parsed = check(render_markdown(ESSAY, spans))
    for unit in units:
        assert parsed.unmarked_in(unit.text) is None, unit.text
    assert parsed.unmarked_in("Tips") == "Tips"  # the heading was not highlighted


def test_highlights_of_a_real_citation_are_marked(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("Which project should I explain in an interview?")
    for citation in answer.citations:
        data = citation.to_dict()
        assert data["highlights"]
        parsed = check(render_markdown(data["text"], data["highlights"]))
        for unit in citation.quotes:
            assert parsed.unmarked_in(unit.text) is None, unit.text


def test_a_wrapped_blockquote_highlight_keeps_the_blockquote() -> None:
    text = "Before.\n\n> Interviewers ask what you built, what\n> failed and what you learned. Keep it short.\n\nAfter."
    start = text.index("Interviewers")
    end = text.index("learned.") + len("learned.")
    html = render_markdown(text, [[start, end]])
    parsed = check(html)
    assert [tag for tag, _ in parsed.tags].count("blockquote") == 1
    inside = re.search(r"<blockquote>(.*)</blockquote>", html, re.DOTALL)
    assert inside and "failed and what you learned." in inside.group(1) and "Keep it short." in inside.group(1)
    assert "&gt;" not in html  # no quote marker spilled out as text
    assert parsed.unmarked_in("Interviewers ask what you built, what failed and what you learned.") is None
    assert parsed.unmarked_in("Keep it short.") == "Keep it short."


def test_overlapping_and_out_of_range_highlights_are_safe() -> None:
    text = "First sentence here. Practice LeetCode every week. <b>Last</b> one."
    html = render_markdown(text, [[21, 50], [30, 60], [-5, 3], [500, 900], [40, 40]])
    parsed = check(html)
    assert parsed.unmarked_in("Practice LeetCode every week. <b>Last</") is None  # the union of both spans
    assert parsed.unmarked_in("First sentence") == "st sentence"  # [-5, 3] is cut to the text
    assert "<b>" not in html
    assert check(render_markdown(text, [])).text()[1].count(True) == 0


markdownish = st.lists(
    st.sampled_from(
        [
            "# T\n",
            "text ",
            "**bold** ",
            "_it_ ",
            "[l](https://x.org) ",
            "![i](https://x.org/i.png)",
            "> q ",
            "\n",
            "\n\n",
            "- item ",
            "1. one ",
            "`code` ",
            "<b>",
            "</b>",
            "<script>",
            "&amp; ",
            "|a|b|\n|-|-|\n",
            "\ue000",
        ]
    ),
    max_size=60,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=markdownish, spans=st.lists(st.tuples(st.integers(-5, 400), st.integers(-5, 400)), max_size=6))
def test_any_text_and_spans_give_balanced_safe_markup(text: str, spans: list[tuple[int, int]]) -> None:
    html = render_markdown(text, spans)
    parsed = check(html)
    assert not {"script", "img"} & {tag for tag, _ in parsed.tags}


# ---------- export ----------


def test_export_is_markdown_with_sources(tiny_advisor: Advisor) -> None:
    record = {**tiny_advisor.ask("How should I choose a PhD supervisor?").to_dict(), "turn": 0}
    md = export_markdown([record])
    assert md.startswith("# advisor-bot conversation") and "## How should I choose a PhD supervisor?" in md
    assert "Sources:" in md and "- [1] " in md


# ---------- example questions ----------


def test_heading_questions_are_grammatical() -> None:
    assert heading_question("Develop Strong Coding Skills") == "How do I develop strong coding skills?"
    assert heading_question("3. Build a Portfolio") == "How do I build a portfolio?"
    assert heading_question("Learn PyTorch and ML Basics") == "How do I learn PyTorch and ML basics?"
    assert heading_question("Establish Your Public Presence") == "How do I establish my public presence?"
    assert heading_question("Is ML Research for Me?") == "Is ML Research for Me?"
    for generic in (
        "Introduction",
        "Conclusion",
        "Coding",
        "More Resources",
        "2. Foundations",
        "Where It All Began...",
    ):
        assert heading_question(generic) is None, generic


def doc(doc_id: str, title: str, kind: str = "blog") -> Document:
    return Document(doc_id=doc_id, title=title, text="x", path=f"{doc_id}.md", sha256=doc_id, kind=kind)


def chunk(doc_id: str, section: str) -> Chunk:
    return Chunk(chunk_id=f"{doc_id}:{section}", doc_id=doc_id, section=section, text="x", start=0, end=1)


def test_topic_examples_come_from_imperative_headings_spread_over_essays(tiny_advisor: Advisor) -> None:
    documents = [doc("a", "Advice"), doc("b", "Journey"), doc("r", "Book", kind="resource")]
    chunks = [
        chunk("a", "Advice > Develop Strong Coding Skills"),
        chunk("a", "Advice > Develop Strong Coding Skills"),  # one section in two chunks: asked once
        chunk("a", "Advice > Find Your Unique Perspective"),
        chunk("a", "Advice > Introduction"),
        chunk("b", "Journey > Prioritise GPU Access"),
        chunk("b", "Journey > How to read"),
        chunk("r", "Build a Library"),  # resources are not essays
    ]
    examples = topic_examples(documents, chunks)
    assert examples == [
        "How do I develop strong coding skills?",
        "How do I prioritise GPU access?",
        "How do I find my unique perspective?",
    ]
    assert topic_examples(documents, chunks, limit=1) == ["How do I develop strong coding skills?"]
    index = tiny_advisor.index
    for question in topic_examples(list(index.documents.values()), index.chunks):
        assert question.endswith("?") and not question.startswith("What do the essays say about")


def _record(**fields: Any) -> dict[str, Any]:
    return {"question": "q?", "text": "t", "citations": [], "turn": 0, **fields}


def test_a_record_without_citations_or_passages_says_no_sources() -> None:
    assert "No sources for: q?" in check(sources_html([_record(passages=[])])).text()[0]


def test_resources_get_their_own_safe_cards() -> None:
    record = {
        "turn": 2,
        "question": "where do I learn deep learning?",
        "outcome": "answered",
        "citations": [],
        "passages": [],
        "resources": [
            {"title": "fast.ai", "url": "https://course.fast.ai/", "summary": "A practical <b>course</b>.", "text": ""},
            {"title": "Bad link", "url": "javascript:alert(1)", "summary": "", "text": ""},
        ],
    }
    html = sources_html([record])
    parsed = check(html)
    assert ("details", {"class": "source-card resource-card", "id": "resource-2-1"}) in parsed.tags
    assert "Where to learn" in html and "A practical &lt;b&gt;course&lt;/b&gt;." in html
    assert "javascript:" not in html and html.count("open ↗") == 1


def test_what_the_search_corrected_is_said_under_the_answer_and_in_the_export(tiny_advisor: Advisor) -> None:
    record = {**tiny_advisor.ask("How do I prepre for coding intervews?").to_dict(), "turn": 1}
    assert record["corrected"] == [
        {"typed": "prepre", "searched": "prepare"},
        {"typed": "intervews", "searched": "interviews"},
    ]
    note = "> Searched for “prepare” (typed “prepre”), “interviews” (typed “intervews”)."
    assert answer_markdown(record).endswith(note)
    assert note in export_markdown([record])
    plain = {**tiny_advisor.ask(INTERVIEWS).to_dict(), "turn": 2}
    assert plain["corrected"] == [] and "Searched for" not in answer_markdown(plain)
