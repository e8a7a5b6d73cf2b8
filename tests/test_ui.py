from advisor_bot.advisor import Advisor
from advisor_bot.ui import build_ui, escape_markdown_html, sources_html


def test_answer_html_is_escaped() -> None:
    assert escape_markdown_html("<script>alert(1)</script> **bold** [1]") == \
        "&lt;script&gt;alert(1)&lt;/script&gt; **bold** [1]"


def test_sources_panel_escapes_document_text(tiny_advisor: Advisor) -> None:
    answer = tiny_advisor.ask("How do I prepare for coding interviews?")
    answer.citations[0].passage.chunk = answer.citations[0].passage.chunk.__class__(
        **{**answer.citations[0].passage.chunk.__dict__, "text": "<img src=x onerror=alert(1)>"}
    )
    html = sources_html(answer)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "[1]" in html


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
