"""text/style.py: advice, the writer's story, or the essay talking about itself; and whether a
question asks what to do or what someone did."""

from __future__ import annotations

import pytest

from advisor_bot.text.style import advice_score, asks_about_someone, opens_an_answer, style_lift, talks_about_itself


@pytest.mark.parametrize(
    "sentence",
    [
        "Do not do technical ML research if you are struggling with either math or coding.",
        "Open Source: Put your implementations on GitHub.",
        "Learn to replicate interesting research papers from scratch.",
        "I would recommend starting with the Kaggle Playground.",
    ],
)
def test_advice_scores_plus_one(sentence: str) -> None:
    assert advice_score(sentence) == 1.0


@pytest.mark.parametrize(
    "sentence",
    [
        "I joined the lab and was assigned to work on a project.",
        "During the interview, I shared my experiences in MLDA.",
    ],
)
def test_the_writers_story_scores_minus_one(sentence: str) -> None:
    assert advice_score(sentence) == -1.0


@pytest.mark.parametrize(
    "sentence",
    [
        "As a professional researcher at a top 3 universities in the USA, I will give you my perspective.",
        "My advice will be mainly focused on what on average you need to increase your chances of success.",
        "Feel free to skip to Careers to get tips on starting your AI journey!",
        "Though I may not be as good as experts, I do hope I bring some insights to the table.",
        "In this post I want to share how I got started.",
        "Some might wonder what the difference between ML researcher and ML engineer is.",
        "You might be wondering whether a PhD is worth it.",
    ],
)
def test_an_essay_talking_about_itself_is_recognised(sentence: str) -> None:
    assert talks_about_itself(sentence)
    assert advice_score(sentence) == -1.0  # even when it addresses "you"


@pytest.mark.parametrize(
    "sentence",
    [
        "Calculus, Linear Algebra, and Probability are used all the time in AI research.",
        "You will fail a lot, and that is okay.",
        "I hope you enjoy the ride.",  # a wish to the reader, not signposting
        "Many people ask for help too late.",
    ],
)
def test_content_is_not_taken_for_preamble(sentence: str) -> None:
    assert not talks_about_itself(sentence)


def test_a_sentence_mixing_advice_and_story_is_neutral() -> None:
    assert advice_score("I tried too many projects at once, so you should pick one.") == 0.0


@pytest.mark.parametrize(
    ("question", "about_someone"),
    [
        ("how did the NTU student get his first internship?", True),
        ("what did the Berkeley PhD guy say about luck?", True),
        ("how do I get my first internship?", False),
        ("im bad at math, can i still do ml research?", False),
    ],
)
def test_questions_about_someone_are_told_apart(question: str, about_someone: bool) -> None:
    assert asks_about_someone(question) is about_someone


def test_the_lift_follows_what_the_question_wants() -> None:
    advice = "Ask your professors early."
    story = "I asked my professors and they said no."
    preamble = "Feel free to skip to the tips."
    for_me, about_him = False, asks_about_someone("what did he do when professors said no?")
    assert not asks_about_someone("should I ask professors?")
    assert style_lift(advice, for_me, 0.1) == pytest.approx(0.1)
    assert style_lift(story, for_me, 0.1) == pytest.approx(-0.1)
    assert style_lift(story, about_him, 0.1) == pytest.approx(0.05)  # his story, lifted by half
    assert style_lift(advice, about_him, 0.1) == 0.0
    assert style_lift(preamble, about_him, 0.1) == pytest.approx(-0.1)
    assert style_lift(advice, for_me, 0.0) == 0.0


@pytest.mark.parametrize(
    ("sentence", "opens"),
    [
        ("All the other courses offered by DeepLearning.ai are also great, and I highly recommend them!", False),
        ("Shortly after, I was offered an internship to work on Autonomous Mobile Robot Navigation.", False),
        ("At this point, I just read through different researches of NTU professors.", False),
        ("Going to the next summer, I was again excited to look for an internship.", False),
        ("An AI researcher should be comfortable with these topics before diving into research.", False),
        ("Deep Learning Specialization is a good starting point for beginners in Deep Learning.", True),
        ("Anyone can contribute, as many of these recommendations show.", True),
        ("Research moves faster these days than ever before.", True),
        ("Make sure you know these topics: linear algebra, probability and calculus.", True),
        ("The other day I met my advisor and asked about internships.", True),
        ("On the other hand, industry pays more.", False),
        # "also" and "Especially" inside a sentence do not make it a sequel
        ('I also realized that there are many "luck" involved in my journey.', True),
        ("Especially if you are going the academia route, the pay would probably not be great at all.", True),
        ("Reach Out: Contact professors, senior PhD students, or even authors of papers you admire.", True),
    ],
)
def test_a_sentence_that_carries_on_does_not_open_an_answer(sentence: str, opens: bool) -> None:
    assert opens_an_answer(sentence) is opens
