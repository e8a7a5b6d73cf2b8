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

import filelock

from ..errors import IndexLockedError, IndexWriteError, write_failure

LOCK_NAME = ".write.lock"
OWNER_NAME = ".write.lock.owner"


class WriteLock:
    """`with WriteLock(index_dir): ...` builds or prunes; a second writer gets IndexLockedError.

    Nothing is leaked on any error: a folder that cannot be written is an IndexWriteError before
    the lock is taken, and the owner note (for the "who holds it" message) is best-effort, so a
    full disk cannot leave the lock held."""

    def __init__(self, index_dir: Path, *, timeout: float = 0.0) -> None:
        self.index_dir = Path(index_dir)
        self.timeout = timeout
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise IndexWriteError(write_failure(self.index_dir, exc)) from None
        self._lock = filelock.FileLock(str(self.index_dir / LOCK_NAME), timeout=timeout, thread_local=False)

    def __enter__(self) -> WriteLock:
        try:
            self._lock.acquire(timeout=self.timeout)
        except filelock.Timeout:
            raise IndexLockedError(self._held_message()) from None
        except OSError as exc:
            raise IndexWriteError(write_failure(self.index_dir, exc)) from None
        owner = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "command": " ".join(Path(sys.argv[0]).name.split() + sys.argv[1:])[:200] if sys.argv else "python",
            "since": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime()),
        }
        try:
            (self.index_dir / OWNER_NAME).write_text(json.dumps(owner))
        except OSError:
            (self.index_dir / OWNER_NAME).unlink(missing_ok=True)  # informational only: never hold the lock for it
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            (self.index_dir / OWNER_NAME).unlink(missing_ok=True)
        except OSError:
            pass
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
