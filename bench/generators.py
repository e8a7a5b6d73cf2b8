"""A local LLM answering through the whole pipeline: time to first token, citations and grounding,
for both context modes.

    python bench/generators.py [--questions 10] [--set KEY=VALUE ...] [--context statements]

Runs the first N dev questions without history (answerable ones) through Advisor.ask with the
local generator (llama.cpp; generators.local.model_path or the packaged SmolLM2-135M), once
with the "statements" context (the selected sentences, generators.local.context_tokens) and once
with "passages" (whole chunks cut to 1024 tokens, the earlier default), after one warm-up each.

Per mode it prints, as medians or counts over the questions:
- prompt tokens, and time to first token (from asking the model to its first text; the
  system prompt is the same every time and stays in llama.cpp's prefix cache);
- cited: answers written by the model itself (no fallback) that cite at least one passage;
- supported: of all the sentences the model wrote (over all the questions), the share that a
  sentence of the passage they cite supports (answer/grounding.py: cosine >=
  answer.min_support_cosine or content-word overlap >= answer.min_support_overlap); only those
  are shown, so the shown sentences are supported by construction and this share says how much
  of the model's text survives;
- per answer: the same share averaged over the answers, each answer weighing the same (an
  answer of one unsupported sentence counts as much as one of six supported ones; an answer
  in which the model wrote no sentence counts as 0);
- fell back: answers replaced by the extractive one (model failure, no citation, or fewer
  than answer.min_supported_share of its sentences supported).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table

from advisor_bot import Advisor, Outcome, Query, Settings
from advisor_bot.evaluation import load_questions
from advisor_bot.generators.local import LocalGenerator
from advisor_bot.settings import parse_assignments

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"
PASSAGE_BUDGET = 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=10)
    parser.add_argument("--file", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--show", action="store_true", help="print every answer")
    parser.add_argument(
        "--context", choices=("statements", "passages"), action="append", help="only this context mode (repeatable)"
    )
    args = parser.parse_args()

    base = Settings.load(ROOT, **parse_assignments(args.sets))
    questions = [q for q in load_questions(args.file) if not q.history and q.answerable][: args.questions]
    console = Console(width=200, highlight=False)
    table = Table(box=box.MARKDOWN)
    for head in ("context", "prompt tok", "first token s", "total s", "cited", "supported", "per answer", "fell back"):
        table.add_column(head, justify="left" if head == "context" else "right")
    embedder = None
    modes = [(m, b) for m, b in (("statements", None), ("passages", PASSAGE_BUDGET)) if m in (args.context or [m])]
    for mode, budget in modes:
        overrides = {"generators.local.context": mode}
        if budget:
            overrides["generators.local.context_tokens"] = budget
        bot = Advisor.load(base.with_overrides(**overrides), embedder=embedder)
        embedder = bot.embedder
        gen = bot.generators.get("local")
        assert isinstance(gen, LocalGenerator)
        bot.ask("warm up: how do I read papers?", generator="local")
        rows = []
        for q in questions:
            answer = bot.ask(q.question, generator="local")
            query = bot.pipeline.make_query(Query(question=q.question), "local", {})
            retriever = bot.pipeline.searcher.retriever()
            evidence = bot.pipeline.evidence(retriever, query, bot.pipeline.retrieve(retriever, query, None, {}))
            tokens = sum(gen.count_tokens(m["content"]) for m in gen.messages(query, evidence))
            written = answer.supported_sentences + answer.unsupported_sentences
            rows.append(
                {
                    "tokens": tokens,
                    "first": answer.timings.get("first_token", float("nan")),
                    "total": answer.timings.get("total", float("nan")),
                    "cited": answer.generator == "local" and bool(answer.citations),
                    "supported": answer.supported_sentences / written if written else 0.0,
                    "sentences": (answer.supported_sentences, written),
                    "fell_back": answer.outcome is Outcome.FELL_BACK,
                }
            )
            if args.show:
                console.print(f"[bold]{q.question}[/bold] ({mode}, {answer.generator})\n{answer.text}\n")
        supported_all = sum(r["sentences"][0] for r in rows)
        written_all = sum(r["sentences"][1] for r in rows)
        table.add_row(
            mode,
            f"{statistics.median(r['tokens'] for r in rows):.0f}",
            f"{statistics.median(r['first'] for r in rows):.2f}",
            f"{statistics.median(r['total'] for r in rows):.2f}",
            f"{sum(r['cited'] for r in rows)}/{len(rows)}",
            f"{supported_all / written_all:.2f} ({supported_all}/{written_all})" if written_all else "-",
            f"{statistics.mean(r['supported'] for r in rows):.2f}",
            f"{sum(r['fell_back'] for r in rows)}/{len(rows)}",
        )
    console.print(f"model {gen.path.name}, threads {gen.options.threads or 'all'}, {len(questions)} dev questions")
    console.print(table)


if __name__ == "__main__":
    main()
