"""answer/citations.py: every [n] marker is checked against the passages given and renumbered by
first use while the answer streams; the Answer's citations follow the text."""

from __future__ import annotations

from advisor_bot import Advisor
from advisor_bot.answer.citations import CitationFilter
from advisor_bot.text.markers import markers, strip_markers


def run(pieces: list[str], passages: int = 3) -> tuple[str, CitationFilter]:
    f = CitationFilter(passages)
    return "".join(f.stream(iter(pieces))), f


def test_valid_markers_are_renumbered_by_first_use() -> None:
    text, f = run(["Use LeetCode [3]. Review maths [1]. LeetCode again [3]."])
    assert text == "Use LeetCode [1]. Review maths [2]. LeetCode again [1]."
    assert f.order == {3: 1, 1: 2}
    assert f.dropped == 0


def test_markers_naming_no_passage_are_dropped_and_counted() -> None:
    text, f = run(["A claim [7]. Another [0]. Fine [2]."])
    assert text == "A claim. Another. Fine [1]."
    assert f.dropped == 2


def test_markers_split_across_pieces() -> None:
    text, f = run(["Practice coding ", "[", "2", "] and maths [", "9]", "."])
    assert text == "Practice coding [1] and maths."
    assert f.dropped == 1


def test_grouped_and_labelled_markers() -> None:
    text, _ = run(["Both say so [1, 2]. Also [Source 3]; and [passage 2; 9]."])
    assert text == "Both say so [1][2]. Also [3]; and [2]."


def test_links_and_other_brackets_are_left_alone() -> None:
    text, f = run(["See [the guide](https://x.org) and [sic] and [1a]."])
    assert text == "See [the guide](https://x.org) and [sic] and [1a]."
    assert f.order == {}


def test_unclosed_bracket_is_flushed_as_text() -> None:
    text, _ = run(["price [", "unknown"])
    assert text == "price [unknown"


def test_markers_are_found_and_stripped() -> None:
    text = "- Practice LeetCode. [1]\n- Review maths [2]. Keep going [1, 3]."
    assert markers(text) == [1, 2, 1, 3]
    assert strip_markers(text) == "- Practice LeetCode.\n- Review maths. Keep going."


def test_answer_citations_follow_the_text(tiny_advisor: Advisor) -> None:
    """Numbered 1, 2, ... in order of first use; each quotes the sentences of its passage the
    answer said, with offsets the UI highlights."""
    answer = tiny_advisor.ask("How do I prepare for coding interviews?")
    used = list(dict.fromkeys(markers(answer.text)))
    assert used == [c.n for c in answer.citations] == list(range(1, len(answer.citations) + 1))
    for c in answer.citations:
        assert c.passage in answer.passages and c.quotes
        assert all(u in c.passage.units for u in c.quotes)
        assert [u.start for u in c.quotes] == sorted(u.start for u in c.quotes)
        for u in c.quotes:
            assert c.passage.text[u.start : u.end] == u.text  # plain sentences: source equals display
            assert u.text in answer.text
        d = c.to_dict()
        assert d["n"] == c.n and d["highlights"] == [[u.start, u.end] for u in c.quotes]
        assert d["quote"] == " ".join(u.text for u in c.quotes)


def test_every_marker_in_an_answer_names_a_citation(tiny_advisor: Advisor) -> None:
    for question in ("how should I choose a PhD supervisor?", "how do I read papers fast?"):
        answer = tiny_advisor.ask(question)
        numbers = {c.n for c in answer.citations}
        assert set(markers(answer.text)) == numbers
        assert answer.dropped_citations == 0
