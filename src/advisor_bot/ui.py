"""The Gradio chat: streamed answers on the left, the cited sources on the right."""

from __future__ import annotations

import html
import logging
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

    from .advisor import AddResult, Advisor
    from .ingest import Upload
    from .records import Answer, Passage
    from .settings import Settings

log = logging.getLogger("advisor_bot")

EXAMPLES = [
    "How do I prepare for an ML interview?",
    "Do I need to master all the math before reading papers?",
    "How should I choose a PhD supervisor?",
    "What should I study to get into computer vision?",
    "Where can I keep up with new AI papers?",
]

CSS = """
.sources-panel {max-height: 70vh; overflow-y: auto;}
.source-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 8px 12px; margin-bottom: 8px;}
.source-card h4 {margin: 0 0 4px 0;}
.source-card .section {color: var(--body-text-color-subdued); font-size: 0.9em;}
.source-card .passage {white-space: pre-wrap; font-size: 0.9em; margin-top: 6px;}
"""


def escape_markdown_html(text: str) -> str:
    """Answer text is markdown; any HTML inside it (from an essay or a model) is shown as text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def sources_html(answer: Answer | None, passages: list[Passage] | None = None) -> str:
    """Cards for the cited passages (or the retrieved ones for a refusal), all text escaped."""
    if answer is None:
        return "<p class='source-empty'>Sources for the answer appear here.</p>"
    cards: list[str] = []
    if answer.citations:
        items = [(f"[{c.n}]", c.passage) for c in answer.citations]
    else:
        items = [(f"#{p.rank}", p) for p in (passages or answer.passages)]
    for label, p in items:
        link = ""
        if p.url and p.url.startswith(("http://", "https://")):
            link = f" <a href='{html.escape(p.url, quote=True)}' target='_blank' rel='noopener noreferrer'>source</a>"
        cards.append(
            "<div class='source-card'>"
            f"<h4>{html.escape(label)} {html.escape(p.title)}{link}</h4>"
            + (f"<div class='section'>{html.escape(p.section)}</div>" if p.section else "")
            + f"<div class='passage'>{html.escape(p.text)}</div></div>"
        )
    heading = "Sources" if answer.citations else "Nearest passages (not cited)"
    return f"<div class='sources-panel'><h3>{heading}</h3>{''.join(cards)}</div>"


def build_ui(advisor: Advisor) -> gr.Blocks:
    import gradio as gr

    from .errors import AdvisorError

    def respond(message: str, history: list[dict[str, Any]]) -> Iterator[tuple[list[dict[str, Any]], str, str]]:
        history = list(history or [])
        if not (message or "").strip():
            yield history, "", sources_html(None)
            return
        turns = [{"role": m["role"], "content": _plain(m["content"])} for m in history]
        history = [*history, {"role": "user", "content": escape_markdown_html(message)}, {"role": "assistant", "content": ""}]
        try:
            stream = advisor.stream(message, turns)
            text = ""
            for piece in stream:
                text += piece
                history[-1]["content"] = escape_markdown_html(text)
                yield history, "", sources_html(None)
            answer = stream.answer
            assert answer is not None
            final = escape_markdown_html(answer.text)
            if answer.notice:
                final += f"\n\n> {escape_markdown_html(answer.notice)}"
            history[-1]["content"] = final
            yield history, "", sources_html(answer)
        except AdvisorError as exc:
            history[-1]["content"] = escape_markdown_html(f"Sorry: {exc}")
            yield history, "", sources_html(None)

    def add_essay(files: list[Any] | None, pasted: str, title: str, author: str, url: str,
                  progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's idiom
        stages = ["chunking", "embedding", "indexing", "writing", "pruning"]
        try:
            uploads = essay_uploads(files, pasted, title=title, author=author, url=url)
            if not uploads:
                return "Choose a file or paste the essay text first."
            progress(0.05, desc="checking the files")
            result = advisor.add_documents(
                uploads, on_stage=lambda s: progress((stages.index(s) + 1) / (len(stages) + 1) if s in stages else 0.5,
                                                     desc=s))
        except AdvisorError as exc:
            return escape_markdown_html(f"Nothing was added: {exc}")
        return add_report_markdown(result)

    with gr.Blocks(title="advisor-bot") as demo:
        gr.Markdown("## advisor-bot\nCareer and research advice for getting into AI, answered from essays with citations.")
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=520, buttons=["copy"], elem_id="chat")
                box = gr.Textbox(placeholder="Ask about AI research careers, PhDs, interviews, learning resources ...",
                                 show_label=False, elem_id="question", submit_btn=True)
                gr.Examples(EXAMPLES, inputs=box, label="Try")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="sources")
        with gr.Tab("Add an essay"):
            gr.Markdown("Upload .md, .txt or .html files, or paste the text. The essay is copied into "
                        "`corpus/essays/` with its details, indexed, and used from the next question on.")
            with gr.Row():
                with gr.Column():
                    files = gr.File(label="Files", file_count="multiple", file_types=[".md", ".markdown", ".txt", ".html", ".htm"],
                                    elem_id="add-files")
                    pasted = gr.Textbox(label="...or paste the essay (markdown or plain text)", lines=8, elem_id="add-text")
                with gr.Column():
                    title = gr.Textbox(label="Title (taken from the file when empty)", elem_id="add-title")
                    author = gr.Textbox(label="Author", elem_id="add-author")
                    url = gr.Textbox(label="Link to the original (https://...)", elem_id="add-url")
                    add_button = gr.Button("Add and index", variant="primary", elem_id="add-button")
            add_status = gr.Markdown(elem_id="add-status")
        box.submit(respond, [box, chat], [chat, box, sources])
        add_button.click(add_essay, [files, pasted, title, author, url], [add_status])
    return demo


def essay_uploads(files: list[Any] | None, pasted: str | None, *, title: str = "", author: str = "",
                  url: str = "") -> list[Upload]:
    """What the add panel was given, as Uploads; title, author and url describe a single essay."""
    from pathlib import Path

    from .errors import UploadError
    from .ingest import Upload

    paths = [Path(f if isinstance(f, str) else getattr(f, "name", str(f))) for f in files or []]
    count = len(paths) + (1 if (pasted or "").strip() else 0)
    meta = {"title": title or None, "author": author or None, "source_url": url or None}
    if count > 1 and any(meta.values()):
        raise UploadError("title, author and link describe one essay; add several files without them, "
                          "or one file at a time with them")
    uploads = [Upload(name=p.name, data=p.read_bytes(), **meta) for p in paths]
    if (pasted or "").strip():
        uploads.append(Upload(name="pasted.md", data=str(pasted), **meta))
    return uploads


def add_report_markdown(result: AddResult) -> str:
    """The add panel's report: what went in, what was refused and why, the index build."""
    lines: list[str] = []
    for a in result.added:
        lines.append(f"- added **{escape_markdown_html(a.title)}** as `{a.path.name}`")
    for r in result.refused:
        lines.append(f"- refused {escape_markdown_html(str(r))}")
    if result.build is not None:
        lines.append("")
        lines.append(escape_markdown_html(result.build.report.summary()))
        lines.append("")
        lines.append("Ask away: the next question already searches the new text.")
    return "\n".join(lines) or "Nothing to add."


