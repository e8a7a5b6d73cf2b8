"""End to end in a real headless Chromium (Debian's /usr/bin/chromium, driven by Playwright)
against the app served by `advisor-bot serve` on 127.0.0.1 in a subprocess.

Skipped with the reason when Chromium or Playwright is missing (.ci/run installs both).
With UPDATE_SCREENSHOT=1 the app serves the real corpus/ instead of the tiny one and the
screenshot is saved as docs/screenshot.png (that is how the README's picture is made); without
it, nothing in the repository is written.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import TINY
from helpers import REPO, free_port, write_tiny_corpus

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.slow,
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
IMAGE_ESSAY = """---
title: "Charts of Every Run"
kind: post
---

## Charting experiments

Keep a chart of every training run so you can compare experiments at a glance.
![loss chart](http://127.0.0.1:{port}/chart.png) Plot the loss of every run on one chart.
"""
SCREENSHOT = os.environ.get("UPDATE_SCREENSHOT") == "1"
QUESTION = "How do I prepare for an ML interview?" if SCREENSHOT else "How do I prepare for coding interviews?"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


class ImageServer:
    """A real HTTP server on 127.0.0.1 that an essay's image points at; it records every request,
    so a test can prove the reader's browser never fetched it."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.requests.append(self.path)
                self.send_response(200)
                self.send_header("content-type", "image/png")
                self.end_headers()
                self.wfile.write(b"\x89PNG\r\n\x1a\n")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.httpd.server_address[1])
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()


@pytest.fixture(scope="module")
def image_server() -> Iterator[ImageServer]:
    server = ImageServer()
    yield server
    server.httpd.shutdown()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, image_server: ImageServer) -> Iterator[tuple[str, Path]]:
    """`advisor-bot serve` in a subprocess, once it says it is ready; (url, root)."""
    root = tmp_path_factory.mktemp("browser")
    if SCREENSHOT:
        shutil.copytree(REPO / "corpus", root / "corpus")
        sets: list[str] = []
    else:
        write_tiny_corpus(root)
        sets = [arg for key, value in TINY.items() for arg in ("--set", f"{key}={value}")]
    (root / "corpus" / "essays" / "hostile.md").write_text(HOSTILE_ESSAY, encoding="utf-8")
    (root / "corpus" / "essays" / "charts.md").write_text(IMAGE_ESSAY.format(port=image_server.port), encoding="utf-8")
    port = free_port()
    # the app must not see this run's ADVISOR_BOT_* variables (UPDATE_SCREENSHOT is no setting)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_BOT_")}
    env["PYTHONPATH"] = str(REPO / "src")
    proc = subprocess.Popen(
        [sys.executable, "-m", "advisor_bot", "--root", str(root), *sets, "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:  # keep reading, so a chatty server never blocks on a full pipe
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.put(line)

    threading.Thread(target=drain, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + 300
    try:
        while not any("chat page loaded" in s for s in seen):
            if time.monotonic() > deadline:
                pytest.fail("the app did not say it was ready:\n" + "".join(seen))
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                if proc.poll() is not None:
                    pytest.fail("the app exited before it was ready:\n" + "".join(seen))
        assert any("loading the embedding model" in s for s in seen)  # startup says what it is doing
        yield f"http://127.0.0.1:{port}/", root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
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
    _ask(page, QUESTION)
    page.wait_for_selector("#chat a[href^='#source-0-']", timeout=90_000)
    lengths = sorted({n for n in page.evaluate("window.__lengths") if n > 0})
    assert len(lengths) >= 2, lengths  # streamed: partial text was on the page before the whole
    answer = page.inner_text("#chat [data-testid='bot']")
    assert "[1]" in answer

    # an inline [n] opens its passage card in the sources panel, cited sentences highlighted
    page.click("#sources details#answer-0 > summary")  # fold the panel first
    assert not page.evaluate("document.getElementById('answer-0').open")
    marker = page.locator("#chat a[href^='#source-0-']").first
    href = marker.get_attribute("href")
    assert href is not None
    target = href[1:]
    page.evaluate(f"document.getElementById('{target}').open = false")
    marker.click()
    assert page.evaluate("document.getElementById('answer-0').open")
    assert page.evaluate(f"document.getElementById('{target}').open")
    card = page.locator(f"#{target}")
    assert card.is_visible() and card.locator("mark").count() >= 1
    number = target.rsplit("-", 1)[1]
    assert card.locator("summary").inner_text().startswith(f"[{number}]")  # the card of that [n]
    if not SCREENSHOT:  # the tiny corpus's interview essay has a link to its original
        assert "source" in card.locator("a[target='_blank']").first.inner_text()
    assert page.url.rstrip("/") == url.rstrip("/")  # the click opened the card instead of navigating
    page.screenshot(path=str(tmp_path / "screenshot.png"))
    if SCREENSHOT:
        shutil.copy(tmp_path / "screenshot.png", REPO / "docs" / "screenshot.png")

    # thumbs up is stored with the question, answer and citations
    page.click("#chat button[aria-label='Like']")
    page.wait_for_selector("#vote-status :text('noted')", timeout=15_000)
    lines = (root / "data" / "feedback.jsonl").read_text(encoding="utf-8").splitlines()
    vote = json.loads(lines[-1])
    assert vote["rating"] == "up" and vote["answer"]["question"] == QUESTION
    assert vote["answer"]["citations"] and vote["answer"]["text"].startswith(answer.split("\n")[0][:20])

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
    page.wait_for_selector("#chat a[href^='#source-0-']", timeout=90_000)
    page.wait_for_timeout(500)
    assert page.evaluate("window.__pwned") is None
    panel = page.inner_text("#sources")
    assert "<script>window.__pwned = 1</script>" in panel  # visible as text
    assert page.locator("#sources script, #sources img, #chat script, #chat img[src='x']").count() == 0


def test_an_essay_image_is_never_fetched_by_the_reader(
    app: tuple[str, Path], browser_page: Page, image_server: ImageServer
) -> None:
    url, _ = app
    page = browser_page
    page.goto(url)
    page.wait_for_selector("#question textarea")
    _ask(page, "Why keep a chart of every training run?")
    page.wait_for_selector("#chat a[href^='#source-0-']", timeout=90_000)
    page.evaluate("document.querySelectorAll('#sources details').forEach(d => d.open = true)")
    page.wait_for_timeout(1500)
    assert "Charts of Every Run" in page.inner_text("#sources")  # the essay with the image was cited
    assert page.locator("#sources img, #chat img[src*='chart.png']").count() == 0
    assert page.locator("#sources a[href$='/chart.png']").count() >= 1  # shown as a link instead
    assert image_server.requests == []
