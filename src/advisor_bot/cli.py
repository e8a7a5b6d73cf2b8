"""advisor-bot: index | add | ask | eval | serve | settings.

The settings are loaded and checked before any command runs (a bad value is one line and exit
status 2); heavy imports wait for the command that needs them, so `--help`, `settings` and
`index --status` answer at once.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click

from .errors import AdvisorError, SettingsError, UnknownGeneratorError
from .text.normalize import decode_bytes

if TYPE_CHECKING:
    from .index.store import IndexStatus
    from .records import Answer, Message
    from .settings import Settings

log = logging.getLogger("advisor_bot")
USAGE_ERRORS = (SettingsError, UnknownGeneratorError)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    if verbose < 2:
        for noisy in (
            "faiss",
            "faiss.loader",
            "sentence_transformers",
            "transformers",
            "bm25s",
            "httpx",
            "urllib3",
            "openai",
        ):
            logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def _fail(message: str, code: int = 1) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def _say(message: str) -> None:
    click.echo(message, err=True)


def _stage_printer() -> Any:
    """on_stage for builds: one plain line per stage with the seconds since the build began, so a
    log shows where the time went (on a terminal the embedding stage also draws its bar)."""
    started = time.perf_counter()

    def on_stage(stage: str) -> None:
        _say(f"  {time.perf_counter() - started:5.1f} s  {stage} ...")

    return on_stage


def _run(fn: Any) -> Any:
    """Our own errors become one line on stderr and a non-zero exit, never a traceback."""
    try:
        return fn()
    except USAGE_ERRORS as exc:
        _fail(str(exc), 2)
    except AdvisorError as exc:
        _fail(str(exc))
    except KeyboardInterrupt:
        _fail("interrupted", 130)


def _settings(ctx: click.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--root",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder holding corpus/ and index/ (default: found from the working directory).",
)
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a setting for this run, e.g. --set retrieval.top_k=8 (repeatable; "
    "`advisor-bot settings` lists them).",
)
@click.option("-v", "--verbose", count=True, help="More logging (-vv for debug).")
@click.version_option(package_name="advisor-bot")
@click.pass_context
def main(ctx: click.Context, root: Path | None, sets: tuple[str, ...], verbose: int) -> None:
    """Cited answers to questions about getting into AI, from a corpus of essays."""
    import warnings

    from .settings import Settings, parse_assignments  # pydantic-settings: 0.2 s that `--help` does without

    _setup_logging(verbose)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # printed below, once, as plain lines
        ctx.obj = _run(lambda: Settings.load(root, overrides=parse_assignments(sets), overrides_from="--set"))
    for message in ctx.obj.deprecations:
        click.echo(f"warning: {message}", err=True)


@main.command()
@click.option("--rebuild", is_flag=True, help="Re-embed everything instead of reusing unchanged chunks.")
@click.option(
    "--status", "show_status", is_flag=True, help="Show what is built and what is out of date; build nothing."
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_context
def index(ctx: click.Context, rebuild: bool, show_status: bool, as_json: bool) -> None:
    """Build or update the index from corpus/ (only new or changed text is embedded)."""

    def go() -> None:
        from .advisor import Advisor

        advisor = Advisor(_settings(ctx))
        if show_status:
            status = advisor.status()
            _report_problems(advisor.problems)
            if as_json:
                click.echo(json.dumps(status.to_dict(), indent=2))
            else:
                _print_status(status)
            return
        if not as_json:
            _say(f"Indexing {advisor.settings.corpus_path} into {advisor.store.path} ...")
        report = advisor.build_index(
            rebuild=rebuild,
            progress=sys.stderr.isatty() and not as_json,
            on_stage=None if as_json else _stage_printer(),
        )
        _report_problems(report.problems)
        click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.summary())

    _run(go)


def _report_problems(problems: list[Any]) -> None:
    for p in problems:
        click.echo(f"skipped {p}", err=True)


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--title", default=None, help="Title of the essay (one file only); otherwise taken from the file.")
@click.option("--author", default=None, help="Author (one file only).")
@click.option("--url", "source_url", default=None, help="Link to the original (one file only).")
@click.option("--kind", default=None, help="blog, guide, answer, post, newsletter or essay.")
@click.option("--no-index", is_flag=True, help="Only copy into corpus/essays/; run `advisor-bot index` later.")
@click.pass_context
def add(
    ctx: click.Context,
    paths: tuple[Path, ...],
    title: str | None,
    author: str | None,
    source_url: str | None,
    kind: str | None,
    no_index: bool,
) -> None:
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
        advisor = Advisor(_settings(ctx))
        report = advisor.add_documents(
            paths, meta=meta, reindex=not no_index, progress=sys.stderr.isatty(), on_stage=_stage_printer()
        )
        for a in report.added:
            click.echo(f"added   {a.path} ({a.title})")
        for r in report.refused:
            click.echo(f"refused {Path(r.path).name}: {r.reason}", err=True)
        if report.build is not None:
            _report_problems(report.build.problems)
            click.echo(report.build.summary())
        elif report.added:
            click.echo("not indexed yet: run `advisor-bot index`")
        if not report.added:
            sys.exit(1)

    _run(go)


def _print_status(status: IndexStatus) -> None:
    from rich.console import Console
    from rich.table import Table

    if status.version is None:
        if status.error:
            click.echo(f"PROBLEM: {status.error}")
        else:
            click.echo(
                f"No index in {status.path} yet. Run `advisor-bot index` to build it "
                f"({len(status.added)} documents waiting)."
            )
        return
    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    rows = [
        ("index", status.path),
        ("version", status.version),
        ("built", f"{status.built_at} in {status.build_seconds}s"),
        ("model", status.model),
        ("type", status.index_type),
        ("documents", status.documents),
        ("chunks", status.chunks),
    ]
    if status.error:
        rows.append(("PROBLEM", status.error))
    rows += [
        (label, ", ".join(items))
        for label, items in (("new", status.added), ("changed", status.changed), ("deleted", status.deleted))
        if items
    ]
    if status.settings_changed:
        rows.append(("settings changed", f"{', '.join(status.settings_changed)} (run `advisor-bot index`)"))
    for key, value in rows:
        table.add_row(f"{key}:", str(value))
    console = Console(soft_wrap=True, highlight=False)
    console.print(table)
    console.print("up to date" if status.up_to_date else "out of date: run `advisor-bot index`")


@main.command()
@click.argument("question", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print the whole Answer as JSON.")
@click.option(
    "--generator", "-g", default=None, help="Generator to write the answer (extractive, local, openai_compat, ...)."
)
@click.option("--k", type=click.IntRange(1, 50), default=None, help="Number of passages to retrieve.")
@click.option(
    "--history",
    type=click.File("r"),
    default=None,
    help='JSON file of earlier turns: [{"role": "user", "content": ...}, ...].',
)
@click.pass_context
def ask(
    ctx: click.Context, question: str | None, as_json: bool, generator: str | None, k: int | None, history: Any
) -> None:
    """Answer QUESTION with cited passages (reads standard input when QUESTION is -)."""
    if question == "-":
        question = decode_bytes(sys.stdin.buffer.read())  # invalid UTF-8 is replaced, not fatal
    if question is None:
        _fail(
            'give a question, e.g. advisor-bot ask "how do I prepare for an ML interview?" '
            "(or advisor-bot ask - to read it from standard input)",
            2,
        )

    def go() -> None:
        from .advisor import Advisor, validate_question
        from .generators import GeneratorRegistry

        settings = _settings(ctx)
        validate_question(question, settings.answer.max_question_chars)  # fail fast, before loading a model
        GeneratorRegistry(settings).generator_class(generator or settings.answer.generator)
        turns = _read_history(history)
        advisor = Advisor.load(settings, say=_say, progress=sys.stderr.isatty())
        stream = advisor.stream(question or "", turns, generator=generator, k=k)
        shown = ""
        for piece in stream:
            if not as_json and piece:
                click.echo(piece, nl=False)
                shown = piece
        answer = stream.answer
        assert answer is not None
        if as_json:
            click.echo(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        else:
            _print_sources(answer, line_open=not shown.endswith("\n"))

    _run(go)


def _print_sources(answer: Answer, *, line_open: bool = True) -> None:
    """Sources after the streamed answer, one blank line below it (`line_open`: the answer's
    last line has no line break yet)."""
    from .generators.wording import corrections_note, plain_section, plain_title

    if line_open:
        click.echo()
    if answer.query.corrected:
        click.echo(f"\nnote: {corrections_note(answer.query.corrected)}", err=True)
    if answer.notice:
        click.echo(f"\nnote: {answer.notice}", err=True)
    if answer.citations:
        click.echo("\nSources:")
        wheres = [
            plain_title(c.title) + (f" > {plain_section(c.section)}" if c.section else "") for c in answer.citations
        ]
        for c, where in zip(answer.citations, wheres, strict=True):
            if wheres.count(where) > 1:  # two passages of one essay without sections: say which is which
                first = (c.quotes[0].text if c.quotes else c.passage.text).split()
                where += " (“" + " ".join(first[:8]) + ("…”)" if len(first) > 8 else "”)")
            click.echo(f"  [{c.n}] {where}" + (f"\n      {c.url}" if c.url else ""))


def _read_history(fh: Any) -> list[Message]:
    if fh is None:
        return []
    try:
        data = json.load(fh)
    except ValueError as exc:
        _fail(f'--history is not valid JSON ({exc}); give a list of {{"role", "content"}} objects', 2)
    if not isinstance(data, list):
        _fail('--history must be a JSON list of {"role", "content"} objects', 2)
    return data


@main.command(name="eval")
@click.option(
    "--questions",
    "questions_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="JSONL question set in the shared eval format (e.g. ../shared/eval/dev.jsonl).",
)
@click.option("--k", type=click.IntRange(1, 50), default=5, show_default=True, help="Passages per question.")
@click.option("--generator", "-g", default=None, help="Generator to evaluate (default: the configured one).")
@click.option(
    "--json",
    "json_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write per-question results and the summary to this JSON file.",
)
@click.pass_context
def evaluate_cmd(
    ctx: click.Context, questions_path: Path, k: int, generator: str | None, json_out: Path | None
) -> None:
    """Score the Advisor on a question set: retrieval, whole statements, citations, refusals, latency."""

    def go() -> None:
        from .advisor import Advisor
        from .evaluation import evaluate, load_questions, print_report
        from .generators import GeneratorRegistry

        settings = _settings(ctx)
        name = generator or settings.answer.generator
        GeneratorRegistry(settings).generator_class(name)
        try:
            questions = load_questions(questions_path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise AdvisorError(
                f"Cannot read questions from {questions_path}: {exc}. "
                "Give a JSONL file with id, question, type and gold per line."
            ) from exc
        advisor = Advisor.load(settings, say=_say, progress=sys.stderr.isatty())
        show = sys.stderr.isatty()

        def progress(i: int, n: int) -> None:
            if show:
                click.echo(f"\r{i}/{n} questions", nl=i == n, err=True)

        report = evaluate(
            lambda q: advisor.ask(q.question, list(q.history), generator=name, k=k),
            questions,
            k=k,
            generator=name,
            progress=progress,
        )
        click.echo(
            f"{len(questions)} questions from {questions_path}, k={k}, generator={name}, "
            f"index {advisor.index.version} ({len(advisor.index)} chunks)"
        )
        print_report(report)
        if json_out:
            json_out.write_text(json.dumps(report.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8")
            _say(f"wrote {json_out}")

    _run(go)


@main.command()
@click.option("--host", default=None, help="Interface to bind (default 127.0.0.1, this machine only).")
@click.option("--port", type=int, default=None, help="Port (default 7860).")
@click.option(
    "--no-auth",
    is_flag=True,
    help="Serve beyond this machine without a login or API key (otherwise ADVISOR_BOT_USERNAME/PASSWORD "
    "and ADVISOR_BOT_API_KEY are required).",
)
@click.pass_context
def serve(ctx: click.Context, host: str | None, port: int | None, no_auth: bool) -> None:
    """Serve the chat UI at /, the OpenAI-compatible API at /v1 and MCP at /mcp."""

    def go() -> None:
        from .server.app import serve as serve_app

        settings = _settings(ctx).with_overrides(
            **({"ui.host": host} if host else {}), **({"ui.port": port} if port else {})
        )
        serve_app(settings, no_auth=no_auth)

    _run(go)


@main.command(name="mcp")
@click.pass_context
def mcp_cmd(ctx: click.Context) -> None:
    """Speak MCP over stdio: tools ask_advisor and search_advice, the essays as resources.

    For an MCP client's config: {"command": "advisor-bot", "args": ["mcp"]} (with the venv's
    advisor-bot, or ADVISOR_BOT_ROOT set to the project folder)."""

    def go() -> None:
        from .advisor import Advisor
        from .server.mcp_server import run_stdio

        advisor = Advisor.load(_settings(ctx), say=_say)  # messages go to stderr: stdout is the protocol
        run_stdio(advisor)

    _run(go)


@main.command(name="settings")
@click.option("--json", "as_json", is_flag=True, help="Print the effective settings as JSON.")
@click.pass_context
def settings_cmd(ctx: click.Context, as_json: bool) -> None:
    """Show every setting: its effective value and where it came from."""

    def go() -> None:
        from .generators import GeneratorRegistry

        settings = _settings(ctx)
        rows = list(settings.explain(GeneratorRegistry(settings).options_classes()))
        if as_json:
            click.echo(json.dumps({key: {"value": value, "from": origin} for key, value, origin in rows}, indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"advisor-bot settings (root {settings.root})", title_justify="left")
        # a key is what the user types back (--set, TOML, env): never cut; long values fold
        table.add_column("setting", no_wrap=True, min_width=max((len(key) for key, _, _ in rows), default=7))
        table.add_column("value", overflow="fold")
        table.add_column("from", overflow="fold")
        for key, value, origin in rows:
            table.add_row(
                key,
                json.dumps(value) if not isinstance(value, str) else value,
                origin if origin == "default" else f"[bold]{origin}[/bold]",
            )
        Console(soft_wrap=True).print(table)

    _run(go)


if __name__ == "__main__":  # pragma: no cover
    main()
