"""The generator that needs no model: it says the chosen points in the essays' own words.

The answer opens with the single best statement, then gives each option of an "X or Y"
question its own statement, then the other points grouped by source, each group introduced
by who is speaking, then the curated resources as a short "Where to learn" list of links.
Every point quotes whole sentences and cites the passage they come from.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import Evidence, Point, Query
from . import BaseGenerator
from .wording import lower_article, plain_title, speaker


class ExtractiveGenerator(BaseGenerator):
    name = "extractive"

    def generate(self, query: Query, evidence: Evidence) -> Iterator[str]:
        points = evidence.points
        passages = evidence.passages
        if points:
            lead = points[0]
            yield f"{lead.text} [{lead.passage}]\n"
        rest = points[1:]
        for point in [p for p in rest if p.side]:
            doc = passages[point.passage - 1].document
            yield f"\nOn “{point.side}”, {lower_article(speaker(doc))}:\n- {point.text} [{point.passage}]\n"
        groups: dict[str, list[Point]] = {}
        for point in rest:
            if not point.side:
                groups.setdefault(passages[point.passage - 1].document.doc_id, []).append(point)
        for group in groups.values():
            doc = passages[group[0].passage - 1].document
            yield f"\n{speaker(doc)}:\n"
            for point in sorted(group, key=lambda p: passages[p.passage - 1].chunk.start + p.sentences[0].start):
                yield f"- {point.text} [{point.passage}]\n"
        if evidence.resources:
            yield "\nWhere to learn:\n"
            for n in evidence.resources:
                doc = passages[n - 1].document
                name = plain_title(doc.title)
                label = f"[{name}]({doc.source_url})" if doc.source_url else name
                about = (doc.summary or "").strip()
                yield f"- {label}: {about}\n" if about else f"- {label}\n"
