"""answer/select.py: which sentences an answer says. Whole statements only, with the sentence a
dependent one leans on and the short one that completes it, each said once, from at most
answer.max_sources passages."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from conftest import TINY
from helpers import write_tiny_corpus

from advisor_bot import Advisor, Passage, Point, Query, Settings, Unit, UnitKind
from advisor_bot.answer.select import (
    _lead_first,
    _lead_on,
    _list_lead_in,
    _speakers,
    _with_context,
    _without_orphans,
    select_points,
    select_resources,
)
from advisor_bot.index.embedding import Embedder
from advisor_bot.records import Chunk, Document, Side
from advisor_bot.settings import AnswerSettings
from advisor_bot.text.sentences import split_units
from advisor_bot.text.style import opens_an_answer
from advisor_bot.text.words import content_stems

APPLYING = """---
title: "Applying to PhD Programs"
voice: A PhD student who reads applications
kind: blog
---

# Applying to PhD Programs

## Statement of purpose

How long should a statement of purpose be? Here is my rule:

Write your statement of purpose about the research you want to do next. Keep it under 150 words. Admissions committees read hundreds of them.

## Letters

Good letters come from people who watched you do research. They often work at universities, so ask your professors early.
"""
# One paragraph long enough to be split into overlapping chunks (see the chunking overrides).
READING = """---
title: "Reading Habits"
kind: blog
---

## Reading papers

Read the abstract first. Then look at every figure. Skim the related work last. Write a summary of each paper in your own words. Keep a list of the open questions you notice. Re-read the method when you implement it. Share your summaries with a reading group.
"""
# A preamble, and a story beside the advice it led to (text/style.py tells them apart).
STARTING = """---
title: "Starting Out"
kind: blog
---

## Why I wrote this

As a researcher who reviews many applications, I will give you my perspective on starting research.

## Math before research

I was bad at math when I started research and I struggled with it for a year.

Do not start research before you are comfortable with the math it uses.
"""
# The closest sentence to "which deep learning courses ..." carries on from the one before it.
COURSES = """---
title: "Courses I Took"
kind: blog
---

## Courses

I took many online courses before my first research project. The Deep Learning Specialization is a good starting point for beginners in deep learning. All the other deep learning courses offered by the same school are also great, and I recommend them!
"""
# List items opening on "It ...": "It" is what the lead-in names, not the item before.
PROS_CONS = """---
title: "Is Research for You?"
kind: blog
---

## Downsides

General cons about doing research in a lab:

- It is a very competitive field with many applicants every year.
- It is a slow field, so your results can take many months.
"""
NOT_SAID = {UnitKind.QUESTION, UnitKind.LEAD, UnitKind.FRAGMENT}


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus plus two essays, chunked small enough that neighbouring chunks share a sentence."""
    root = tmp_path_factory.mktemp("select")
    write_tiny_corpus(root)
    (root / "corpus" / "essays" / "applying.md").write_text(APPLYING, encoding="utf-8")
    (root / "corpus" / "essays" / "reading.md").write_text(READING, encoding="utf-8")
    (root / "corpus" / "essays" / "starting.md").write_text(STARTING, encoding="utf-8")
    (root / "corpus" / "essays" / "courses.md").write_text(COURSES, encoding="utf-8")
    (root / "corpus" / "essays" / "pros-cons.md").write_text(PROS_CONS, encoding="utf-8")
    settings = Settings.load(root, env={}, **{**TINY, "chunking.chunk_size": 200, "chunking.chunk_overlap": 80})
    advisor = Advisor(settings, embedder=embedder)
    advisor.build_index()
    return advisor


def evidence_for(bot: Advisor, text: str, k: int = 5) -> tuple[Query, list[Passage]]:
    """The question as the pipeline makes it (vector, options) and its passages, without MMR."""
    query = bot.pipeline.make_query(Query(question=text), "extractive", {})
    return query, bot.searcher.retriever().search(query.text, k, qvec=query.vector, mmr=False)


def points_for(bot: Advisor, text: str, k: int = 5, **answer: object) -> list[Point]:
    query, passages = evidence_for(bot, text, k)
    settings = bot.settings.with_overrides(**{f"answer.{key}": v for key, v in answer.items()}).answer
    return select_points(query, passages, settings)


def texts(points: list[Point]) -> list[str]:
    return [u.text for p in points for u in p.units]


