"""The options of an "X or Y" question, so the answer can give each side its own evidence.

    "should I do a PhD or go to industry?"          -> a PhD | go to industry
    "PhD vs going straight into industry vs a startup for an AI career" -> PhD | going straight
                                                       into industry | a startup
    "famous but busy lab vs someone who'll guide me" -> famous but busy lab | someone who'll guide me
    "compare how the NTU student and the Berkeley PhD guy each got their first research break"
                                                    -> the NTU student | the Berkeley PhD guy

Each option comes with a question about it alone ("should I do a PhD?"), which is what the
pipeline embeds and retrieves with.
"""

from __future__ import annotations

import re

MAX_OPTION_WORDS = 6
_SEPARATOR = re.compile(r"\s+(?:or|vs\.?|versus)\s+", re.IGNORECASE)
# Words after which an option starts ("should I *do* a PhD", "choosing *between* ...").
_FRAME = re.compile(
    r"\b(?:should i|do i|would you|better to|between|choose|choosing|pick|picking|go for|go with|do|doing|"
    r"did (?:i|you|he|she|they|we|it)|take|"
    r"taking|get|getting|join|joining|keep|keeping|stay|staying|study|studying|learn|learning|use|using|work on|"
    r"try|become|pursue|pursuing|is|are|it's)\b\s*",
    re.IGNORECASE,
)
_VERB_START = re.compile(
    r"^(?:go|going|stay|staying|join|joining|work|working|do|doing|take|taking|get|getting|keep|keeping|become|"
    r"start|starting|leave|leaving|switch|switching|quit|learn|learning|study|studying|apply|applying|pursue|"
    r"pursuing|try|use|using|focus|specialize|specialise|build|write|read|move|moving)\b",
    re.IGNORECASE,
)
_CLAUSE_END = re.compile(
    r"\s*(?:[,;—–]|\s-\s|\bfor\b|\bto get\b|\bif\b|\bwhen\b|\bwhich\b|\bwhat\b|\bhow\b|\babout\b)", re.IGNORECASE
)
# "compare [and contrast] [how] A and B [each|both ...] [for X]": two things set side by side
_COMPARE = re.compile(
    r"^(?:(?:can|could|would) you\s+|please\s+|pls\s+|and\s+|so\s+|ok\s+|now\s+)*"
    r"(?:compare|contrast)(?:\s+and\s+(?:compare|contrast))?\s+",
    re.IGNORECASE,
)
_WH = re.compile(r"(?:how (?:long|much|many|often)|how|what|why|when|where|whether)\s+", re.IGNORECASE)
_NOT_SIDES = {"the two", "them", "these", "those", "it", "this", "that", "myself", "yourself", "me", "us", "you"}
_SHARED_TAIL = re.compile(r"\s+(?:each|both|for|in|on|at|when|if|as)\b", re.IGNORECASE)
# "did the NTU student or the Berkeley PhD *have more papers*": when the options are who did
# something (the question opens on did/does/has ...), a verb after the last option's first word
# starts what is asked of every option
_SUBJECTS = re.compile(r"^\s*(?:did|does|has|have|had)\s+(?=(?:the|a|an)\b|[A-Z](?!\b))", re.IGNORECASE)
_TAIL_VERB = re.compile(
    r"(?<=\w)\s+(?=(?:have|has|had|got|get|make|made|earn|earned|publish|published|write|wrote|say|said|think|"
    r"thought|talk|talked|mention|mentioned|recommend|recommended|suggest|suggested)\b)",
    re.IGNORECASE,
)
# "or should I ...", "or is that ...": a new question; "or do it myself" is an option ("do" + object)
_NEW_QUESTION = re.compile(
    r"(?:(?:should|can|could|will|would|does|did|is|are|am)\s+(?:i|you|we|it|that|this|they|he|she|there)"
    r"|do\s+(?:i|you|we|they))\b",
    re.IGNORECASE,
)
_SAYS_AT_END = re.compile(r"\s+(?:say|says|said|think|thinks|thought|recommend|recommends|suggest|suggests)$", re.I)
_NOT_OPTIONS = {"not", "no", "so", "something", "anything", "whatever", "what", "both", "neither", "else"}


