from advisor_bot.sentences import split_units

TEXT = """## Computer Vision
Systems that interpret images, e.g. photos or video. They power object detection.
List of topics to start learning:
- Image Classification
- Object Detection
- Semantic Segmentation

- Practice Leetcode and other coding platforms - Surprisingly, this is still used even for ML research roles.
> **@someone** Get as close to as many GPUs as early as possible. Nothing else matters as much.
"""


def test_units_locate_their_text() -> None:
    for unit in split_units(TEXT):
        if not unit.is_list:
            assert TEXT[unit.start:unit.end] == unit.text


def test_sentences_split_but_not_at_abbreviations() -> None:
    texts = [u.text for u in split_units(TEXT)]
    assert "Systems that interpret images, e.g. photos or video." in texts
    assert "They power object detection." in texts


def test_short_list_items_stay_together_with_their_lead() -> None:
    lists = [u for u in split_units(TEXT) if u.is_list]
    assert len(lists) == 1
    assert lists[0].text == "List of topics to start learning: Image Classification; Object Detection; Semantic Segmentation"


def test_headings_are_not_units_and_quote_markers_are_dropped() -> None:
    texts = [u.text for u in split_units(TEXT)]
    assert not any(t.startswith("#") for t in texts)
    assert "**@someone** Get as close to as many GPUs as early as possible." in texts
    assert any(t.startswith("Practice Leetcode") for t in texts)