@pytest.mark.parametrize(
    "question",
    [
        "how long should a statement of purpose be?",  # the essay asks exactly this, as a question
        "what is the robot from my first project?",  # a figure caption matches best: a fragment
        "who should write my recommendation letters?",
    ],
)
def test_only_whole_statements_are_said(bot: Advisor, question: str) -> None:
    query, passages = evidence_for(bot, question)
    points = select_points(query, passages, bot.settings.answer)
    assert points
    assert all(u.kind not in NOT_SAID for p in points for u in p.units)


def test_the_closest_sentence_is_not_said_when_it_is_a_question(bot: Advisor) -> None:
    query, passages = evidence_for(bot, "how long should a statement of purpose be?")
    essay = next(p for p in passages if p.document.doc_id == "applying" and p.unit_vectors is not None)
    assert essay.unit_vectors is not None and query.vector is not None
    closest = essay.units[int((essay.unit_vectors @ query.vector).argmax())]
    assert closest.kind is UnitKind.QUESTION  # what makes this test meaningful
    assert closest.text not in texts(select_points(query, passages, bot.settings.answer))


def test_a_dependent_sentence_comes_with_the_one_before_it(bot: Advisor) -> None:
    leaning = "They often work at universities, so ask your professors early."
    vector = bot.embedder.encode_query(leaning)  # a question aimed squarely at the dependent sentence
    passages = bot.searcher.retriever().search(leaning, 5, qvec=vector, mmr=False)
    points = select_points(Query(leaning, standalone=leaning, vector=vector), passages, bot.settings.answer)
    first = points[0]
    assert [u.text for u in first.units] == ["Good letters come from people who watched you do research.", leaning]
    assert first.units[1].dependent
    # whatever is chosen, no point opens with a sentence that leans on one left out
    assert all(not p.units[0].dependent for p in points)


def test_a_short_completing_sentence_comes_along(bot: Advisor) -> None:
    points = points_for(bot, "what should my statement of purpose be about?")
    assert [u.text for u in points[0].units] == [
        "Write your statement of purpose about the research you want to do next.",
        "Keep it under 150 words.",
    ]
    # only the one right after: the sentence after that is a point of its own, if any
    assert "Admissions committees read hundreds of them." not in [u.text for u in points[0].units]
    assert points[0].text == " ".join(u.text for u in points[0].units)


def test_the_essay_signing_off_does_not_complete_a_point() -> None:
    """A short sentence after a chosen one comes along, unless it is the essay talking about
    itself ("I tried to cover as much as I could." after the FAIR answer's last advice)."""
    signing_off = split_units("Narrow down the fields that intrigue you. I tried to cover as much as I could.\n")
    completing = split_units("Narrow down the fields that intrigue you. Keep it to one or two.\n")
    assert len(signing_off) == len(completing) == 2
    assert _with_context(signing_off, 0) == [0]
    assert _with_context(completing, 0) == [0, 1]


def test_a_sentence_in_two_overlapping_chunks_is_said_once(bot: Advisor) -> None:
    shared = "Keep a list of the open questions you notice."
    query, passages = evidence_for(bot, "what should I write down while reading papers?")
    holding = [p for p in passages if any(u.text == shared for u in p.units)]
    assert len(holding) == 2  # the overlap really repeats it
    points = select_points(query, passages, bot.settings.answer)
    said = texts(points)
    assert said.count(shared) == 1
    assert len(said) == len(set(said))


def test_every_passage_twice_still_says_each_sentence_once(bot: Advisor) -> None:
    query, passages = evidence_for(bot, "practice leetcode coding interview")
    loose = bot.settings.with_overrides(
        **{
            "answer.max_statements": 30,
            "answer.max_sources": 50,
            "answer.min_similarity": -1,
            "answer.relative_floor": 0,
        }
    ).answer
    said = texts(select_points(query, passages + passages, loose))
    assert said and len(said) == len(set(said))


@pytest.mark.parametrize("max_sources", [1, 2])
def test_points_come_from_at_most_max_sources_passages(bot: Advisor, max_sources: int) -> None:
    loose = {
        "max_statements": 30,
        "min_similarity": -1,
        "relative_floor": 0,
        "source_floor": 0,
        "new_source_shares_word": False,
    }
    question = "how do I prepare for interviews and applications?"
    capped = points_for(bot, question, 8, max_sources=max_sources, **loose)
    assert len({p.passage for p in capped if p.side is None}) == max_sources
    assert len({p.passage for p in points_for(bot, question, 8, max_sources=50, **loose)}) > max_sources


