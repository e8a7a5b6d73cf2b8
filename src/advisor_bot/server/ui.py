"""The Gradio app: a streamed, cited chat with a sources panel, feedback, export and an add tab.

Rendering lives in render.py (pure functions, sanitised); this module wires it to Gradio.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..corpus.ingest import AddReport, Upload
from ..errors import AdvisorError, SettingsError, UploadError
from ..records import Message
from ..settings import AUTH_PASSWORD_ENV, AUTH_USER_ENV, Settings
from .feedback import FeedbackLog
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
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

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

    def respond(
        message: str,
        history: list[dict[str, Any]],
        records: list[dict[str, Any]],
        generator: str,
        k: float,
        show_scores: bool,
    ) -> Iterator[tuple[Any, ...]]:
        history = list(history or [])
        records = list(records or [])
        if not (message or "").strip():
            yield history, "", sources_html(records, show_scores=show_scores), records
            return
        turns: list[Message] = []
        for r in records:
            turns += [{"role": "user", "content": r["question"]}, {"role": "assistant", "content": r["text"]}]
        history = [
            *history,
            {"role": "user", "content": escape_markdown_html(message)},
            {"role": "assistant", "content": ""},
        ]
        try:
            stream = advisor.stream(message, turns, generator=generator or None, k=int(k))
            text = ""
            for piece in stream:
                text += piece
                history[-1]["content"] = escape_markdown_html(text)
                yield history, "", sources_html(records, show_scores=show_scores), records
            assert stream.answer is not None
            record = {**stream.answer.to_dict(), "turn": len(records), "message_index": len(history) - 1}
            records.append(record)
            history[-1]["content"] = answer_markdown(record)
        except AdvisorError as exc:
            history[-1]["content"] = escape_markdown_html(f"Sorry: {exc}")
        yield history, "", sources_html(records, show_scores=show_scores), records

    def on_vote(event: gr.LikeData, records: list[dict[str, Any]]) -> str:
        index = event.index[0] if isinstance(event.index, (list, tuple)) else event.index
        record = next((r for r in records or [] if r.get("message_index") == index), None)
        if record is None:
            return "That message has no answer to rate."
        rating = "up" if event.liked is True else "down" if event.liked is False else "none"
        feedback.record(rating, record)
        return {"up": "Thanks, noted 👍", "down": "Thanks, noted 👎", "none": "Vote withdrawn."}[rating]

    on_vote.__annotations__["event"] = gr.LikeData  # Gradio finds event data by the real class

    def export(records: list[dict[str, Any]]) -> Any:
        if not records:
            return gr.update(value=None, visible=False)
        folder = Path(tempfile.mkdtemp(prefix="advisor-bot-export-"))
        path = folder / f"advisor-bot-{time.strftime('%Y%m%d-%H%M%S')}.md"
        path.write_text(export_markdown(records), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

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
                "`corpus/essays/` with its details, indexed, and used from the next question on."
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
                    add_button = gr.Button("Add and index", variant="primary", elem_id="add-button")
            add_status = gr.Markdown(elem_id="add-status")

        box.submit(respond, [box, chat, records, generator, k, show_scores], [chat, box, sources, records])
        chat.like(on_vote, [records], [vote_status])
        show_scores.change(lambda r, s: sources_html(r, show_scores=s), [records, show_scores], [sources])
        export_button.click(export, [records], [export_file])

        def new_conversation() -> tuple[Any, ...]:
            return [], [], sources_html([]), gr.update(value=None, visible=False), ""

        clear_button.click(new_conversation, None, [chat, records, sources, export_file, vote_status])
        chat.clear(new_conversation, None, [chat, records, sources, export_file, vote_status])
        add_button.click(add_essay, [files, pasted, title, author, url], [add_status])
    return demo


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


def login(settings: Settings, *, no_auth: bool, env: dict[str, str] | None = None) -> tuple[str, str] | None:
    """The (user, password) that guards a UI bound beyond this machine, or None when none is needed.

    Binding 0.0.0.0 without a login would give anyone on the network the chat and the add tab,
    so it needs ADVISOR_BOT_USERNAME/ADVISOR_BOT_PASSWORD, or an explicit --no-auth.
    """
    env = dict(os.environ) if env is None else env
    user, password = env.get(AUTH_USER_ENV, ""), env.get(AUTH_PASSWORD_ENV, "")
    if user and password:
        return user, password
    ui = settings.ui
    if ui.host in LOCAL_HOSTS or no_auth or not ui.require_auth_off_localhost:
        return None
    raise SettingsError(
        f"--host {ui.host} makes the chat reachable from other machines; set {AUTH_USER_ENV} and "
        f"{AUTH_PASSWORD_ENV} to require a login, or pass --no-auth to serve it open on purpose."
    )


def serve(settings: Settings, *, no_auth: bool = False) -> None:
    """Open (or build) the index, load the model, then start the UI; says when the page is usable."""
    from ..advisor import Advisor

    def say(message: str) -> None:
        print(f"advisor-bot: {message}", file=sys.stderr, flush=True)

    auth = login(settings, no_auth=no_auth)
    say(f"opening the index in {settings.index_path} ...")
    advisor = Advisor.load(settings, say=say, progress=sys.stderr.isatty())
    say("loading the embedding model ...")
    advisor.retrieve("warm up")
    demo = build_ui(advisor)
    demo.queue(default_concurrency_limit=4)
    if auth:
        say("login required (ADVISOR_BOT_USERNAME / ADVISOR_BOT_PASSWORD)")
    elif settings.ui.host not in LOCAL_HOSTS:
        say(
            f"WARNING: serving on {settings.ui.host} without a login (--no-auth): anyone who can reach "
            "this machine can use the chat and add essays"
        )
    host, port = settings.ui.host, settings.ui.port
    demo.launch(
        server_name=host,
        server_port=port,
        css=CSS,
        js=JS,
        show_error=False,
        quiet=True,
        prevent_thread_lock=True,
        auth=auth,
        auth_message="advisor-bot: log in to continue",
    )
    say(f"ready at http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    demo.block_thread()