def comparison_options(question: str) -> list[tuple[str, str]]:
    """[(option, a question about that option alone)], or [] when the question compares nothing."""
    sentence = _sentence_with_choice(" ".join(question.split()))
    if sentence is None:
        return _compared(question)
    parts = _SEPARATOR.split(sentence)
    first = parts[0]
    # the first option starts after a colon or comma, or after the last framing word ("should I do")
    start = max([first.rfind(":") + 1, first.rfind(",") + 1] + [m.end() for m in _FRAME.finditer(first)])
    subjects = _SUBJECTS.match(first)  # "did A or B have ...": the options are who did it
    if subjects and start < subjects.end():
        start = subjects.end()
    if start <= 0 or not first[start:].strip():
        start = len(first) - len(_last_words(first, len(parts[-1].split())))
    head, parts[0] = first[:start], first[start:]
    cut = _CLAUSE_END.search(parts[-1]) or (_TAIL_VERB.search(parts[-1]) if subjects else None)
    tail = parts[-1][cut.start() :] if cut else ""
    parts[-1] = parts[-1][: cut.start()] if cut else parts[-1]
    options = [p.strip(" \"'“”‘’.:") for p in parts]
    # "what does the berkeley phd guy say vs the ntu student about internships": the option is who
    # says, its question keeps "say"
    says = next((m.group(0) for o in options if (m := _SAYS_AT_END.search(o))), "")
    options = [_SAYS_AT_END.sub("", o) for o in options]
    if not _usable(options, _NOT_OPTIONS):
        return []
    if any(_NEW_QUESTION.match(o) for o in options):
        return []  # "is a PhD worth it or should I get a job?": two questions, not two options
    out = []
    for option in options:
        # an option bringing its own verb ("go to industry") replaces the frame's last verb
        frame = _without_verbs(head) if _VERB_START.match(option) else head
        about = " ".join(x for x in (frame.strip(" :"), option + says, tail.strip(" ,;—–-")) if x)
        out.append((option, about.rstrip(" ?") + "?"))
    return out


def _compared(question: str) -> list[tuple[str, str]]:
    """The two sides of "compare [how] A and B [each ...]", each asked alone ("how A got ...?");
    what follows the second side ("each got their first break", "for NLP") belongs to both."""
    text = " ".join(question.split())
    m = _COMPARE.match(text)  # "compare ..." asked, not "I compare myself with my peers"
    if m is None:
        return []
    clause = re.split(r"[,;:.!?]", text[m.end() :], maxsplit=1)[0]
    wh = _WH.match(clause)
    clause = clause[wh.end() :] if wh else clause
    first, sep, second = _split_pair(clause)
    if not sep:
        return []
    cut = _SHARED_TAIL.search(second)
    rest = second[cut.start() :].strip() if cut else ""
    second = second[: cut.start()] if cut else second
    rest = re.sub(r"^(?:each|both)\s+", "", rest, flags=re.IGNORECASE)
    options = [o.strip(" \"'“”‘’") for o in (first, second)]
    if not _usable(options, _NOT_OPTIONS | _NOT_SIDES):
        return []
    if _VERB_START.match(options[1]) or re.match(r"(?i)tell\b", options[1]):
        return []  # "compare the two and tell me ...": the second part is an order, not a side
    if options[0].lower().endswith("pros") and options[1].lower().startswith("cons"):
        return []  # "the pros and cons of X" is one thing
    lead = wh.group(0).strip() if wh else ""
    return [(o, " ".join(x for x in (lead, o, rest) if x) + "?") for o in options]


def _usable(options: list[str], not_options: set[str]) -> bool:
    """Options each asked about alone: none empty, a filler word or too long, none twice."""
    if any(not o or o.lower() in not_options or len(o.split()) > MAX_OPTION_WORDS for o in options):
        return False
    return len({o.lower() for o in options}) == len(options)


def _split_pair(clause: str) -> tuple[str, str, str]:
    """ "the NTU student and the Berkeley PhD guy each ..." -> (first, "and", second)."""
    parts = re.split(r"\s+(and|with)\s+", clause, maxsplit=1)
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else (clause, "", "")


def _without_verbs(head: str) -> str:
    """ "should I keep using " -> "should I ": the frame without its trailing verbs."""
    while True:
        matches = [m for m in _FRAME.finditer(head) if m.end() >= len(head.rstrip())]
        if not matches or matches[-1].group(0).lower().startswith(("should", "do i", "would", "better")):
            return head
        head = head[: matches[-1].start()]


def _sentence_with_choice(text: str) -> str | None:
    for sentence in re.split(r"(?<=[.!?])\s+", text):
        body = sentence.rstrip(" ?.!")
        if _SEPARATOR.search(body):
            return body
    return None


def _last_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[-max(n, 1) :])
