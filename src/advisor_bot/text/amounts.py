"""Numbers a question asks for and numbers a sentence holds.

"how long is a PhD?" wants a span of time, "what salary ..." a figure; "your number 1 goal"
and "a top 3 university" hold neither (a rank is no amount). The relevance grade uses this to
notice a question whose best statements hold no number (answer/relevance.py), and the
selection to open a "how far ahead should I plan?" answer on the sentence that gives the span
("a plan for the next 10yrs"), not on the closest one that gives none (answer/select.py).
"""

from __future__ import annotations

import re

# Questions whose answer is a number, a date, a price or a score.
QUANTITY = re.compile(
    r"\b(?:how (?:many|long|old|often)|how much (?:does|do|did|is|are|was|will|money|time)|"
    r"when (?:is|was|does|do|did|are|will)|what (?:year|date|time)|"
    r"(?:salary|salaries|compensation|comp|tuition|gpa|gre|deadlines?|cutoffs?|acceptance rates?|prices?|fees?|"
    r"hourly|per hour|per week|hrs)\b)",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
# A rank or a label, not an amount: "your number 1 goal", "#1 priority", "a top 3 university".
_NOT_AMOUNT = re.compile(r"(?:\bnumber|\bno\.|#|\btop)\s*\d+(?![\d%])", re.IGNORECASE)  # "top 1%" is a share
_AMOUNT = r"(?<![\d.,])\d+(?:[.,]\d+)?(?:\s*[-–]\s*\d+(?:[.,]\d+)?)?\s*\+?"
# a span of time, or a year a span can be counted from ("spring of 2018 ... until winter 2019")
_UNITS = (
    r"[-\s]*(?:years?|yrs?|y|months?|mos?|weeks?|wks?|days?|hours?|hrs?|h|minutes?|mins?|semesters?|summers?|"
    r"decades?)\b"
)
_DURATION = re.compile(_AMOUNT + _UNITS + r"|\b(?:19|20)\d\d\b", re.IGNORECASE)
# an amount of time itself: a year alone ("I joined in 2019") gives none
_SPAN = re.compile(_AMOUNT + _UNITS, re.IGNORECASE)
# "how long is a PhD?": the answer is a duration, and "your number 1 goal" is none
_ASKS_DURATION = re.compile(r"\bhow long\b", re.IGNORECASE)
# "how far ahead should I plan?" asks for a span too, though not for a number the grade checks
_ASKS_SPAN = re.compile(r"\bhow (?:long|far (?:ahead|out|in advance))\b", re.IGNORECASE)
# "how long should my statement of purpose be?" asks for a length, not for a span of time
_ASKS_LENGTH = re.compile(
    r"\bhow long\b.*\b(?:statements?|essays?|sops?|cvs?|resumes?|letters?|e-?mails?|abstracts?|posts?|blogs?|"
    r"slides?|talks?|presentations?|messages?|answers?|bios?)\b",
    re.IGNORECASE,
)


# "how much time should I spend on leetcode?" is answered by "I do not recommend spending too
# much time on it": an amount of time in words
_ASKS_TIME = re.compile(r"\bhow much (?:of (?:my|your) )?time\b", re.IGNORECASE)
_TIME_IN_WORDS = re.compile(
    r"\b(?:too much|too little|so much|a lot of|lots of|more|less|little|most of (?:your|my|the)|"
    r"(?:all|half) (?:of )?(?:your|my|the))\s+(?:free |spare )?time\b",
    re.IGNORECASE,
)


def asks_quantity(question: str) -> bool:
    """Whether the question's answer is a number, a date, a price or a score."""
    return bool(QUANTITY.search(question))


def asks_span(question: str) -> bool:
    """Whether the question asks how long something takes or how far ahead to look (not how
    long a text should be)."""
    return bool(_ASKS_SPAN.search(question)) and not _ASKS_LENGTH.search(question)


def holds_span(text: str) -> bool:
    """Whether the text gives an amount of time ("10yrs", "a 12-week internship"; not a year
    alone, nor a rank)."""
    return bool(_SPAN.search(_NOT_AMOUNT.sub(" ", text)))


def holds_amount(question: str, text: str) -> bool:
    """Whether a statement holds the kind of number a question asks for: a duration for "how
    long" ("a plan for the next 10yrs"), any figure otherwise, but never a rank ("your number 1
    goal" says nothing of how long a PhD takes); for "how much time", an amount in words too
    ("spending too much time on it"). Counting what was counted ("how many papers"
    against "reading 5-20 papers") was tried: it refused answerable dev questions whose count
    sits past the three best statements (bench/calibrate_refusal.py, docs/RETRIEVAL.md)."""
    if _ASKS_TIME.search(question) and _TIME_IN_WORDS.search(text):
        return True
    text = _NOT_AMOUNT.sub(" ", text)
    if _ASKS_DURATION.search(question):
        return bool(_DURATION.search(text))
    return bool(_DIGIT.search(text))
