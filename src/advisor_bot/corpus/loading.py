"""Files -> Documents: front matter, mojibake repair, figure captions, content hashes.

A file that cannot be read or parsed is reported by name and skipped; the rest load.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import CorpusError, DocumentError
from ..records import Document
from . import frontmatter_safe

ESSAY_SUFFIXES = (".md", ".markdown", ".txt")
RESOURCES_FILE = "resources.yaml"
ESSAYS_DIR = "essays"
KINDS = ("blog", "guide", "answer", "post", "newsletter", "essay")

_FIGURE = re.compile(r"<figure\b.*?</figure\s*>", re.IGNORECASE | re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
# C0/C1 control characters other than tab and newline carry no meaning in an essay.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_H1 = re.compile(r"^#\s+(.+?)\s*#*\s*$", re.MULTILINE)


@dataclass
class Problem:
    """A file (or resource entry) that was skipped, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class CorpusLoad:
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def load_corpus(corpus_dir: Path, *, max_file_bytes: int = 2_000_000) -> CorpusLoad:
    """Every essay under corpus/essays/ and every entry of corpus/resources.yaml."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"Corpus folder {corpus_dir} does not exist. Create it with essays in "
            f"{corpus_dir / ESSAYS_DIR}/ or set ADVISOR_BOT_CORPUS__DIR."
        )
    result = CorpusLoad()
    essays_dir = corpus_dir / ESSAYS_DIR
    for path in sorted(essays_dir.rglob("*")) if essays_dir.is_dir() else []:
        rel = path.relative_to(corpus_dir).as_posix()
        if path.name.startswith("."):
            continue
        if path.is_symlink():
            result.problems.append(
                Problem(rel, "is a symbolic link; links are not followed (copy the essay in with `advisor-bot add`)")
            )
            continue
        if not path.is_file():
            continue
        if path.suffix.lower() not in ESSAY_SUFFIXES:
            result.problems.append(
                Problem(
                    rel,
                    f"unsupported file type {path.suffix or '(none)'}; essays must be "
                    f"{', '.join(ESSAY_SUFFIXES)} (use `advisor-bot add` to convert HTML)",
                )
            )
            continue
        try:
            result.documents.append(
                load_essay(path, doc_id=essay_id(path, essays_dir), rel_path=rel, max_file_bytes=max_file_bytes)
            )
        except DocumentError as exc:
            result.problems.append(Problem(rel, exc.reason))
    resources = corpus_dir / RESOURCES_FILE
    if resources.is_file():
        titles = {d.doc_id: d.title for d in result.documents}
        docs, problems = load_resources(resources, essay_titles=titles, max_file_bytes=max_file_bytes)
        result.documents.extend(docs)
        result.problems.extend(problems)
    result.documents = _drop_duplicates(result.documents, result.problems)
    return result


def _drop_duplicates(documents: list[Document], problems: list[Problem]) -> list[Document]:
    """Keep the first of documents sharing an id or an identical text; report the others."""
    by_id: dict[str, Document] = {}
    by_text: dict[str, Document] = {}
    unique: list[Document] = []
    for doc in documents:
        text_key = hashlib.sha256(doc.text.strip().encode()).hexdigest()
        if doc.doc_id in by_id:
            problems.append(
                Problem(doc.path, f"has the same id {doc.doc_id!r} as {by_id[doc.doc_id].path}; rename one")
            )
        elif text_key in by_text:
            problems.append(Problem(doc.path, f"has the same text as {by_text[text_key].path}; skipped as a duplicate"))
        else:
            by_id[doc.doc_id] = by_text[text_key] = doc
            unique.append(doc)
    return unique


def essay_id(path: Path, essays_dir: Path) -> str:
    """The essay's slug: its path under essays/ without the extension."""
    return path.relative_to(essays_dir).with_suffix("").as_posix()


def read_text_file(path: Path, *, max_file_bytes: int) -> tuple[str, str]:
    """Decoded text and sha256 of the bytes; DocumentError for anything that is not usable text."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise DocumentError(
                str(path),
                f"is {size:,} bytes, over the {max_file_bytes:,}-byte limit "
                "(setting max_file_bytes); split it or raise the limit",
            )
        raw = path.read_bytes()
    except OSError as exc:
        raise DocumentError(
            str(path), f"cannot be read ({exc.strerror or exc}); check that it exists and is readable"
        ) from exc
    return decode_text(raw, str(path)), hashlib.sha256(raw).hexdigest()


def decode_text(raw: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else the best guess of charset_normalizer; never binary."""
    if not raw.strip():
        raise DocumentError(name, "is empty; add some text or delete the file")
    if b"\x00" in raw[:8192]:
        raise DocumentError(name, "looks like a binary file, not text; save it as UTF-8 markdown or plain text")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise DocumentError(name, "is not readable text in any known encoding; save it as UTF-8")
    return str(best)


def clean_text(text: str) -> str:
    """Repair mojibake, reduce <figure> blocks to their captions, drop comments and control codes."""
    import ftfy

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = ftfy.fix_encoding(text)
    text = _FIGURE.sub(lambda m: _figure_caption(m.group(0)), text)
    text = _COMMENT.sub("", text)
    text = _CONTROL.sub("", text)
    return unicodedata.normalize("NFC", text)


