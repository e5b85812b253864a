"""Line tracking: with the code view open, every line of the program's own code
is followed (``sys.monitoring`` on 3.12+, ``sys.settrace`` before), not only
sampled; switched on and off while the program runs."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
from collections import Counter

import pytest
from tracing import PROGRAMS, marked_line

from qsim.engine.trace import TraceRun
from qsim.model.events import EventKind

SPIN = "spin.py"


def lines_seen(run: TraceRun, switch_on_after: int = -1) -> Counter[tuple[int, str, int]]:
    """(actor, file, line) of every LINE event until the program ends."""
    seen: Counter[tuple[int, str, int]] = Counter()
    batches = 0
    try:
        run.start()
        while not run.finished:
            run.collector.wait_for_data(0.1)
            for batch in run.collector.drain():
                batches += 1
                if batches == switch_on_after:
                    run.set_lines(True)
                for e in batch:
                    if e[3] == EventKind.LINE:
                        seen[(e[2], str(e[6]), int(e[7]))] += 1
    finally:
        run.stop()
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    return seen


def loop_lines() -> set[int]:
    return {marked_line(SPIN, m) for m in ("spin tests", "spin adds", "spin subtracts")}


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_tracking_follows_every_line_of_a_busy_loop(method: str) -> None:
    # the lines are reported as sampled from the tracker (20 times a second and
    # at each flush): 2 s of spinning gives every loop line many chances
    run = TraceRun(PROGRAMS / SPIN, [method, "2.0"], capture_output=True, lines=True)
    seen = lines_seen(run)
    spinner = {line for (actor, _f, line) in seen if actor == 1}
    assert loop_lines() <= spinner, spinner
    # only the program's own file: no library line is ever reported
    assert {f for (_a, f, _l) in seen} == {str(PROGRAMS / SPIN)}


def test_tracking_can_be_switched_on_while_the_program_runs() -> None:
    # switched on once two batches came (the program has started). Under
    # sys.settrace a process switches at its next call into the agent (a
    # busy loop that makes none keeps its state): this one sleeps between
    # rounds of spinning, so it switches while it runs, however late
    run = TraceRun(PROGRAMS / SPIN, ["fork", "1.5", "rounds"], capture_output=True)
    seen = lines_seen(run, switch_on_after=2)
    spinner = {line for (actor, _f, line) in seen if actor == 1}
    marks = ("round tests", "round adds", "round subtracts")
    assert {marked_line(SPIN, m) for m in marks} <= spinner, spinner


def other_python(version: str) -> str | None:
    """A working ``python3.X`` on PATH (or in a pyenv), if this machine has one."""
    found = [shutil.which(f"python{version}")]
    found += sorted(glob.glob(os.path.expanduser(f"~/.pyenv/versions/{version}*/bin/python3")))
    for python in filter(None, found):
        ok = subprocess.run([python, "-c", "import sys"], capture_output=True, check=False)
        if ok.returncode == 0:
            return python
    return None


@pytest.mark.parametrize("version", ["3.12", "3.13", "3.10"])
def test_tracking_on_other_pythons(version: str) -> None:
    """3.12+ uses sys.monitoring, 3.10 sys.settrace (run where installed)."""
    python = other_python(version)
    if python is None:
        pytest.skip(f"python{version} is not installed here")
    run = TraceRun(
        PROGRAMS / SPIN, ["fork", "1.0"], capture_output=True, python=python, lines=True
    )
    seen = lines_seen(run)
    spinner = {line for (actor, _f, line) in seen if actor == 1}
    assert loop_lines() <= spinner, spinner
