"""One writer at a time: an OS file lock on the index folder, plus a note of who holds it.

The lock is released by the kernel when its holder dies (even by SIGKILL), so a crashed
build never leaves the index locked; the note only serves to tell a waiting user who to wait for.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from pathlib import Path
from types import TracebackType

from ..errors import IndexLockedError

LOCK_NAME = ".write.lock"
OWNER_NAME = ".write.lock.owner"


class WriteLock:
    """`with WriteLock(index_dir): ...` builds or prunes; a second writer gets IndexLockedError."""

    def __init__(self, index_dir: Path, *, timeout: float = 0.0) -> None:
        import filelock

        self.index_dir = Path(index_dir)
        self.timeout = timeout
        self.index_dir.mkdir(parents=True, exist_ok=True)
        self._lock = filelock.FileLock(str(self.index_dir / LOCK_NAME), timeout=timeout, thread_local=False)

    def __enter__(self) -> WriteLock:
        import filelock

        try:
            self._lock.acquire(timeout=self.timeout)
        except filelock.Timeout:
            raise IndexLockedError(self._held_message()) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200] if sys.argv else "python",
            "since": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()),
        }
        (self.index_dir / OWNER_NAME).write_text(json.dumps(owner))
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            (self.index_dir / OWNER_NAME).unlink(missing_ok=True)
        finally:
            self._lock.release()

    def _held_message(self) -> str:
        try:
            owner = json.loads((self.index_dir / OWNER_NAME).read_text())
            who = f"process {owner['pid']} on {owner['host']} (`{owner['command']}`) since {owner['since']}"
        except (OSError, ValueError, KeyError):
            who = "another process"
        return (
            f"The index at {self.index_dir} is being updated by {who}. "
            "Wait for that build to finish and run the command again."
        )
