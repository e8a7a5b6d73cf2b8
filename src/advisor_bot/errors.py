"""Exception types. Each message says what went wrong and what to do about it."""

from __future__ import annotations

REBUILD_HINT = "Run `advisor-bot index` to build a fresh version of the index."


def os_reason(exc: OSError) -> str:
    """An OSError in a few words a user acts on: "no space left on device", "read-only file system"."""
    import errno

    known = {
        errno.ENOSPC: "no space left on device",
        errno.EDQUOT: "disk quota exceeded",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "permission denied",
    }
    return known.get(exc.errno or 0) or exc.strerror or str(exc)[:200]


def write_failure(where: object, exc: OSError) -> str:
    """The one-line message for a write that failed in a folder of ours."""
    import errno

    hint = (
        "Free some disk space"
        if exc.errno in (errno.ENOSPC, errno.EDQUOT)
        else ("Make the folder writable (or point the setting at a writable one)")
    )
    return f"Could not write in {where} ({os_reason(exc)}). {hint} and run the command again."


class AdvisorError(Exception):
    """Base class: everything advisor-bot raises on purpose derives from this."""


class SettingsError(AdvisorError):
    """A setting has a value that cannot be used."""


class CorpusError(AdvisorError):
    """The corpus as a whole cannot be used (missing folder, nothing readable)."""


class DocumentError(AdvisorError):
    """One file cannot be read or parsed; the loader reports it and skips it."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


class ModelLoadError(AdvisorError):
    """An embedding or reranking model cannot be found or loaded offline."""


class IndexMissingError(AdvisorError):
    """No index has been built yet."""


class IndexMismatchError(AdvisorError):
    """The index on disk was built with another model, chunking or format."""


class IndexCorruptError(AdvisorError):
    """An index file is missing, truncated or does not match its checksum."""


class IndexWriteError(AdvisorError):
    """A new index version could not be written (disk full, permissions); the old one still serves."""


class IndexLockedError(AdvisorError):
    """Another process holds the index write lock."""


class InvalidQuestionError(AdvisorError, ValueError):
    """The question is empty, too long or otherwise unusable."""


class GeneratorError(AdvisorError):
    """A generator failed; `kind` is a short machine-readable reason for notices."""

    def __init__(self, message: str, *, kind: str = "error", where: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.where = where


class GeneratorUnavailableError(GeneratorError):
    """A known generator cannot run here; `missing` lists every piece that is missing."""

    def __init__(self, name: str, missing: list[str]) -> None:
        pieces = "; ".join(missing) if missing else "unknown reason"
        super().__init__(f"Generator {name!r} is not available here: {pieces}.", kind="unavailable", where=name)
        self.name = name
        self.missing = list(missing)


class UnknownGeneratorError(AdvisorError, LookupError):
    """No generator is registered under the requested name (the message lists the available ones)."""


class FeedbackError(AdvisorError):
    """A vote could not be stored (disk full, permissions); nothing else is affected."""


class UploadError(AdvisorError):
    """A file offered to `add` was refused (name, size, type or content)."""
