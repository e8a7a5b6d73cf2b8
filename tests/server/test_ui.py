"""The Gradio wiring (server/ui.py) without a browser: login rules, the chat handler, votes,
export and the add tab, called the way Gradio calls them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import pytest

from advisor_bot import Advisor, Settings, SettingsError, UploadError
from advisor_bot.server.access import access_for
from advisor_bot.server.ui import add_report_markdown, build_ui, essay_uploads

INTERVIEWS = "How do I prepare for coding interviews?"


def handler(demo: gr.Blocks, name: str) -> Callable[..., Any]:
    """The function Gradio runs for one event, found by its name."""
    return next(f.fn for f in demo.fns.values() if getattr(f.fn, "__name__", "") == name)


def test_open_bind_needs_a_login_and_an_api_key_or_an_explicit_no_auth(tmp_path: Path) -> None:
    local = Settings.load(tmp_path, env={})
    assert access_for(local, no_auth=False, env={}).login is None
    public = Settings.load(tmp_path, env={}, **{"ui.host": "0.0.0.0"})
    with pytest.raises(SettingsError, match=r"ADVISOR_BOT_USERNAME and ADVISOR_BOT_PASSWORD.*API_KEY.*--no-auth"):
        access_for(public, no_auth=False, env={})
    open_on_purpose = access_for(public, no_auth=True, env={})
    assert open_on_purpose.login is None and open_on_purpose.open_beyond_localhost
    creds = {"ADVISOR_BOT_USERNAME": "ann", "ADVISOR_BOT_PASSWORD": "s3cret", "ADVISOR_BOT_API_KEY": "k-1"}
    guarded = access_for(public, no_auth=False, env=creds)
    assert guarded.login == ("ann", "s3cret") and guarded.api_key == "k-1"
    assert guarded.check_login("ann", "s3cret") and not guarded.check_login("ann", "wrong")
    assert access_for(local, no_auth=False, env=creds).login == ("ann", "s3cret")  # given, a login is always used
    assert Settings.load(tmp_path, env=creds).ui.host == "127.0.0.1"  # not mistaken for settings
    trusting = public.with_overrides(**{"ui.require_auth_off_localhost": False})
    assert access_for(trusting, no_auth=False, env={}).login is None


def test_chat_streams_then_links_citations_and_escapes_the_question(tiny_advisor: Advisor) -> None:
    respond = handler(build_ui(tiny_advisor), "respond")
    steps: list[tuple[Any, ...]] = []
    shown: list[str] = []
    for step in respond(INTERVIEWS + " <b>now</b>", [], [], "extractive", 3, False):
        steps.append(step)
        shown.append(step[0][-1]["content"])  # Gradio sends the message as it is at each step
    assert len(set(shown)) > 2  # the message grows while the answer streams
    assert "#source-" not in shown[1] and "#source-" in shown[-1]  # links come once the answer is complete
    history, box, panel, records = steps[-1]
    assert box == ""
    assert history[0] == {"role": "user", "content": INTERVIEWS + " &lt;b&gt;now&lt;/b&gt;"}
    assert "(#source-0-1)" in history[1]["content"]
    (record,) = records
    assert record["turn"] == 0 and record["message_index"] == 1 and len(record["passages"]) == 3
    assert "id='source-0-1'" in panel

    follow = list(respond("and what about projects?", history, records, "extractive", 3, True))[-1]
    assert [r["turn"] for r in follow[3]] == [0, 1] and follow[3][1]["message_index"] == 3
    assert "id='answer-1' open" in follow[2] and "score " in follow[2]


def test_chat_errors_are_shown_as_text(tiny_advisor: Advisor) -> None:
    respond = handler(build_ui(tiny_advisor), "respond")
    history, _, _, records = list(respond("x" * 5_000, [], [], "extractive", 3, False))[-1]
    assert history[1]["content"].startswith("Sorry: The question is 5,000 characters long")
    assert records == []
    assert list(respond("   ", [], [], "extractive", 3, False))[-1][0] == []  # blank: nothing asked


def test_votes_are_logged_with_the_answer(tiny_advisor: Advisor) -> None:
    demo = build_ui(tiny_advisor)
    records = list(handler(demo, "respond")(INTERVIEWS, [], [], "extractive", 3, False))[-1][3]
    on_vote = handler(demo, "on_vote")
    assert on_vote(gr.LikeData(None, {"index": 1, "value": "x", "liked": True}), records) == "Thanks, noted 👍"
    assert on_vote(gr.LikeData(None, {"index": 1, "value": "x", "liked": False}), records) == "Thanks, noted 👎"
    assert "no answer" in on_vote(gr.LikeData(None, {"index": 0, "value": "x", "liked": True}), records)
    log = tiny_advisor.settings.data_path / "feedback.jsonl"
    votes = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert [v["rating"] for v in votes] == ["up", "down"] and votes[0]["answer"]["question"] == INTERVIEWS


def test_export_offers_a_markdown_file(tiny_advisor: Advisor) -> None:
    demo = build_ui(tiny_advisor)
    records = list(handler(demo, "respond")(INTERVIEWS, [], [], "extractive", 3, False))[-1][3]
    export = handler(demo, "export_chat")
    offered = export(records)
    assert offered["visible"] is True and offered["value"].endswith(".md")
    text = Path(offered["value"]).read_text(encoding="utf-8")
    assert f"## {INTERVIEWS}" in text and "Sources:" in text
    assert export([])["visible"] is False


def test_add_panel_indexes_a_pasted_essay(tiny_advisor: Advisor, tmp_path: Path) -> None:
    upload = tmp_path / "notes.txt"
    upload.write_text(
        "Keep a research diary: one line per experiment, with the command and the result.", encoding="utf-8"
    )
    uploads = essay_uploads([str(upload)], "", title="Research diaries", author="<b>Ann</b>", url="")
    assert [(u.name, u.title, u.author) for u in uploads] == [("notes.txt", "Research diaries", "<b>Ann</b>")]
    report = add_report_markdown(tiny_advisor.add_documents(uploads))
    assert "added **Research diaries**" in report and "Ask away" in report
    assert tiny_advisor.retrieve("how should I log my experiments?", 1)[0].title == "Research diaries"
    refused = add_report_markdown(tiny_advisor.add_documents(essay_uploads(None, "<script>x</script>", title="")))
    assert "refused" in refused and "<script>" not in refused


def test_add_tab_handler_reports_what_it_did(tiny_advisor: Advisor) -> None:
    add_essay = handler(build_ui(tiny_advisor), "add_essay")

    def progress(*_args: Any, **_kwargs: Any) -> None:
        """Stands in for gr.Progress, which only works inside a running app."""

    assert add_essay(None, "", "", "", "", progress) == "Choose a file or paste the essay text first."
    text = "# Mentors\n\nWrite to graduate students first; they reply more often than professors do."
    assert "added **Mentors**" in add_essay(None, text, "", "", "", progress)
    bad = add_essay(None, "Some essay text with enough words in it.", "T", "", "not a url", progress)
    assert "not an http(s) link" in bad and "Ask away" not in bad


def test_add_panel_refuses_shared_details_for_several_essays(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text("one", encoding="utf-8")
    with pytest.raises(UploadError, match="one essay"):
        essay_uploads([str(tmp_path / "a.md")], "pasted text too", title="Both")


def test_examples_include_questions_from_the_corpus(tiny_advisor: Advisor) -> None:
    demo = build_ui(tiny_advisor)
    assert demo is not None
    assert any(isinstance(b, gr.Dataset) for b in demo.blocks.values())  # the "Try" examples
