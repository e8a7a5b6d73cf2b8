"""Whether a core is free right now: what decides if the question encoder's threads may spin.

onnxruntime's worker threads either spin between the parallel parts of a run or sleep and are
woken for each (about 50 per question). On an idle machine a sleeping worker's core drops into
a deep idle state between questions, and waking it 50 times costs more than the arithmetic:
after a 50 ms pause two sleeping threads took 8.2 ms per dev question, two spinning ones 5.0 ms
(AMD EPYC, 2 cores, docs/PERFORMANCE.md). Beside a busy core the spinning worker fights that
work for its core and loses (18.9 ms against 10.4 ms). So the encoder asks, per question, how
many tasks are running besides its own: Linux counts them in /proc/loadavg at the instant of
reading. Where that file does not exist the answer is "unknown" and the threads sleep.
"""

from __future__ import annotations

from pathlib import Path

LOADAVG = Path("/proc/loadavg")


def running_tasks(loadavg: Path = LOADAVG) -> int | None:
    """Tasks running or ready to run on the whole machine now (the reader included), or None."""
    try:
        fields = loadavg.read_text(encoding="ascii").split()
        return int(fields[3].split("/", 1)[0])
    except (OSError, IndexError, ValueError):
        return None


def cores_free(cores: int, own_running: int = 1, loadavg: Path = LOADAVG) -> int | None:
    """Cores no other process's task is using now: `cores` minus the running tasks that are not
    ours (`own_running`: the thread asking, and any of our threads known to be busy)."""
    running = running_tasks(loadavg)
    if running is None:
        return None
    return cores - max(running - own_running, 0)
