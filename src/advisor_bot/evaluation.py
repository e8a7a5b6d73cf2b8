"""Scoring answers on a question set, by the rules of the shared eval README.

- text is normalised (NFKC, lowercase, markdown markers and link targets dropped, white space
  collapsed) before any comparison;
- a passage *covers* a gold quote when at least half of the quote's word 3-grams occur in it;
- Recall@k, Hit@k and MRR@10 are taken over answerable questions (those with gold quotes);
- a must_mention phrase is *mentioned* when most (more than half) of its content words, stop
  words dropped and stemmed, occur in the answer;
- citation precision is the share of an answer's citations whose passage covers a gold quote;
  a dangling citation is an [n] in the text with no returned citation n;
- *whole statements*: of the answer lines carrying an [n] (markers, bullets and emphasis
  removed), the share that read as a complete statement; refused answers are left out;
- unanswerable questions must be refused; answerable ones must not (a partly covered answer
  counts as answered).
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .records import Answer, Message
from .text.markers import MARKER, markers, strip_markers
from .text.sentences import is_whole_statement
from .text.words import stems, stopwords

ANSWERABLE_TYPES = ("factoid", "advice", "list", "multi_doc", "follow_up")

_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_MARKDOWN = re.compile(r"[*_#>`]")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d{1,3}[.)])\s+")
_EMPHASIS = re.compile(r"[*_`]")


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    gold: tuple[str, ...] = ()
    must_mention: tuple[str, ...] = ()
    history: tuple[Message, ...] = ()
    difficulty: str = ""
    expected_behavior: str = ""

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def load_questions(path: Path | str) -> list[Question]:
    """Questions from a JSONL file in the shared eval format."""
    out: list[Question] = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                out.append(
                    Question(
                        id=str(d["id"]),
                        question=str(d["question"]),
                        type=str(d.get("type", "")),
                        gold=tuple(g["quote"] for g in d.get("gold", [])),
                        must_mention=tuple(d.get("must_mention", [])),
                        history=tuple(d.get("history", [])),
                        difficulty=str(d.get("difficulty", "")),
                        expected_behavior=str(d.get("expected_behavior", "")),
                    )
                )
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{line_no}: not a question record ({exc})") from exc
    return out


def normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _LINK_TARGET.sub("]", text)
    text = _MARKDOWN.sub("", text)
    return _SPACE.sub(" ", text).strip()


def _trigrams(text: str) -> list[tuple[str, ...]]:
    words = normalize(text).split(" ")
    if len(words) < 3:
        return [tuple(words)] if words and words[0] else []
    return [tuple(words[i : i + 3]) for i in range(len(words) - 2)]


@lru_cache(maxsize=8192)
def _trigram_set(text: str) -> frozenset[tuple[str, ...]]:
    words = normalize(text).split(" ")
    grams = {tuple(words[i : i + 3]) for i in range(max(len(words) - 2, 0))}
    return frozenset(grams | ({tuple(words)} if len(words) < 3 else set()))


def covers(passage: str, quote: str) -> bool:
    """At least half of the quote's word 3-grams occur in the passage."""
    grams = _trigrams(quote)
    if not grams:
        return False
    have = _trigram_set(passage)
    if len(grams[0]) < 3:  # a quote of one or two words: plain containment
        return " ".join(grams[0]) in normalize(passage)
    return sum(g in have for g in grams) * 2 >= len(grams)


def retrieval_scores(passages: Sequence[str], gold: Sequence[str], k: int) -> dict[str, float]:
    """recall@k, hit@k and rr@10 of one ranked passage list against gold quotes."""
    top = passages[:k]
    covered = [any(covers(p, q) for p in top) for q in gold]
    rr = 0.0
    for rank, p in enumerate(passages[:10], start=1):
        if any(covers(p, q) for q in gold):
            rr = 1.0 / rank
            break
    return {"recall": sum(covered) / len(gold), "hit": float(any(covered)), "rr": rr}


def content_words(text: str) -> list[str]:
    """Content words of a text as the mention rule counts them: stop words dropped, stemmed."""
    stop = stopwords()
    return stems([w for w in _WORD.findall(normalize(text)) if w not in stop])


def mentioned(answer: str, phrase: str) -> bool:
    """Most (more than half) of the phrase's content words, stemmed, appear in the answer."""
    wanted = content_words(phrase)
    if not wanted:
        return True
    have = set(content_words(answer))
    return sum(w in have for w in wanted) * 2 > len(wanted)


def mention_coverage(answer: str, phrases: Sequence[str]) -> float | None:
    """Share of phrases mentioned; None when there is nothing to mention (left out of means)."""
    return sum(mentioned(answer, p) for p in phrases) / len(phrases) if phrases else None


def dangling(text: str, citation_numbers: Iterable[int]) -> int:
    """[n] markers in the text that name no returned citation."""
    have = set(citation_numbers)
    return sum(1 for n in markers(text) if n not in have)


def statement_lines(text: str) -> tuple[int, int, list[str]]:
    """(lines carrying [n], of those the whole statements, the others) by the README's rule."""
    cited = clean = 0
    broken: list[str] = []
    for line in text.splitlines():
        if not MARKER.search(line):
            continue
        cited += 1
        body = _EMPHASIS.sub("", _BULLET.sub("", strip_markers(line))).strip()
        if is_whole_statement(body):
            clean += 1
        else:
            broken.append(body)
    return cited, clean, broken


