#!/usr/bin/env python3
"""Validate bench/calibration/questions.jsonl (stdlib only).

    python3 bench/calibration/check.py [path/to/questions.jsonl]

Checks: every field present and of the right kind, ids unique (c001, c002, ...), types and
`how` valid, every gold quote an exact substring of the named file under corpus/, sections
that name an existing heading path of the cited file (and contain a gold quote from it),
no question repeated (case-insensitive, whitespace and trailing punctuation ignored).
Prints counts per type, per `how`, per essay, and the essay headings no per-section
question points at. Exits 1 on any error.
"""

import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS = REPO / "corpus"
QUESTIONS = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE / "questions.jsonl"

FIELDS = ["id", "question", "type", "section", "gold", "how"]
TYPES = {"answerable", "near_topic", "off_topic"}
HOWS = {"per_section", "by_hand"}
NO_HEADINGS = "(no headings)"
INTRO = "(intro)"


def corpus_files():
    files = {p.name: p for p in sorted((CORPUS / "essays").glob("*.md"))}
    files["resources.yaml"] = CORPUS / "resources.yaml"
    return {name: path.read_text(encoding="utf-8") for name, path in files.items()}


def body_start(text):
    if text.startswith("---\n"):
        end = text.find("\n---\n", 4)
        if end >= 0:
            return end + 5
    return 0


def doc_title(text):
    m = re.search(r"^title:\s*(.*)$", text[: body_start(text)], re.M)
    return m.group(1).strip().strip("'\"") if m else ""


def heading_spans(text):
    """[(path, start, end)] for the markdown sections of an essay; '(intro)' before the first
    heading (a level-1 heading equal to the document title is not part of the path)."""
    title = doc_title(text).lower()
    marks = [(INTRO, body_start(text))]
    stack = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if offset >= body_start(text):
            h = re.match(r"^(#{1,6})\s+(.*?)\s*$", line)
            if h:
                level = len(h.group(1))
                stack = [s for s in stack if s[0] < level]
                stack.append((level, h.group(2)))
                names = [n for _, n in stack]
                if names and names[0].strip().lower() == title:
                    names = names[1:]
                marks.append((" > ".join(names) if names else INTRO, offset))
        offset += len(line)
    spans = []
    for i, (path, start) in enumerate(marks):
        end = marks[i + 1][1] if i + 1 < len(marks) else len(text)
        spans.append((path, start, end))
    return spans


def resource_spans(text):
    found = [(m.group(1).strip().strip('"'), m.start()) for m in re.finditer(r"^  - name: (.*)$", text, re.M)]
    return [
        (name, start, found[i + 1][1] if i + 1 < len(found) else len(text)) for i, (name, start) in enumerate(found)
    ]


def norm_question(q):
    return re.sub(r"\s+", " ", q).strip().lower().rstrip("?!. ")


