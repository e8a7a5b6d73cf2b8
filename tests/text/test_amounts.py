"""text/amounts.py: the kind of number a question asks for, and whether a sentence holds it."""

from __future__ import annotations

import pytest

from advisor_bot.text.amounts import asks_quantity, asks_span, holds_amount, holds_span


@pytest.mark.parametrize(
    ("question", "statement", "holds"),
    [
        # a rank is no amount: the real corpus answered "how long is a PhD?" with this as covered
        ("how long is a PhD?", "So pursuing a PhD should be your number 1 goal mid-term.", False),
        ("how long is a PhD?", "It was my #1 priority and I joined a top 3 lab.", False),
        ("how far ahead, how long, should I plan?", "Think about long term goals (a plan for the next 10yrs).", True),
        ("how long did his first paper take?", "It started in spring of 2018 and was done in winter 2019.", True),
        ("how long does it take each week?", "Reading 5-20 papers on a single topic gives good exposure.", False),
        ("how many papers did he co-author?", "I was able to be co-authors on 2 papers on the topic.", True),
        ("what salary do they make?", "Some labs pay $150k to new graduates.", True),
        ("how long is the internship?", "It is a 12-week internship, or a 3-month one.", True),
        ("how long is a PhD there?", "Most take 5y, some ~3mo more.", True),
        ("what's the hourly rate?", "Interns earn $25/hr.", True),  # money, not a duration
        ("how old were you when you started?", "I started at 22.", True),
        ("how much time should i spend on leetcode", "I do not recommend spending too much time on it.", True),
        ("how much of my time goes to reading?", "Most of your time goes to experiments.", True),
        ("how much time does a PhD take?", "The PhD years are the years you will be trained.", False),
        ("how many hours should I spend on it?", "I do not recommend spending too much time on it.", False),
    ],
)
def test_a_statement_holds_the_kind_of_number_asked_for(question: str, statement: str, holds: bool) -> None:
    assert holds_amount(question, statement) is holds


@pytest.mark.parametrize(
    ("question", "quantity", "span"),
    [
        ("how long is a PhD?", True, True),
        ("how far ahead should I be planning my career?", False, True),
        ("How far in advance do I apply?", False, True),
        ("how far did he get?", False, False),
        ("how long should my statement of purpose be?", True, False),  # a length, not a span of time
        ("How long is a PhD going to be?", True, True),
        ("how long should a cold email to a professor be", True, False),
        ("how many papers do I need?", True, False),
        ("what is the salary of a research scientist?", True, False),
        ("how do I read a paper?", False, False),
    ],
)
def test_what_a_question_asks_for(question: str, quantity: bool, span: bool) -> None:
    assert asks_quantity(question) is quantity
    assert asks_span(question) is span


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("keep a plan for the next 10yrs", True),
        ("a 12-week internship", True),
        ("from spring 2018 until winter 2019", False),  # years, not an amount of time
        ("I joined Google in 2019", False),
        ("$2000 a month", False),
        ("your number 1 goal", False),
        ("a top 3 university", False),
        ("reading 5-20 papers", False),
    ],
)
def test_a_span_of_time(text: str, span: bool) -> None:
    assert holds_span(text) is span
