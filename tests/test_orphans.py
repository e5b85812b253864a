"""SIGKILL of the app leaves no process behind (issue 15, item 1).

The app runs in a session of its own; once its workers are busy it is killed
with SIGKILL, and every process of its session (workers, the manager, the
processes a lesson's main starts itself, the resource tracker) must be gone
within 3 s. Under ``fork`` every worker inherits what the app had open, so a
worker blocked writing its full event pipe used to stay forever.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from handy import handy_path
from killing import busy_session
from procwait import wait_gone

from qsim.engine.proctree import session_members

REPO = Path(__file__).resolve().parent.parent
GONE_WITHIN_S = 3.0

#: queue-types with every lane at once, flat out: every kind of queue busy
FLAT_OUT = """
[scenario]
id = "flat-out"
title = "every kind of queue, flat out"
summary = "for the kill tests"

[run]
duration = 60.0
start_method = "{method}"

[[queues]]
id = "q-queue"
kind = "Queue"
maxsize = 1000

[[queues]]
id = "q-simple"
kind = "SimpleQueue"

[[queues]]
id = "q-joinable"
kind = "JoinableQueue"
maxsize = 1000

[[queues]]
id = "q-manager"
kind = "ManagerQueue"
maxsize = 1000
""" + "".join(
    f"""
[[producers]]
id = "P-{k}"
queue = "q-{k}"
items = 0
duration = 50.0
interval = 0.0
sentinels = 1

[[consumers]]
id = "C-{k}"
queue = "q-{k}"
work_time = 0.0
"""
    for k in ("queue", "simple", "joinable", "manager")
)


def _flat_out(tmp_path: Path, method: str) -> Path:
    path = tmp_path / "flat-out.toml"
    path.write_text(FLAT_OUT.format(method=method), encoding="utf-8")
    return path


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "qsim", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its session id is its pid: what it leaves is findable
    )


def _kill_and_count(app: subprocess.Popen[bytes], members: list[int]) -> list[int]:
    """SIGKILL the app; what is left of its session after ``GONE_WITHIN_S``."""
    os.kill(app.pid, signal.SIGKILL)
    app.wait(5)
    wait_gone([m for m in members if m != app.pid], GONE_WITHIN_S)
    return session_members(app.pid)


def test_killing_the_headless_app_leaves_no_process(tmp_path: Path, start_method: str) -> None:
    path = _flat_out(tmp_path, start_method)
    app = _start(["run", str(path), "--headless", "--start-method", start_method])
    try:
        # the app, 8 workers and the manager, all flat out
        members = busy_session(app.pid, 10, cpu=1.0, timeout=15)
        assert _kill_and_count(app, members) == []
    finally:
        _cleanup(app)


def test_killing_the_app_leaves_no_grandchild(start_method: str) -> None:
    """pitfall-join-before-drain: main starts the producer itself (a grandchild
    of the app), and both are stuck in the lesson's deadlock when the app dies."""
    app = _start(
        [
            *("run", str(handy_path("small-join-first")), "--headless"),
            *("--start-method", start_method, "--duration", "60"),
        ]
    )
    try:
        members = busy_session(app.pid, 3, cpu=0.0, timeout=15)
        assert _kill_and_count(app, members) == []
    finally:
        _cleanup(app)


def test_killing_the_window_leaves_no_process(tmp_path: Path, start_method: str) -> None:
    path = _flat_out(tmp_path, start_method)
    app = _start(
        ["--lesson", str(path), "--quit-after", "60"],
        {"QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path / "config")},
    )
    try:
        members = busy_session(app.pid, 10, cpu=1.0, timeout=20)
        assert _kill_and_count(app, members) == []
    finally:
        _cleanup(app)


def _cleanup(app: subprocess.Popen[bytes]) -> None:
    """Whatever a failed test left: the app's whole session."""
    for pid in session_members(app.pid):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            continue
    if app.poll() is None:
        app.kill()
    app.wait(5)


if sys.platform != "linux":  # pragma: no cover - /proc and pidfds
    pytestmark = pytest.mark.skip("reads /proc")
