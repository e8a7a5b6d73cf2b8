import json
import os
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from advisor_bot.cli import main


def cli(root: Path, *args: str, input: str | None = None):
    return CliRunner().invoke(main, ["--root", str(root), *args], input=input, catch_exceptions=False)


def test_index_ask_and_status(tiny_root: Path) -> None:
    built = cli(tiny_root, "index")
    assert built.exit_code == 0, built.output
    assert "Built index" in built.output
    status = cli(tiny_root, "index", "--status", "--json")
    data = json.loads(status.output)
    assert data["up_to_date"] and data["documents"] == 5
    answer = cli(tiny_root, "ask", "how should I choose a PhD supervisor?", "--json")
    assert answer.exit_code == 0, answer.output
    payload = json.loads(answer.output)
    assert payload["citations"] and payload["citations"][0]["title"]
    assert payload["text"].count("[1]") >= 1
    plain = cli(tiny_root, "ask", "how should I choose a PhD supervisor?")
    assert "Sources:" in plain.output and "[1]" in plain.output


def test_ask_builds_the_index_on_first_use(tiny_root: Path) -> None:
    result = cli(tiny_root, "ask", "which book teaches reinforcement learning?")
    assert result.exit_code == 0
    assert (tiny_root / "index" / "CURRENT").is_file()


def test_broken_essay_is_reported_and_the_rest_indexed(tiny_root: Path) -> None:
    (tiny_root / "corpus" / "essays" / "broken.md").write_bytes(b"\x00\x01\x02binary")
    result = cli(tiny_root, "index")
    assert result.exit_code == 0
    assert "skipped essays/broken.md: looks like a binary file" in result.output
    assert "5 documents" in result.output


def _run(*args: str, stdin: str | None = None, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ADVISOR_BOT_ROOT": str(cwd)}
    return subprocess.run([sys.executable, "-m", "advisor_bot.cli", *args], input=stdin, capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=120)


def test_bad_questions_fail_cleanly_without_traceback(tiny_root: Path) -> None:
    empty = _run("ask", "", cwd=tiny_root)
    assert empty.returncode == 1
    assert "error: The question is empty" in empty.stderr
    huge = _run("ask", "-", stdin="why?" * 12_500, cwd=tiny_root)
    assert huge.returncode == 1
    assert "50,000 characters" in huge.stderr and "max_question_chars" in huge.stderr
    for result in (empty, huge):
        assert "Traceback" not in result.stderr + result.stdout


def test_help_is_fast_to_reach(tiny_root: Path) -> None:
    result = _run("--help", cwd=tiny_root)
    assert result.returncode == 0 and "index" in result.stdout and "ask" in result.stdout


def test_add_copies_converts_indexes_and_names_what_it_refused(tiny_root: Path, tmp_path: Path) -> None:
    page = tmp_path / "mentor.html"
    page.write_text("<html><head><title>Finding a Mentor</title><script>alert(1)</script></head><body>"
                    "<p>Write to graduate students first; they reply more often than professors do.</p></body></html>")
    empty = tmp_path / "empty.md"
    empty.write_text("")
    result = CliRunner().invoke(main, ["--root", str(tiny_root), "add", str(page), str(empty), str(tmp_path / "nope.pdf")])
    assert result.exit_code == 0, result.output
    assert "added" in result.stdout and "finding-a-mentor.md" in result.stdout and "Built index" in result.stdout
    assert "refused empty.md: is empty" in result.stderr and "nope.pdf" in result.stderr
    written = (tiny_root / "corpus" / "essays" / "finding-a-mentor.md").read_text()
    assert "title: Finding a Mentor" in written and "alert" not in written
    answer = cli(tiny_root, "ask", "who replies more often, graduate students or professors?", "--json")
    assert json.loads(answer.output)["citations"][0]["title"] == "Finding a Mentor"
    status = json.loads(cli(tiny_root, "index", "--status", "--json").output)
    assert status["up_to_date"] and status["documents"] == 6


def test_add_with_nothing_usable_fails_cleanly(tiny_root: Path, tmp_path: Path) -> None:
    (tmp_path / "x.md").write_bytes(b"\x00\x01binary")
    result = CliRunner().invoke(main, ["--root", str(tiny_root), "add", str(tmp_path / "x.md")])
    assert result.exit_code == 1 and "binary" in result.stderr and "Traceback" not in result.output
    two = CliRunner().invoke(main, ["--root", str(tiny_root), "add", "a.md", "b.md", "--title", "T"])
    assert two.exit_code == 2 and "one essay" in two.stderr


def test_serve_on_all_interfaces_without_login_is_refused(tiny_root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    result = subprocess.run([sys.executable, "-m", "advisor_bot", "--root", str(tiny_root), "serve", "--host", "0.0.0.0"],
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode == 1 and "--no-auth" in result.stderr and "Traceback" not in result.stderr


def test_add_no_index_only_copies(tiny_root: Path, tmp_path: Path) -> None:
    essay = tmp_path / "notes.md"
    essay.write_text("# Lab Notes\n\nWrite down every experiment's command and result the same day.\n")
    result = CliRunner().invoke(main, ["--root", str(tiny_root), "add", str(essay), "--no-index"])
    assert result.exit_code == 0 and "not indexed yet" in result.stdout
    assert (tiny_root / "corpus" / "essays" / "lab-notes.md").is_file() and not (tiny_root / "index").exists()
