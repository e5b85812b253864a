"""Helpers for the tests that kill processes: SIGKILL one process of a real run
(a worker, the manager) or the whole app, and look at what is left."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from qsim.engine.headless import run_headless
from qsim.engine.proctree import session_members
from qsim.engine.run import Run
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import parse_scenario
from qsim.model.state import Reducer

MANAGER = "manager"


@dataclass
class Killed:
    report: dict[str, Any]
    reducer: Reducer
    killed_at: float  # seconds after the start (0: never killed)

    def actor(self, name: str) -> dict[str, Any]:
        return dict(self.report["actors"][name])

    @property
    def acct(self) -> dict[str, Any]:
        return dict(self.report["accounting"])

    def notes(self) -> list[str]:
        return [n.text for n in self.reducer.notes]


def run_and_kill(
    sc: Scenario,
    start_method: str,
    victim: str,
    when: Callable[[Reducer], bool],
    duration: float = 30.0,
) -> Killed:
    """Run ``sc`` headless and SIGKILL ``victim`` (an actor's name, or
    ``MANAGER``) as soon as ``when(reducer)`` holds."""
    held: dict[str, Any] = {}
    t0 = time.monotonic()

    def started(run: Run) -> None:
        held["run"] = run

    def frame(r: Reducer) -> None:
        run: Run = held["run"]
        if "at" in held or not when(r):
            return
        if victim == MANAGER:
            assert run._manager_proc is not None
            pid = run._manager_proc.pid
        else:
            pid = run.processes[run.topology.names.index(victim)].pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        held["at"] = time.monotonic() - t0

    report, reducer = run_headless(
        sc, duration=duration, start_method=start_method, on_started=started, on_frame=frame
    )
    return Killed(report, reducer, held.get("at", 0.0))


def scenario(text: str) -> Scenario:
    return parse_scenario(text, source="test scenario")


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    """Wait until ``condition()`` holds (read off /proc, which has no event to
    wait on: looked at with a growing pause); True if it did in time."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while not condition():
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)
    return True


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time these processes have used (Linux: /proc)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def busy_session(sid: int, processes: int, cpu: float, timeout: float) -> list[int]:
    """Wait until session ``sid`` has ``processes`` live processes that have
    used ``cpu`` seconds between them since they all existed; return them."""
    assert wait_for(lambda: len(session_members(sid)) >= processes, timeout), (
        f"only {len(session_members(sid))} of {processes} processes started"
    )
    members = session_members(sid)
    base = cpu_seconds(members)
    assert wait_for(lambda: cpu_seconds(members) - base >= cpu, timeout), "the run is not busy"
    return members
