"""What a sentence does (tells the reader what to do, tells the writer's own story, or talks
about the essay itself) and what a question wants (what to do, or what someone did).

Sentence vectors place "Do not do technical ML research if you are struggling with either
math or coding." and "If you are often unsure about pursuing ML, don't worry, you are not
alone. I was also unsure..." equally near "im bad at math, can i still do ml research?";
a student asking what to do wants the first. Wording tells them apart well enough to break
such near-ties, so the answer leads with advice rather than narrative or an essay's preamble
("As a professional researcher ..., I will give you my perspective.").
"""

from __future__ import annotations

import re

# Words that address the reader or weigh what to do.
_ADVICE = re.compile(
    r"\b(?:you|your|you're|you'll|yourself|should|shouldn't|must|need to|needs to|have to|recommend\w*|"
    r"don't|do not|never|always|avoid|try|make sure|focus|consider|worth|important|helps?|"
    r"start with|start by|instead|rather than|better to|it's (?:ok|okay|fine|good|better))\b",
    re.IGNORECASE,
)
# A sentence opening with an order ("Learn to replicate ...", "Open Source: Put your ...").
_IMPERATIVE = re.compile(
    r"^(?:[A-Z][\w /&'-]{0,40}:\s*)?(?:Don't|Do|Be|Try|Learn|Read|Write|Build|Focus|Start|Keep|Make|Find|Get|"
    r"Go|Take|Use|Pick|Choose|Ask|Apply|Reach|Join|Work|Practice|Practise|Spend|Look|Review|Put|Set|Think|Avoid|"
    r"Stay|Aim|Consider|Remember|Watch|Follow|Treat|Invest|Develop|Master|Study|Publish|Show|Share|Select|Attend|"
    r"Filter|Download|Run|Never|Always|Specialize|Specialise|Narrow|Prioriti[sz]e|Seek|Talk|Check|Prepare)\b"
)
# The writer's own past: a first-person subject with a past-tense verb.
_STORY = re.compile(
    r"\b(?:I|we|my|our)\b[^.!?]*?\b(?:was|were|had|did|got|went|joined|started|decided|realized|realised|"
    r"tried|found|spent|applied|asked|remembered|met|worked|learned|learnt|enjoyed|thought|felt|wanted|became|"
    r"ended|took|gave|made|received|offered|published|won|\w{3,}ed)\b"
)
# The essay talking about itself: its purpose, its reader, its structure.
_META = re.compile(
    r"\b(?:this (?:post|blog|article|essay|guide|section|piece|write-?up)|in this (?:post|blog|article)|"
    r"I (?:want|wanted|will|'ll|hope|tried|won't) (?:to )?(?:share|cover|talk|write|bring|give you|assume)|"
    r"my (?:advice|perspective|tips) will|I will give you|I (?:do )?hope (?:I|this|these|my) |"
    r"feel free to|read on|skip to|fellow readers|(?:at )?the time of writing|as mentioned (?:above|below|earlier)|"
    # announcing the question a section answers: "Some might wonder what the difference ... is."
    r"(?:some|many)(?: people| of you| students)? (?:might |may |often |will )?(?:wonder|ask (?:whether|if|what|how|why))|"
    r"you (?:might|may) (?:be )?wonder(?:ing)?)\b",
    re.IGNORECASE,
)
# A question about what someone did or said, rather than about what the asker should do.
_ABOUT_SOMEONE = re.compile(
    r"\b(?:he|she|his|her|him|they|their|the author|the (?:\w+ ){0,3}(?:guy|student|researcher|author|writer|"
    r"person|blog|post|essay)|(?:how|what|when|why|where) did|did (?:he|she|they))\b",
    re.IGNORECASE,
)


# A sentence that carries on from an earlier one: it opens with a sequel ("Shortly after, ...",
# "At this point, ...") or an addition to something already named ("All the other courses ... are
# also great"), or, anywhere, "these" points back ("comfortable with these topics"). Fine inside
# its source's group, where the sentence before it is near; not as the opening line of an
# answer. Kept narrow: "also" or "Especially if ..." inside a lead read well.
_CONTINUES = re.compile(
    r"^(?:[^\W\d_][\w /&'-]{0,40}:\s*)?(?:shortly after|not long after|soon after|at this point|at that point|"
    r"going to the next|on the other hand|(?:all )?the other(?! day| week| year)|the rest of the|the same goes)\b"
    r"|(?<!of )\bthese (?!days\b|are\b|were\b|include\b)[a-z]+\b(?!\s*:)",  # "these books: ..." points ahead
    re.IGNORECASE,
)


_SCORE = {"advice": 1.0, "neutral": 0.0, "story": -1.0, "meta": -1.0}


def _kind(text: str) -> str:
    """One of "meta" (the essay about itself), "advice", "story" (the writer's own past), "neutral"."""
    if _META.search(text):
        return "meta"
    advice = bool(_IMPERATIVE.match(text) or _ADVICE.search(text))
    story = bool(_STORY.search(text))
    if advice != story:
        return "advice" if advice else "story"
    return "neutral"


def advice_score(text: str) -> float:
    """+1 for a sentence that tells the reader what to do, -1 for one about the writer's own
    past or about the essay itself, 0 for anything else or a mix."""
    return _SCORE[_kind(text)]


def talks_about_itself(text: str) -> bool:
    """True for an essay's preamble or signposting ("I will give you my perspective.", "Feel free
    to skip to Careers"): never a point worth quoting."""
    return bool(_META.search(text))


def opens_an_answer(text: str) -> bool:
    """False for a sentence that carries on from one before it ("All the other courses ... are
    also great", "Shortly after, I was offered an internship ..."): it reads well in its
    source's group, but an answer should open on a sentence that stands alone."""
    return not _CONTINUES.search(text)


def asks_about_someone(question: str) -> bool:
    """True for "how did the NTU student get his first internship?", False for "how do I get one?"."""
    return bool(_ABOUT_SOMEONE.search(question))


def style_lift(text: str, about_someone: bool, weight: float) -> float:
    """What a sentence's wording adds to its score: advice is lifted for a question asking what
    to do; for a question about someone (`asks_about_someone`), their story is lifted (by half),
    never the essay talking about itself."""
    if not weight:
        return 0.0
    kind = _kind(text)
    if not about_someone:
        return weight * _SCORE[kind]
    return {"story": 0.5 * weight, "meta": -weight}.get(kind, 0.0)