def test_points_are_best_first_and_capped(bot: Advisor) -> None:
    points = points_for(bot, "how do I prepare for coding interviews?")
    scores = [p.score for p in points]
    assert scores == sorted(scores, reverse=True)
    assert len(points_for(bot, "how do I prepare for coding interviews?", max_statements=1)) == 1


def test_each_option_of_a_comparison_gets_its_own_point(bot: Advisor) -> None:
    query, passages = evidence_for(bot, "should I practice LeetCode or choose a PhD supervisor?", 3)
    points = select_points(query, passages, bot.settings.answer)
    sides = {p.side: p for p in points if p.side}
    assert set(sides) == {"practice LeetCode", "choose a PhD supervisor"}
    assert "LeetCode" in sides["practice LeetCode"].text or "coding" in sides["practice LeetCode"].text
    assert "supervisor" in sides["choose a PhD supervisor"].text or "mentor" in sides["choose a PhD supervisor"].text
    assert points[0].side is None  # the opening point speaks to the whole question


def test_resources_are_listed_only_when_close_enough(bot: Advisor) -> None:
    query, passages = evidence_for(bot, "where can I practice coding interview problems?", 8)
    points = select_points(query, passages, bot.settings.answer)
    listed = select_resources(passages, points, bot.settings.answer, question=query.text)
    assert [passages[n - 1].document.doc_id for n in listed] == ["resource/leetcode"]
    none = bot.settings.with_overrides(**{"answer.max_resources": 0}).answer
    assert select_resources(passages, points, none, question=query.text) == []
    # listed only when its entry shares a word with the question: the same scores, other words
    assert select_resources(passages, points, bot.settings.answer, question="what helps beforehand?") == []
    # points never quote a resource entry: those are links, not evidence
    assert all(not passages[p.passage - 1].is_resource for p in points)


def test_no_query_vector_selects_nothing(bot: Advisor) -> None:
    _, passages = evidence_for(bot, "coding interviews")
    assert select_points(Query("coding interviews"), passages, bot.settings.answer) == []


def test_an_essay_talking_about_itself_is_never_said(bot: Advisor) -> None:
    preamble = "As a researcher who reviews many applications, I will give you my perspective on starting research."
    query, passages = evidence_for(bot, "what is your perspective on starting research?")
    essay = next(p for p in passages if p.document.doc_id == "starting" and p.unit_vectors is not None)
    assert essay.unit_vectors is not None and query.vector is not None
    closest = essay.units[int((essay.unit_vectors @ query.vector).argmax())]
    assert closest.text == preamble  # what makes this test meaningful
    assert preamble not in texts(select_points(query, passages, bot.settings.answer))


def test_advice_leads_over_the_story_for_a_question_asking_what_to_do(bot: Advisor) -> None:
    question = "im bad at math, should i start research?"
    advice = "Do not start research before you are comfortable with the math it uses."
    assert points_for(bot, question)[0].text == advice
    scores = {p.text: p.score for p in points_for(bot, question, max_sources=5, relative_floor=0, style_weight=0)}
    lifted = {p.text: p.score for p in points_for(bot, question, max_sources=5, relative_floor=0)}
    story = next(t for t in scores if t.startswith("I was bad at math"))
    assert lifted[advice] - lifted[story] > scores[advice] - scores[story]


def test_another_source_needs_a_sentence_close_to_the_best(bot: Advisor) -> None:
    loose = {
        "max_statements": 30,
        "max_sources": 50,
        "min_similarity": -1,
        "relative_floor": 0,
        "new_source_shares_word": False,
    }
    question = "how do I prepare for coding interviews?"
    free = points_for(bot, question, 8, source_floor=0, **loose)
    assert len({p.passage for p in free}) > 2  # what makes this test meaningful
    some = points_for(bot, question, 8, source_floor=0.8, **loose)
    only_best = points_for(bot, question, 8, source_floor=1.0, **loose)
    assert 1 < len({p.passage for p in some}) < len({p.passage for p in free})
    assert {p.passage for p in only_best} == {only_best[0].passage}  # nothing else comes as close as the best


