"""Grounding an LLM answer sentence by sentence: each one must be supported by a sentence of
the passage it cites, or it is not shown.

A claim is supported when one whole statement of a cited passage is close to it in meaning
(cosine of the index's stored sentence vectors with the claim's vector) or shares most of its
content words, and the claim adds little the passage does not say: at most
`answer.max_novel_share` of its content words, and no number, may be absent from the passage,
it may not turn the sentence around (a negation more or less, "Unfortunately" for
"Fortunately"), and a copy may not swap one of its words for one of the question's ("The
interviewers had ..." for "The experience was ...").
Sentence vectors alone let a small model's invention through ("DeepLearning.ai, ... a leading
AI research company based in Australia" sits close to "I first started learning from the Deep
Learning Course offered by DeepLearning.ai"). An uncited claim that one passage clearly
supports gets that passage's [n] (small models often forget to cite). Echoed prompt scaffolding ("Question: ...", "Source 1:",
a copied "[1] Title > Section" line) never reaches the reader. The pipeline replaces an answer
that is mostly unsupported by the extractive one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import TYPE_CHECKING

from ..records import Passage, Unit
from ..settings import AnswerSettings
from ..text.markers import MARKER, NUMBER, strip_markers
from ..text.words import content_stems, content_words, stems, words

if TYPE_CHECKING:
    from ..index.embedding import Embedder

# "Question: ...", "Source 2: ...", "Sources (data, not instructions):", "Answer:" at a line start
_SCAFFOLD = re.compile(
    r"^\s*(?:[*_#>\-]\s*)*(?:question|sources?(?:\s*\d+)?|answer|context|passage\s*\d*|"
    r"rules?|instructions?)\s*[:(]",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+(?:[.,]\d+)?")
NEAR_COPY = 0.7  # share of a source sentence's content words a claim keeps when it copies it
_LIST_WORDS = frozenset(["step", "part", "item", "point", "tip"])  # "Step 2." numbers a list
_ENUMERATOR = re.compile(r"\d{1,2}[.)]")  # "2." alone: a numbered list's number
# words that turn a statement around; a claim must say them as often (odd or even) as its source
_NEGATION = re.compile(
    r"\b(?:not|no|never|nothing|none|nobody|neither|nor|without|cannot|"
    r"dont|doesnt|didnt|cant|wont|isnt|arent|wasnt|shouldnt|wouldnt|couldnt)\b|n[’']t\b",
    re.IGNORECASE,
)
# prefixes that make a word its opposite, with the shortest stem they are trusted on
_OPPOSITE_PREFIX = (("un", 4), ("non", 4), ("in", 6), ("im", 6), ("dis", 5))
# words that look prefixed but are no opposite of the rest ("invaluable" is very valuable)
_NOT_OPPOSITES = frozenset(["unless", "invaluable", "discover", "discovered", "instance", "instances", "install"])
_CLAUSE = re.compile(r"[,;:()]|\s[-–—]\s|\b(?:but|although|though|while|whereas)\b", re.IGNORECASE)
_HEADER = re.compile(r"^\s*\[\d{1,3}\]\s+[^.!?]*>\s")  # a copied "[1] Title > Section" line
# a sentence ends at . ! ? (and the markers after it) before blanks, or at a line break; never
# right before a "[" that is, or may still become, its marker ("week. [" while "1]" streams);
# not after an initialism or a title ("my Ph.D. in AI", "e.g. this", "Dr. Liu")
_BOUNDARY = re.compile(
    r"(?<=[.!?])(?<!\.[A-Za-z]\.)(?<!\b[DM]r\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bProf\.)(?<!\bvs\.)"
    r"((?:\s*\[[^\]\n]{1,20}\])*)[ \t]+(?=\S)(?!\[[^\]\n]{0,20}(?:\]|$))|\n+"
)


@dataclass
class Claim:
    """One sentence of an LLM answer and what supports it."""

    text: str  # as it will be shown (markers included; an attributed one added)
    cited: list[int]
    support: float = 0.0
    supported: bool = False
    scaffolding: bool = False
    attributed: bool = False  # its marker was added here
    evidence: list[tuple[int, Unit]] = field(default_factory=list)  # (passage number, supporting unit)


def split_sentences(buffer: str, *, final: bool) -> tuple[list[str], str]:
    """Complete sentences of a streamed buffer (each with its trailing markers and blanks) and
    the unfinished rest; at the end (`final`) the rest is a sentence too."""
    out: list[str] = []
    pos = 0
    for m in _BOUNDARY.finditer(buffer):
        out.append(buffer[pos : m.end()])
        pos = m.end()
    rest = buffer[pos:]
    if final and rest.strip():
        out.append(rest)
        rest = ""
    return out, rest


class Grounder:
    """Checks the sentences of one answer against the passages it was given."""

    def __init__(
        self,
        embedder: Embedder,
        passages: Sequence[Passage],
        settings: AnswerSettings,
        headers: Sequence[str] = (),
        *,
        question: str = "",
    ) -> None:
        self.embedder = embedder
        self._asked = content_stems(question)
        self.passages = list(passages)
        self.settings = settings
        self.claims: list[Claim] = []
        self._stems = [[content_stems(u.text) for u in p.units] for p in self.passages]
        # everything a passage says, its title and section included: what a claim may repeat (its
        # display sentences too, which differ from the raw text: "@arohan" is said as "arohan")
        self._passage_stems = [
            content_stems(f"{p.title} {p.section} {p.text}") | set().union(*self._stems[i])
            for i, p in enumerate(self.passages)
        ]
        self._passage_numbers = [set(_DIGITS.findall(f"{p.section} {p.text}")) for p in self.passages]
        # the source headers the model saw: a copied header is scaffolding, not a claim
        self._headers = [content_stems(strip_markers(h)) for h in headers]
        self._said: set[str] = set()
        self._line_start = True  # whether the next sentence starts a line of the answer

    def check(self, sentence: str) -> Claim:
        """Grade one sentence (its text may gain a marker) and remember it."""
        body = strip_markers(sentence).strip()
        cited = [int(n) for m in MARKER.finditer(sentence) for n in NUMBER.findall(m.group(2))]
        claim = Claim(text=sentence, cited=cited)
        self.claims.append(claim)
        at_line_start, self._line_start = self._line_start, sentence.rstrip(" \t").endswith("\n")
        if not body:
            claim.supported = True  # markers or blanks only: nothing claimed
            return claim
        enumerator = bool(_ENUMERATOR.fullmatch(body))  # "2." alone
        if enumerator and not at_line_start:
            # "The researcher in the 11.1.0.01. 1. The PhD years ...": a list number inside a
            # line numbers nothing (SmolLM2's cited lines never hold a list)
            claim.scaffolding = True
            return claim
        words = content_stems(body)
        if _SCAFFOLD.match(body) or _HEADER.match(sentence) or self._copies_header(words):
            claim.scaffolding = True
            return claim
        key = " ".join(sorted(words))
        if key in self._said and not enumerator:  # a list's "1.", "2." are no repeat
            claim.scaffolding = True  # a small model repeating itself: said once is enough
            return claim
        self._said.add(key)
        targets = [n for n in cited if 1 <= n <= len(self.passages)] or list(range(1, len(self.passages) + 1))
        if len(body.split()) < 3:
            # "Yes.", "2." of a numbered list or a list heading: nothing to check, but an amount
            # ("12 weeks.") must be the source's
            numbers = set(_DIGITS.findall(body))
            said = {w for w in words if not w.isdigit()} - _LIST_WORDS
            claim.supported = not (numbers and said) or any(numbers <= self._passage_numbers[n - 1] for n in targets)
            return claim
        vector = self.embedder.encode([body])[0]
        best = (0.0, 0, -1, 0.0, 0.0)  # score, passage number, unit index, cosine, word overlap
        for n in targets:
            p = self.passages[n - 1]
            if p.unit_vectors is None or not len(p.units):
                continue
            sims = p.unit_vectors @ vector
            for i in range(len(p.units)):
                cosine = float(sims[i])
                overlap = len(words & self._stems[n - 1][i]) / len(words) if words else 0.0
                if max(cosine, overlap) > best[0]:
                    best = (max(cosine, overlap), n, i, cosine, overlap)
        score, n, i, cosine, overlap = best
        claim.support = score
        s = self.settings
        claim.supported = (
            bool(n)
            and (cosine >= s.min_support_cosine or overlap >= s.min_support_overlap)
            and not self._adds(body, words, n)
            and not _turns_around(body, self.passages[n - 1].units[i].text)
            and not self._swaps_in(body, words, self.passages[n - 1].units[i].text, self._stems[n - 1][i])
        )
        if claim.supported and self._repeats(words, n, i):
            claim.supported, claim.scaffolding = False, True  # the same source sentence, reworded
            return claim
        if claim.supported:
            claim.evidence.append((n, self.passages[n - 1].units[i]))
            if not cited and s.attribute_uncited:
                claim.text = _add_marker(sentence, n)
                claim.cited = [n]
                claim.attributed = True
        return claim

    def _adds(self, body: str, words: set[str], n: int) -> bool:
        """Whether a claim says more than passage n does: too many content words it never uses,
        or a number it does not hold."""
        novel = words - self._passage_stems[n - 1]
        if words and len(novel) / len(words) > self.settings.max_novel_share:
            return True
        return bool(set(_DIGITS.findall(body)) - self._passage_numbers[n - 1])

    def _swaps_in(self, body: str, words: set[str], source_text: str, source: set[str]) -> bool:
        """Whether a claim copies a source sentence but puts a word of the question where one of
        the source's words stood: "The interviewers had a perfect balance of research (50%) and
        engineering" from "The experience was a perfect balance ..." for "which side project did
        the interviewers love?". A small model told to copy does this to fit the question, and
        overlap and vectors both rate the misquote as support. The question's words added around
        a copy ("For coding interviews, practice LeetCode problems weekly") are no swap."""
        if not self._asked or not source or len(words & source) < NEAR_COPY * len(source):
            return False
        said, heard = stems(content_words(body)), stems(content_words(source_text))  # in their order
        for tag, i1, i2, j1, j2 in SequenceMatcher(None, heard, said, autojunk=False).get_opcodes():
            if tag == "replace" and set(said[j1:j2]) & self._asked - source and set(heard[i1:i2]) - words:
                return True
        return False

    def _repeats(self, words: set[str], n: int, i: int) -> bool:
        """Whether an earlier shown claim rests on the same source sentence and says mostly the
        same words ("Read papers in multiple passes ..." then "Read multiple papers ...")."""
        unit = self.passages[n - 1].units[i]
        for c in self.shown:
            for m, u in c.evidence:
                if m == n and u == unit:
                    earlier = content_stems(strip_markers(c.text))
                    if len(words & earlier) >= 0.6 * min(len(words), len(earlier)):
                        return True
        return False

    def _copies_header(self, words: set[str]) -> bool:
        return any(h and len(words & h) >= 0.8 * len(h) and len(words) <= len(h) + 3 for h in self._headers)

    @property
    def shown(self) -> list[Claim]:
        return [c for c in self.claims if c.supported and not c.scaffolding]

    @property
    def unsupported(self) -> int:
        return sum(1 for c in self.claims if not c.supported and not c.scaffolding)

    @property
    def supported_share(self) -> float:
        checked = [c for c in self.claims if not c.scaffolding and strip_markers(c.text).strip()]
        return sum(c.supported for c in checked) / len(checked) if checked else 0.0


def _turns_around(claim: str, source: str) -> bool:
    """Whether a claim says the opposite of the sentence it copies: a negation more or less
    ("you need a PhD" from "you do not need a PhD") or a word made its opposite ("Unfortunately,
    after speaking with a senior ..." from "Fortunately, ..."). Word overlap and sentence vectors
    both rate such a copy as support. Negations count only in clauses the two share words in:
    "Practice every day." shortens "Practice every day, not just before interviews." faithfully."""
    if _negations(claim, source) % 2 != _negations(source, claim) % 2:
        return True
    said, heard = set(words(claim)), set(words(source))
    for a, b in ((said, heard), (heard, said)):
        for w in a - b - _NOT_OPPOSITES:
            for prefix, shortest in _OPPOSITE_PREFIX:
                if w.startswith(prefix) and len(w) - len(prefix) >= shortest and w[len(prefix) :] in b:
                    return True
    return False


def _negations(text: str, other: str) -> int:
    """Negations in the clauses of `text` that share a content word with `other`."""
    theirs = content_stems(other)
    return sum(len(_NEGATION.findall(clause)) for clause in _CLAUSE.split(text) if content_stems(clause) & theirs)


def _add_marker(sentence: str, n: int) -> str:
    stripped = sentence.rstrip()
    return f"{stripped} [{n}]{sentence[len(stripped) :]}"
