"""The Gradio chat: streamed answers on the left, the cited sources on the right."""

from __future__ import annotations

import html
import logging
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import gradio as gr

    from .advisor import Advisor
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

    with gr.Blocks(title="advisor-bot") as demo:
        gr.Markdown("## advisor-bot\nCareer and research advice for getting into AI, answered from essays with citations.")
        with gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=520, buttons=["copy"], elem_id="chat")
                box = gr.Textbox(placeholder="Ask about AI research careers, PhDs, interviews, learning resources ...",
                                 show_label=False, elem_id="question", submit_btn=True)
                gr.Examples(EXAMPLES, inputs=box, label="Try")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html(None), elem_id="sources")
        box.submit(respond, [box, chat], [chat, box, sources])
    return demo


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
