"""Time to first token and tokens/s of the local generator at the default context budget.

    python bench/generators.py [--questions 8] [--set KEY=VALUE ...]

Runs the first N dev questions through retrieval and the local generator (llama.cpp, the
model from settings or the packaged SmolLM2), after one warm-up, and prints per-question
prompt tokens, time to first token, output tokens and decode speed, then the medians.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from advisor_bot import Advisor
from advisor_bot.evaluation import load_questions
from advisor_bot.generators.local import LocalGenerator
from advisor_bot.prompts import build_messages
from advisor_bot.settings import Settings, parse_assignments

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=8)
    parser.add_argument("--file", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    bot = Advisor.load(Settings.load(ROOT, **parse_assignments(args.sets)))
    gen = LocalGenerator(bot.settings)
    questions = [q for q in load_questions(args.file) if not q.history][: args.questions]
    list(gen.generate("warm up", bot.retrieve("warm up", 1), []))
    rows = []
    for q in questions:
        passages = bot.retrieve(q.question, bot.settings.top_k)
        prompt = build_messages(q.question, passages, [], budget_tokens=bot.settings.local_context_tokens,
                                count_tokens=gen.count_tokens)
        prompt_tokens = sum(gen.count_tokens(m["content"]) for m in prompt)
        start = time.perf_counter()
        first = None
        text = ""
        for piece in gen.generate(q.question, passages, []):
            first = first if first is not None else time.perf_counter() - start
            text += piece
        total = time.perf_counter() - start
        out_tokens = gen.count_tokens(text)
        decode = out_tokens / (total - first) if first is not None and total > first else 0.0
        rows.append((prompt_tokens, first or total, out_tokens, decode))
        print(f"{prompt_tokens:6d} prompt tok  ttft {first or total:6.2f}s  {out_tokens:4d} out tok  {decode:6.1f} tok/s"
              f"  {q.question[:50]}")
    print(f"\nmodel {gen.path.name}, local_context_tokens={bot.settings.local_context_tokens}, "
          f"threads={bot.settings.local_threads or 'all'}, {len(rows)} questions")
    print(f"median: prompt {statistics.median(r[0] for r in rows):.0f} tokens, time to first token "
          f"{statistics.median(r[1] for r in rows):.2f} s, {statistics.median(r[3] for r in rows):.1f} tokens/s")


if __name__ == "__main__":
    main()
