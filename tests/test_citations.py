from advisor_bot.citations import CitationFilter, markers, sentences_citing


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


def test_markers_and_claims() -> None:
    text = "- Practice LeetCode. [1]\n- Review maths [2]. Keep going [1]."
    assert markers(text) == [1, 2, 1]
    claims = sentences_citing(text)
    assert claims[1] == ["Practice LeetCode.", "Keep going."]
    assert claims[2] == ["Review maths."]