@dataclass
class QuestionResult:
    id: str
    type: str
    answerable: bool
    refused: bool
    outcome: str = ""
    recall: float | None = None
    hit: float | None = None
    rr: float | None = None
    mention: float | None = None
    citations: int = 0
    precise_citations: int = 0
    dangling: int = 0
    cited_lines: int = 0
    clean_lines: int = 0
    broken_lines: list[str] = field(default_factory=list)
    seconds: float = 0.0
    notice: str | None = None
    question: str = ""
    query: str = ""
    answer: str = ""


@dataclass
class Report:
    k: int
    generator: str
    results: list[QuestionResult] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return summarize(self.results, self.k) | {"generator": self.generator}

    def by_type(self) -> dict[str, dict[str, Any]]:
        groups: dict[str, list[QuestionResult]] = defaultdict(list)
        for r in self.results:
            groups[r.type].append(r)
        return {t: summarize(rs, self.k) for t, rs in sorted(groups.items())}

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary(), "by_type": self.by_type(), "questions": [asdict(r) for r in self.results]}


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def summarize(results: Sequence[QuestionResult], k: int) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if r.type == "unanswerable"]
    cited = sum(r.citations for r in answerable)
    shown = [r for r in results if not r.refused]
    lines = sum(r.cited_lines for r in shown)
    seconds = [r.seconds for r in results]
    return {
        "questions": len(results),
        f"recall@{k}": _mean(r.recall for r in answerable),
        f"hit@{k}": _mean(r.hit for r in answerable),
        "mrr@10": _mean(r.rr for r in answerable),
        "whole_statements": sum(r.clean_lines for r in shown) / lines if lines else None,
        "mention_coverage": _mean(r.mention for r in answerable),
        "citation_precision": (sum(r.precise_citations for r in answerable) / cited) if cited else None,
        "dangling_citations": sum(r.dangling for r in results),
        "refusal_accuracy": _mean(float(r.refused) for r in unanswerable),
        "false_refusals": _mean(float(r.refused) for r in answerable),
        "outcomes": dict(Counter(r.outcome for r in results)),
        "latency_p50": statistics.median(seconds) if seconds else None,
        "latency_p95": float(statistics.quantiles(seconds, n=20, method="inclusive")[-1])
        if len(seconds) > 1
        else (seconds[0] if seconds else None),
    }


def evaluate(
    ask: Callable[[Question], Answer],
    questions: Sequence[Question],
    *,
    k: int = 5,
    generator: str = "",
    progress: Callable[[int, int], None] | None = None,
) -> Report:
    """Run `ask` (Question -> Answer) on every question and score what comes back."""
    report = Report(k=k, generator=generator)
    for i, q in enumerate(questions, start=1):
        t0 = time.perf_counter()
        answer = ask(q)
        seconds = time.perf_counter() - t0
        texts = [p.text for p in answer.passages]
        result = QuestionResult(
            id=q.id,
            type=q.type,
            answerable=q.answerable,
            refused=answer.refused,
            outcome=answer.outcome.value,
            seconds=seconds,
            notice=answer.notice,
            question=q.question,
            query=answer.query.text,
            answer=answer.text,
        )
        result.dangling = dangling(answer.text, (c.n for c in answer.citations))
        if not answer.refused:
            result.cited_lines, result.clean_lines, result.broken_lines = statement_lines(answer.text)
        if q.answerable:
            scores = retrieval_scores(texts, q.gold, k)
            result.recall, result.hit, result.rr = scores["recall"], scores["hit"], scores["rr"]
            result.mention = mention_coverage(answer.text, q.must_mention)
            result.citations = len(answer.citations)
            result.precise_citations = sum(any(covers(c.text, g) for g in q.gold) for c in answer.citations)
        report.results.append(result)
        if progress:
            progress(i, len(questions))
    return report


COLUMNS = [
    ("n", "questions"),
    ("R@{k}", "recall@{k}"),
    ("Hit@{k}", "hit@{k}"),
    ("MRR@10", "mrr@10"),
    ("whole", "whole_statements"),
    ("mention", "mention_coverage"),
    ("cite-prec", "citation_precision"),
    ("dangling", "dangling_citations"),
    ("refused-unans", "refusal_accuracy"),
    ("false-refusal", "false_refusals"),
    ("p50 s", "latency_p50"),
    ("p95 s", "latency_p95"),
]


def table_rows(report: Report) -> tuple[list[str], list[list[str]]]:
    """Headers and rows (all, then per type) of the summary table."""
    k = report.k
    heads = ["type"] + [h.format(k=k) for h, _ in COLUMNS]

    def fmt(v: Any) -> str:
        return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)

    rows = [["all"] + [fmt(report.summary()[c.format(k=k)]) for _, c in COLUMNS]]
    rows += [[t] + [fmt(s[c.format(k=k)]) for _, c in COLUMNS] for t, s in report.by_type().items()]
    return heads, rows


def print_report(report: Report) -> None:
    """The summary table, per question type, and the outcome counts, on the terminal."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    heads, rows = table_rows(report)
    table = Table(box=box.MARKDOWN, show_edge=True)
    for i, h in enumerate(heads):
        table.add_column(h, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    console = Console(soft_wrap=True, highlight=False, width=200)
    console.print(table)
    outcomes = report.summary()["outcomes"]
    console.print("outcomes: " + ", ".join(f"{k} {v}" for k, v in sorted(outcomes.items())))
