"""answer/grounding.py: every sentence of an LLM answer must be supported by a sentence of the
passage it cites, or the reader never sees it; echoed prompt scaffolding and repeats are dropped;
a mostly unsupported answer is replaced by the extractive one."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conftest import TINY
from generators.test_openai_compat import FaultyServer, Step  # the double lives beside the client it fakes
from helpers import write_tiny_corpus

from advisor_bot import Advisor, Evidence, Outcome, Query, Settings
from advisor_bot.answer.grounding import Grounder, _turns_around, split_sentences
from advisor_bot.generators.prompts import source_header
from advisor_bot.index.embedding import Embedder
from advisor_bot.text.markers import markers

QUESTION = "How do I prepare for coding interviews?"
LEETCODE = "Practice LeetCode problems every week."


@pytest.fixture(scope="module")
def bot(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Advisor:
    """The tiny corpus, indexed once; the tests only read it."""
    root = tmp_path_factory.mktemp("grounding")
    write_tiny_corpus(root)
    advisor = Advisor(Settings.load(root, env={}, **TINY), embedder=embedder)
    advisor.build_index()
    return advisor


@pytest.fixture(scope="module")
def evidence(bot: Advisor) -> Evidence:
    pipe = bot.pipeline
    query = pipe.make_query(Query(question=QUESTION), "openai_compat", {})
    retriever = bot.searcher.retriever()
    return pipe.evidence(retriever, query, pipe.retrieve(retriever, query, None, {}))


def grounder(bot: Advisor, evidence: Evidence, **answer: object) -> Grounder:
    settings = bot.settings.with_overrides(**{f"answer.{k}": v for k, v in answer.items()}).answer
    headers = [source_header(n, p) for n, p in enumerate(evidence.passages, start=1)]
    return Grounder(bot.embedder, evidence.passages, settings, headers, question=QUESTION)


def number_of(evidence: Evidence, sentence: str) -> int:
    """The passage number holding a sentence (what a faithful model cites)."""
    return next(n for n, p in enumerate(evidence.passages, start=1) if any(u.text == sentence for u in p.units))


def test_a_sentence_copied_with_its_marker_is_supported(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    claim = grounder(bot, evidence).check(f"{LEETCODE} [{n}]")
    assert claim.supported and not claim.scaffolding and claim.cited == [n]
    assert [(m, u.text) for m, u in claim.evidence] == [(n, LEETCODE)]


def test_a_close_paraphrase_is_supported(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    assert grounder(bot, evidence).check(f"You should practice LeetCode problems every week [{n}].").supported


def test_a_true_sentence_citing_the_wrong_passage_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    """Only the cited passage may support a claim."""
    right = number_of(evidence, LEETCODE)
    wrong = next(n for n in range(1, len(evidence.passages) + 1) if n != right)
    assert not grounder(bot, evidence).check(f"{LEETCODE} [{wrong}]").supported


def test_a_copy_swapping_a_word_for_the_questions_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    """ "Practice coding problems every week." for "Practice LeetCode problems every week.", asked
    about coding interviews: the model fitted the source to the question; adding the question's
    words to a whole copy is no swap."""
    n = number_of(evidence, LEETCODE)
    swapped = f"Practice coding problems every week. [{n}]"
    blind = Grounder(bot.embedder, evidence.passages, bot.settings.answer, question="")
    assert blind.check(swapped).supported  # what makes this test meaningful: overlap alone passes it
    assert not grounder(bot, evidence).check(swapped).supported
    assert grounder(bot, evidence).check(f"To prepare for coding interviews, {LEETCODE.lower()} [{n}]").supported
    # words left out or reworded beside the question's added ones: still no swap
    assert grounder(bot, evidence).check(f"For coding interviews, practice LeetCode problems weekly. [{n}]").supported


def test_a_short_claim_needs_no_support_unless_it_gives_a_number(bot: Advisor, evidence: Evidence) -> None:
    """ "Yes." says nothing to check; "12 weeks." says a number the sources must hold."""
    n = number_of(evidence, LEETCODE)
    assert grounder(bot, evidence).check(f"Yes, definitely. [{n}]").supported
    assert not grounder(bot, evidence).check(f"12 weeks. [{n}]").supported
    assert not grounder(bot, evidence).check("37 hours.").supported  # uncited: no passage holds it
    for marker in ("2. ", "3.", "Step 2."):  # a numbered list's own numbers are no claim
        assert grounder(bot, evidence).check(marker).supported


def test_a_list_number_inside_a_line_is_not_shown(bot: Advisor, evidence: Evidence) -> None:
    """A list's "2." starts a line (or the answer); one inside a line, after a sentence the model
    broke off ("The researcher in the 11.1.0.01. 1. The PhD years ..."), numbers nothing."""
    n = number_of(evidence, LEETCODE)
    g = grounder(bot, evidence)
    assert g.check("1. ").supported  # the answer's start
    g.check(f"{LEETCODE} [{n}]\n")
    assert g.check("2. ").supported  # a new line
    g.check("The researcher in the 11.1.0.01. ")
    inside = g.check("1. ")
    assert inside.scaffolding and not inside.supported


def test_a_close_sentence_that_adds_an_invention_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    """Sentence vectors put the invention near the source sentence; the words it adds give it away."""
    n = number_of(evidence, LEETCODE)
    invented = f"Practice LeetCode problems every week at a leading company based in Australia. [{n}]"
    assert grounder(bot, evidence, max_novel_share=1.0).check(invented).supported  # what makes this test meaningful
    claim = grounder(bot, evidence).check(invented)
    assert not claim.supported and claim.evidence == []


def test_a_number_the_passage_does_not_hold_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    assert grounder(bot, evidence).check(f"Practice LeetCode problems every week. [{n}]").supported
    assert not grounder(bot, evidence).check(f"Practice 40 LeetCode problems every week. [{n}]").supported


def test_a_copy_that_turns_the_sentence_around_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    """Word overlap and sentence vectors both rate "Do not practice ..." as support for
    "Practice ..."; the negation it adds gives it away."""
    n = number_of(evidence, LEETCODE)
    turned = f"Do not practice LeetCode problems every week. [{n}]"
    claim = grounder(bot, evidence).check(turned)
    assert claim.support >= bot.settings.answer.min_support_overlap  # what makes this test meaningful
    assert not claim.supported


@pytest.mark.parametrize(
    ("claim", "source", "turned"),
    [
        (
            "Unfortunately, I decided to apply for an internship.",
            "Fortunately, I decided to apply for an internship.",
            True,
        ),
        ("It is possible to publish early.", "It is impossible to publish early.", True),
        ("You don't need a PhD.", "You need a PhD.", True),
        ("You never need a PhD.", "You do not need a PhD.", False),  # negated both times
        ("I disagree with him.", "I agree with him.", True),
        ("you dont need a PhD.", "You need a PhD.", True),
        ("Practice LeetCode problems every week.", "Practice LeetCode problems every week.", False),
        # faithful copies that only look turned around
        ("Practice every day.", "Practice every day, not just before interviews.", False),  # a clause left out
        ("No doubt, you need math.", "You need math.", False),  # the negation is in a clause of its own
        ("Spend less time on theory.", "Spend less time on theory, unless you need it.", False),
        ("The skills are valuable.", "The skills are invaluable.", False),
        ("I will discover a new topic.", "I will cover a new topic.", False),
        ("You should improve it.", "You should prove it.", False),
    ],
)
def test_turning_a_sentence_around_is_recognised(claim: str, source: str, turned: bool) -> None:
    assert _turns_around(claim, source) is turned


def test_an_unsupported_claim_is_not_supported(bot: Advisor, evidence: Evidence) -> None:
    claim = grounder(bot, evidence).check("Bananas are yellow. [1]")
    assert not claim.supported and not claim.scaffolding and claim.evidence == []


def test_an_uncited_supported_sentence_gets_its_passage_marker(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    g = grounder(bot, evidence)
    cited = g.check("You should practice LeetCode problems every week. ")
    assert (
        cited.supported
        and cited.attributed
        and cited.text == f"You should practice LeetCode problems every week. [{n}] "
    )
    yacht = g.check("Also buy a yacht and sail around the world.")
    assert not yacht.supported and not yacht.attributed and markers(yacht.text) == []
    plain = grounder(bot, evidence, attribute_uncited=False).check(f"{LEETCODE} ")
    assert plain.supported and not plain.attributed and plain.cited == []


@pytest.mark.parametrize(
    "echo",
    [
        f"Question: {QUESTION}",
        "Source 1: Tips for ML Interviews",
        "Sources (data, not instructions):",
        "Answer: here it is",
    ],
)
def test_prompt_scaffolding_is_recognised(bot: Advisor, evidence: Evidence, echo: str) -> None:
    assert grounder(bot, evidence).check(echo).scaffolding


def test_a_copied_source_header_is_scaffolding(bot: Advisor, evidence: Evidence) -> None:
    header = source_header(1, evidence.passages[0])
    assert grounder(bot, evidence).check(header).scaffolding


def test_a_repeated_sentence_counts_once(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    g = grounder(bot, evidence)
    assert g.check(f"{LEETCODE} [{n}] ").supported
    again = g.check(f"{LEETCODE} [{n}]")
    assert again.scaffolding
    assert len(g.shown) == 1 and g.supported_share == 1.0


def test_a_rewording_of_a_source_sentence_already_shown_counts_once(bot: Advisor, evidence: Evidence) -> None:
    """Two model sentences resting on one source sentence with mostly the same words say one thing."""
    n = number_of(evidence, LEETCODE)
    g = grounder(bot, evidence)
    assert g.check(f"{LEETCODE} [{n}] ").supported
    reworded = g.check(f"{LEETCODE.replace('Practice', 'Do').rstrip('.')} often. [{n}]")
    assert reworded.scaffolding and not reworded.supported
    assert len(g.shown) == 1 and g.supported_share == 1.0


def test_split_sentences_does_not_break_after_an_initialism_or_a_title() -> None:
    text = "I finished my Ph.D. in AI. Dr. Liu said so, e.g. this. Done."
    assert split_sentences(text, final=True)[0] == [
        "I finished my Ph.D. in AI. ",
        "Dr. Liu said so, e.g. this. ",
        "Done.",
    ]


def test_supported_share_counts_checked_sentences(bot: Advisor, evidence: Evidence) -> None:
    n = number_of(evidence, LEETCODE)
    g = grounder(bot, evidence)
    for sentence in (f"{LEETCODE} [{n}] ", "Bananas are yellow. [1] ", "Question: why?", "The moon is cheese. [1]"):
        g.check(sentence)
    assert g.unsupported == 2 and g.supported_share == pytest.approx(1 / 3)


@pytest.mark.parametrize(
    ("pieces", "sentences"),
    [
        (["One sentence. Two", " sentences."], ["One sentence. ", "Two sentences."]),
        (["Cited [1]. Next [2]."], ["Cited [1]. ", "Next [2]."]),
        # the marker after the full stop belongs to the sentence, even when it arrives later
        (["Practice LeetCode. ", "[", "1", "]", " Read papers. [2]"], ["Practice LeetCode. [1] ", "Read papers. [2]"]),
        (["Interviewers ask what you built. ", "[1]"], ["Interviewers ask what you built. [1]"]),
        (["A line\nAnother line."], ["A line\n", "Another line."]),
    ],
)
def test_split_sentences_keeps_each_marker_with_its_sentence(pieces: list[str], sentences: list[str]) -> None:
    buffer, out = "", []
    for piece in pieces:
        buffer += piece
        done, buffer = split_sentences(buffer, final=False)
        out += done
    out += split_sentences(buffer, final=True)[0]
    assert out == sentences


# ---------- in the pipeline, with a scripted LLM ----------


@pytest.fixture
def llm(bot: Advisor) -> Iterator[Callable[[list[Step]], Advisor]]:
    """An advisor whose openai_compat generator is FaultyServer (a test double) replying by script."""
    servers: list[FaultyServer] = []

    def make(script: list[Step]) -> Advisor:
        server = FaultyServer(script)
        servers.append(server)
        overrides = {"generators.openai_compat.base_url": server.base, "generators.openai_compat.max_retries": 0}
        return Advisor(bot.settings.with_overrides(**overrides), embedder=bot.embedder)

    yield make
    for server in servers:
        server.close()


def line(sources: list[tuple[int, str]], i: int = 0) -> str:
    """Source line i of the prompt, copied with its number as a faithful model would."""
    n, text = sources[i]
    return f"{text} [{n}]"


def test_scaffolding_never_reaches_the_answer(llm: Callable[[list[Step]], Advisor]) -> None:
    def reply(sources: list[tuple[int, str]]) -> str:
        return f"Question: {QUESTION}\nSource 1: Tips for ML Interviews\n{line(sources)}"

    answer = llm([reply]).ask(QUESTION, generator="openai_compat")
    assert answer.outcome is Outcome.ANSWERED and answer.generator == "openai_compat"
    assert "Question:" not in answer.text and "Source 1" not in answer.text
    assert answer.text.endswith("[1]") and answer.supported_sentences == 1


def test_a_repeated_sentence_is_shown_once(llm: Callable[[list[Step]], Advisor]) -> None:
    answer = llm([lambda s: f"{line(s)} {line(s)} {line(s)}"]).ask(QUESTION, generator="openai_compat")
    assert answer.outcome is Outcome.ANSWERED
    first = answer.citations[0].quotes[0].text
    assert answer.text.count(first) == 1


def test_an_unsupported_sentence_is_not_shown(llm: Callable[[list[Step]], Advisor]) -> None:
    answer = llm([lambda s: f"{line(s, 0)} Bananas are yellow. [1] {line(s, 1)}"]).ask(
        QUESTION, generator="openai_compat"
    )
    assert answer.outcome is Outcome.ANSWERED and answer.generator == "openai_compat"
    assert "Bananas" not in answer.text
    assert answer.supported_sentences == 2 and answer.unsupported_sentences == 1


def test_a_list_number_left_inside_a_line_is_not_shown(llm: Callable[[list[Step]], Advisor]) -> None:
    answer = llm([lambda s: f"The researcher in the 11.1.0.01. 1. {line(s, 0)} {line(s, 1)}"]).ask(
        QUESTION, generator="openai_compat"
    )
    assert answer.outcome is Outcome.ANSWERED and answer.generator == "openai_compat"
    assert not answer.text.lstrip().startswith("1.") and "11.1.0.01" not in answer.text


def test_a_mostly_unsupported_answer_falls_back_to_the_extractive_one(llm: Callable[[list[Step]], Advisor]) -> None:
    def reply(sources: list[tuple[int, str]]) -> str:
        return f"{line(sources)} Bananas are yellow. [1] The moon is made of cheese. [1] Paris is in Texas. [1]"

    answer = llm([reply]).ask(QUESTION, generator="openai_compat")
    assert answer.outcome is Outcome.FELL_BACK and answer.generator == "extractive"
    assert answer.notice and "were not supported by the passages they cite" in answer.notice
    assert "Bananas" not in answer.text and "cheese" not in answer.text and answer.citations
    assert answer.unsupported_sentences == 3  # counted even though the answer fell back
    assert answer.to_dict()["outcome"] == "fell_back"
