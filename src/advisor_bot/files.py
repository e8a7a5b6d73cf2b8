"""Small filesystem helpers shared by the writers (essays, exported encoders)."""

from __future__ import annotations

import functools
import os
from pathlib import Path


@functools.cache
def file_mode() -> int:
    """The mode a file the user creates gets (0o644 under the usual umask). Read from /proc
    rather than by setting the umask, which would race with other threads."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o644


def make_readable(fd_or_path: int | str | os.PathLike[str]) -> None:
    """Give a temp file (mkstemp makes 0600) the mode any file the user writes would have."""
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, file_mode())
    else:
        os.chmod(fd_or_path, file_mode())
