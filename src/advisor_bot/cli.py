"""advisor-bot: index | ask | eval | serve. Heavy imports wait for the command
that needs them, so `--help` and `index --status` answer at once."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from .advisor import Advisor
    from .settings import Settings

log = logging.getLogger("advisor_bot")


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose < 2:
        for noisy in ("faiss", "faiss.loader", "sentence_transformers", "transformers", "bm25s", "httpx", "urllib3"):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


class _Context:
    def __init__(self, root: Path | None, config: dict[str, Any]) -> None:
        self.root = root
        self.config = config

    def settings(self, **overrides: Any) -> Settings:
        from .settings import Settings

        return Settings.load(self.root, **{**self.config, **overrides})


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _report_problems(problems: list[Any]) -> None:
    for p in problems:
        click.echo(f"skipped {p}", err=True)


def _run(fn: Any) -> Any:
    """Our own errors become one line on stderr and exit status 1, never a traceback."""
    from .errors import AdvisorError

    try:
        return fn()
    except AdvisorError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder holding corpus/ and index/ (default: found from the working directory).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a setting for this run, e.g. --set top_k=8 (repeatable).")
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="advisor-bot")
@click.pass_context
def main(ctx: click.Context, root: Path | None, sets: tuple[str, ...], verbose: int) -> None:
    """Cited answers to questions about getting into AI, from a corpus of essays."""
    _setup_logging(verbose)
    from .errors import SettingsError
    from .settings import parse_assignments

    try:
        config: dict[str, Any] = parse_assignments(sets)
    except SettingsError as exc:
        raise click.BadParameter(str(exc), param_hint="--set") from exc
    ctx.obj = _Context(root, config)


@main.command()
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of reusing unchanged chunks.")
@click.option("--status", "show_status", is_flag=True, help="Show what is built and what is out of date; build nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def index(obj: _Context, rebuild: bool, show_status: bool, as_json: bool) -> None:
    """Build or update the index from corpus/ (only new or changed text is embedded)."""

    def go() -> None:
        from .advisor import Advisor

        advisor = Advisor(obj.settings())
        if show_status:
            status = advisor.status()
            _report_problems(advisor.problems)
            if as_json:
                click.echo(json.dumps(status.to_dict(), indent=2))
            else:
                click.echo(_format_status(status))
            return
        if not as_json:
            click.echo(f"Indexing {advisor.settings.corpus_path} into {advisor.store.path} ...", err=True)
        result = advisor.build_index(rebuild=rebuild, progress=sys.stderr.isatty() and not as_json)
        _report_problems(result.problems)
        if as_json:
            from dataclasses import asdict

            click.echo(json.dumps({**asdict(result.report), "skipped": [str(p) for p in result.problems]}, indent=2))
        else:
            click.echo(result.report.summary())

    _run(go)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", default=None, help="Title of the essay (one file only); otherwise taken from the file.")
@click.option("--author", default=None, help="Author (one file only).")
@click.option("--url", "source_url", default=None, help="Link to the original (one file only).")
@click.option("--kind", default=None, help="blog, guide, answer, post, newsletter or essay.")
@click.option("--no-index", is_flag=True, help="Only copy into corpus/essays/; run `advisor-bot index` later.")
@click.pass_obj
def add(obj: _Context, paths: tuple[Path, ...], title: str | None, author: str | None, source_url: str | None,
        kind: str | None, no_index: bool) -> None:
    """Add essays (.md, .txt, .html) to corpus/essays/ and update the index.

    HTML is converted to markdown; front matter (title, author, url, date added) is written from
    what the file says and the options. Refused files are named with the reason; nothing already
    in the corpus is changed.
    """

    def go() -> None:
        from .advisor import Advisor

        if (title or author or source_url) and len(paths) > 1:
            _fail("--title, --author and --url describe one essay; add files one at a time to set them.", 2)
        meta = {"title": title, "author": author, "source_url": source_url, "kind": kind}
        advisor = Advisor(obj.settings())
        result = advisor.add_documents(paths, meta=meta, index=not no_index, progress=sys.stderr.isatty(),
                                       on_stage=lambda s: click.echo(f"  {s} ...", err=True))
        for a in result.added:
            click.echo(f"added   {a.path} ({a.title})")
        for r in result.refused:
            click.echo(f"refused {Path(r.path).name}: {r.reason}", err=True)
        if result.build is not None:
            _report_problems(result.build.problems)
            click.echo(result.build.report.summary())
        elif result.added:
            click.echo("not indexed yet: run `advisor-bot index`")
        if not result.added:
            sys.exit(1)

    _run(go)


def _format_status(status: Any) -> str:
    if status.version is None:
        return f"No index in {status.path} yet. Run `advisor-bot index` to build it ({len(status.added)} documents waiting)."
    lines = [
        f"index:     {status.path}",
        f"version:   {status.version}",
        f"built:     {status.built_at} in {status.build_seconds}s",
        f"model:     {status.model}",
        f"type:      {status.index_type}",
        f"documents: {status.documents}",
        f"chunks:    {status.chunks}",
    ]
    if status.error:
        lines.append(f"PROBLEM:   {status.error}")
    for label, items in (("new", status.added), ("changed", status.changed), ("deleted", status.deleted)):
        if items:
            lines.append(f"{label + ':':<10} {', '.join(items)}")
    if status.settings_changed:
        lines.append(f"settings changed since the build: {', '.join(status.settings_changed)} (run `advisor-bot index --rebuild`)")
    lines.append("up to date" if status.up_to_date else "out of date: run `advisor-bot index`")
    return "\n".join(lines)


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer as JSON.")
@click.option("--generator", "-g", default=None, help="Generator to write the answer (extractive, local, openai_compat, ...).")
@click.option("--k", type=click.IntRange(1, 50), default=None, help="Number of passages to retrieve.")
@click.option("--history", type=click.File("r"), default=None,
              help='JSON file of earlier turns: [{"role": "user", "content": ...}, ...].')
@click.pass_obj
def ask(obj: _Context, question: str | None, as_json: bool, generator: str | None, k: int | None, history: Any) -> None:
    """Answer QUESTION with cited passages (reads standard input when QUESTION is -)."""
    if question == "-":
        question = sys.stdin.read()
    if question is None:
        _fail("give a question, e.g. advisor-bot ask \"how do I prepare for an ML interview?\"", 2)

    def go() -> None:
        from .advisor import validate_question

        settings = obj.settings()
        validate_question(question, settings.max_question_chars)  # fail fast, before loading a model
        turns = _read_history(history)
        advisor = _open(settings)
        stream = advisor.stream(question or "", turns, generator=generator, k=k)
        if as_json:
            for _ in stream:
                pass
        else:
            for piece in stream:
                click.echo(piece, nl=False)
            click.echo()
        answer = stream.answer
        assert answer is not None
        if as_json:
            click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
            return
        if answer.notice:
            click.echo(f"\nnote: {answer.notice}", err=True)
        if answer.citations:
            click.echo("\nSources:")
            for c in answer.citations:
                where = c.title + (f" > {c.section}" if c.section else "")
                click.echo(f"  [{c.n}] {where}" + (f"\n      {c.url}" if c.url else ""))

    _run(go)


def _read_history(fh: Any) -> list[dict[str, str]]:
    if fh is None:
        return []
    try:
        data = json.load(fh)
    except ValueError as exc:
        _fail(f"--history is not valid JSON ({exc}); give a list of {{\"role\", \"content\"}} objects", 2)
    if not isinstance(data, list):
        _fail("--history must be a JSON list of {\"role\", \"content\"} objects", 2)
    return data


def _open(settings: Settings) -> Advisor:
    from .advisor import Advisor

    advisor = Advisor(settings)
    if advisor.store.current_version() is None:
        click.echo("No index yet: building it from the corpus (first run only) ...", err=True)
        result = advisor.build_index(progress=sys.stderr.isatty())
        _report_problems(result.problems)
        click.echo(result.report.summary(), err=True)
    advisor.index  # noqa: B018 - surface index errors before streaming
    return advisor


@main.command(name="eval")
@click.option("--questions", "questions_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSONL question set in the shared eval format (e.g. ../shared/eval/dev.jsonl).")
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages per question.")
@click.option("--generator", "-g", default=None, help="Generator to evaluate (default: the configured one).")
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write per-question results and the summary to this JSON file.")
@click.pass_obj
def evaluate_cmd(obj: _Context, questions_path: Path, k: int, generator: str | None, json_out: Path | None) -> None:
    """Score the Advisor on a question set: retrieval, citations, refusals, latency."""

    def go() -> None:
        from .errors import AdvisorError
        from .evaluation import evaluate, format_table, load_questions

        try:
            questions = load_questions(questions_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AdvisorError(f"Cannot read questions from {questions_path}: {exc}. "
                               "Give a JSONL file with id, question, type and gold per line.") from exc
        advisor = _open(obj.settings())
        name = generator or advisor.settings.generator
        show = sys.stderr.isatty()

        def progress(i: int, n: int) -> None:
            if show:
                click.echo(f"\r{i}/{n} questions", nl=i == n, err=True)

        report = evaluate(lambda q: advisor.ask(q.question, list(q.history), generator=name, k=k),
                          questions, k=k, generator=name, progress=progress)
        click.echo(f"{len(questions)} questions from {questions_path}, k={k}, generator={name}, "
                   f"index {advisor.index.version} ({len(advisor.index)} chunks)")
        click.echo(format_table(report))
        if json_out:
            json_out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
            click.echo(f"wrote {json_out}", err=True)

    _run(go)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1, this machine only).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.option("--no-auth", is_flag=True,
              help="Serve beyond this machine without a login (otherwise ADVISOR_BOT_USERNAME/PASSWORD are required).")
@click.pass_obj
def serve(obj: _Context, host: str | None, port: int | None, no_auth: bool) -> None:
    """Start the chat UI in the browser."""

    def go() -> None:
        from .ui import serve as serve_ui

        serve_ui(obj.settings(**({"host": host} if host else {}), **({"port": port} if port else {})),
                 no_auth=no_auth)

    _run(go)


if __name__ == "__main__":  # pragma: no cover
    main()
