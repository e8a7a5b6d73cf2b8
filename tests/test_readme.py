"""The README's two commands are the product's front door: keep them and CI in step."""

from __future__ import annotations

from helpers import REPO


def readme_commands() -> list[str]:
    """The non-blank lines of the README's first bash block."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = text.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands() -> None:
    run, test = readme_commands()
    assert run.endswith("python app.py")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    """CI proves the README's promise only if it runs that very line, not a paraphrase."""
    _, test = readme_commands()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci  # a whole line: neither commented out nor reworded