def main():
    texts = corpus_files()
    spans = {}
    for name, text in texts.items():
        spans[name] = resource_spans(text) if name == "resources.yaml" else heading_spans(text)
    headed = {n for n, sp in spans.items() if n != "resources.yaml" and len(sp) > 1}

    errors = []
    rows = []
    for lineno, line in enumerate(QUESTIONS.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            errors.append(f"line {lineno}: empty line")
            continue
        try:
            rows.append((lineno, json.loads(line)))
        except json.JSONDecodeError as e:
            errors.append(f"line {lineno}: bad JSON ({e})")

    seen_ids, seen_q = {}, {}
    used_sections = defaultdict(set)
    for lineno, r in rows:
        where = f"line {lineno} ({r.get('id', '?')})"
        missing = [f for f in FIELDS if f not in r]
        extra = [f for f in r if f not in FIELDS]
        if missing:
            errors.append(f"{where}: missing field(s) {missing}")
            continue
        if extra:
            errors.append(f"{where}: unexpected field(s) {extra}")
        rid, q, typ, section, gold, how = (r[f] for f in FIELDS)
        if not isinstance(rid, str) or not re.fullmatch(r"c\d{3,}", rid):
            errors.append(f"{where}: id must look like c001")
        elif rid in seen_ids:
            errors.append(f"{where}: id {rid} repeats line {seen_ids[rid]}")
        else:
            seen_ids[rid] = lineno
        if not isinstance(q, str) or not q.strip():
            errors.append(f"{where}: empty question")
        else:
            key = norm_question(q)
            if key in seen_q:
                errors.append(f"{where}: question duplicates line {seen_q[key]}: {q!r}")
            else:
                seen_q[key] = lineno
        if typ not in TYPES:
            errors.append(f"{where}: type {typ!r} not in {sorted(TYPES)}")
        if how not in HOWS:
            errors.append(f"{where}: how {how!r} not in {sorted(HOWS)}")
        if not isinstance(section, str) or not isinstance(gold, list):
            errors.append(f"{where}: section must be a string and gold a list")
            continue

        if typ != "answerable":
            if section or gold:
                errors.append(f"{where}: {typ} must have empty section and gold")
            continue

        if not 1 <= len(gold) <= 3:
            errors.append(f"{where}: answerable needs 1-3 gold quotes, has {len(gold)}")
        gold_files = []
        for g in gold:
            if not isinstance(g, dict) or set(g) != {"file", "quote"}:
                errors.append(f"{where}: gold item must be {{file, quote}}: {g!r}")
                continue
            f, quote = g["file"], g["quote"]
            if f not in texts:
                errors.append(f"{where}: unknown gold file {f!r}")
                continue
            if not isinstance(quote, str) or not quote.strip():
                errors.append(f"{where}: empty gold quote")
                continue
            if quote not in texts[f]:
                errors.append(f"{where}: quote is not an exact substring of {f}: {quote[:80]!r}")
                continue
            gold_files.append(f)

        parts = [p.strip() for p in section.split(";")] if section.strip() else []
        if not parts:
            errors.append(f"{where}: answerable needs a section")
        section_files = []
        for part in parts:
            f, sep, path = part.partition(" > ")
            if not sep or f not in texts:
                errors.append(f"{where}: section {part!r} must be '<file> > <heading path>'")
                continue
            section_files.append(f)
            if f not in gold_files:
                errors.append(f"{where}: section names {f} but no gold quote is from it")
                continue
            if f == "resources.yaml" or f in headed:
                match = [(s, e) for p, s, e in spans[f] if p == path]
                if not match:
                    errors.append(f"{where}: {f} has no section {path!r}")
                    continue
                if not any(
                    texts[f].find(g["quote"]) >= s and texts[f].find(g["quote"]) < e
                    for g in gold
                    if g.get("file") == f
                    for s, e in match
                ):
                    errors.append(f"{where}: no gold quote from {f} lies inside {path!r}")
                    continue
            elif not path.startswith(NO_HEADINGS):
                errors.append(f"{where}: {f} has no headings; section should start with {NO_HEADINGS!r}")
                continue
            if how == "per_section":
                used_sections[f].add(path)
        for f in set(gold_files) - set(section_files):
            errors.append(f"{where}: gold cites {f} but the section does not name it")

    ids = [r["id"] for _, r in rows if isinstance(r.get("id"), str)]
    expected = [f"c{i:03d}" for i in range(1, len(rows) + 1)]
    if ids != expected:
        errors.append("ids are not c001, c002, ... in file order")

    # ---- report ----
    by_type = Counter(r.get("type") for _, r in rows)
    by_how = Counter((r.get("type"), r.get("how")) for _, r in rows)
    print(f"{QUESTIONS.relative_to(REPO) if QUESTIONS.is_relative_to(REPO) else QUESTIONS}: {len(rows)} questions")
    print("\nper type:")
    for t in sorted(TYPES):
        hows = ", ".join(f"{h} {by_how[(t, h)]}" for h in sorted(HOWS) if by_how[(t, h)])
        print(f"  {t:<11} {by_type[t]:>4}   ({hows})")
    cites = Counter()
    first = Counter()
    multi = 0
    for _, r in rows:
        if r.get("type") != "answerable":
            continue
        files = list(dict.fromkeys(g.get("file") for g in r.get("gold", []) if isinstance(g, dict)))
        cites.update(files)
        if files:
            first[files[0]] += 1
        multi += len(files) > 1
    print("\nanswerable per source (questions citing it / questions whose first gold is from it):")
    for f in sorted(texts):
        print(f"  {f:<45} {cites[f]:>4} / {first[f]:>4}")
    print(f"  questions citing 2+ sources: {multi}")
    print("\nessay headings with no per_section question:")
    none = True
    for f in sorted(headed):
        own = defaultdict(str)
        for path, s, e in spans[f]:
            own[path] += texts[f][s:e]
        for path, body in own.items():
            lines = [ln for ln in body.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            if lines and path not in used_sections[f]:  # a heading with no text of its own needs none
                none = False
                print(f"  {f} > {path}")
    if none:
        print("  (none)")

    if errors:
        print(f"\nFAILED: {len(errors)} error(s)")
        for e in errors:
            print("  " + e)
        return 1
    print("\nOK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