def test_another_source_opens_only_among_the_first_points(bot: Advisor) -> None:
    """A passage whose best sentence would only be a late point is not quoted at all."""
    loose = {
        "max_statements": 30,
        "max_sources": 50,
        "min_similarity": -1,
        "relative_floor": 0,
        "source_floor": 0,
        "new_source_shares_word": False,
    }
    question = "how do I prepare for coding interviews?"
    free = points_for(bot, question, 8, open_sources_within=30, **loose)
    assert len({p.passage for p in free}) > 2  # what makes this test meaningful
    for within in (1, 3):
        points = points_for(bot, question, 8, open_sources_within=within, **loose)
        opened = [i for i, p in enumerate(points) if p.passage not in {q.passage for q in points[:i]}]
        assert opened[0] == 0 and all(i < within for i in opened)
    only_first = points_for(bot, question, 8, open_sources_within=1, **loose)
    assert {p.passage for p in only_first} == {only_first[0].passage}


def test_the_answer_opens_on_a_point_that_stands_alone(bot: Advisor) -> None:
    """ "All the other ... courses are also great" may be the closest sentence, but an answer
    opening on it answers something it never said; the best point that stands alone leads."""
    question = "which deep learning courses do you recommend?"
    query, passages = evidence_for(bot, question)
    essay = next(p for p in passages if p.document.doc_id == "courses" and p.unit_vectors is not None)
    assert query.vector is not None and essay.unit_vectors is not None
    closest = essay.units[int((essay.unit_vectors @ query.vector).argmax())]
    assert closest.text.startswith("All the other")  # what makes this test meaningful
    points = points_for(bot, question)
    assert points[0].text.startswith("The Deep Learning Specialization")
    assert any(p.text.startswith("All the other") for p in points[1:])  # still said, after the lead


def test_another_source_opens_only_on_a_sentence_sharing_a_word_with_the_question(bot: Advisor) -> None:
    """Sentence vectors alone put unrelated sentences near a short question; a passage is
    opened only by a sentence that shares a content word with it."""
    loose = {"max_statements": 30, "max_sources": 50, "min_similarity": -1, "relative_floor": 0, "source_floor": 0}
    question = "how do I prepare for coding interviews?"
    asked = content_stems(question)

    def openers(points: list[Point]) -> list[Point]:
        return [p for i, p in enumerate(points) if i and p.passage not in {q.passage for q in points[:i]}]

    free = openers(points_for(bot, question, 8, open_sources_within=30, new_source_shares_word=False, **loose))
    assert any(not asked & content_stems(p.units[-1].text) for p in free)  # what makes this test meaningful
    held = openers(points_for(bot, question, 8, open_sources_within=30, **loose))
    assert held and all(asked & content_stems(" ".join(u.text for u in p.units)) for p in held)


def test_a_side_naming_its_source_is_heard_from_that_source(bot: Advisor) -> None:
    """ "compare what the ML engineer and the PhD student each say ...":
    each side's point comes from the essay whose voice it names, not from whichever passage is
    closest; a choice naming no source ties no side to one."""
    question = "compare what the ML engineer and the PhD student each say about preparing"
    query = bot.pipeline.make_query(Query(question=question), "extractive", {})
    passages = bot.pipeline.retrieve(bot.searcher.retriever(), query, 5, {})  # each side's passages too
    assert [s.label for s in query.sides] == ["the ML engineer", "the PhD student"]
    points = select_points(query, passages, bot.settings.answer)
    heard = {p.side: passages[p.passage - 1].document.voice for p in points if p.side}
    assert heard == {
        "the ML engineer": "An ML engineer who interviews candidates",
        "the PhD student": "A PhD student who reads applications",
    }
    # (without the tie, the PhD side's closest point is in "Choosing a PhD Supervisor", which has no
    # voice); a choice where one side names no source ties neither
    choice = bot.pipeline.make_query(
        Query(question="should I become a research scientist or an ML engineer?"), "extractive", {}
    )
    assert (
        len(choice.sides) == 2
        and _speakers(choice, bot.pipeline.retrieve(bot.searcher.retriever(), choice, 5, {})) == {}
    )


