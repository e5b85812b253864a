"""Start and stop a busy run again and again: nothing may pile up.

Each cycle starts every process of a lesson, waits until all of them report,
and stops the run. After the cycles: no child process is left, this
process has as many file descriptors as after the first cycle, and
``/dev/shm`` holds none of our semaphores or shared-memory blocks. The suite
runs a few cycles; ``QSIM_CYCLES=200`` is the long check (the figures in the
README come from it).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import time
from dataclasses import replace
from multiprocessing import current_process
from pathlib import Path

import pytest
from test_orphans import FLAT_OUT

from qsim.engine.headless import pump
from qsim.engine.run import Run
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import parse_scenario
from qsim.model.state import Reducer
from qsim.resources import load

CYCLES = int(os.environ.get("QSIM_CYCLES", "2"))
SHM = Path("/dev/shm")


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _ours_in_shm(sem_prefix: str) -> set[str]:
    """Our semaphores (named with the prefix this test gave them) and the
    large-objects lesson's blocks (named after this process)."""
    if not SHM.is_dir():
        return set()
    mine = (f"sem.{sem_prefix.lstrip('/')}", f"qs{os.getpid()}_")
    return {n for n in os.listdir(SHM) if n.startswith(mine)}


def _cycle(sc: Scenario, start_method: str, sem_prefix: str) -> set[str]:
    """One start and stop once every worker runs and items flow; returns what
    of ours was in /dev/shm meanwhile."""
    run = Run(sc, start_method=start_method)
    reducer = Reducer(run.topology, reorder_ns=0)
    workers = [a for a in reducer.actors if a.role != "main"]

    def busy() -> bool:
        return all(a.started for a in workers) and reducer.acct.produced >= 4

    try:
        run.start()
        deadline = time.monotonic() + 20
        while not busy() and time.monotonic() < deadline:
            pump(run, reducer)
        assert busy(), "the run did not get going"
        seen = _ours_in_shm(sem_prefix)
    finally:
        run.stop()
    assert not run.alive()
    return seen


@pytest.mark.parametrize("lesson", ["flat-out", "pitfall-large-objects"])
def test_start_stop_cycles_leave_nothing_behind(
    lesson: str, start_method: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # name our semaphores so that they can be told from other processes' in /dev/shm
    sem_prefix = f"/mp-qsimcycles{os.getpid()}"
    monkeypatch.setitem(current_process()._config, "semprefix", sem_prefix)  # type: ignore[attr-defined]
    if lesson == "flat-out":
        sc = parse_scenario(FLAT_OUT.format(method=start_method))
    else:  # both lanes at once: the shared-memory one makes its blocks at once
        sc = load(lesson)
        sc = replace(sc, run=replace(sc.run, lanes="together"))
    # the first cycle starts what lives on (the resource tracker)
    seen = _cycle(sc, start_method, sem_prefix)
    gc.collect()  # what an earlier test of this process left closes now, not mid-count
    fds = _fds()
    for _ in range(CYCLES):
        seen |= _cycle(sc, start_method, sem_prefix)
    assert multiprocessing.active_children() == []
    gc.collect()
    assert _fds() <= fds, f"file descriptors grew from {fds} to {_fds()}"
    assert _ours_in_shm(sem_prefix) == set()
    if start_method == "spawn" or lesson != "flat-out":  # else none are ever named
        assert seen, "the check cannot see our names in /dev/shm"
