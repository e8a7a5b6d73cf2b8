"""index/cpu_load.py: the running tasks of /proc/loadavg, and the cores no other process uses."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor_bot.index.cpu_load import LOADAVG, cores_free, running_tasks


def loadavg(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loadavg"
    path.write_text(text, encoding="ascii")
    return path


def test_running_tasks_are_the_fourth_fields_numerator(tmp_path: Path) -> None:
    assert running_tasks(loadavg(tmp_path, "0.52 0.58 0.59 3/467 12345\n")) == 3


@pytest.mark.parametrize("text", ["", "0.52 0.58 0.59", "0.52 0.58 0.59 x/467 1"])
def test_an_unreadable_loadavg_is_unknown(tmp_path: Path, text: str) -> None:
    assert running_tasks(loadavg(tmp_path, text)) is None
    assert cores_free(2, loadavg=loadavg(tmp_path, text)) is None


def test_a_missing_loadavg_is_unknown(tmp_path: Path) -> None:
    assert cores_free(2, loadavg=tmp_path / "absent") is None


def test_cores_free_counts_only_other_processes_tasks(tmp_path: Path) -> None:
    assert cores_free(2, loadavg=loadavg(tmp_path, "0 0 0 1/100 1")) == 2  # only the reader runs
    assert cores_free(2, loadavg=loadavg(tmp_path, "0 0 0 2/100 1")) == 1  # one other task
    assert cores_free(2, own_running=2, loadavg=loadavg(tmp_path, "0 0 0 2/100 1")) == 2  # it is ours
    assert cores_free(2, loadavg=loadavg(tmp_path, "0 0 0 7/100 1")) == -4  # more tasks than cores
    assert cores_free(2, own_running=3, loadavg=loadavg(tmp_path, "0 0 0 1/100 1")) == 2  # never above cores


@pytest.mark.skipif(not LOADAVG.is_file(), reason="needs Linux's /proc/loadavg")
def test_this_machines_loadavg_reads() -> None:
    running = running_tasks()
    assert running is not None and running >= 1  # this test is running