@pytest.mark.slow
def test_a_named_source_answers_what_is_asked_of_both_sides(real_advisor: Advisor) -> None:
    """ "did the NTU student or the Berkeley PhD have more papers?": each side is heard on papers
    from its own essay, not with the sentence of that essay closest to the whole question
    ("Sometimes the research culture in NTU might be rough too.")."""
    pipe = real_advisor.pipeline
    query = pipe.make_query(
        Query(question="did the NTU student or the Berkeley PhD have more papers?"), "extractive", {}
    )
    passages = pipe.retrieve(real_advisor.searcher.retriever(), query, None, {})
    sides = {p.side: p.text for p in select_points(query, passages, real_advisor.settings.answer) if p.side}
    assert set(sides) == {"the NTU student", "the Berkeley PhD"}
    assert "co-authors on 2 papers" in sides["the NTU student"]
    assert "no accepted papers" in sides["the Berkeley PhD"]


def statement(text: str) -> Unit:
    return Unit(text=text, start=0, end=len(text), kind=UnitKind.STATEMENT, block=0, dependent=False)


def _passage_of(
    markdown: str, start: int = 0, rank: int = 1, doc_id: str = "story", embedder: Embedder | None = None
) -> Passage:
    """A real Passage holding the sentence units of a markdown text, found at `start` of its
    document (two passages of the same document may overlap), with its units' vectors when an
    embedder is given."""
    doc = Document(doc_id=doc_id, title=doc_id.title(), text=markdown, path=f"{doc_id}.md", sha256="0" * 64)
    units = tuple(split_units(markdown))
    chunk = Chunk(f"{doc_id}{start}", doc_id, "", markdown, start, start + len(markdown), units=units)
    vectors = embedder.encode([u.text for u in units]) if embedder is not None else None
    return Passage(chunk=chunk, document=doc, score=1.0 / rank, rank=rank, unit_vectors=vectors)


def _asked(question: str, embedder: Embedder, sides: tuple[Side, ...] = ()) -> Query:
    """A standalone question as the pipeline makes it, with its vector."""
    return Query(question, standalone=question, vector=embedder.encode_query(question), sides=sides)


def test_a_sentence_pointing_back_is_said_only_with_what_it_points_to_or_when_close() -> None:
    """ "After these refusals ..." alone leaves the reader asking which refusals: it is dropped,
    unless the sentence it points to is said too, or it comes close to the best (the floor)."""
    story = _passage_of(
        "I asked two professors to join their groups and they said no. "
        "After these refusals I had no real leads for the rest of my first year. "
        "Ask many people for opportunities.\n"
    )
    asked, after, advice = story.units
    assert not opens_an_answer(after.text)  # what makes this test meaningful
    alone = [Point(1, (advice,), 0.6), Point(1, (after,), 0.5)]
    assert _without_orphans(alone, [0.6, 0.5], [story], floor=0.55) == alone[:1]
    assert _without_orphans(alone, [0.6, 0.5], [story], floor=0.45) == alone  # close enough to stand
    with_it = [Point(1, (advice,), 0.6), Point(1, (asked,), 0.55), Point(1, (after,), 0.5)]
    assert _without_orphans(with_it, [0.6, 0.55, 0.5], [story], floor=0.55) == with_it


def test_dropping_a_sentence_that_points_back_drops_the_one_leaning_on_it_too() -> None:
    story = _passage_of(
        "I asked two professors to join their groups and they said no. "
        "After these refusals I had no real leads for the rest of my first year. "
        "These refusals taught me to ask many people at once. "
        "Ask many people for opportunities.\n"
    )
    _, after, taught, advice = story.units
    chosen = [Point(1, (advice,), 0.6), Point(1, (after,), 0.5), Point(1, (taught,), 0.5)]
    assert _without_orphans(chosen, [0.6, 0.5, 0.5], [story], floor=0.55) == chosen[:1]


def test_the_sentence_pointed_to_may_be_said_from_the_chunk_before() -> None:
    """Overlapping chunks: "After these refusals ..." opens the second chunk, and the first chunk
    holds both it and the sentence it points to."""
    asked = "I asked two professors to join their groups and they said no. "
    after = "After these refusals I had no real leads for the rest of my first year. "
    first = _passage_of(asked + after + "\n")
    second = _passage_of(after + "Ask many people for opportunities.\n", start=len(asked), rank=2)
    chosen = [Point(1, (first.units[0],), 0.6), Point(2, (second.units[0],), 0.5)]
    assert _without_orphans(chosen, [0.6, 0.5], [first, second], floor=0.55) == chosen
    assert _without_orphans(chosen[1:], [0.5], [first, second], floor=0.55) == chosen[1:]  # never emptied