def _figure_caption(html: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    caption = soup.find("figcaption")
    text = caption.get_text(" ", strip=True) if caption else ""
    if not text:
        img = soup.find("img")
        text = str(img.get("alt", "")).strip() if img else ""
    return text


def load_essay(path: Path, *, doc_id: str, rel_path: str | None = None, max_file_bytes: int = 2_000_000) -> Document:
    """Read one essay file into a Document, or raise DocumentError saying why it can't be."""
    rel = rel_path or str(path)
    raw_text, digest = read_text_file(path, max_file_bytes=max_file_bytes)
    try:
        meta, content = frontmatter_safe.parse(raw_text)
        date = frontmatter_safe.check_date(meta.get("date"))
    except frontmatter_safe.FrontMatterError as exc:
        raise DocumentError(rel, str(exc)) from exc
    body = clean_text(content)
    if not body.strip():
        raise DocumentError(rel, "has front matter but no text; add the essay below the header")
    title = _meta_str(meta.get("title")) or first_heading(body) or _title_from_name(path.stem)
    kind = (_meta_str(meta.get("kind")) or "essay").lower()
    return Document(
        doc_id=doc_id,
        title=title,
        text=body,
        path=rel,
        sha256=digest,
        kind=kind,
        author=_meta_str(meta.get("author")),
        source_url=_meta_str(meta.get("source_url") or meta.get("url")),
        date=date,
        tags=tuple(_meta_list(meta.get("tags"))),
        voice=_meta_str(meta.get("voice")),
    )


def load_resources(
    path: Path, *, essay_titles: dict[str, str] | None = None, max_file_bytes: int = 2_000_000
) -> tuple[list[Document], list[Problem]]:
    """Each entry of resources.yaml becomes a small Document, cited like an essay."""
    essay_titles = essay_titles or {}
    name = path.name
    try:
        text, _ = read_text_file(path, max_file_bytes=max_file_bytes)
        data = frontmatter_safe.load_yaml(text)
    except DocumentError as exc:
        return [], [Problem(name, exc.reason)]
    except frontmatter_safe.FrontMatterError as exc:
        return [], [
            Problem(name, f"{str(exc).replace('front matter', 'the file')}; fix it and re-run `advisor-bot index`")
        ]
    except yaml.YAMLError as exc:
        return [], [
            Problem(name, f"is not valid YAML ({str(exc).splitlines()[0]}); fix it and re-run `advisor-bot index`")
        ]
    entries = data.get("resources") if isinstance(data, dict) else data
    if not isinstance(entries, list):
        return [], [Problem(name, "must hold a list under the key 'resources'")]
    docs: list[Document] = []
    problems: list[Problem] = []
    for i, entry in enumerate(entries, start=1):
        where = f"{name} entry #{i}"
        if not isinstance(entry, dict):
            problems.append(Problem(where, "is not a mapping with name, url, kind, ..."))
            continue
        missing = [k for k in ("name", "url") if not _meta_str(entry.get(k))]
        if missing:
            problems.append(Problem(where, f"is missing {', '.join(missing)}"))
            continue
        docs.append(resource_document(entry, essay_titles=essay_titles, path=f"{name}#{i}"))
    return docs, problems


def resource_document(entry: dict[str, Any], *, essay_titles: dict[str, str], path: str) -> Document:
    """Render one resource as a short passage a reader (and the retriever) can use."""
    name = clean_text(_meta_str(entry.get("name")) or "")
    url = _meta_str(entry.get("url")) or ""
    kind = _meta_str(entry.get("kind")) or "resource"
    level = _meta_str(entry.get("level"))
    topics = _meta_list(entry.get("topics"))
    why = clean_text(_meta_str(entry.get("why")) or "")
    cited = _meta_list(entry.get("cited_in"))
    cited_titles = [essay_titles.get(slug, slug) for slug in cited]
    facts = [kind] + ([f"level: {level}"] if level else []) + ([f"topics: {', '.join(topics)}"] if topics else [])
    text = f"**{name}** ({'; '.join(facts)})" + (f": {why}" if why else ".")
    if cited_titles:
        text += f"\nRecommended in: {'; '.join(cited_titles)}."
    text += f"\nLink: {url}"
    digest = hashlib.sha256(json.dumps(entry, sort_keys=True, default=str).encode()).hexdigest()
    return Document(
        doc_id=f"resource/{slugify(name)}",
        title=name,
        text=text,
        path=path,
        sha256=digest,
        kind="resource",
        source_url=url,
        tags=tuple(topics),
        summary=why or None,
    )


def slugify(text: str, *, max_len: int = 60) -> str:
    """Lowercase ASCII words joined by hyphens: safe as a file name and as an id."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_len].rstrip("-") or "untitled"


def _meta_str(value: Any) -> str | None:
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return str(value.isoformat())
    import ftfy

    text = ftfy.fix_encoding(str(value)).strip()
    return text or None


def _meta_list(value: Any) -> list[str]:
    if value is None:
        return []
    items: Iterable[Any] = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return [s for s in (_meta_str(v) for v in items) if s]


def first_heading(body: str) -> str | None:
    m = _H1.search(body)
    return m.group(1).strip() if m else None


def _title_from_name(stem: str) -> str:
    return re.sub(r"[-_]+", " ", stem).strip().capitalize() or "Untitled"
