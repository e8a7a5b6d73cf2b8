"""Text from outside made safe to process, at every door (questions, history, uploads, files).

Lone surrogates (what Python makes of invalid UTF-8 in a command line) cannot be encoded and
crashed the tokenizer; U+2028/U+2029 are line breaks to some readers and not to others; NUL
and other control characters carry no meaning in prose. All of them are replaced or dropped
here, once, and the result is NFC.
"""

from __future__ import annotations

import re
import unicodedata

_LINE_SEPARATORS = {"\u2028": "\n", "\u2029": "\n"}
_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_input(text: str) -> str:
    """Lone surrogates replaced (U+FFFD), control characters other than tab and newline
    dropped, line and paragraph separators made newlines, Unicode NFC."""
    text = _SURROGATE.sub("\ufffd", text)
    for sep, nl in _LINE_SEPARATORS.items():
        text = text.replace(sep, nl)
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    return unicodedata.normalize("NFC", text)


def has_words(text: str) -> bool:
    """Whether a text holds at least one letter or digit (zero-width and punctuation do not count)."""
    return any(unicodedata.category(ch)[0] in "LN" for ch in text)


def decode_bytes(raw: bytes) -> str:
    """Bytes from a terminal or pipe as text; invalid UTF-8 replaced rather than fatal."""
    return clean_input(raw.decode("utf-8", "replace"))