def _plain(content: Any) -> str:
    if isinstance(content, list):
        return " ".join(str(c.get("text", "")) if isinstance(c, dict) else str(c) for c in content)
    return str(content)


def serve(settings: Settings) -> None:
    """Open (or build) the index, then start the UI; prints when the page is usable."""
    from .advisor import Advisor

    advisor = Advisor(settings)
    if advisor.store.current_version() is None:
        print(f"advisor-bot: no index yet, building it in {settings.index_path} (first start only) ...",
              file=sys.stderr, flush=True)
        print(advisor.build_index(progress=sys.stderr.isatty()).report.summary(), file=sys.stderr, flush=True)
    print(f"advisor-bot: opening the index in {settings.index_path} ...", file=sys.stderr, flush=True)
    advisor.index  # noqa: B018 - open now so that index errors surface before the page does
    for p in advisor.problems:
        print(f"skipped {p}", file=sys.stderr)
    print("advisor-bot: loading the embedding model ...", file=sys.stderr, flush=True)
    advisor.retrieve("warm up")
    demo = build_ui(advisor)
    demo.queue(default_concurrency_limit=4)
    demo.launch(server_name=settings.host, server_port=settings.port, css=CSS, show_error=False, quiet=True,
                prevent_thread_lock=True)
    print(f"advisor-bot: ready at http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    demo.block_thread()
