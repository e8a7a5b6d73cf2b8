"""Helpers shared by tests that are not fixtures: the tiny corpus, free ports, a spy embedder, a served app."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from advisor_bot.index.embedding import SentenceEmbedder

REPO = Path(__file__).resolve().parents[1]

INTERVIEW_ESSAY = """---
title: "Tips for ML Interviews"
author: Ada Example
voice: An ML engineer who interviews candidates
source_url: https://example.org/interviews
date: 2024-05-01
kind: blog
tags: [interviews, careers]
---

# Tips for ML Interviews

Interviews for research roles still test coding.

## Coding

Practice LeetCode problems every week. Implement logistic regression from scratch in NumPy.

## Projects

Prepare to explain one personal project in depth, such as a reinforcement learning agent for Mario.
Interviewers ask what you built, what failed and what you learned.

<figure style="text-align: center;">
  <img src="../images/robot.jpg" alt="A robot">
  <figcaption>Figure 1: The robot from my first project</figcaption>
</figure>
"""

MOJIBAKE_ESSAY = """---
title: "\u00f0\u0178\u2019\u00a1 TIL: Reading Papers Fast"
kind: post
---

## How to read

Read the title and abstract first, then the figures, then the conclusion.
Only go deep into the math when you implement the paper.
"""

PHD_ESSAY = """Choosing a PhD supervisor matters more than choosing a famous lab.
A busy supervisor in a competitive lab may give you little mentoring.
Pick someone who will also be a mentor, and think about what you get from the collaboration.
"""

RESOURCES = """resources:
  - name: LeetCode
    url: https://leetcode.com/
    kind: site
    topics: [coding interviews]
    level: all
    why: Practice problems for coding interviews.
    cited_in: [interviews]
  - name: Sutton and Barto
    url: https://example.org/rl-book
    kind: book
    topics: [reinforcement learning]
    level: beginner
    why: The standard introduction to reinforcement learning.
    cited_in: [interviews]
"""


def write_tiny_corpus(root: Path) -> Path:
    """Three essays (one with mojibake, one plain text) and two resources under root/corpus."""
    essays = root / "corpus" / "essays"
    essays.mkdir(parents=True)
    (essays / "interviews.md").write_text(INTERVIEW_ESSAY, encoding="utf-8")
    (essays / "reading-papers.md").write_text(MOJIBAKE_ESSAY, encoding="utf-8")
    (essays / "phd-supervisor.txt").write_text(PHD_ESSAY, encoding="utf-8")
    (root / "corpus" / "resources.yaml").write_text(RESOURCES, encoding="utf-8")
    return root / "corpus"


def free_port() -> int:
    """A TCP port nothing listens on right now (for servers a test starts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CountingEmbedder:
    """A spy around the real embedder: same vectors, plus the texts it was asked to embed."""

    def __init__(self, inner: SentenceEmbedder) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.queries: list[str] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    @property
    def fingerprint(self) -> str:
        return self.inner.fingerprint

    @property
    def backend(self) -> str:
        return self.inner.backend

    def prepare_build(self, index_dir: Path) -> None:
        self.inner.prepare_build(index_dir)

    def encode(self, texts: Any, *, show_progress: bool = False) -> np.ndarray:
        self.texts.extend(texts)
        return self.inner.encode(texts, show_progress=show_progress)

    def encode_query(self, text: str) -> np.ndarray:
        self.queries.append(text)
        return self.inner.encode_query(text)

    def token_counts(self, texts: Any) -> np.ndarray:
        return self.inner.token_counts(texts)


def write_settings_toml(root: Path, settings: dict[str, Any]) -> Path:
    """advisor-bot.toml in root holding dotted settings ("section.key": value) as TOML tables."""
    sections: dict[str, dict[str, Any]] = {}
    for dotted, value in settings.items():
        section, key = dotted.rsplit(".", 1)
        sections.setdefault(section, {})[key] = value
    lines: list[str] = []
    for section, values in sections.items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in values.items()]  # JSON scalars are TOML
        lines.append("")
    path = root / "advisor-bot.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without ADVISOR_BOT_* variables, plus `extra`; the checkout's
    src/ first on the path, so a subprocess runs this advisor-bot."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    env["PYTHONPATH"] = str(REPO / "src")
    env.update(extra)
    return env


def in_a_fresh_process(script: str, *, env: dict[str, str] | None = None, timeout: float = 120) -> tuple[str, Any]:
    """Run a Python script in a new interpreter (what it imports, what it builds, free of this
    process's modules): what it printed before its last line, and its last line read as JSON."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=timeout)
    assert done.returncode == 0, done.stderr
    before, _, last = done.stdout.rstrip("\n").rpartition("\n")
    return before, json.loads(last)


class RunningServer:
    """`advisor-bot serve` in a subprocess on 127.0.0.1, its stderr in a file (the server log)."""

    def __init__(
        self, root: Path, *, env: dict[str, str] | None = None, timeout: float = 300, wait_for_page: bool = True
    ) -> None:
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = root / "server.log"
        self._log = self.log_path.open("w", encoding="utf-8")
        command = [sys.executable, "-m", "advisor_bot", "--root", str(root), "serve", "--port", str(self.port)]
        self.proc = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=self._log, env=clean_env(**(env or {})), cwd=root
        )
        deadline = time.monotonic() + timeout
        while "ready at" not in self.log() or (wait_for_page and "chat page loaded" not in self.log()):
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError("advisor-bot serve exited before it was ready:\n" + self.log())
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("advisor-bot serve did not say it was ready:\n" + self.log())
            time.sleep(0.2)

    def log(self) -> str:
        """Everything the server wrote to stderr so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=20)
        self._log.close()


def tiny_served_root(root: Path, settings: dict[str, Any]) -> Path:
    """root with the tiny corpus and an advisor-bot.toml holding `settings` (conftest's TINY)."""
    write_tiny_corpus(root)
    write_settings_toml(root, settings)
    return root
