"""The Gradio app: a streamed, cited chat with a sources panel, feedback, export and an add tab,
plus four named API endpoints for gradio_client (/ask, /search, /export, /feedback).

Rendering lives in render.py (pure functions, sanitised); this module wires it to Gradio. The
chat's own events are private; the API endpoints are stateless (everything they need comes
with the call) and check their inputs, answering bad ones with a clear message. What a
browser session holds is bounded: the last MAX_RECORDS answers and MAX_CHAT_MESSAGES messages.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..corpus.ingest import AddReport, Upload
from ..errors import AdvisorError, UploadError
from ..records import Message
from .feedback import RATINGS, FeedbackLog
from .render import answer_markdown, escape_markdown_html, export_markdown, sources_html, topic_examples

if TYPE_CHECKING:
    import gradio as gr

    from ..advisor import Advisor

log = logging.getLogger("advisor_bot")

EXAMPLES = [
    "How do I prepare for an ML interview?",
    "Do I need to master all the math before reading papers?",
    "How should I choose a PhD supervisor?",
    "Should I do a PhD or go to industry?",
]
MAX_RECORDS = 20  # answers a browser session keeps (sources panel, export, votes)
MAX_CHAT_MESSAGES = 40  # messages the chat component sends back and forth
MAX_MESSAGE_CHARS = 20_000  # characters kept of each chat message

CSS = """
.sources-panel {max-height: 72vh; overflow-y: auto;}
.answer-sources > summary {font-weight: 600; cursor: pointer; margin: 4px 0;}
.source-card {border: 1px solid var(--border-color-primary); border-radius: 8px; padding: 6px 10px; margin: 6px 0;}
.source-card > summary {cursor: pointer;}
.source-card.flash {outline: 2px solid var(--color-accent); transition: outline 0.3s;}
.source-card .section {color: var(--body-text-color-subdued); font-size: 0.9em;}
.source-card .scores {color: var(--body-text-color-subdued); font-size: 0.8em; font-family: monospace;}
.source-card .passage {font-size: 0.9em; margin-top: 6px;}
.source-card .passage h1, .source-card .passage h2, .source-card .passage h3, .source-card .passage h4
  {font-size: 1em; margin: 6px 0 2px;}
