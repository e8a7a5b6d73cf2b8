"""Passages -> the points an answer should make: whole statements, best first, each with the
sentence it leans on and the short sentence that completes it.

Every sentence unit is scored by the cosine of its stored vector with the question's vector,
blended with its passage's retrieval score, plus a small lift for its wording (text/style.py:
advice for a question asking what to do, less for the writer's own story). Only whole
statements are candidates (never a heading, a question, a lead-in, a fragment or the essay
talking about itself). A statement opening with "They ..." comes with the sentence before it
(a list item with the list's lead-in: "General cons ...: It is a very competitive field ..."),
or is not said; another passage is quoted only when one of its sentences comes close to the
best and shares a word with the question (MiniLM puts "I just read through different
researches of NTU professors." near "do i need to know CUDA?"); a short sentence right after a
chosen one ("Keep it under 150 words.") comes along, unless it is the essay signing off. A
sentence pointing back to one the answer does not say ("After these refusals ...") is said only
when it comes close to the best (an option's statement, never). A question naming an author
("what did Nathan Lambert say about ...") is answered from that author's essay when it can be. A
follow-up ("what about the math part?") opens on the point that says most of the user's new words.
Sentences repeated by overlapping chunks are said once. For an "X or Y" question, each option
gets the best statement about it. The answer opens on a point that stands alone ("All the other
courses ... are also great" follows, it does not lead). A question asking how long or how far
ahead is answered first by a sentence that gives a span of time, "do I need a PhD?" first by
one that says whether a PhD is needed, and "how should I read papers?" first by the essay's own
"How to Read: ...".
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..records import Passage, Point, Query, Unit, UnitKind
from ..settings import AnswerSettings
from ..text.amounts import asks_span, holds_span
from ..text.needs import needed_words, states_need, too_general
from ..text.style import asks_about_someone, opens_an_answer, style_lift, talks_about_itself
from ..text.words import content_stems
from .relevance import informative_stems

if TYPE_CHECKING:
    import numpy as np

COMPLETING_WORDS = 10  # a following sentence this short finishes the point it follows
LEAD_CHOICES = 3  # the answer opens on the first of this many best points that stands alone
LEAD_IN_REACH = 12  # sentences back to look for the lead-in of a list ("General cons ...:")
SOURCE_NAMING_WORDS = 2  # words a comparison side shares with a source's header to name it
NEAR_DUPLICATE = 0.95  # cosine above which two sentences say the same thing


@dataclass(frozen=True)
class Candidate:
    """A whole statement that could be said: `score` orders candidates (its cosine blended with
    its passage's score), `cosine` (its own closeness to the question) decides whether it is said."""

    score: float
    cosine: float
    passage: int  # 1-based passage number
    unit: int  # index into the passage's units


def select_points(
    query: Query, passages: Sequence[Passage], settings: AnswerSettings, *, named: Sequence[str] = ()
) -> list[Point]:
    """The points worth saying, best first, except that the opening point stands alone
    (`_lead_first`) and side points follow it; `named` are the essays whose author the question
    names (`Retriever.authors_named_in`)."""
    if query.vector is None:
        return []
    candidates = _candidates(query.vector, passages, settings, question=query.text)
    if named and not query.sides and settings.named_author_only:
        # "what did Nathan Lambert say about blogging" is answered by him, not by the guide that
        # tells readers to blog, nor padded with another student's story; when nothing of his
        # can be said, by whoever can say something
        own = [c for c in candidates if passages[c.passage - 1].document.doc_id in named]
        if own and len(own) < len(candidates):
            points = _select(query, passages, settings, own)
            if points:
                return points
    return _select(query, passages, settings, candidates)


def _select(
    query: Query, passages: Sequence[Passage], settings: AnswerSettings, candidates: list[Candidate]
) -> list[Point]:
    """select_points among the given candidates (best first)."""
    if not candidates:
        return []
    best = max(c.cosine for c in candidates)
    floor = max(settings.min_similarity, best * settings.relative_floor)
    new_source = max(floor, best * settings.source_floor)  # what a sentence opening another source needs
    question_words = content_stems(query.text)
    asked = question_words if settings.new_source_shares_word else set()
    said = _sentence_words(passages)  # each sentence's words, stemmed once for every rule below
    chosen: list[Point] = []
    made_by: list[Candidate] = []  # the candidate each chosen point was made from
    used: set[tuple[str, int]] = set()
    vectors: list[np.ndarray] = []
    sources: set[int] = set()
    for c in candidates:
        if len(chosen) >= settings.max_statements:
            break
        if (
            c.passage not in sources
            and sources
            and (
                len(sources) >= settings.max_sources
                or c.cosine < new_source
                or len(chosen) >= settings.open_sources_within
                or (settings.new_source_shares_word and not asked & said[c.passage - 1][c.unit])
            )
        ):
            continue
        if c.cosine < floor:
            continue
        point = _point(passages[c.passage - 1], c, used, vectors)
        if point is not None:
            chosen.append(point)
            made_by.append(c)
            sources.add(c.passage)
    kept = _without_orphans(chosen, [c.cosine for c in made_by], passages, best * settings.orphan_floor)
    if len(kept) < len(chosen):  # what the dropped points said is free again for the options below
        made_by = [c for p, c in zip(chosen, made_by, strict=True) if p in kept]
        used = _keys(kept, passages, leads=False)
        vectors = [v for c in made_by if (v := _unit_vector(passages[c.passage - 1], c.unit)) is not None]
        chosen = kept
    _lead_first(chosen, _word_weights(question_words, said), settings.lead_word_weight)
    if query.history and query.text != query.question:
        # a follow-up ("what about the math part?") opens on what the user asks now, not on
        # what the earlier turn asked and the condensed query still carries
        _lead_on(chosen, _word_weights(set(informative_stems(query.question)), said))
    speakers = _speakers(query, passages)
    asked_of_both = _asked_of_both(query, said) if speakers else (lambda words: 0.0)
    for side in query.sides:
        if side.vector is None or any(p.side == side.label for p in chosen):
            continue
        options = _candidates(side.vector, passages, settings, question=query.text, also=query.vector)
        said_now = _keys(chosen, passages)  # what the candidates' sentences may lean on
        if speakers:
            # a side naming its source ("the Berkeley PhD guy") is heard from that source, first
            # on what is asked of both sides ("have more papers"), rare words counting most
            options = [c for c in options if passages[c.passage - 1].document.doc_id in speakers[side.label]]
            options.sort(key=lambda c: -asked_of_both(said[c.passage - 1][c.unit]))
        for c in options:
            if c.cosine < settings.min_similarity:
                continue
            unit = passages[c.passage - 1].units[c.unit]
            if chosen and chosen[0].passage == c.passage and unit in chosen[0].units:
                continue  # the opening statement speaks to the whole question; each option gets its own
            already = next((p for p in chosen[1:] if p.passage == c.passage and unit in p.units), None)
            if already is not None and already.side is not None:
                continue  # it speaks for another option already
            if already is not None:
                chosen[chosen.index(already)] = Point(already.passage, already.units, already.score, side.label)
                break
            context = _with_context(passages[c.passage - 1].units, c.unit)
            if context is not None and _orphaned(
                passages, c.passage, passages[c.passage - 1].units[context[0]], said_now
            ):
                continue  # an option's statement is close to its option, not to the question: no floor
            point = _point(passages[c.passage - 1], c, used, vectors, side=side.label)
            if point is not None:
                chosen.insert(min(1 + sum(1 for p in chosen if p.side), len(chosen)), point)
                break
    return chosen


def _without_orphans(
    chosen: list[Point], cosines: Sequence[float], passages: Sequence[Passage], floor: float
) -> list[Point]:
    """The points, less those opening on a sentence that points back ("After these refusals in
    the first few months of my Ph.D. ...", "mastering these concepts is essential ...") to a
    sentence the answer does not say, unless they come close to the best (the floor): said
    alone, they are padding that leaves the reader asking "which refusals?". Dropping one can
    orphan another ("These refusals taught me ..." after it), so it repeats until none is left;
    an answer is never emptied (a partial answer with one such line beats none)."""
    kept = list(zip(chosen, cosines, strict=True))
    while True:
        said = _keys([p for p, _ in kept], passages)
        still = [(p, c) for p, c in kept if c >= floor or not _orphaned(passages, p.passage, p.units[0], said)]
        if len(still) == len(kept):
            break
        kept = still
    return [p for p, _ in kept] or chosen


def _orphaned(passages: Sequence[Passage], number: int, first: Unit, said: set[tuple[str, int]]) -> bool:
    """Whether a point opening on `first` (of passage `number`) carries on from a sentence
    the answer does not say."""
    if first.kind is UnitKind.LEAD or opens_an_answer(first.text):
        return False
    before = _sentence_before(passages, number, first)
    return before is None or before not in said


def _sentence_before(passages: Sequence[Passage], number: int, unit: Unit) -> tuple[str, int] | None:
    """Where in its document the sentence before a unit is, looked up in the passage's
    neighbouring chunks when the unit opens its own; None when no passage holds it."""
    passage = passages[number - 1]
    i = passage.units.index(unit)
    if i > 0:
        return _key(passage, passage.units[i - 1])
    where = _key(passage, unit)
    for other in passages:
        if other.document.doc_id != passage.document.doc_id:
            continue
        for j, u in enumerate(other.units[1:], start=1):
            if _key(other, u) == where:
                return _key(other, other.units[j - 1])
    return None


def _key(passage: Passage, unit: Unit) -> tuple[str, int]:
    """Where a sentence is in its document: the same sentence in two overlapping chunks has one key."""
    return (passage.document.doc_id, passage.chunk.start + unit.start)


def _keys(points: Sequence[Point], passages: Sequence[Passage], *, leads: bool = True) -> set[tuple[str, int]]:
    """Where the points' sentences are in their documents (`_key`), their lists' lead-ins too
    unless `leads` is False."""
    return {_key(passages[p.passage - 1], u) for p in points for u in p.units if leads or u.kind is not UnitKind.LEAD}


def _unit_vector(passage: Passage, unit: int) -> np.ndarray | None:
    return None if passage.unit_vectors is None else passage.unit_vectors[unit]


def _lead_first(chosen: list[Point], weights: dict[str, float], word_weight: float) -> None:
    """Open on the best of the first few points that stands alone, counting, beside its score,
    the share of the question's rare words it says. "All the other courses ... are also great"
    may be the closest sentence, but it reads as a reply to something the answer never said; and
    for "do ml research interviews still have leetcode questions?" "Practice Leetcode ..."
    should lead, not "I have been through some technical interviews ...". The points said stay
    the same; only which one opens changes."""
    total = sum(weights.values())
    choices = [i for i, p in enumerate(chosen[:LEAD_CHOICES]) if opens_an_answer(p.sentences[0].text)]
    if not choices:
        return

    def merit(i: int) -> float:
        said = content_stems(" ".join(u.text for u in chosen[i].sentences))
        share = sum(weights[w] for w in weights.keys() & said) / total if total > 0 else 0.0
        return chosen[i].score + word_weight * share

    best = max(choices, key=merit)
    if best:
        chosen.insert(0, chosen.pop(best))


def _lead_on(chosen: list[Point], weights: dict[str, float]) -> None:
    """Open on the first point that says the most of the weighted words, when the opening
    point says less of them; the points said stay the same."""
    if not weights or not chosen:
        return

    def share(p: Point) -> float:
        return sum(weights[w] for w in weights.keys() & content_stems(p.text))  # a list's lead-in too

    shares = [share(p) if opens_an_answer(p.sentences[0].text) else 0.0 for p in chosen]
    best = max(range(len(chosen)), key=lambda i: (shares[i], -i))
    if shares[best] > shares[0]:
        chosen.insert(0, chosen.pop(best))


def _sentence_words(passages: Sequence[Passage]) -> list[list[set[str]]]:
    """The content stems of each sentence of each essay passage (none for resource entries),
    indexed like passages[n - 1].units[i]."""
    return [[] if p.is_resource else [content_stems(u.text) for u in p.units] for p in passages]


def _word_weights(words: set[str], said: Sequence[Sequence[set[str]]]) -> dict[str, float]:
    """How telling each word is among the passages' sentences: log((n + 1) / (sentences holding
    it + 1)), so "research", said everywhere, weighs little and "leetcode" much."""
    sentences = [stems for passage in said for stems in passage]
    return {w: math.log((len(sentences) + 1) / (sum(w in stems for stems in sentences) + 1)) for w in words}


def _speakers(query: Query, passages: Sequence[Passage]) -> dict[str, set[str]]:
    """For a comparison of sources ("the NTU student and the Berkeley PhD guy"): the document
    each side names, by two or more words of its title, voice or author, one of which no other
    retrieved document's header has ("ntu", "student"; "berkeley", "phd"). {} unless every side
    names its own: in "a research scientist or an ML engineer?" the engineer names no essay, so
    both sides are heard from wherever they are answered."""
    if len(query.sides) < 2:
        return {}
    docs = {p.document.doc_id: p.document for p in passages if not p.is_resource}
    heard = {d: content_stems(f"{doc.title} {doc.voice or ''} {doc.author or ''}") for d, doc in docs.items()}
    out: dict[str, set[str]] = {}
    for side in query.sides:
        said = content_stems(side.label)
        named = set()
        for d, words in heard.items():
            own = words - set().union(*(w for e, w in heard.items() if e != d))
            if len(said & words) >= SOURCE_NAMING_WORDS and said & own:
                named.add(d)
        out[side.label] = named
    sets = list(out.values())
    if any(len(ids) != 1 for ids in sets) or len(set().union(*sets)) < len(sets):
        return {}
    return out


def _asked_of_both(query: Query, said: Sequence[Sequence[set[str]]]) -> Callable[[set[str]], float]:
    """How much of what a comparison asks of every side ("did A or B *have more papers*") a
    sentence's words say: the weight (`_word_weights`) of the question's words, apart from the
    sides and the words that only frame a comparison, that they share."""
    framing = {"compar", "contrast", "differ", "each", "both", "versus", "vs", "say", "said", "mention", "think"}
    asked = content_stems(query.text) - set().union(*(content_stems(s.label) for s in query.sides)) - framing
    weight = _word_weights(asked, said)
    return lambda words: sum(weight[w] for w in asked & words)


def select_resources(
    passages: Sequence[Passage], points: Sequence[Point], settings: AnswerSettings, *, question: str
) -> list[int]:
    """Numbers of the curated-resource passages close enough to the question to list (and, like
    another source, sharing a word with it: "Highlights of Calculus" is no answer to "what is
    OpenMDW?"), those the question's own search found first."""
    if not settings.max_resources:
        return []
    floor = max(settings.min_similarity, (points[0].score if points else 0.0) * settings.relative_floor)
    # a question of stop words only cannot be matched: no filter
    asked = (content_stems(question) or None) if settings.new_source_shares_word else None
    out = [
        n
        for n, p in sorted(enumerate(passages, start=1), key=lambda item: item[1].from_option > 0)
        if p.is_resource
        and p.scores.get("unit", p.scores.get("dense", 0.0)) >= floor
        and (asked is None or asked & content_stems(f"{p.document.title} {p.document.summary or ''} {p.text}"))
    ]
    return out[: settings.max_resources]


def _candidates(
    vector: np.ndarray,
    passages: Sequence[Passage],
    settings: AnswerSettings,
    *,
    question: str = "",
    also: np.ndarray | None = None,
) -> list[Candidate]:
    """Every whole statement of the essay passages, best first."""
    out: list[Candidate] = []
    about_someone = asks_about_someone(question)
    span = settings.span_lift if asks_span(question) else 0.0
    needed = needed_words(question) if settings.need_lift else frozenset()
    asked = content_stems(question) if settings.label_lift else set()
    essays = 0  # rank among essay passages: a curated-resource entry above them takes no share
    for n, p in enumerate(passages, start=1):
        if p.is_resource or p.unit_vectors is None or not len(p.units):
            continue
        essays += 1
        sims = p.unit_vectors @ vector
        if also is not None:
            sims = 0.5 * sims + 0.5 * (p.unit_vectors @ also)
        prior = p.scores.get("dense", p.score) * settings.rank_decay ** (essays - 1)
        w = settings.passage_weight
        out.extend(
            Candidate(
                (1 - w) * float(sims[i])
                + w * prior
                + style_lift(unit.text, about_someone, settings.style_weight)
                + (span if span and holds_span(unit.text) else 0.0)
                + (settings.need_lift if needed and states_need(unit.text, needed) else 0.0)
                + (settings.label_lift if asked and _labelled_as_asked(unit.text, asked) else 0.0),
                float(sims[i]),
                n,
                i,
            )
            for i, unit in enumerate(p.units)
            if unit.is_statement and not talks_about_itself(unit.text)
        )
    out.sort(key=lambda c: -c.score)
    return out


# a statement opening on a label: "How to Read: Don't read linearly ...", "Networking: Hiring ..."
_LABEL = re.compile(r"^([A-Z][\w /&'-]{0,40}):\s")


def _labelled_as_asked(text: str, asked: set[str]) -> bool:
    """Whether a statement opens on a label made of the question's own words, one of them
    specific ("How to Read:" for "how should i read papers?", not "Research Mindset:" for any
    question about research): the essay's own answer to it."""
    match = _LABEL.match(text)
    if match is None:
        return False
    label = content_stems(match.group(1))
    return bool(label) and label <= asked and bool(label - too_general())


def _point(
    passage: Passage, c: Candidate, used: set[tuple[str, int]], vectors: list[np.ndarray], *, side: str | None = None
) -> Point | None:
    """The point made by a candidate, or None when it cannot stand, repeats, or its sentences
    were already said."""
    units = passage.units
    idx = _with_context(units, c.unit)
    if idx is None:
        return None
    # a list's lead-in may head several of its items; the sentences themselves are said once
    keys = [_key(passage, units[j]) for j in idx if units[j].kind is not UnitKind.LEAD]
    if any(k in used for k in keys):
        return None
    v = _unit_vector(passage, c.unit)
    if v is not None:
        if any(float(v @ w) > NEAR_DUPLICATE for w in vectors):
            return None
        vectors.append(v)
    used.update(keys)
    return Point(passage=c.passage, units=tuple(units[j] for j in idx), score=c.score, side=side)


def _list_lead_in(units: Sequence[Unit], i: int) -> int | None:
    """The lead-in a list item's opening "It ..." refers to: in "General cons about doing ML
    research: - It is a very competitive field ... - It is a very fast paced field ...", each
    "It" is ML research, not the item before. None unless unit i opens its block with "It", and
    a lead-in heads the unbroken run of blocks it ends (no heading or other break between, within
    LEAD_IN_REACH units)."""
    first = units[i].text.split(maxsplit=1)[0].lower() if units[i].text.strip() else ""
    if first not in ("it", "it's", "it’s") or (i > 0 and units[i - 1].block == units[i].block):
        return None
    block = units[i].block
    for j in range(i - 1, max(-1, i - 1 - LEAD_IN_REACH), -1):
        if units[j].block < block - 1:
            return None  # a gap: a heading, code or a table stands between
        block = units[j].block
        if units[j].kind is UnitKind.LEAD:
            return j
        if units[j].kind not in (UnitKind.STATEMENT, UnitKind.ITEMS):
            return None
    return None


def _with_context(units: Sequence[Unit], i: int) -> list[int] | None:
    """Indexes of the unit, the sentences it leans on, and the next one when it leans on it or
    is short enough to complete it ("Keep it under 150 words.")."""
    idx = [i]
    j = i
    lead_in = _list_lead_in(units, i)
    if lead_in is not None:
        idx.insert(0, lead_in)  # "General cons about doing ML research:" + "It is a very fast paced field ..."
    while lead_in is None and units[j].dependent:
        prev = j - 1
        if prev < 0 or units[prev].block not in (units[j].block, units[j].block - 1):
            return None
        if units[prev].kind not in (UnitKind.STATEMENT, UnitKind.ITEMS):
            return None
        idx.insert(0, prev)
        j = prev
        if len(idx) > 3:
            return None
    nxt = i + 1
    if (
        nxt < len(units)
        and units[nxt].block == units[i].block
        and units[nxt].kind is UnitKind.STATEMENT
        and (units[nxt].dependent or len(units[nxt].text.split()) <= COMPLETING_WORDS)
        and not talks_about_itself(units[nxt].text)  # "I tried to cover as much as I could." completes nothing
    ):
        idx.append(nxt)
    return idx
