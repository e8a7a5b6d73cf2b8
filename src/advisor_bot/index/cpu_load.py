"""Whether a core is free right now: what decides if the question encoder's threads may spin.

onnxruntime's worker threads either spin between the parallel parts of a run or sleep and are
woken for each (about 50 per question). On an idle machine a sleeping worker's core goes idle
between questions, and waking it 50 times costs more than the arithmetic:
after a 50 ms pause two sleeping threads took 8.2 ms per dev question, two spinning ones 5.0 ms
(AMD EPYC, 2 cores, docs/PERFORMANCE.md). Beside a busy core the spinning worker fights that
work for its core and loses (17 ms against 9 ms). So the encoder asks (at most every 0.5 s)
how many tasks are running besides its own: Linux counts them in /proc/loadavg at the instant of
reading, and /proc/self/task/<id>/stat says which of them are this process's encoder threads
(a spinning worker goes on spinning 45-50 ms after a question: it is ours, not load). Where
that count is unknown (no such file, or a sandbox that writes 0/0) or means little (a cgroup
CPU quota: the count is the host's, and spinning would spend the quota), the answer is
"unknown" and the threads sleep.
"""

from __future__ import annotations

import os
from pathlib import Path

LOADAVG = Path("/proc/loadavg")
CGROUP = Path("/sys/fs/cgroup")
TASKS = Path("/proc/self/task")


def running_tasks(loadavg: Path = LOADAVG) -> int | None:
    """Tasks running or ready to run on the whole machine now (the reader included), or None."""
    try:
        fields = loadavg.read_text(encoding="ascii").split()
        running = int(fields[3].split("/", 1)[0])
    except (OSError, IndexError, ValueError):
        return None
    return running if running >= 1 else None  # the reader always runs: 0 is a file that says nothing


def cores_free(running: int, *, own_running: int = 1, usable: int, machine: int) -> int:
    """Cores this process may use that no other process's task is using: the machine's cores
    less the `running` tasks (running_tasks) that are not ours (`own_running`: the thread
    asking, and any of our threads known to be running), at most the `usable` cores of this
    process's affinity. (Under a CPU quota the count means little: callers check `cpu_quota`.)"""
    return min(usable, machine - max(running - own_running, 0))


def usable_cores() -> int:
    """Cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def cpu_quota(cgroup: Path = CGROUP) -> float | None:
    """The cgroup's CPU quota in cores (`docker --cpus=2`: 2.0), or None without one."""
    try:  # cgroup v2: "max 100000" or "200000 100000"
        quota, period = (cgroup / "cpu.max").read_text(encoding="ascii").split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:  # cgroup v1: -1 = none
        quota_us = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text(encoding="ascii"))
        period_us = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None
    return None if quota_us <= 0 or period_us <= 0 else quota_us / period_us


def thread_ids(tasks: Path = TASKS) -> set[int]:
    """This process's threads now (empty where the OS does not list them)."""
    try:
        return {int(name) for name in os.listdir(tasks) if name.isdigit()}
    except OSError:
        return set()


def running_among(ids: set[int], tasks: Path = TASKS) -> int:
    """How many of these threads of this process are running or ready to run now."""
    count = 0
    for tid in ids:
        try:
            stat = (tasks / str(tid) / "stat").read_text(encoding="ascii", errors="replace")
        except OSError:
            continue  # the thread has ended
        fields = stat[stat.rfind(")") + 1 :].split()  # after "(name)", which may hold spaces
        count += bool(fields) and fields[0] == "R"
    return count
