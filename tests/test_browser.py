"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the app served by `advisor-bot serve` on 127.0.0.1 in a subprocess.

Skipped with the reason when Chromium or Playwright is missing (.ci/run installs both).
Set UPDATE_SCREENSHOT=1 to run on the real corpus/ instead of the tiny one and save
the screenshot as docs/screenshot.png (that is how the README's picture is made).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, write_tiny_corpus

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)"),
]
try:
    from playwright.sync_api import Page, sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    pytestmark.append(pytest.mark.skip(reason="playwright is not installed (pip install -e '.[test]')"))

HOSTILE_ESSAY = """---
title: "Hostile Markup Test"
kind: post
---

## Keeping a research diary

A research diary is useful <script>window.__pwned = 1</script> for tracking experiments.
<img src=x onerror="window.__pwned = 2"> Write one line per experiment in the research diary.
"""
SCREENSHOT = bool(os.environ.get("UPDATE_SCREENSHOT"))
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    root = tmp_path_factory.mktemp("browser")
    if SCREENSHOT:
        shutil.copytree(REPO / "corpus", root / "corpus")
        sizes: list[str] = []
    else:
        write_tiny_corpus(root)
        sizes = ["--set", "chunk_size=300", "--set", "chunk_overlap=40"]
    (root / "corpus" / "essays" / "hostile.md").write_text(HOSTILE_ESSAY, encoding="utf-8")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor_bot", "--root", str(root), *sizes, "serve", "--port", str(port)],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )
    assert proc.stderr is not None
    deadline = time.monotonic() + 240
    seen = []
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line and proc.poll() is not None:
            pytest.fail("the app exited before it was ready:\n" + "".join(seen))
        seen.append(line)
        if "ready at" in line:
            break
    else:
        proc.kill()
        pytest.fail("the app did not say it was ready:\n" + "".join(seen))
    assert any("loading the embedding model" in s for s in seen)  # startup says what it is doing
    yield f"http://127.0.0.1:{port}/", root
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser_page() -> Iterator[Page]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        browser.close()


def _ask(page: Page, question: str) -> None:
    page.fill("#question textarea", question)
    page.keyboard.press("Enter")


def test_ask_stream_open_citation_vote_export(app: tuple[str, Path], browser_page: Page, tmp_path: Path) -> None:
    url, root = app
    page = browser_page
    page.goto(url)
    page.wait_for_selector("#question textarea")
    # record every length the answer bubble goes through, to see it arrive in pieces
    page.evaluate("""() => { window.__lengths = []; new MutationObserver(() => {
        const m = document.querySelectorAll('#chat [data-testid="bot"]');
        if (m.length) window.__lengths.push(m[m.length - 1].innerText.length);
      }).observe(document.querySelector('#chat'), {subtree: true, childList: true, characterData: true}); }""")
    _ask(page, "How do I prepare for coding interviews?")
    page.wait_for_selector("#chat a[href^='#source-0-']", timeout=60_000)
    lengths = sorted({n for n in page.evaluate("window.__lengths") if n > 0})
    assert len(lengths) >= 2, lengths  # streamed: partial text was on the page before the whole
    answer = page.inner_text("#chat [data-testid='bot']")
    assert "[1]" in answer

    # an inline [n] opens its passage in the sources panel, cited sentence highlighted
    page.click("#sources details#answer-0 > summary")  # fold the panel first
    assert not page.evaluate("document.getElementById('answer-0').open")
    marker = page.locator("#chat a[href^='#source-0-']").first
    target = marker.get_attribute("href")[1:]
    marker.click()
    assert page.evaluate(f"document.getElementById('{target}').open")
    card = page.locator(f"#{target}")
    assert card.is_visible() and card.locator("mark").count() >= 1
    assert "source" in card.inner_text()
    page.screenshot(path=str(tmp_path / "screenshot.png"))
    if SCREENSHOT:
        shutil.copy(tmp_path / "screenshot.png", REPO / "docs" / "screenshot.png")

    # thumbs up is stored with the question, answer and citations
    page.click("#chat button[aria-label='Like']")
    page.wait_for_selector("#vote-status :text('noted')", timeout=15_000)
    lines = (root / "data" / "feedback.jsonl").read_text().splitlines()
    vote = json.loads(lines[-1])
    assert vote["rating"] == "up" and vote["question"] == "How do I prepare for coding interviews?"
    assert vote["citations"] and vote["answer"].startswith(answer.split("\n")[0][:20])

    # export offers a markdown file of the conversation
    page.click("#export")
    page.wait_for_selector("#export-file a", timeout=15_000)
    assert ".md" in page.inner_text("#export-file")


def test_markup_from_an_essay_is_shown_as_text_never_run(app: tuple[str, Path], browser_page: Page) -> None:
    url, _ = app
    page = browser_page
    page.goto(url)
    page.wait_for_selector("#question textarea")
    _ask(page, "Why keep a research diary for experiments?")
    page.wait_for_selector("#chat a[href^='#source-0-']", timeout=60_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    panel = page.inner_text("#sources")
    assert "<script>window.__pwned = 1</script>" in panel  # visible as text
    assert page.locator("#sources script, #sources img, #chat script, #chat img[src='x']").count() == 0
