"""Scoring answers on a question set, by the rules of the shared eval README.

- text is normalised (NFKC, lowercase, markdown markers and link targets dropped, white space
  collapsed) before any comparison;
- a passage *covers* a gold quote when at least half of the quote's word 3-grams occur in it;
- Recall@k, Hit@k and MRR@10 are taken over answerable questions (those with gold quotes);
- a must_mention phrase is *mentioned* when most (more than half) of its content words, stop
  words dropped and stemmed, occur in the answer;
- citation precision is the share of an answer's citations whose passage covers a gold quote;
  a dangling citation is an [n] in the text with no returned citation n;
- unanswerable questions must be refused; answerable ones must not (false refusals).
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from .citations import markers

ANSWERABLE_TYPES = ("factoid", "advice", "list", "multi_doc", "follow_up")

_LINK_TARGET = re.compile(r"\]\([^)]*\)")
_MARKDOWN = re.compile(r"[*_#>`]")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_STOP = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "can", "do", "does", "for", "from", "has", "have", "how", "i", "if", "in", "into", "is", "it", "its", "not", "of", "on", "or", "so", "than", "that", "the", "their", "then", "there", "these", "they", "this", "to", "up", "was", "we", "what", "when", "where", "which", "who", "why", "will", "with", "you", "your", "me", "my", "our", "he", "his", "she", "her", "them"]
)


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    type: str
    gold: tuple[str, ...] = ()
    must_mention: tuple[str, ...] = ()
    history: tuple[dict[str, str], ...] = ()
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
                out.append(Question(
                    id=str(d["id"]),
                    question=str(d["question"]),
                    type=str(d.get("type", "")),
                    gold=tuple(g["quote"] for g in d.get("gold", [])),
                    must_mention=tuple(d.get("must_mention", [])),
                    history=tuple(d.get("history", [])),
                    difficulty=str(d.get("difficulty", "")),
                    expected_behavior=str(d.get("expected_behavior", "")),
                ))
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
    return [tuple(words[i:i + 3]) for i in range(len(words) - 2)]


@lru_cache(maxsize=8192)
def _trigram_set(text: str) -> frozenset[tuple[str, ...]]:
    words = normalize(text).split(" ")
    grams = {tuple(words[i:i + 3]) for i in range(max(len(words) - 2, 0))}
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


@lru_cache(maxsize=1)
def _stemmer():  # PyStemmer ships with bm25s' dependencies
    import Stemmer

    return Stemmer.Stemmer("english")


def content_words(text: str) -> list[str]:
    words = [w for w in _WORD.findall(normalize(text)) if w not in _STOP]
    return _stemmer().stemWords(words)


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


@dataclass
class QuestionResult:
    id: str
    type: str
    answerable: bool
    refused: bool
    recall: float | None = None
    hit: float | None = None
    rr: float | None = None
    mention: float | None = None
    citations: int = 0
    precise_citations: int = 0
    dangling: int = 0
    seconds: float = 0.0
    notice: str | None = None
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
        return {"summary": self.summary(), "by_type": self.by_type(),
                "questions": [r.__dict__ for r in self.results]}


def _mean(values: Iterable[float | None]) -> float | None:
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def _percentile(values: Sequence[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    idx = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[idx]


def summarize(results: Sequence[QuestionResult], k: int) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if r.type == "unanswerable"]
    cited = sum(r.citations for r in answerable)
    seconds = [r.seconds for r in results]
    return {
        "questions": len(results),
        f"recall@{k}": _mean(r.recall for r in answerable),
        f"hit@{k}": _mean(r.hit for r in answerable),
        "mrr@10": _mean(r.rr for r in answerable),
        "mention_coverage": _mean(r.mention for r in answerable),
        "citation_precision": (sum(r.precise_citations for r in answerable) / cited) if cited else None,
        "dangling_citations": sum(r.dangling for r in results),
        "refusal_accuracy": _mean(float(r.refused) for r in unanswerable),
        "false_refusals": _mean(float(r.refused) for r in answerable),
        "latency_p50": statistics.median(seconds) if seconds else None,
        "latency_p95": _percentile(seconds, 0.95),
    }


def evaluate(ask: Callable[[Question], Any], questions: Sequence[Question], *, k: int = 5,
             generator: str = "", progress: Callable[[int, int], None] | None = None) -> Report:
    """Run `ask` (Question -> Answer) on every question and score what comes back."""
    report = Report(k=k, generator=generator)
    for i, q in enumerate(questions, start=1):
        t0 = time.perf_counter()
        answer = ask(q)
        seconds = time.perf_counter() - t0
        texts = [p.text for p in answer.passages]
        result = QuestionResult(id=q.id, type=q.type, answerable=q.answerable, refused=bool(answer.refused),
                                seconds=seconds, notice=answer.notice, answer=answer.text)
        result.dangling = dangling(answer.text, (c.n for c in answer.citations))
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


def format_table(report: Report) -> str:
    """The summary and the per-type breakdown as a fixed-width table."""
    k = report.k
    cols = ["questions", f"recall@{k}", f"hit@{k}", "mrr@10", "mention_coverage", "citation_precision",
            "dangling_citations", "refusal_accuracy", "false_refusals", "latency_p50", "latency_p95"]
    heads = ["type", "n", f"R@{k}", f"Hit@{k}", "MRR@10", "mention", "cite-prec", "dangling", "refused-unans",
             "false-refusal", "p50 s", "p95 s"]
    rows = [["all", *[report.summary()[c] for c in cols]]]
    rows += [[t, *[s[c] for c in cols]] for t, s in report.by_type().items()]

    def fmt(v: Any) -> str:
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:.3f}"
        return str(v)

    table = [heads] + [[fmt(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(heads))]
    lines = ["  ".join(cell.rjust(widths[i]) if i else cell.ljust(widths[i]) for i, cell in enumerate(r)) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
