"""Thumbs up/down on answers, appended to a JSONL file that survives restarts and crashes.

One line per vote: the time, the rating and the answer as `Answer.to_dict()` gives it (the
same shape the CLI, the UI and the API use). Written with a single O_APPEND write under a
file lock, so concurrent chats (threads or processes) never interleave half lines.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import FeedbackError, write_failure

FEEDBACK_FILE = "feedback.jsonl"
RATINGS = ("up", "down", "none")


@dataclass
class FeedbackLog:
    path: Path

    @classmethod
    def in_dir(cls, data_dir: Path) -> FeedbackLog:
        return cls(Path(data_dir) / FEEDBACK_FILE)

    def record(self, rating: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Append one vote ("up", "down" or "none" for a withdrawn vote) on an answer dict."""
        import filelock

        if rating not in RATINGS:
            raise ValueError(f"rating must be up, down or none, not {rating!r}")
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "rating": rating,
            "answer": {k: v for k, v in answer.items() if k != "passages"},
        }
        # json escapes U+2028/2029 only when asked: they are line breaks to some readers
        line = json.dumps(entry, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with filelock.FileLock(str(self.path) + ".lock"):
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
                try:
                    os.write(fd, (line + "\n").encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
        except OSError as exc:
            raise FeedbackError(f"The vote was not stored: {write_failure(self.path.parent, exc)}") from None
        return entry

    def read(self) -> list[dict[str, Any]]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").split("\n") if line.strip()]
