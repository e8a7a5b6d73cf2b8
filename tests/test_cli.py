"""The command line (README "Command line"): index, ask, add, eval and serve, as a user runs them.

Settings errors and `advisor-bot settings` are in test_settings.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from helpers import in_a_fresh_process

from advisor_bot import Advisor
from advisor_bot.cli import main

INTERVIEWS = "How do I prepare for coding interviews?"
PHD = "how should I choose a PhD supervisor?"


def cli(root: Path, *args: str, input: str | None = None) -> Result:
    """The CLI in this process (stdout and stderr kept apart), blind to this shell's ADVISOR_BOT_* variables."""
    unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("ADVISOR_BOT_")}
    return CliRunner().invoke(main, ["--root", str(root), *args], input=input, env=unset, catch_exceptions=False)


def run(root: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real `python -m advisor_bot` in a subprocess, to see exactly what reaches the terminal."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    env["ADVISOR_BOT_ROOT"] = str(root)
    return subprocess.run(
        [sys.executable, "-m", "advisor_bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=root,
        timeout=180,
    )


@pytest.mark.slow
def test_index_ask_and_status(tiny_root: Path) -> None:
    tiny = ["--set", "chunking.chunk_size=300", "--set", "chunking.chunk_overlap=40"]
    thresholds = ["--set", "answer.partial_threshold=0.1", "--set", "answer.answered_threshold=0.2"]
    before = json.loads(cli(tiny_root, *tiny, "index", "--status", "--json").stdout)
    assert before["version"] is None and len(before["added"]) == 5
    built = cli(tiny_root, *tiny, "index")
    assert built.exit_code == 0, built.output
    assert "Built index" in built.stdout and "5 documents" in built.stdout
    stages = re.findall(r"^ +\d+\.\d s  (\w+) \.\.\.$", built.stderr, re.M)  # not a terminal: plain lines, timed
    assert stages == ["preparing", "chunking", "embedding", "indexing", "writing", "pruning"]
    status = json.loads(cli(tiny_root, *tiny, "index", "--status", "--json").stdout)
    assert status["up_to_date"] and status["documents"] == 5
    again = cli(tiny_root, *tiny, "index")
    assert "is up to date" in again.stdout
    table = cli(tiny_root, *tiny, "index", "--status")
    assert "documents:" in table.stdout and "up to date" in table.stdout

    answer = cli(tiny_root, *tiny, *thresholds, "ask", PHD, "--json")
    assert answer.exit_code == 0, answer.output
    payload = json.loads(answer.stdout)
    assert payload["outcome"] == "answered" and payload["coverage"] == "answered"
    assert payload["citations"] and payload["citations"][0]["title"]
    assert payload["text"].count("[1]") >= 1
    plain = cli(tiny_root, *tiny, *thresholds, "ask", PHD, "--k", "2")
    assert "Sources:" in plain.stdout and "[1]" in plain.stdout
    # one blank line between the answer and its sources, whether or not the answer ends a line
    assert "\n\nSources:" in plain.stdout
    assert "\n\n\nSources:" not in plain.stdout


@pytest.mark.slow
def test_ask_builds_the_index_on_first_use_and_says_so(tiny_root: Path) -> None:
    result = cli(tiny_root, "ask", "which book teaches reinforcement learning?")
    assert result.exit_code == 0, result.output
    assert (tiny_root / "index" / "CURRENT").is_file()
    assert "no index yet" in result.stderr and "no index yet" not in result.stdout  # stdout is the answer only


def test_ask_says_what_the_search_corrected(tiny_root: Path, tiny_advisor: Advisor) -> None:
    result = cli(
        tiny_root,
        "--set",
        "chunking.chunk_size=300",
        "--set",
        "chunking.chunk_overlap=40",
        "ask",
        "How do I prepre for coding intervews?",
    )
    assert result.exit_code == 0, result.output
    assert "note: Searched for “prepare” (typed “prepre”), “interviews” (typed “intervews”)." in result.stderr
    assert "Searched for" not in result.stdout  # stdout is the answer and its sources only


def test_settings_show_every_key_whole_in_80_columns(tiny_root: Path) -> None:
    """A key is what the user types back (--set, TOML, environment): a narrow terminal must not cut it."""
    result = cli(tiny_root, "settings")
    assert result.exit_code == 0, result.output
    assert "generators.openai_compat.base_url" in result.stdout and "…" not in result.stdout


def test_index_status_before_any_build(tiny_root: Path) -> None:
    result = cli(tiny_root, "index", "--status")
    assert result.exit_code == 0, result.output
    assert "No index in" in result.stdout and "advisor-bot index" in result.stdout and "5 documents" in result.stdout
    assert not (tiny_root / "index").exists()  # --status builds nothing


@pytest.mark.slow
def test_broken_essay_is_reported_and_the_rest_indexed(tiny_root: Path, tiny_advisor: Advisor) -> None:
    (tiny_root / "corpus" / "essays" / "broken.md").write_bytes(b"\x00\x01\x02binary")
    result = cli(tiny_root, "--set", "chunking.chunk_size=300", "--set", "chunking.chunk_overlap=40", "index")
    assert result.exit_code == 0, result.output
    assert "skipped essays/broken.md: looks like a binary file" in result.stderr
    assert "5 documents" in result.stdout and "broken" not in result.stdout


def test_bad_questions_fail_cleanly_without_traceback(tiny_root: Path) -> None:
    empty = run(tiny_root, "ask", "")
    assert empty.returncode == 1
    assert "error: The question is empty" in empty.stderr
    huge = run(tiny_root, "ask", "-", stdin="why?" * 12_500)
    assert huge.returncode == 1
    assert "50,000 characters" in huge.stderr and "answer.max_question_chars" in huge.stderr
    for result in (empty, huge):
        assert "Traceback" not in result.stderr + result.stdout
        assert len(result.stderr.splitlines()) == 1, result.stderr
    assert not (tiny_root / "index").exists()  # refused before loading a model or building


def test_usage_errors_exit_with_status_2(tiny_root: Path, tmp_path: Path) -> None:
    missing = cli(tiny_root, "ask")
    assert missing.exit_code == 2 and "give a question" in missing.stderr
    history = tmp_path / "history.json"
    history.write_text("{not json", encoding="utf-8")
    bad = cli(tiny_root, "ask", INTERVIEWS, "--history", str(history))
    assert bad.exit_code == 2 and "--history is not valid JSON" in bad.stderr
    history.write_text('{"role": "user"}', encoding="utf-8")
    shape = cli(tiny_root, "ask", INTERVIEWS, "--history", str(history))
    assert shape.exit_code == 2 and "must be a JSON list" in shape.stderr
    k = cli(tiny_root, "ask", INTERVIEWS, "--k", "0")
    assert k.exit_code == 2


def test_help_is_fast_to_reach(tiny_root: Path) -> None:
    result = run(tiny_root, "--help")
    assert result.returncode == 0
    for command in ("index", "ask", "add", "eval", "serve", "settings"):
        assert command in result.stdout


@pytest.mark.slow
def test_add_copies_converts_indexes_and_names_what_it_refused(tiny_root: Path, tmp_path: Path) -> None:
    page = tmp_path / "mentor.html"
    page.write_text(
        "<html><head><title>Finding a Mentor</title><script>alert(1)</script></head><body>"
        "<p>Write to graduate students first; they reply more often than professors do.</p></body></html>",
        encoding="utf-8",
    )
    empty = tmp_path / "empty.md"
    empty.write_text("", encoding="utf-8")
    result = cli(tiny_root, "add", str(page), str(empty), str(tmp_path / "nope.pdf"))
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout and "finding-a-mentor.md" in result.stdout and "Built index" in result.stdout
    assert "refused empty.md: is empty" in result.stderr and "nope.pdf" in result.stderr
    written = (tiny_root / "corpus" / "essays" / "finding-a-mentor.md").read_text(encoding="utf-8")
    assert "title: Finding a Mentor" in written and "alert" not in written
    answer = cli(tiny_root, "ask", "who replies more often, graduate students or professors?", "--json")
    assert json.loads(answer.stdout)["citations"][0]["title"] == "Finding a Mentor"
    status = json.loads(cli(tiny_root, "index", "--status", "--json").stdout)
    assert status["up_to_date"] and status["documents"] == 6


def test_add_with_nothing_usable_fails_cleanly(tiny_root: Path, tmp_path: Path) -> None:
    (tmp_path / "x.md").write_bytes(b"\x00\x01binary")
    result = cli(tiny_root, "add", str(tmp_path / "x.md"))
    assert result.exit_code == 1 and "binary" in result.stderr and "Traceback" not in result.output
    assert not (tiny_root / "index" / "CURRENT").exists()  # nothing was built
    two = cli(tiny_root, "add", "a.md", "b.md", "--title", "T")
    assert two.exit_code == 2 and "one essay" in two.stderr


def test_add_no_index_only_copies(tiny_root: Path, tmp_path: Path) -> None:
    essay = tmp_path / "notes.md"
    essay.write_text(
        "# Lab Notes\n\nWrite down every experiment's command and result the same day.\n", encoding="utf-8"
    )
    result = cli(tiny_root, "add", str(essay), "--no-index", "--author", "Ann", "--url", "https://example.org/notes")
    assert result.exit_code == 0, result.output
    assert "not indexed yet" in result.stdout
    written = (tiny_root / "corpus" / "essays" / "lab-notes.md").read_text(encoding="utf-8")
    assert "author: Ann" in written and "https://example.org/notes" in written
    assert not (tiny_root / "index" / "CURRENT").exists()  # copied, not indexed


@pytest.mark.slow
def test_eval_scores_a_question_set(tiny_root: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    records = [
        {"id": "q1", "question": PHD, "type": "advice", "gold": [{"file": "x", "quote": "Choosing a PhD supervisor"}]},
        {"id": "q2", "question": "What is the best recipe for sourdough bread?", "type": "unanswerable", "gold": []},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.json"
    result = cli(tiny_root, "eval", "--questions", str(questions), "--k", "3", "--json", str(out))
    assert result.exit_code == 0, result.output
    assert "2 questions" in result.stdout and "R@3" in result.stdout
    summary = json.loads(out.read_text(encoding="utf-8"))["summary"]
    assert summary["questions"] == 2 and summary["hit@3"] == 1.0 and summary["generator"] == "extractive"


def test_eval_with_an_unreadable_question_file_fails_cleanly(tiny_root: Path, tmp_path: Path) -> None:
    questions = tmp_path / "q.jsonl"
    questions.write_text('{"id": 1}\n', encoding="utf-8")
    result = cli(tiny_root, "eval", "--questions", str(questions))
    assert result.exit_code == 1 and "Cannot read questions" in result.stderr and "q.jsonl:1" in result.stderr


def test_serve_on_all_interfaces_without_login_is_refused(tiny_root: Path) -> None:
    result = run(tiny_root, "serve", "--host", "0.0.0.0")
    assert result.returncode == 2, result.stderr
    assert "--no-auth" in result.stderr and "ADVISOR_BOT_USERNAME" in result.stderr
    assert "Traceback" not in result.stderr


def test_help_imports_no_settings_library() -> None:
    """`advisor-bot --help` prints at once: pydantic-settings (0.2 s) loads only for a command."""
    script = (
        "import json, sys\n"
        "from advisor_bot.cli import main\n"
        "main(['--help'], standalone_mode=False)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    printed, loaded = in_a_fresh_process(script, timeout=60)
    assert "Usage:" in printed
    modules = {m.split(".")[0] for m in loaded}
    assert not {"pydantic_settings", "pydantic", "numpy"} & modules


def test_a_cold_ask_imports_no_torch_gradio_sentence_transformers_or_scipy(tiny_advisor: Advisor) -> None:
    """The question path on a built index runs the exported ONNX encoder: the heavy frameworks stay
    unloaded, and so does SciPy, which bm25s would import for a build backend we do not use."""
    root = tiny_advisor.settings.root
    script = (
        "import json, sys\n"
        "from advisor_bot.cli import main\n"
        f"main(['--root', {str(root)!r}, 'ask', 'how do I prepare for coding interviews?'], standalone_mode=False)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    answer, modules = in_a_fresh_process(script, env=env, timeout=180)
    assert "[1]" in answer
    heavy = {"torch", "gradio", "sentence_transformers", "transformers", "scipy"} & {m.split(".")[0] for m in modules}
    assert not heavy, heavy


@pytest.mark.slow
def test_two_sources_from_one_essay_without_sections_are_told_apart(
    real_advisor: Advisor, capsys: pytest.CaptureFixture[str]
) -> None:
    """The FAIR researcher's answer has no headings: its two passages would be listed alike."""
    from advisor_bot.cli import _print_sources

    answer = real_advisor.ask("should i do a phd")
    titles = [c.title for c in answer.citations]
    assert len(titles) > len(set(titles))  # the premise: one essay cited twice
    _print_sources(answer)
    listed = [line for line in capsys.readouterr().out.splitlines() if re.match(r"\s+\[\d+\]", line)]
    assert len(listed) == len(set(listed)) == len(answer.citations)
    assert all("(“" in line for line in listed if line.split("] ", 1)[1].startswith("Becoming"))
