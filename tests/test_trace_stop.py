"""No process of a traced program outlives its run: after a stop, and when the
controller itself is killed (each process reads EOF on its socket and ends)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from procwait import read_fifo, wait_gone
from tracing import PROGRAMS

from qsim.engine.proctree import session_members, wait_session_gone
from qsim.engine.trace import TraceRun


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_stop_ends_every_process(method: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    run = TraceRun(PROGRAMS / "forever.py", [method, str(pidfile)])
    try:
        run.start()
        pids = set(json.loads(read_fifo(pidfile, 30, lambda: bool(run.alive()))))
        assert set(run.alive()) >= pids
    finally:
        run.stop()
    assert wait_gone(pids, 3.0) == set()
    assert run.alive() == []
    assert not os.path.exists(run.dir)


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_killing_the_controller_leaves_no_process(method: str, tmp_path: Path) -> None:
    pidfile = tmp_path / "pids"
    cmd = [sys.executable, "-m", "qsim", "trace", str(PROGRAMS / "forever.py"), method]
    controller = subprocess.Popen(
        [*cmd, str(pidfile), "--headless", "--json"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        pids = json.loads(read_fifo(pidfile, 30, lambda: controller.poll() is None))
        main = pids[0]
        env = Path(f"/proc/{main}/environ").read_bytes().split(b"\0")
        cfg = json.loads(next(e for e in env if e.startswith(b"QSIM_TRACE=")).split(b"=", 1)[1])
        controller.send_signal(signal.SIGKILL)
        controller.wait(5)
        # every process of the program (its own, and multiprocessing's helpers)
        assert wait_gone(set(pids), 3.0) == set()
        assert wait_session_gone(main, 3.0), session_members(main)
    finally:
        if controller.poll() is None:
            controller.kill()
            controller.wait(5)
        if controller.stderr is not None:
            controller.stderr.close()
    # the main process removed the run's folder before it ended (its children
    # may see the controller go before it does: it waits for its own EOF then)
    if os.path.exists(cfg["dir"]):
        shutil.rmtree(cfg["dir"], ignore_errors=True)
        raise AssertionError("the run's private folder was left behind")