def test_select_points_drops_a_sentence_pointing_back_only_below_the_orphan_floor(embedder: Embedder) -> None:
    story = _passage_of(
        "Ask many professors for research opportunities, even the ones who seem far too busy to reply. "
        "I asked two professors to join their groups and they said no. The important part was asking. "
        "After these refusals I had no real leads in research for the rest of my first year.\n",
        embedder=embedder,
    )
    query = _asked("how do i find research opportunities after professors refuse me?", embedder)

    def said(floor: float) -> list[str]:
        return [p.units[0].text[:20] for p in select_points(query, [story], AnswerSettings(orphan_floor=floor))]

    assert said(0.0) == ["Ask many professors ", "After these refusals"]  # close enough to be said
    assert said(1.0) == ["Ask many professors "]  # the sentence it points to is not said


def test_an_options_statement_pointing_back_needs_what_it_points_to(embedder: Embedder) -> None:
    """An option of an "X or Y" question is answered by a statement close to the option, not to
    the whole question, so no floor lets one stand without the sentence it points to."""
    story = _passage_of(
        "Ask many professors for research opportunities, even the ones who seem far too busy to reply. "
        "I asked two professors to join their groups and they said no. "
        "After these refusals I had no real leads in research for the rest of my first year.\n",
        embedder=embedder,
    )
    side = Side("no leads for a year", embedder.encode_query("no leads for a year"))
    query = _asked("should I ask professors or accept having no leads for a year?", embedder, sides=(side,))
    points = select_points(query, [story], AnswerSettings(max_statements=1))
    sides = [p.units[0].text for p in points if p.side]
    assert sides and not sides[0].startswith("After these refusals")
    assert [p.units[0].text[:20] for p in points[:1]] == ["Ask many professors "]


def test_a_named_author_answers_unless_nothing_of_theirs_can_be_said(embedder: Embedder) -> None:
    """A question naming an author is answered from their essay; when its only close sentence
    cannot be said (it leans on a heading), the other essays answer as before."""
    guide = _passage_of(
        "Practice LeetCode problems every week before coding interviews.\n", doc_id="guide", embedder=embedder
    )
    said = _passage_of(
        "I practised LeetCode for months before my coding interviews.\n", doc_id="story", embedder=embedder
    )
    leaning = _passage_of(
        "# Interviews\n\nThese interviews test coding with LeetCode problems.\n", doc_id="story", embedder=embedder
    )
    query = _asked("what does the author say about LeetCode for coding interviews?", embedder)

    def sources(passages: list[Passage], named: tuple[str, ...]) -> set[str]:
        points = select_points(query, passages, AnswerSettings(), named=named)
        return {passages[p.passage - 1].document.doc_id for p in points}

    assert sources([guide, said], ()) == {"guide", "story"}  # what makes this test meaningful
    assert sources([guide, said], ("story",)) == {"story"}
    assert sources([guide, leaning], ("story",)) == {"guide"}  # nothing of the author's can be said


def test_the_opening_point_says_the_rare_words_of_the_question() -> None:
    """Among the first points, the one saying the question's telling word ("leetcode") opens; the
    points said stay the same, and a point that carries on from another never opens."""
    general = Point(1, (statement("I have been through some technical interviews, and you should be fine."),), 0.60)
    leetcode = Point(1, (statement("Practice Leetcode and other coding platforms."),), 0.57)
    sequel = Point(2, (statement("All the other Leetcode-like platforms are also great."),), 0.65)
    weights = {"leetcod": 3.0, "interview": 0.3, "ml": 0.2}
    chosen = [general, leetcode]
    _lead_first(chosen, weights, 0.0)
    assert chosen == [general, leetcode]  # without the words, the score decides
    _lead_first(chosen, weights, 0.1)
    assert chosen == [leetcode, general]
    chosen = [sequel, general]
    _lead_first(chosen, weights, 0.1)
    assert chosen[0] is general


