"""index/cpu_load.py: the running tasks of /proc/loadavg, a cgroup's CPU quota, and the cores
no other process uses."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from advisor_bot.index.cpu_load import (
    LOADAVG,
    TASKS,
    cores_free,
    cpu_quota,
    running_among,
    running_tasks,
    thread_ids,
)


def loadavg(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loadavg"
    path.write_text(text, encoding="ascii")
    return path


def test_running_tasks_are_the_fourth_fields_numerator(tmp_path: Path) -> None:
    assert running_tasks(loadavg(tmp_path, "0.52 0.58 0.59 3/467 12345\n")) == 3


@pytest.mark.parametrize("text", ["", "0.52 0.58 0.59", "0.52 0.58 0.59 x/467 1", "0.00 0.00 0.00 0/0 0"])
def test_an_unreadable_or_empty_loadavg_is_unknown(tmp_path: Path, text: str) -> None:
    """gVisor writes 0/0: the reader itself always runs, so 0 says nothing."""
    assert running_tasks(loadavg(tmp_path, text)) is None


def test_a_missing_loadavg_is_unknown(tmp_path: Path) -> None:
    assert running_tasks(tmp_path / "absent") is None


def test_cores_free_counts_only_other_processes_tasks() -> None:
    def free(running: int, own: int = 1, usable: int = 4) -> int:
        return cores_free(running, own_running=own, usable=usable, machine=4)

    assert free(1) == 4  # only the reader runs
    assert free(2) == 3  # one other task
    assert free(2, own=2) == 4  # the second task is ours
    assert free(9) == -4  # more other tasks than cores
    assert free(1, own=3) == 4  # never more than there are
    assert free(1, usable=2) == 2  # nor more than the process may use


@pytest.mark.parametrize(
    ("files", "quota"),
    [
        ({"cpu.max": "max 100000\n"}, None),
        ({"cpu.max": "200000 100000\n"}, 2.0),
        ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),
        ({"cpu/cpu.cfs_quota_us": "150000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1.5),
        ({}, None),
    ],
)
def test_cpu_quota_reads_cgroup_v2_and_v1(tmp_path: Path, files: dict[str, str], quota: float | None) -> None:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="ascii")
    assert cpu_quota(tmp_path) == quota


@pytest.mark.skipif(not LOADAVG.is_file(), reason="needs Linux's /proc/loadavg")
def test_this_machines_loadavg_reads() -> None:
    running = running_tasks()
    assert running is None or running >= 1  # None in sandboxes that write 0/0


def test_running_among_reads_each_threads_state(tmp_path: Path) -> None:
    for tid, stat in {1: "1 (python3) R 0 1", 2: "2 (a (b) c) S 0 1", 3: "3 (x) y) R 0 1"}.items():
        (tmp_path / str(tid)).mkdir()
        (tmp_path / str(tid) / "stat").write_text(stat, encoding="ascii")
    assert thread_ids(tmp_path) == {1, 2, 3}
    assert running_among({1, 2, 3, 4}, tmp_path) == 2  # a name may hold ") "; 4 has ended
    assert thread_ids(tmp_path / "absent") == set()


@pytest.mark.skipif(not TASKS.is_dir(), reason="needs Linux's /proc/self/task")
def test_this_thread_is_listed_and_running() -> None:
    me = threading.get_native_id()
    assert me in thread_ids()
    assert running_among({me}) == 1
