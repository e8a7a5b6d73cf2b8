"""Choose refusal_threshold and refusal_oov_penalty from a question set with unanswerable items.

    python bench/calibrate_refusal.py [../shared/eval/dev.jsonl] [--max-false 0.05] [--set KEY=VALUE ...]

For every question the Advisor's own path is run (condense -> retrieve with the chat
settings) and its relevance score computed for each candidate penalty. For each penalty the
threshold is the midpoint of the widest gap that refuses as many unanswerable questions as
possible while refusing at most --max-false of the answerable ones. The table shows what
each choice achieves; the recommended pair is printed last. Adversarial questions (no gold,
not unanswerable) are left out.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from advisor_bot import Advisor
from advisor_bot.condense import condense
from advisor_bot.evaluation import load_questions
from advisor_bot.relevance import best_sentence_score, unknown_share
from advisor_bot.settings import Settings, parse_assignments

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "eval" / "dev.jsonl"
PENALTIES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)


def best_threshold(scores: list[tuple[float, bool]], max_false: float) -> tuple[float, float, float, float]:
    """(threshold, refusal accuracy, false-refusal rate, gap): refuse when score < threshold;
    the gap between the refused and the kept scores is the safety margin."""
    answerable = sorted(s for s, a in scores if a)
    unanswerable = [s for s, a in scores if not a]
    allowed = int(max_false * len(answerable))  # how many answerable ones may fall below
    # the threshold may sit anywhere up to the (allowed+1)-th lowest answerable score
    ceiling = answerable[allowed] if allowed < len(answerable) else float("inf")
    below = sorted(s for s in unanswerable if s < ceiling)
    if not below:
        return (min(answerable) - 0.01 if answerable else 0.0), 0.0, 0.0, 0.0
    floor_ = max(below)
    threshold = (floor_ + ceiling) / 2 if ceiling != float("inf") else floor_ + 0.01
    refused = sum(s < threshold for s in unanswerable) / max(len(unanswerable), 1)
    false = sum(s < threshold for s in answerable) / max(len(answerable), 1)
    return threshold, refused, false, (ceiling - floor_ if ceiling != float("inf") else 0.0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("questions", nargs="?", type=Path, default=DEFAULT_QUESTIONS)
    parser.add_argument("--max-false", type=float, default=0.05)
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    bot = Advisor.load(Settings.load(ROOT, **parse_assignments(args.sets)))
    questions = [q for q in load_questions(args.questions) if q.answerable or q.type == "unanswerable"]
    rows = []
    for q in questions:
        query = condense(q.question, list(q.history))
        passages = bot.retriever.search(query, bot.settings.top_k, mmr=bot.settings.mmr)
        rows.append((best_sentence_score(passages), unknown_share(query, bot.index.bm25), q.answerable, q.question))
    n_ans = sum(r[2] for r in rows)
    print(f"{len(rows)} questions ({n_ans} answerable, {len(rows) - n_ans} unanswerable) from {args.questions}",
          file=sys.stderr)
    print(f"{'penalty':>7s} {'threshold':>9s} {'refused-unans':>13s} {'false-refusal':>13s} {'gap':>6s}")
    best = None
    for penalty in PENALTIES:
        scores = [(s - penalty * u, a) for s, u, a, _ in rows]
        threshold, refused, false, gap = best_threshold(scores, args.max_false)
        print(f"{penalty:7.1f} {threshold:9.3f} {refused:13.3f} {false:13.3f} {gap:6.3f}")
        if best is None or (refused, -false, gap) > (best[2], -best[3], best[4]):
            best = (penalty, threshold, refused, false, gap)
    assert best is not None
    print(f"\nrecommended: refusal_oov_penalty = {best[0]:.1f}, refusal_threshold = {best[1]:.3f} "
          f"(refuses {best[2]:.0%} of unanswerable, {best[3]:.0%} false refusals)")
    print("\nper question at the recommended values (lowest first):")
    for s, u, a, text in sorted(rows, key=lambda r: r[0] - best[0] * r[1]):
        score = s - best[0] * u
        print(f"  {'answerable  ' if a else 'UNANSWERABLE'} {score:6.3f} {'refuse' if score < best[1] else '      '} {text[:70]}")


if __name__ == "__main__":
    main()
