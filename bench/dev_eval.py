"""Score the Advisor on the shared dev question set and print a table.

    python bench/dev_eval.py [QUESTIONS.jsonl] [--k 5] [--generator extractive] [--json OUT]

Builds (or reuses) the index under index/ from corpus/, then asks every question through
Advisor.ask (the same path as the UI and CLI) and scores it by the rules of the eval README.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from advisor_bot import Advisor
from advisor_bot.evaluation import evaluate, format_table, load_questions

DEFAULT_QUESTIONS = Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", default=str(DEFAULT_QUESTIONS))
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument("--generator", default=None)
    parser.add_argument("--json", dest="json_out", default=None)
    args = parser.parse_args()

    t0 = time.perf_counter()
    bot = Advisor.load()
    print(f"index {bot.index.version}: {len(bot.index)} chunks (opened in {time.perf_counter() - t0:.1f}s)", file=sys.stderr)
    questions = load_questions(args.questions)
    report = evaluate(lambda q: bot.ask(q.question, list(q.history), generator=args.generator, k=args.k),
                      questions, k=args.k, generator=args.generator or bot.settings.generator)
    print(f"{len(questions)} questions from {args.questions}, k={args.k}, generator={report.generator}")
    print(format_table(report))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(report.to_dict(), indent=2))


if __name__ == "__main__":
    main()
