"""Thumbs up/down (server/feedback.py): one JSON line per vote, readable back whatever the text."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from advisor_bot import Advisor
from advisor_bot.server.feedback import FeedbackLog


def test_feedback_lines_are_appended(tmp_path: Path, tiny_advisor: Advisor) -> None:
    log = FeedbackLog.in_dir(tmp_path / "data")
    record = {**tiny_advisor.ask("How do I prepare for coding interviews?").to_dict(), "turn": 0}
    log.record("up", record)
    log.record("down", record)
    log.record("none", record)  # a withdrawn vote
    lines = [json.loads(x) for x in (tmp_path / "data" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [x["rating"] for x in lines] == ["up", "down", "none"]
    first = lines[0]
    assert first["time"] and first["answer"]["question"] == record["question"]
    assert first["answer"]["text"] == record["text"] and first["answer"]["citations"][0]["n"] == 1
    assert "passages" not in first["answer"]  # the citations say what was used; the log stays small
    assert log.read() == lines
    with pytest.raises(ValueError, match="rating"):
        log.record("meh", record)
    assert len(log.read()) == 3


def test_a_question_with_line_separators_is_stored_and_read_back(tmp_path: Path) -> None:
    """U+2028/U+2029 are line breaks to str.splitlines() and some JSONL readers: they must not split a vote."""
    log = FeedbackLog.in_dir(tmp_path)
    record: dict[str, Any] = {
        "question": "How do I prepare\u2028for interviews?\u2029",
        "text": "Practice.\u2028Then rest. [1]",
        "citations": [{"n": 1, "title": "T\u2028itle"}],
    }
    log.record("up", record)
    log.record("down", {**record, "question": "second"})
    raw = log.path.read_text(encoding="utf-8")
    assert "\u2028" not in raw and "\u2029" not in raw
    assert len(raw.splitlines()) == 2
    back = log.read()
    assert back[0]["answer"] == record and back[1]["answer"]["question"] == "second"


def test_concurrent_votes_never_interleave(tmp_path: Path) -> None:
    log = FeedbackLog.in_dir(tmp_path)
    record = {"question": "q?", "text": "x" * 20_000, "citations": []}

    def vote(i: int) -> None:
        for _ in range(10):
            log.record("up" if i % 2 else "down", {**record, "question": f"q{i}?"})

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    votes = log.read()
    assert len(votes) == 40 and all(v["answer"]["text"] == record["text"] for v in votes)


def test_reading_a_missing_log_gives_nothing(tmp_path: Path) -> None:
    assert FeedbackLog.in_dir(tmp_path / "nowhere").read() == []
