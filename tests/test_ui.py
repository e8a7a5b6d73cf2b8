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
