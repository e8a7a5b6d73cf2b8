"""YAML front matter read safely: no aliases, no timestamps, bounded size, dates checked.

A 1 KB header of nested `&a [*b, *b, ...]` anchors expands to gigabytes when loaded (a YAML
alias bomb), and `date: 2020-13-45` makes PyYAML's timestamp constructor raise ValueError,
which stopped every command. Here aliases are refused, dates stay text and are checked by
`check_date`, and an oversized header is refused before it is parsed; each problem is a
FrontMatterError naming the file's fix, which the loader reports and skips.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import frontmatter
import yaml
from frontmatter.default_handlers import YAMLHandler

MAX_FRONT_MATTER_BYTES = 32_000
_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.+\-Z]*)?$")


class FrontMatterError(ValueError):
    """The header between the '---' lines cannot be used; the message says why."""


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader without aliases and without turning dates into datetime objects."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise FrontMatterError(
                f"front matter uses a YAML alias (*{event.anchor}) near line {event.start_mark.line + 1}; "
                "aliases are not allowed in essay headers, write the value out"
            )
        return super().compose_node(parent, index)


_SafeLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


class _Handler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        if len(fm.encode("utf-8", "replace")) > MAX_FRONT_MATTER_BYTES:
            raise FrontMatterError(f"front matter is over {MAX_FRONT_MATTER_BYTES:,} bytes; keep the header short")
        return yaml.load(fm, Loader=_SafeLoader)


def parse(text: str) -> tuple[dict[str, Any], str]:
    """(metadata, body) of a markdown text with optional front matter."""
    try:
        post = frontmatter.loads(text, handler=_Handler())
    except FrontMatterError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" near line {mark.line + 2}" if mark is not None else ""
        raise FrontMatterError(
            f"front matter is not valid YAML{where}; fix the header between the '---' lines"
        ) from exc
    except (ValueError, TypeError, RecursionError) as exc:
        raise FrontMatterError(f"front matter cannot be read ({exc}); fix the header between the '---' lines") from exc
    meta = post.metadata if isinstance(post.metadata, dict) else {}
    return meta, post.content


def load_yaml(text: str) -> Any:
    """A whole YAML file (resources.yaml) with the same rules: no aliases, dates as text."""
    try:
        return yaml.load(text, Loader=_SafeLoader)
    except RecursionError as exc:
        raise FrontMatterError("front matter is nested too deeply") from exc


def dumps(body: str, meta: dict[str, Any]) -> str:
    """Markdown with a front matter header (dates written as plain YYYY-MM-DD text)."""
    post = frontmatter.Post(body)
    post.metadata.update({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in meta.items()})
    return str(frontmatter.dumps(post, sort_keys=False)) + "\n"


def check_date(value: Any) -> str | None:
    """A front matter date as ISO text, None when absent; FrontMatterError when it is no date."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    m = _DATE.match(text)
    if m:
        try:
            dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return text
        except ValueError:
            pass
    raise FrontMatterError(f"date {text!r} is not a calendar date; write it as YYYY-MM-DD (for example 2024-05-01)")
