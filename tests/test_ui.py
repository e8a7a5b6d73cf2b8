import json
from pathlib import Path

import pytest

from advisor_bot.advisor import Advisor
from advisor_bot.errors import SettingsError
from advisor_bot.feedback import FeedbackLog
from advisor_bot.settings import Settings
from advisor_bot.ui import build_ui, login
from advisor_bot.ui_render import (
    answer_markdown,
    answer_record,
    escape_markdown_html,
    export_markdown,
    highlight,
    sources_html,
    topic_examples,
)


def test_answer_html_is_escaped() -> None:
    assert escape_markdown_html("<script>alert(1)</script> **bold** [1]") == \
        "&lt;script&gt;alert(1)&lt;/script&gt; **bold** [1]"


def test_markers_link_to_their_cards_and_unknown_ones_stay_text(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("How do I prepare for coding interviews?")
    record = answer_record(answer, turn=3)
    record["text"] += " <b>x</b> [9]"
    md = answer_markdown(record)
    assert "[\\[1\\]](#source-3-1)" in md and "[9]" in md and "#source-3-9" not in md
    assert "&lt;b&gt;x&lt;/b&gt;" in md
    panel = sources_html([record])
    assert "id='source-3-1'" in panel and "<mark>" in panel


def test_sources_panel_escapes_document_text(tiny_advisor: Advisor) -> None:
    record = answer_record(tiny_advisor.ask("How do I prepare for coding interviews?"), turn=0)
    record["citations"][0].update(text="<img src=x onerror=alert(1)> tail", title="<script>t</script>",
                                  url="javascript:alert(1)", quote="<img src=x onerror=alert(1)>")
    html = sources_html([record], show_scores=True)
    assert "<img" not in html and "<script>" not in html and "javascript:" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "score " in html


def test_highlight_marks_quoted_sentences_only() -> None:
    text = "First sentence here. Practice LeetCode every week. <b>Last</b> one."
    out = highlight(text, "Practice LeetCode every week.")
    assert out == "First sentence here. <mark>Practice LeetCode every week.</mark> &lt;b&gt;Last&lt;/b&gt; one."
    assert highlight(text, "") == "First sentence here. Practice LeetCode every week. &lt;b&gt;Last&lt;/b&gt; one."


def test_refusal_shows_nearest_passages(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("What is the best sourdough starter recipe?")
    assert answer.refused
    record = answer_record(answer, turn=0)
    assert record["nearest"] and "Nearest passages (not cited)" in sources_html([record])


def test_export_is_markdown_with_sources(tiny_advisor: Advisor) -> None:
    record = answer_record(tiny_advisor.ask("How should I choose a PhD supervisor?"), turn=0)
    md = export_markdown([record])
    assert md.startswith("# advisor-bot conversation") and "## How should I choose a PhD supervisor?" in md
    assert "Sources:" in md and "- [1] " in md


def test_topic_examples_come_from_essay_headings(tiny_advisor: Advisor) -> None:
    index = tiny_advisor.index
    examples = topic_examples(list(index.documents.values()), index.chunks)
    assert "What do the essays say about how to read?" in examples
    assert all(e.endswith("?") for e in examples)


def test_feedback_lines_are_appended(tmp_path: Path, tiny_advisor: Advisor) -> None:
    log = FeedbackLog.in_dir(tmp_path / "data")
    record = answer_record(tiny_advisor.ask("How do I prepare for coding interviews?"), turn=0, version="v1")
    log.record("up", record)
    log.record("down", record)
    lines = [json.loads(x) for x in (tmp_path / "data" / "feedback.jsonl").read_text().splitlines()]
    assert [x["rating"] for x in lines] == ["up", "down"]
    assert lines[0]["question"] == record["question"] and lines[0]["citations"][0]["n"] == 1
    with pytest.raises(ValueError, match="rating"):
        log.record("meh", record)


def test_open_bind_needs_a_login_or_an_explicit_no_auth(tmp_path: Path) -> None:
    local = Settings.load(tmp_path, env={})
    assert login(local, no_auth=False, env={}) is None
    public = Settings.load(tmp_path, env={}, host="0.0.0.0")
    with pytest.raises(SettingsError, match=r"ADVISOR_BOT_USERNAME and ADVISOR_BOT_PASSWORD.*--no-auth"):
        login(public, no_auth=False, env={})
    assert login(public, no_auth=True, env={}) is None
    creds = {"ADVISOR_BOT_USERNAME": "ann", "ADVISOR_BOT_PASSWORD": "s3cret"}
    assert login(public, no_auth=False, env=creds) == ("ann", "s3cret")
    assert Settings.load(tmp_path, env=creds).host == "127.0.0.1"  # not mistaken for settings


def test_ui_builds(tiny_advisor: Advisor) -> None:
    demo = build_ui(tiny_advisor)
    assert demo is not None


def test_add_panel_indexes_a_pasted_essay(tiny_advisor: Advisor, tmp_path) -> None:
    from advisor_bot.ui import add_report_markdown, essay_uploads

    upload = tmp_path / "notes.txt"
    upload.write_text("Keep a research diary: one line per experiment, with the command and the result.")
    uploads = essay_uploads([str(upload)], "", title="Research diaries", author="<b>Ann</b>", url="")
    assert [(u.name, u.title, u.author) for u in uploads] == [("notes.txt", "Research diaries", "<b>Ann</b>")]
    report = add_report_markdown(tiny_advisor.add_documents(uploads))
    assert "added **Research diaries**" in report and "Ask away" in report
    assert tiny_advisor.retrieve("how should I log my experiments?", 1)[0].title == "Research diaries"
    refused = add_report_markdown(tiny_advisor.add_documents(essay_uploads(None, "<script>x</script>", title="")))
    assert "refused" in refused and "<script>" not in refused


def test_add_panel_refuses_shared_details_for_several_essays(tmp_path) -> None:
    import pytest

    from advisor_bot.errors import UploadError
    from advisor_bot.ui import essay_uploads

    (tmp_path / "a.md").write_text("one")
    with pytest.raises(UploadError, match="one essay"):
        essay_uploads([str(tmp_path / "a.md")], "pasted text too", title="Both")
