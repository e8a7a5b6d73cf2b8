"""Chat spelling -> the words essays use, so "can i skip calc?" searches for calculus.

Students type abbreviations and slang that no essay contains; searched as typed they match
nothing (and the relevance gate counts them as unknown words). The question is shown as
typed; only the search query is rewritten. The table is general student vocabulary, not
words picked from any question set.
"""

from __future__ import annotations

import re

INFORMAL: dict[str, str] = {
    "calc": "calculus",
    "linalg": "linear algebra",
    "lin alg": "linear algebra",
    "stats": "statistics",
    "probs": "probability",
    "uni": "university",
    "univ": "university",
    "undergrad": "undergraduate",
    "undergrads": "undergraduates",
    "grad school": "graduate school",
    "prof": "professor",
    "profs": "professors",
    "ppl": "people",
    "ur": "your",
    "u": "you",
    "rn": "right now",
    "tbh": "to be honest",
    "imo": "in my opinion",
    "idk": "I don't know",
    "dunno": "don't know",
    "w/": "with",
    "w/o": "without",
    "b/c": "because",
    "bc": "because",
    "cuz": "because",
    "wanna": "want to",
    "gonna": "going to",
    "gotta": "have to",
    "kinda": "kind of",
    "sorta": "sort of",
    "gimme": "give me",
    "lemme": "let me",
    "im": "I'm",
    "ive": "I've",
    "dont": "don't",
    "cant": "can't",
    "doesnt": "doesn't",
    "isnt": "isn't",
    "whats": "what's",
    "hows": "how's",
    "yr": "year",
    "yrs": "years",
    "hrs": "hours",
    "wk": "week",
    "cs": "computer science",
    "swe": "software engineer",
    "sde": "software engineer",
    "mle": "machine learning engineer",
    "dl": "deep learning",
    "nn": "neural network",
    "nns": "neural networks",
    "llms": "large language models",
    "sota": "state of the art",
    "doctorate": "PhD",
    # the essays weigh "pros" and "cons" (not the singular "advantage" or "benefit": "take
    # advantage of", "will it benefit me")
    "downside": "cons",
    "downsides": "cons",
    "drawback": "cons",
    "drawbacks": "cons",
    "disadvantage": "cons",
    "disadvantages": "cons",
    "advantages": "pros",
    "benefits": "pros",
    # American "advisor", the British essays' "supervisor"
    "advisor": "advisor (supervisor)",
    "advisors": "advisors (supervisors)",
    "adviser": "adviser (supervisor)",
    "advisers": "advisers (supervisors)",
    "facebook": "Facebook (Meta, FAIR)",
    "freshman": "first-year (Year 1) student",
    "freshmen": "first-year (Year 1) students",
    "sophomore": "second-year (Year 2) student",
    "spaghetti": "messy",
    "rec letter": "recommendation letter",
    "rec letters": "recommendation letters",
    "lc": "leetcode",
    "phd's": "PhDs",
    "comp sci": "computer science",
    "math-y": "mathematical",
    "mathsy": "mathematical",
    "maths": "math",
    "pls": "please",
    "plz": "please",
    "thx": "thanks",
    "tho": "though",
    "thru": "through",
    "smth": "something",
    "sth": "something",
    "abt": "about",
    "prep": "prepare",
    "prepping": "preparing",
    "bcs": "because",
    "lit review": "literature review",
    "lit reviews": "literature reviews",
    "diff": "difference",
    "diff eq": "differential equations",
    "diff eqs": "differential equations",
    "pick": "choose",
    "picking": "choosing",
    "picked": "chose",
}

_PATTERN = re.compile(
    r"(?<![\w/])(" + "|".join(re.escape(k) for k in sorted(INFORMAL, key=len, reverse=True)) + r")(?![\w/])",
    re.IGNORECASE,
)


def formalise(text: str) -> str:
    """The text with chat spellings replaced by the essays' words; everything else as typed."""
    return _PATTERN.sub(lambda m: INFORMAL[m.group(1).lower()], text)
