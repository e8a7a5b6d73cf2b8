"""Thumbs up/down on answers, appended to a JSONL file that survives restarts and crashes.

One line per vote, written with a single O_APPEND write under a file lock, so concurrent
chats (threads or processes) never interleave half lines.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FEEDBACK_FILE = "feedback.jsonl"


@dataclass
class FeedbackLog:
    path: Path

    @classmethod
    def in_dir(cls, data_dir: Path) -> FeedbackLog:
        return cls(Path(data_dir) / FEEDBACK_FILE)

    def record(self, rating: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Append one vote ("up", "down" or "none" for a withdrawn vote) on an answer record."""
        import filelock

        if rating not in ("up", "down", "none"):
            raise ValueError(f"rating must be up, down or none, not {rating!r}")
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rating": rating,
            "question": answer.get("question"),
            "answer": answer.get("text"),
            "citations": [{k: c.get(k) for k in ("n", "title", "section", "url")} for c in answer.get("citations", [])],
            "refused": answer.get("refused"),
            "generator": answer.get("generator"),
            "index_version": answer.get("index_version"),
            "answered_at": answer.get("time"),
        }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        with filelock.FileLock(str(self.path) + ".lock"):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        return entry

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]
