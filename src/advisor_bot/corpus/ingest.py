"""New essays into corpus/essays/: checked, converted to markdown, given front matter.

Everything offered is checked before anything is written: a refused file is reported by
name and never touches the corpus, so nothing already indexed can be lost. Files are written
under a fresh, sanitised name (never the uploader's path) and atomically (temp file + rename),
readable like the rest of the corpus (0644 under the usual umask). The duplicate check and the
write happen under one corpus lock, so the same essay added twice at once yields one file.
Links are refused (an essay is a file, not a pointer to /etc/passwd), HTML is checked for
nesting depth before it is parsed, and front matter is read by `frontmatter_safe`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock

from ..errors import DocumentError, UploadError
from ..files import make_readable
from ..text.normalize import clean_input
from . import frontmatter_safe
from .loading import ESSAYS_DIR, KINDS, Problem, clean_text, decode_text, first_heading, slugify

if TYPE_CHECKING:
    from ..index.store import BuildReport

SUPPORTED_SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm")
HTML_SUFFIXES = (".html", ".htm")
# Tags whose content is code or chrome, never essay text: dropped before HTML becomes markdown.
_DROP_TAGS = (
    "script",
    "style",
    "noscript",
    "template",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "form",
    "button",
    "nav",
    "footer",
    "head",
)
_UNSAFE_NAME = re.compile(r"[/\\\x00]|^\.|\.\.")
MAX_HTML_DEPTH = 200  # deeper nesting is not an essay, and would exhaust the parser's recursion
ADD_LOCK = ".add.lock"


@dataclass
class Upload:
    """One essay offered to the corpus: a name (for its type and a fallback title) and its bytes."""

    name: str
    data: bytes | str
    title: str | None = None
    author: str | None = None
    source_url: str | None = None
    date: str | None = None
    kind: str | None = None
    tags: Sequence[str] = ()

    @classmethod
    def from_path(cls, path: str | Path, **meta: Any) -> Upload:
        """A local file; its folder does not matter, only its name and content."""
        p = Path(path)
        try:
            if p.is_symlink():
                raise UploadError(f"{path}: is a symbolic link; add the file it points to, if you mean to")
            if p.is_dir():
                raise UploadError(f"{path}: is a folder; pass the essay files inside it")
            return cls(name=p.name, data=p.read_bytes(), **meta)
        except OSError as exc:
            raise UploadError(f"{path}: cannot be read ({exc.strerror or exc}); check the path") from exc


@dataclass
class Added:
    source: str
    path: Path
    doc_id: str
    title: str


@dataclass
class AddReport:
    """What `add` wrote, what it refused and why, and the index build that followed (if any)."""

    added: list[Added] = field(default_factory=list)
    refused: list[Problem] = field(default_factory=list)  # the file as given, and why
    build: BuildReport | None = None


def check_upload_name(name: str) -> str:
    """The name's suffix (lower case), or UploadError for a name that tries to be a path."""
    if not name or not name.strip():
        raise UploadError("(unnamed): give the file a name ending in " + ", ".join(SUPPORTED_SUFFIXES))
    if _UNSAFE_NAME.search(name) or name != name.strip():
        raise UploadError(
            f"{name}: the name contains path parts or starts with a dot; upload a plain file name such as essay.md"
        )
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise UploadError(
            f"{name}: unsupported file type {suffix or '(none)'}; essays must be {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return suffix


def html_to_markdown(html: str) -> tuple[str, dict[str, str]]:
    """Markdown of the page body (scripts, styles and navigation dropped) and what the head says
    about it (title, author, canonical url)."""
    from bs4 import BeautifulSoup
    from markdownify import MarkdownConverter

    soup = BeautifulSoup(html, "html.parser")
    meta: dict[str, str] = {}
    if soup.title and soup.title.string and soup.title.string.strip():
        meta["title"] = soup.title.string.strip()
    for tag in soup.find_all("meta"):
        key = str(tag.get("name") or tag.get("property") or "").lower()
        content = str(tag.get("content") or "").strip()
        if key == "author" and content:
            meta.setdefault("author", content)
        elif key in ("og:url",) and content.startswith(("http://", "https://")):
            meta.setdefault("source_url", content)
        elif key in ("og:title",) and content:
            meta.setdefault("title", content)
    canonical = soup.find("link", rel="canonical")
    if canonical is not None and str(canonical.get("href", "")).startswith(("http://", "https://")):
        meta.setdefault("source_url", str(canonical["href"]))
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    body = soup.body or soup
    text = MarkdownConverter(heading_style="ATX", bullets="-", strip=["img"]).convert_soup(body)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n", meta


def prepare(upload: Upload, *, max_bytes: int) -> tuple[dict[str, Any], str]:
    """Front matter and markdown body for an upload, or UploadError saying why it is refused."""
    suffix = check_upload_name(upload.name)
    raw = clean_input(upload.data).encode("utf-8") if isinstance(upload.data, str) else bytes(upload.data)
    if len(raw) > max_bytes:
        raise UploadError(
            f"{upload.name}: is {len(raw):,} bytes, over the {max_bytes:,}-byte limit "
            "(setting max_file_bytes); split it or raise the limit"
        )
    try:
        text = decode_text(raw, upload.name)
    except DocumentError as exc:
        raise UploadError(str(exc)) from None
    meta: dict[str, Any] = {}
    text = clean_input(text)
    if suffix in HTML_SUFFIXES:
        depth = html_depth(text)
        if depth > MAX_HTML_DEPTH:
            raise UploadError(
                f"{upload.name}: its HTML is nested {depth} levels deep (at most {MAX_HTML_DEPTH}); "
                "save the page as plain text or markdown instead"
            )
        try:
            body, found = html_to_markdown(text)
        except RecursionError:
            raise UploadError(f"{upload.name}: its HTML is nested too deeply to convert; save it as markdown") from None
        meta.update(found)
    elif suffix in (".md", ".markdown"):
        try:
            found_meta, body = frontmatter_safe.parse(text)
        except frontmatter_safe.FrontMatterError as exc:
            raise UploadError(f"{upload.name}: {exc}") from None
        meta.update(found_meta)
    else:
        body = text
    body = clean_text(body).strip()
    if len(re.findall(r"\w+", body)) < 5:
        raise UploadError(f"{upload.name}: has no essay text (fewer than five words); nothing to add")
    given = {
        "title": upload.title,
        "author": upload.author,
        "source_url": upload.source_url,
        "date": upload.date,
        "kind": upload.kind,
    }
    meta.update({k: v.strip() for k, v in given.items() if isinstance(v, str) and v.strip()})
    if upload.tags:
        meta["tags"] = [t.strip() for t in upload.tags if t.strip()]
    meta["title"] = str(meta.get("title") or first_heading(body) or _fallback_title(upload.name))
    if "url" in meta and "source_url" not in meta:
        meta["source_url"] = meta.pop("url")
    url = meta.get("source_url")
    if url is not None and not str(url).startswith(("http://", "https://")):
        raise UploadError(f"{upload.name}: source url {url!r} is not an http(s) link; give a full https://... address")
    kind = str(meta.get("kind") or "essay").lower()
    if kind not in KINDS:
        raise UploadError(f"{upload.name}: kind {kind!r} is not one of {', '.join(KINDS)}")
    meta["kind"] = kind
    try:
        date = frontmatter_safe.check_date(meta.get("date"))
    except frontmatter_safe.FrontMatterError as exc:
        raise UploadError(f"{upload.name}: {exc}") from None
    if date:
        meta["date"] = date
    meta.setdefault("added", dt.date.today().isoformat())
    return meta, body + "\n"


def html_depth(html: str) -> int:
    """How deeply the tags of an HTML text nest, counted without recursion."""
    from html.parser import HTMLParser

    void = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    class Depth(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.depth = self.deepest = 0

        def handle_starttag(self, tag: str, attrs: Any) -> None:
            if tag not in void:
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)

        def handle_endtag(self, tag: str) -> None:
            if tag not in void:
                self.depth = max(self.depth - 1, 0)

    parser = Depth()
    parser.feed(html)
    parser.close()
    return parser.deepest


def body_key(text: str) -> str:
    """What makes two essays the same: their text, ignoring front matter and whitespace."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()


def existing_keys(essays_dir: Path) -> dict[str, str]:
    """body_key -> file name for every readable essay already in the corpus."""
    keys: dict[str, str] = {}
    if not essays_dir.is_dir():
        return keys
    for p in sorted(essays_dir.rglob("*")):
        if p.is_symlink() or not p.is_file() or p.name.startswith("."):
            continue
        try:
            _, content = frontmatter_safe.parse(p.read_text(encoding="utf-8", errors="replace"))
        except (frontmatter_safe.FrontMatterError, OSError):
            continue
        keys.setdefault(body_key(clean_text(content).strip()), p.name)
    return keys


def add_uploads(
    uploads: Iterable[Upload | str | Path],
    corpus_dir: Path,
    *,
    max_bytes: int,
    meta: Mapping[str, Any] | None = None,
    indexed: Callable[[str], bool] | None = None,
) -> AddReport:
    """Check every upload, then write those that pass into corpus/essays/ as markdown.
    `meta` (title, author, source_url, ...) describes the essays given as paths; `indexed`
    tells whether an essay already in the corpus is in the index (for the hint on a retry)."""
    essays = Path(corpus_dir) / ESSAYS_DIR
    report = AddReport()
    prepared: list[tuple[str, dict[str, Any], str]] = []
    for item in uploads:
        source = str(item) if not isinstance(item, Upload) else item.name
        try:
            upload = item if isinstance(item, Upload) else Upload.from_path(item, **(meta or {}))
            front, body = prepare(upload, max_bytes=max_bytes)
        except UploadError as exc:
            report.refused.append(Problem(source, _reason(exc, source)))
            continue
        prepared.append((source, front, body))
    if not prepared:
        return report
    try:
        essays.mkdir(parents=True, exist_ok=True)
        lock = filelock.FileLock(str(essays / ADD_LOCK), timeout=30)
        lock.acquire()
    except (OSError, filelock.Timeout) as exc:
        why = getattr(exc, "strerror", None) or str(exc)
        report.refused += [
            Problem(s, f"cannot write into {essays} ({why}); check the folder's permissions and space")
            for s, _, _ in prepared
        ]
        return report
    try:
        known = existing_keys(essays)  # read under the lock: a concurrent add of the same text sees this one's file
        for source, front, body in prepared:
            key = body_key(body)
            if key in known:
                where = known[key]
                pending = (
                    ""
                    if indexed is None or indexed(Path(where).stem)
                    else (" but not indexed yet: run `advisor-bot index` (or the UI's Index now) to index it")
                )
                report.refused.append(Problem(source, f"has the same text as {where} already in the corpus{pending}"))
                continue
            try:
                target = _free_name(essays, slugify(front["title"]))
                _write_atomic(target, frontmatter_safe.dumps(body, front))
            except UploadError as exc:
                report.refused.append(Problem(source, _reason(exc, source)))
                continue
            except OSError as exc:
                report.refused.append(
                    Problem(
                        source,
                        f"cannot be written into {essays} ({exc.strerror or exc}); "
                        "free some space or fix the folder's permissions",
                    )
                )
                continue
            known[key] = target.name
            report.added.append(Added(source=source, path=target, doc_id=target.stem, title=str(front["title"])))
    finally:
        lock.release()
    return report


def remove_added(report: AddReport) -> None:
    """Take back the essays an add wrote (its index build failed): the corpus is as it was."""
    for added in report.added:
        added.path.unlink(missing_ok=True)
    report.added = []


def _reason(exc: Exception, source: str) -> str:
    return str(exc).removeprefix(f"{source}: ").removeprefix(f"{Path(source).name}: ")


def _fallback_title(name: str) -> str:
    return re.sub(r"[-_]+", " ", Path(name).stem).strip().capitalize() or "Untitled"


def _free_name(folder: Path, slug: str) -> Path:
    candidate = folder / f"{slug}.md"
    n = 2
    while candidate.exists() or candidate.with_suffix(".txt").exists() or candidate.with_suffix(".markdown").exists():
        candidate = folder / f"{slug}-{n}.md"
        n += 1
    return candidate


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".add-", suffix=".tmp")
    try:
        make_readable(fd)  # like any file the user writes (mkstemp makes 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():  # lost a race with another writer: never overwrite an essay
            raise UploadError(f"{path.name}: a file of that name appeared while adding; try again")
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