.source-card .query {color: var(--body-text-color-subdued); font-size: 0.85em;}
.source-card mark {background: #fff3a3; color: inherit;}
"""

# Clicking an inline [n] opens that passage's card in the sources panel instead of navigating.
JS = """
() => {
  document.addEventListener('click', (event) => {
    const link = event.target.closest('a[href^="#source-"]');
    if (!link) return;
    event.preventDefault();
    event.stopPropagation();
    const card = document.getElementById(link.getAttribute('href').slice(1));
    if (!card) return;
    const group = card.closest('details.answer-sources');
    if (group) group.open = true;
    card.open = true;
    card.classList.add('flash');
    card.scrollIntoView({block: 'nearest'});
    setTimeout(() => card.classList.remove('flash'), 1500);
  }, true);
}
"""


def build_ui(advisor: Advisor) -> gr.Blocks:
    import gradio as gr

    feedback = FeedbackLog.in_dir(advisor.settings.data_path)
    usable = advisor.available_generators()
    wanted = advisor.settings.answer.generator
    default_generator = wanted if wanted in usable else "extractive"
    index = advisor.index
    examples = EXAMPLES + topic_examples(list(index.documents.values()), index.chunks, limit=4)

    def fail(message: str) -> gr.Error:
        return gr.Error(message, print_exception=False)

    # ---------- the chat (private events) ----------

    def respond(
        message: str,
        chat: list[dict[str, Any]],
        records: list[dict[str, Any]],
        generator: str,
        k: float,
        show_scores: bool,
    ) -> Iterator[tuple[Any, ...]]:
        chat = _bounded_chat(chat)
        records = list(records or [])[-MAX_RECORDS:]
        if not (message or "").strip():
            yield chat, "", sources_html(records, show_scores=show_scores), records
            return
        turns: list[Message] = []
        for r in records:
            turns += [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["text"]}]
        chat = [
            *chat,
            {"role": "user", "content": escape_markdown_html(message[:MAX_MESSAGE_CHARS])},
            {"role": "assistant", "content": ""},
        ]
        try:
            stream = advisor.stream(message, turns, generator=generator or None, k=int(k))
            text = ""
            for piece in stream:
                text += piece
                chat[-1]["content"] = escape_markdown_html(text)
                yield chat, "", sources_html(records, show_scores=show_scores), records
            assert stream.answer is not None
            record = {**stream.answer.to_dict(), "turn": _next_turn(records), "message_index": len(chat) - 1}
            records = [*records, record][-MAX_RECORDS:]
            chat[-1]["content"] = answer_markdown(record)
        except AdvisorError as exc:
            chat[-1]["content"] = escape_markdown_html(f"Sorry: {exc}")
        yield chat, "", sources_html(records, show_scores=show_scores), records

    def on_vote(event: gr.LikeData, records: list[dict[str, Any]]) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        record = next((r for r in records or [] if r.get("message_index") == index), None)
        if record is None:
            return "That message has no answer to rate."
        rating = "up" if event.liked is True else "down" if event.liked is False else "none"
        try:
            feedback.record(rating, record)
        except AdvisorError as exc:
            return escape_markdown_html(str(exc))
        return {"up": "Thanks, noted 👍", "down": "Thanks, noted 👎", "none": "Vote withdrawn."}[rating]

    on_vote.__annotations__["event"] = gr.LikeData  # Gradio finds event data by the real class

    def export_chat(records: list[dict[str, Any]]) -> Any:
        if not records:
            return gr.update(value=None, visible=False)
        return gr.update(value=str(_export_file(records)), visible=True)

    def add_essay(
        files: list[Any] | None,
        pasted: str,
        title: str,
        author: str,
        url: str,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 - Gradio's idiom
    ) -> str:
        from ..index.store import BUILD_STAGES as stages

        try:
            uploads = essay_uploads(files, pasted, title=title, author=author, url=url)
            if not uploads:
                return "Choose a file or paste the essay text first."
            progress(0.05, desc="checking the files")
            result = advisor.add_documents(
                uploads,
                on_stage=lambda s: progress((stages.index(s) + 1) / (len(stages) + 1) if s in stages else 0.5, desc=s),
            )
        except AdvisorError as exc:
            return escape_markdown_html(f"Nothing was added: {exc}")
        return add_report_markdown(result)

    def index_now(progress: gr.Progress = gr.Progress()) -> str:  # noqa: B008 - Gradio's idiom
        """Index what is in corpus/ but not yet in the index (an add that could not finish)."""
        from ..index.store import BUILD_STAGES as stages

        try:
            report = advisor.refresh(
                on_stage=lambda s: progress((stages.index(s) + 1) / (len(stages) + 1) if s in stages else 0.5, desc=s)
            )
        except AdvisorError as exc:
            return escape_markdown_html(f"Nothing was indexed: {exc}")
        skipped = "".join(f"\n- skipped {escape_markdown_html(str(p))}" for p in report.problems)
        return escape_markdown_html(report.summary()) + skipped

    # ---------- the API: named, stateless, checked ----------

    def api_ask(question: str, history: Any, generator: str, k: Any) -> tuple[str, str, dict[str, Any]]:
        """Answer a question (earlier turns in `history`); returns the answer as markdown, the
        sources panel as HTML, and the whole answer as JSON (Answer.to_dict())."""
        turns = _history(history, fail)
        name = (generator or "").strip() or None
        try:
            answer = advisor.ask(question or "", turns, generator=name, k=_k(k, fail))
        except AdvisorError as exc:
            raise fail(str(exc)) from None
        record = {**answer.to_dict(), "turn": 0}
        return answer_markdown(record), sources_html([record]), answer.to_dict()

    def api_search(query: str, k: Any) -> list[dict[str, Any]]:
        """The passages a standalone query retrieves, best first."""
        try:
            return [p.to_dict() for p in advisor.retrieve(query or "", _k(k, fail) or 5)]
        except AdvisorError as exc:
            raise fail(str(exc)) from None

    def api_export(conversation: Any) -> str:
        """A markdown file of a conversation: a list of answers as /ask returns them in `record`."""
        if not isinstance(conversation, list) or not all(
            isinstance(r, dict) and isinstance(r.get("question"), str) and isinstance(r.get("text"), str)
            for r in conversation
        ):
            raise fail(
                "conversation must be a list of answers, each with at least 'question' and 'text' "
                "(the `record` output of /ask)"
            )
        if not conversation:
            raise fail("conversation is empty: nothing to export")
        return str(_export_file(conversation[-MAX_RECORDS:]))

    def api_feedback(rating: str, answer: Any) -> str:
        """Record a vote ("up", "down" or "none") on an answer (the `record` output of /ask)."""
        if rating not in RATINGS:
            raise fail(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
        if not isinstance(answer, dict) or not isinstance(answer.get("question"), str):
            raise fail("answer must be the `record` output of /ask (a JSON object with 'question' and 'text')")
        try:
            feedback.record(rating, answer)
        except AdvisorError as exc:
            raise fail(str(exc)) from None
        return f"recorded {rating}"

    with gr.Blocks(title="advisor-bot") as demo:
        records = gr.State([])
        gr.Markdown(
            "## advisor-bot\nCareer and research advice for getting into AI, answered from essays "
            "with citations. Click a [n] to open its passage."
        )
        with gr.Tab("Chat"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat",
                    height=520,
                    buttons=["copy", "copy_all"],
                    elem_id="chat",
                    feedback_options=("Like", "Dislike"),
                )
                box = gr.Textbox(
                    placeholder="Ask about AI research careers, PhDs, interviews, learning resources ...",
                    show_label=False,
                    elem_id="question",
                    submit_btn=True,
                )
                gr.Examples(examples, inputs=box, label="Try")
                with gr.Row():
                    export_button = gr.Button("Export conversation (markdown)", size="sm", elem_id="export")
                    clear_button = gr.Button("New conversation", size="sm", elem_id="clear")
                export_file = gr.File(label="Conversation", visible=False, elem_id="export-file")
                vote_status = gr.Markdown(elem_id="vote-status")
            with gr.Column(scale=2):
                sources = gr.HTML(sources_html([]), elem_id="sources")
                with gr.Accordion("Settings", open=False, elem_id="settings"):
                    generator = gr.Dropdown(
                        usable,
                        value=default_generator,
                        label="Generator",
                        info=_unavailable_note(advisor),
                        elem_id="generator",
                    )
                    k = gr.Slider(
                        1, 10, value=advisor.settings.retrieval.top_k, step=1, label="Passages to retrieve", elem_id="k"
                    )
                    show_scores = gr.Checkbox(False, label="Show retrieval scores", elem_id="show-scores")
        with gr.Tab("Add an essay"):
            gr.Markdown(
                "Upload .md, .txt or .html files, or paste the text. The essay is copied into "
                "`corpus/essays/` with its details, indexed, and used from the next question on. "
                "**Index now** indexes what is in `corpus/` but not yet in the index."
            )
            with gr.Row():
                with gr.Column():
                    files = gr.File(
                        label="Files",
                        file_count="multiple",
                        file_types=[".md", ".markdown", ".txt", ".html", ".htm"],
                        elem_id="add-files",
                    )
                    pasted = gr.Textbox(
                        label="...or paste the essay (markdown or plain text)", lines=8, elem_id="add-text"
                    )
                with gr.Column():
                    title = gr.Textbox(label="Title (taken from the file when empty)", elem_id="add-title")
                    author = gr.Textbox(label="Author", elem_id="add-author")
                    url = gr.Textbox(label="Link to the original (https://...)", elem_id="add-url")
                    with gr.Row():
                        add_button = gr.Button("Add and index", variant="primary", elem_id="add-button")
                        index_button = gr.Button("Index now", elem_id="index-button")
            add_status = gr.Markdown(elem_id="add-status")
        with gr.Column(visible=False):  # the API's own inputs and outputs, named for gradio_client
            q_in = gr.Textbox(label="question")
            history_in = gr.JSON(label="history", value=[])
            generator_in = gr.Textbox(label="generator", value=default_generator)
            k_in = gr.JSON(label="k", value=None)
            query_in = gr.Textbox(label="query")
            conversation_in = gr.JSON(label="conversation", value=[])
            rating_in = gr.Textbox(label="rating", value="up")
            record_in = gr.JSON(label="answer", value={})
            answer_out = gr.Markdown(label="answer")
            sources_out = gr.HTML(label="sources")
            record_out = gr.JSON(label="record")
            passages_out = gr.JSON(label="passages")
            file_out = gr.File(label="conversation")
            status_out = gr.Markdown(label="status")
            api_buttons = [gr.Button(name) for name in ("ask", "search", "export", "feedback")]

        private: Any = {"api_visibility": "private"}
        box.submit(respond, [box, chat, records, generator, k, show_scores], [chat, box, sources, records], **private)
        chat.like(on_vote, [records], [vote_status], **private)
        show_scores.change(lambda r, s: sources_html(r, show_scores=s), [records, show_scores], [sources], **private)
        export_button.click(export_chat, [records], [export_file], **private)

        def new_conversation() -> tuple[Any, ...]:
            return [], [], sources_html([]), gr.update(value=None, visible=False), ""

        clear_button.click(new_conversation, None, [chat, records, sources, export_file, vote_status], **private)
        chat.clear(new_conversation, None, [chat, records, sources, export_file, vote_status], **private)
        add_button.click(add_essay, [files, pasted, title, author, url], [add_status], **private)
        index_button.click(index_now, None, [add_status], **private)
        ask_b, search_b, export_b, feedback_b = api_buttons
        ask_b.click(
            api_ask, [q_in, history_in, generator_in, k_in], [answer_out, sources_out, record_out], api_name="ask"
        )
        search_b.click(api_search, [query_in, k_in], [passages_out], api_name="search")
        export_b.click(api_export, [conversation_in], [file_out], api_name="export")
        feedback_b.click(api_feedback, [rating_in, record_in], [status_out], api_name="feedback")
    return demo


def _bounded_chat(chat: Any) -> list[dict[str, Any]]:
    """The chat component's messages as this app wrote them, at most MAX_CHAT_MESSAGES, each cut
    to MAX_MESSAGE_CHARS: a client cannot make the server hold (or send back) megabytes."""
    out: list[dict[str, Any]] = []
    for m in list(chat or [])[-MAX_CHAT_MESSAGES:]:
        if isinstance(m, dict) and m.get("role") in ("user", "assistant"):
            content = m.get("content")
            out.append({"role": m["role"], "content": content[:MAX_MESSAGE_CHARS] if isinstance(content, str) else ""})
    return out


def _next_turn(records: list[dict[str, Any]]) -> int:
    return (max((int(r.get("turn", 0)) for r in records), default=-1) + 1) if records else 0


def _export_file(records: list[dict[str, Any]]) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="advisor-bot-export-"))
    path = folder / f"advisor-bot-{time.strftime('%Y%m%d-%H%M%S')}.md"
    path.write_text(export_markdown(records), encoding="utf-8")
    return path


def _k(value: Any, fail: Any) -> int | None:
    """k as sent over the API: a whole number from 1 to 50 (or nothing: the setting)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not float(value).is_integer():
        raise fail(f"k must be a whole number from 1 to 50, not {value!r}")
    if not 1 <= int(value) <= 50:
        raise fail(f"k must be from 1 to 50, not {int(value)}")
    return int(value)


def _history(value: Any, fail: Any) -> list[Message]:
    if value is None or value == "":
        return []
    if not isinstance(value, list) or not all(
        isinstance(t, dict) and t.get("role") in ("user", "assistant") and isinstance(t.get("content"), str)
        for t in value
    ):
        raise fail('history must be a list of {"role": "user"|"assistant", "content": "..."} turns')
    return [{"role": t["role"], "content": t["content"]} for t in value]


def _unavailable_note(advisor: Advisor) -> str:
    missing = {n: r for n, r in advisor.generator_availability().items() if r}
    if not missing:
        return "Writes the answer from the retrieved passages."
    return "Not available here: " + "; ".join(f"{n} ({'; '.join(r)})" for n, r in sorted(missing.items()))[:300]


def essay_uploads(
    files: list[Any] | None, pasted: str | None, *, title: str = "", author: str = "", url: str = ""
) -> list[Upload]:
    """What the add panel was given, as Uploads; title, author and url describe a single essay."""
    paths = [Path(f if isinstance(f, str) else getattr(f, "name", str(f))) for f in files or []]
    count = len(paths) + (1 if (pasted or "").strip() else 0)
    meta = {"title": title or None, "author": author or None, "source_url": url or None}
    if count > 1 and any(meta.values()):
        raise UploadError(
            "title, author and link describe one essay; add several files without them, or one file at a time with them"
        )

    def upload(name: str, data: bytes | str) -> Upload:
        return Upload(name, data, title=meta["title"], author=meta["author"], source_url=meta["source_url"])

    uploads = [upload(p.name, p.read_bytes()) for p in paths]
    if (pasted or "").strip():
        uploads.append(upload("pasted.md", str(pasted)))
    return uploads


def add_report_markdown(result: AddReport) -> str:
    """The add panel's report: what went in, what was refused and why, the index build."""
    lines: list[str] = []
    for a in result.added:
        lines.append(f"- added **{escape_markdown_html(a.title)}** as `{a.path.name}`")
    for r in result.refused:
        lines.append(f"- refused {escape_markdown_html(str(r))}")
    if result.build is not None:
        lines += [
            "",
            escape_markdown_html(result.build.summary()),
            "",
            "Ask away: the next question already searches the new text.",
        ]
    return "\n".join(lines) or "Nothing to add."