def test_a_follow_up_opens_on_what_the_user_asks_now(embedder: Embedder) -> None:
    """ "what about the math part?" after a question on interviews: the condensed query still
    carries the interviews, so lines on interviews score best, but the line on math opens."""
    story = _passage_of(
        "I have been through some technical interviews, and with a good foundation you should be fine. "
        "Prepare for technical interviews by practising coding problems every week. "
        "Prepare to explain your projects in technical interviews in detail. "
        "Technical interviews for research roles also ask about recent papers. "
        "Review math and probability, as it is the heart of the field.\n",
        embedder=embedder,
    )
    standalone = "the math part? prepare technical interviews"
    follow_up = Query(
        "what about the math part?",
        history=({"role": "user", "content": "how do i prepare for technical interviews?"},),
        standalone=standalone,
        vector=embedder.encode_query(standalone),
    )
    alone = dataclasses.replace(follow_up, question=standalone, history=())
    assert not select_points(alone, [story], AnswerSettings())[0].text.startswith("Review math")  # meaningful
    assert select_points(follow_up, [story], AnswerSettings())[0].text.startswith("Review math")


def test_the_opening_moves_to_the_point_saying_more_of_the_weighted_words() -> None:
    general = Point(1, (statement("I have been through some technical interviews, and you should be fine."),), 0.60)
    lead_in = Unit("General cons about research:", 0, 28, UnitKind.LEAD, 1)
    cons = Point(1, (lead_in, statement("It can be very discouraging at times.")), 0.50)
    sequel = Point(2, (statement("All the other cons are also minor."),), 0.55)
    chosen = [general, sequel, cons]
    _lead_on(chosen, {"con": 1.0})
    assert chosen == [cons, general, sequel]  # the lead-in says it; the sequel never opens
    _lead_on(chosen, {})
    assert chosen == [cons, general, sequel]


def test_a_list_item_opening_on_it_comes_with_the_lists_lead_in(bot: Advisor) -> None:
    """ "It is a very competitive field ..." alone names nothing; after "General cons about doing
    research in a lab:" it says something, and each item of the list may come with it."""
    _, passages = evidence_for(bot, "what are the cons of doing research in a lab?")
    essay = next(p for p in passages if p.document.doc_id == "pros-cons")
    item = next(u for u in essay.units if u.text.startswith("It is a very competitive"))
    assert item.dependent  # what makes this test meaningful: alone, it would never be said
    loose = {"max_statements": 30, "max_sources": 50, "min_similarity": -1, "relative_floor": 0, "source_floor": 0}
    said = [
        p.text
        for p in points_for(bot, "what are the cons of doing research in a lab?", open_sources_within=30, **loose)
    ]
    lead_in = "General cons about doing research in a lab:"
    assert any(t.startswith(f"{lead_in} It is a very competitive field") for t in said)
    assert any(t.startswith(f"{lead_in} It is a slow field") for t in said)


@pytest.mark.parametrize(
    "text",
    [
        # not "It ...": "However" answers the list, it is no item of it
        "Some tips for interviews:\n\n- Practice coding.\n- Review math.\n\nHowever, none of this matters without projects.",
        # a heading stands between the lead-in's list and the sentence
        "General pros of doing research:\n\n- You learn a lot.\n\n## Industry\n\nIt pays much better than a lab.",
    ],
)
def test_a_lead_in_heads_only_the_it_items_of_its_own_list(text: str) -> None:
    units = split_units(text)
    last = len(units) - 1
    assert units[last].dependent or units[last].text.startswith("It")  # what makes this test meaningful
    assert _list_lead_in(units, last) is None
    items = split_units(
        "General cons of research:\n\n- It is a very competitive field with many applicants every year."
        "\n- It is a slow field, so your results can take many months to arrive."
    )
    assert items[0].kind is UnitKind.LEAD and _list_lead_in(items, len(items) - 1) == 0


PLANNING = """---
title: "Planning a Research Career"
kind: blog
---

## Planning

Planning your career as a researcher starts with your number 1 goal: a PhD after graduating.
It is a marathon, so keep long term goals and a plan for the next 10 years.
"""


