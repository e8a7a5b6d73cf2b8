"""Markdown text -> sentence units: whole sentences of blocks, with their kind and offsets.

Blocks come from the markdown parser (wrapped lines joined, syntax removed); sentences from a
maintained segmenter: pysbd by default (the more accurate on the essays: it keeps "my Ph.D. I
had" whole and splits "etc. Always"), blingfire when speed matters (23x faster on the essay
corpus; `chunking.segmenter`). Runs of short list items become one unit, with the line that
introduces them. Each unit knows whether it is a whole statement, a question, a lead-in or a
fragment, and whether it leans on the sentence before it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence

from ..records import Unit, UnitKind
from .markdown import Block, parse_blocks

# Bump when units change: indexes record it, and a build re-embeds units whose bounds moved.
SPLITTER_VERSION = 14
SHORT_ITEM_WORDS = 8
SEGMENTERS = ("pysbd", "blingfire")

_CLOSERS = "\"'”’)]»"
_OPENERS = "\"'“‘([«"
# The rule of ../shared/eval/README.md for a whole statement.
_WHOLE = re.compile(rf"^[{re.escape(_OPENERS)}0-9A-Z].{{10,}}[.!…][{re.escape(_CLOSERS)}]*$", re.DOTALL)
_QUESTION = re.compile(rf"\?[{re.escape(_CLOSERS)}]*$")
_LEAD = re.compile(rf":[{re.escape(_CLOSERS)}*_]*$")
# Words by which a sentence leans on the one before it ("They often work at universities.").
_LEANING = frozenset(
    [
        "it",
        "it's",
        "its",
        "this",
        "that",
        "that's",
        "these",
        "those",
        "they",
        "they're",
        "their",
        "them",
        "he",
        "she",
        "his",
        "her",
        "such",
        "also",
        "but",
        "and",
        "so",
        "however",
        "therefore",
        "thus",
        "then",
        "which",
        "plus",
        "otherwise",
        "instead",
        "still",
        "yet",
        "hence",
        "besides",
        "moreover",
        "furthermore",
        "makes",
        "means",
        "sounds",
        "seems",
        "same",
        "both",
        "another",
        "again",
        "again,",
        "or",
        "nor",
    ]
)
_LEANING_PHRASES = (
    "for example",
    "for instance",
    "in other words",
    "on the other hand",
    "as a result",
    "because of this",
    "because of that",
    "despite this",
    "despite that",
    "despite all this",
    "despite all that",
    "in spite of this",
    "in spite of that",
    "after that",
    "after this",
    "apart from that",
    "other than that",
    "on top of that",
    "in addition",
    "in that case",
    "if so",
    "to do this",
    "to do that",
    "like this",
    "similarly",
    "likewise",
    "that said",
    "even so",
    "e.g.",
    "i.e.",
    "yes,",  # the answer to the essay's own question before it
    "yes.",
    "no,",
    "no.",
)


# Sentences addressed to a model, not to a reader ("ignore previous instructions and ..."): an
# essay carrying them is quoting or attacking, and they are never said as advice.
_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget)\s+(?:all\s+|any\s+|the\s+)?(?:previous|prior|above|earlier|your)\s+"
    r"(?:instructions|prompts?|rules|messages)\b|\bsystem prompt\b|\byou are now\b|\bnew instructions\b|"
    r"\b(?:reveal|print|repeat)\s+(?:your|the)\s+(?:system\s+)?(?:prompt|instructions)\b",
    re.IGNORECASE,
)


def classify(text: str) -> UnitKind:
    """Statement, question, lead-in or fragment, by how the sentence starts and ends."""
    t = text.strip()
    if _INSTRUCTION.search(t):
        return UnitKind.FRAGMENT
    if t[:1].islower():
        # a piece of a sentence (a lowercase bullet, a lazily continued list line), whatever its end
        return UnitKind.FRAGMENT
    if _QUESTION.search(t):
        return UnitKind.QUESTION
    if _LEAD.search(t):
        return UnitKind.LEAD
    if _WHOLE.match(t):
        return UnitKind.STATEMENT
    return UnitKind.FRAGMENT


def is_whole_statement(line: str) -> bool:
    """The eval README's test for one answer line (markers and emphasis already removed)."""
    return bool(_WHOLE.match(line.strip()))


# Doing what an earlier sentence said ("Once you do that, you'll find the lessons much easier"),
# not a condition the sentence states itself ("If you do this for a living, ...", "Doing this
# kind of research requires ..."): the phrase ends the clause (a comma) or the main clause follows.
_DOING_EARLIER = re.compile(
    r"^(?:(?:once|if|when|after)\s+you(?:'ve|\s+have|\s+had)?\s+(?:do|did|done)|(?:by|after)\s+doing|having\s+done)"
    r"\s+(?:this|that|so)(?:\s*[,;:]|\s+(?:you|you'll|you're|it|it's|your|the|we|i)\b)"
)


# A person named only before, after a short opening phrase: "To my surprise, he invited me for an
# interview." ("he" first is in _LEANING already). Not after a clause that names its own person
# ("When I met my advisor, he told me ...", "If you ask professors, they ...").
_PHRASE_THEN_PERSON = re.compile(
    r"^(?!(?:when|whenever|after|before|if|unless|because|since|as|while|once|although|though|until|where)\b)"
    r"(?:[^\s,;:.!?]+\s+){0,2}[^\s,;:.!?]+,\s+(?:he|she|they|him|her|them|his|their)\b"
)


# "both" standing alone for two things ("above average in both to do well", "good at both, and
# ..."), not "both math and coding" nor "both to read and to write". It stands for two things the
# sentence names itself when an "and" or "or" comes before it ("If you love math and coding, you
# will ... doing both!").
_BOTH_THEN_STOP = re.compile(r"\bboth\b(?=\s*(?:[.,;:!?)\-–—”’\"']|$))", re.IGNORECASE)
_BOTH_THEN_VERB = re.compile(r"\bboth\s+(?:to|are|is|were|will|can|of them)\b", re.IGNORECASE)
_PAIR = re.compile(r"\b(?:and|or)\b", re.IGNORECASE)


def _says_both_of_earlier(low: str) -> bool:
    """Whether a (lowercased) sentence says "both" of two things it does not name itself."""
    stop = _BOTH_THEN_STOP.search(low)
    verb = None if stop else _BOTH_THEN_VERB.search(low)
    if verb is not None and _PAIR.search(low, verb.end()):
        return False  # "both to read widely and to write often": the two follow
    found = stop or verb
    return found is not None and not _PAIR.search(low, 0, found.start())


def leans_back(text: str) -> bool:
    """Whether a sentence needs the one before it to make sense: it opens on a word or phrase
    that points back, or says "both" of two things only an earlier sentence names."""
    low = text.strip().lower().replace("’", "'")
    if any(low.startswith(phrase) and not low[len(phrase) : len(phrase) + 1].isalnum() for phrase in _LEANING_PHRASES):
        return True  # "if so, ..." but not "if someone asks, ..."
    if _DOING_EARLIER.match(low) or _PHRASE_THEN_PERSON.match(low):
        return True
    first = low.split(maxsplit=1)[0].strip(",;:.!?\"'“”‘’()") if low else ""
    if first in _LEANING:
        return True
    return _says_both_of_earlier(low)


@functools.cache
def _pysbd() -> Callable[[str], list[tuple[int, int]]]:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def spans(text: str) -> list[tuple[int, int]]:
        return [(s.start, s.end) for s in segmenter.segment(text)]

    return spans


@functools.cache
def _blingfire() -> Callable[[str], list[tuple[int, int]]]:
    import blingfire

    def spans(text: str) -> list[tuple[int, int]]:
        return [(int(a), int(b)) for a, b in blingfire.text_to_sentences_and_offsets(text)[1]]

    return spans


def segmenter(name: str = "pysbd") -> Callable[[str], list[tuple[int, int]]]:
    """(start, end) spans of the sentences of a plain text."""
    if name == "blingfire":
        return _blingfire()
    return _pysbd()


def split_units(text: str, *, segmenter_name: str = "pysbd") -> list[Unit]:
    """Every sentence unit of a markdown text, offsets into `text`, in reading order."""
    blocks = parse_blocks(text)
    spans_of = segmenter(segmenter_name)
    units: list[Unit] = []
    for number, block in enumerate(blocks):
        if block.kind in ("heading", "code"):
            continue
        units.extend(_block_units(block, number, spans_of))
    return _join_short_items(units, blocks)