def test_a_question_asking_how_far_ahead_opens_on_the_sentence_giving_a_span(
    tmp_path: Path, embedder: Embedder
) -> None:
    """ "how far ahead should I plan my career?" is answered by "a plan for the next 10 years",
    though the sentence holding only a rank ("number 1 goal") is closer to the question."""
    write_tiny_corpus(tmp_path)
    (tmp_path / "corpus" / "essays" / "planning.md").write_text(PLANNING, encoding="utf-8")
    advisor = Advisor(Settings.load(tmp_path, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    question = "how far ahead should I be planning my career?"
    unlifted = points_for(advisor, question, span_lift=0.0)
    assert "number 1 goal" in unlifted[0].text  # the closest sentence: what makes this test meaningful
    assert "next 10 years" in points_for(advisor, question)[0].text
    # a question asking for no span is answered as before
    other = "what should my goal be after graduating?"
    assert points_for(advisor, other)[0].text == points_for(advisor, other, span_lift=0.0)[0].text


NEEDS = """---
title: "Is a PhD for Me?"
kind: blog
---

## The PhD

AI Residency: an excellent bridge between a PhD and an industry job in AI research.
To become a professional researcher you will need professional training = a PhD programme.
"""


def test_a_question_asking_whether_something_is_needed_opens_on_the_sentence_saying_so(
    tmp_path: Path, embedder: Embedder
) -> None:
    """ "do I need a PhD to do AI research?" is answered by the sentence saying a PhD is needed,
    though a sentence that only mentions a PhD is closer to the question."""
    write_tiny_corpus(tmp_path)
    (tmp_path / "corpus" / "essays" / "phd.md").write_text(NEEDS, encoding="utf-8")
    advisor = Advisor(Settings.load(tmp_path, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    question = "do I need a PhD to do AI research?"
    assert "AI Residency" in points_for(advisor, question, need_lift=0.0)[0].text  # the premise
    assert "you will need professional training" in points_for(advisor, question)[0].text
    other = "what is an AI residency like?"  # asks for no need: answered as before
    assert points_for(advisor, other)[0].text == points_for(advisor, other, need_lift=0.0)[0].text


@pytest.mark.slow
def test_do_i_need_a_phd_is_answered_by_the_need_for_one(real_advisor: Advisor) -> None:
    answer = real_advisor.ask("do i need a phd to do ai research?")
    assert "you will need professional training = a PhD programme" in answer.text.split("\n")[0]


@pytest.mark.slow
def test_how_far_ahead_to_plan_is_answered_with_the_ten_year_plan(real_advisor: Advisor) -> None:
    answer = real_advisor.ask("how far ahead should I be planning my career?")
    assert "a plan for the next 10yrs" in answer.text.split("\n")[0]


@pytest.mark.slow
def test_an_advisor_is_found_where_the_essays_say_supervisor(real_advisor: Advisor) -> None:
    """American "advisor", British "supervisor": the FAIR researcher's warning about supervisors
    who do not mentor answers a student asking about an unhelpful advisor."""
    answer = real_advisor.ask("what do i do if my advisor doesnt help me")
    assert "Choose a good supervisor that will be also a mentor" in answer.text.split("\n")[0]


@pytest.mark.slow
def test_can_i_skip_calc_is_answered_by_the_need_for_it(real_advisor: Advisor) -> None:
    """ "Note: It's okay not to master all math at once ..." read as "yes, skip it"."""
    answer = real_advisor.ask("can i skip calc?")
    assert answer.text.split("\n")[0].startswith("At least undergraduate-level math in linear algebra, calculus")


@pytest.mark.parametrize(
    ("sentence", "question", "lifted"),
    [
        ("How to Read: Don't read linearly like a textbook.", "how should i read papers?", True),
        ("Writing the Paper: The paper is a story around your insight.", "how do i write a good research paper", True),
        ("Networking: Hiring in research often happens through recommendations.", "does networking matter?", True),
        # a label word the question does not say, or a label too general to name the ask
        ("Deep Dive: Only go deep into the math if the paper matters.", "how should i read papers?", False),
        ("Research Mindset: Even if you are wrong, this helps.", "how do i get into ai research", False),
        ("Don't read linearly like a textbook.", "how should i read papers?", False),  # no label
    ],
)
def test_a_label_naming_what_is_asked_lifts_its_statement(sentence: str, question: str, lifted: bool) -> None:
    from advisor_bot.answer.select import _labelled_as_asked

    assert _labelled_as_asked(sentence, content_stems(question)) is lifted


@pytest.mark.slow
def test_how_to_write_a_paper_opens_on_the_guide_s_writing_the_paper(real_advisor: Advisor) -> None:
    question = "how do i write a good research paper"
    assert real_advisor.ask(question).text.startswith("Writing the Paper: The paper is a story around your insight.")
    unlifted = Advisor(
        real_advisor.settings.with_overrides(**{"answer.label_lift": 0.0}), embedder=real_advisor.embedder
    )
    assert not unlifted.ask(question).text.startswith("Writing the Paper")  # the premise