def _block_units(block: Block, number: int, spans_of: Callable[[str], list[tuple[int, int]]]) -> list[Unit]:
    body_at = block.label_end
    body = block.display[body_at:]
    out: list[Unit] = []
    spans = _trimmed(body, spans_of(body) if body.strip() else [])
    for a, b in spans:
        shown = body[a:b]
        start, end = block.source_span(body_at + a, body_at + b)
        kind = classify(shown)
        # a one-sentence bullet often omits its full stop; in a longer item, a missing one means the text was cut
        if kind is UnitKind.FRAGMENT and block.kind == "item" and len(spans) == 1 and _bullet_clause(shown):
            shown, kind = shown.rstrip(" ;,") + ".", UnitKind.STATEMENT
        if len(shown.split()) < 2 and block.kind != "item":
            continue  # "Yes." alone says nothing and matches everything
        out.append(Unit(text=shown, start=start, end=end, kind=kind, block=number, dependent=leans_back(shown)))
    return out


def _trimmed(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Spans without surrounding blanks, empty ones dropped (the whole text when the segmenter
    found nothing)."""
    out: list[tuple[int, int]] = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    if not out and text.strip():
        a = len(text) - len(text.lstrip())
        out.append((a, len(text.rstrip())))
    return out


# A clause ending in one of these is cut off, not merely missing its full stop.
_OPEN_ENDINGS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "that",
        "those",
        "these",
        "this",
        "and",
        "or",
        "but",
        "with",
        "for",
        "in",
        "on",
        "at",
        "by",
        "from",
        "my",
        "your",
        "our",
        "their",
        "his",
        "her",
        "its",
        "is",
        "are",
        "was",
        "were",
        "be",
        "as",
        "than",
        "if",
        "when",
        "which",
        "who",
    ]
)


def _bullet_clause(text: str) -> bool:
    """A list item that is a complete clause without its full stop ("Practice LeetCode every week")."""
    t = text.strip()
    words = t.split()
    return (
        len(words) >= 5
        and t[:1].isupper()
        and not t.endswith((":", "?", ",", ";", "-"))
        and words[-1].lower().strip("\"'”’)") not in _OPEN_ENDINGS
    )


def _join_short_items(units: list[Unit], blocks: list[Block]) -> list[Unit]:
    """Runs of short list items (a list of topics) become one unit, introduced by the lead-in
    line before them when there is one: "Topics to learn: CNNs; ResNet; YOLO."."""
    out: list[Unit] = []
    run: list[Unit] = []

    def flush() -> None:
        nonlocal run
        if len(run) >= 2:
            lead = out.pop() if out and out[-1].kind is UnitKind.LEAD and out[-1].block < run[0].block else None
            parts = [u.text.rstrip(" .;,") for u in run]
            # an item that is itself a lead-in ("How to Read:") introduces the ones after it
            items = "".join(p + (" " if p.endswith(":") else "; ") for p in parts[:-1]) + parts[-1]
            text = f"{lead.text} {items}." if lead else items[:1].upper() + items[1:] + "."
            out.append(
                Unit(text=text, start=(lead or run[0]).start, end=run[-1].end, kind=UnitKind.ITEMS, block=run[0].block)
            )
        else:
            out.extend(run)
        run = []

    for unit in units:
        block = blocks[unit.block]
        short = block.kind == "item" and len(unit.text.split()) <= SHORT_ITEM_WORDS and _sole_unit(unit, units)
        if short and (not run or unit.block == run[-1].block + 1 or _same_list(run[-1], unit, blocks)):
            run.append(unit)
            continue
        flush()
        if short:
            run.append(unit)
        else:
            out.append(unit)
    flush()
    return out


def _sole_unit(unit: Unit, units: list[Unit]) -> bool:
    return sum(1 for u in units if u.block == unit.block) == 1


def _same_list(a: Unit, b: Unit, blocks: list[Block]) -> bool:
    between = blocks[a.block + 1 : b.block]
    return all(x.kind == "item" for x in between)
