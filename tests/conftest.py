"""Shared test set-up: offscreen Qt, leak checks, common fixtures.

Every test is checked, after its own fixtures are torn down, for what it left
behind, and fails (at teardown) if it left:

- a child process (found both by ``multiprocessing.active_children()`` and by
  reading ``/proc/*/stat`` for processes whose parent is this one); leaked
  children are killed so that the next tests are not poisoned;
- a non-daemon thread, or any thread of ours (named ``qsim...``);
- an active ``QTimer`` (started by ``QTimer.start`` or ``QTimer.singleShot``
  during the test) or a visible top-level widget that did not exist before.

Only what the test created is checked: the session-wide ``QApplication`` of
pytest-qt, and multiprocessing's own helpers (resource tracker, forkserver),
are not leaks.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from procwait import wait_gone

# Before any QApplication exists: without a display (and even with one, for
# speed and determinism) tests draw offscreen. The end-to-end tests under Xvfb
# start the app in a subprocess with their own environment.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QApplication, QWidget

REPO = Path(__file__).resolve().parent.parent
# how long a test's children may take to go after it ended
CHILD_GRACE_S = float(os.environ.get("QSIM_TEST_CHILD_GRACE", "5"))
THREAD_GRACE_S = 2.0
_HELPERS = ("resource_tracker", "forkserver")  # long-lived helpers Python starts

pytest_plugins = ["pytester"]  # tests/test_leak_checks.py runs this file on bad tests


# --------------------------------------------------------------- fixtures
@pytest.fixture(params=["fork", "spawn"])
def start_method(request: pytest.FixtureRequest) -> str:
    """Run the test once per start method (``spawn`` is what Windows, macOS
    and the packaged app use; ``fork`` is Linux's default)."""
    if request.param not in multiprocessing.get_all_start_methods():
        pytest.skip(f"start method {request.param} is not available on this platform")
    return str(request.param)


@pytest.fixture
def scenario_text() -> Callable[[str], str]:
    """``scenario_text("backpressure")``: the TOML text of a built-in scenario
    lesson, or of a test scenario (``scenario_text("small-basic")``)."""
    from qsim.resources import builtin_path

    def text(scenario_id: str) -> str:
        mine = Path(__file__).resolve().parent / "scenarios" / f"{scenario_id}.toml"
        path = mine if mine.is_file() else builtin_path(scenario_id)
        return path.read_text(encoding="utf-8")

    return text


@pytest.fixture
def scenario_file(tmp_path: Path) -> Callable[..., Path]:
    """``scenario_file(text, name="s.toml")``: write a scenario file, return its path."""

    def write(text: str, name: str = "scenario.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


# ------------------------------------------------------- child processes
def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _proc_children() -> dict[int, str]:
    """Live (not zombie) children of this process, pid -> command line, from /proc."""
    if not os.path.isdir("/proc"):
        return {}
    me = os.getpid()
    found: dict[int, str] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = _read(f"/proc/{entry.name}/stat")
            cmdline = _read(f"/proc/{entry.name}/cmdline")
        except OSError:  # it ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        rparen = stat.rfind(b")")
        state, ppid = stat[rparen + 2 :].split()[:2]
        if int(ppid) != me or state == b"Z":
            continue
        cmd = cmdline.replace(b"\0", b" ").decode(errors="replace").strip()
        if any(h in cmd for h in _HELPERS):
            continue
        comm = stat[stat.find(b"(") + 1 : rparen].decode(errors="replace")
        found[int(entry.name)] = cmd or comm
    return found


def _mp_children() -> dict[int, str]:
    """Live multiprocessing children (this also reaps the finished ones)."""
    return {
        p.pid: f"{p.name} (multiprocessing)"
        for p in multiprocessing.active_children()
        if p.pid is not None
    }


def _children() -> dict[int, str]:
    kids = _proc_children()
    kids.update(_mp_children())
    return kids


def _kill(pids: set[int]) -> None:
    """Kill leaked children, reaping them through their owner where there is one."""
    for p in multiprocessing.active_children():
        if p.pid in pids:
            p.kill()
            p.join(2.0)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            continue
    wait_gone(pids, 2.0)
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # reaped by its owner, or not our child
            continue


def _wait_children_gone(before: set[int], grace: float) -> dict[int, str]:
    """Children started since ``before`` still alive after ``grace`` seconds."""
    deadline = time.monotonic() + grace
    while True:
        leaked = {pid: cmd for pid, cmd in _children().items() if pid not in before}
        if not leaked or time.monotonic() >= deadline:
            return leaked
        # a real wait: returns as soon as these end (new ones are seen next round)
        wait_gone(leaked, deadline - time.monotonic())
        multiprocessing.active_children()  # reap what ended


# ---------------------------------------------------------------- threads
def _ours_or_blocking(t: threading.Thread) -> bool:
    return not t.daemon or t.name.startswith("qsim")


def _wait_threads_gone(before: set[threading.Thread], grace: float) -> list[threading.Thread]:
    deadline = time.monotonic() + grace
    left = [
        t
        for t in threading.enumerate()
        if t not in before and t is not threading.current_thread() and _ours_or_blocking(t)
    ]
    for t in left:
        t.join(max(0.0, deadline - time.monotonic()))
    return [t for t in left if t.is_alive()]


# --------------------------------------------------------------------- Qt
def _where() -> str:
    """The first frame outside this file: where a timer was started."""
    frame = sys._getframe(2)
    here = __file__
    while frame is not None and frame.f_code.co_filename == here:
        frame = frame.f_back  # type: ignore[assignment]
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno}"


class _TimerWatch:
    """Records every QTimer started from Python during one test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # weak: a timer the test dropped is deleted (and stopped) by Qt as usual
        self.timers: list[tuple[weakref.ref[QTimer], str]] = []
        self.single_shots: list[QTimer] = []  # ours: kept alive until they fire
        base_start = QTimer.start
        base_single_shot = QTimer.singleShot
        watch = self

        def start(self: QTimer, *args: Any) -> None:
            watch.timers.append((weakref.ref(self), _where()))
            base_start(self, *args)

        def single_shot(msec: int, *rest: Any) -> None:
            # Track the common forms (msec, fn) and (msec, context, fn) with a
            # real QTimer we can ask about later; pass anything else through.
            if rest and isinstance(rest[0], Qt.TimerType):
                rest = rest[1:]
            simple = len(rest) == 1 and callable(rest[0])
            with_ctx = len(rest) == 2 and isinstance(rest[0], QObject) and callable(rest[1])
            if threading.current_thread() is not threading.main_thread() or not (
                simple or with_ctx
            ):
                base_single_shot(msec, *rest)
                return
            context = rest[0] if with_ctx else None
            timer = QTimer(context)
            timer.setSingleShot(True)
            timer.timeout.connect(rest[-1])
            watch.single_shots.append(timer)
            watch.timers.append((weakref.ref(timer), _where()))
            base_start(timer, msec)

        monkeypatch.setattr(QTimer, "start", start)
        monkeypatch.setattr(QTimer, "singleShot", staticmethod(single_shot))

    def active(self) -> list[tuple[QTimer, str]]:
        found = []
        for ref, where in self.timers:
            timer = ref()
            try:
                if timer is not None and timer.isActive():
                    found.append((timer, where))
            except RuntimeError:  # its C++ object is gone: not active
                continue
        return found


def _shown_windows() -> set[QWidget]:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return set()
    return {
        w
        for w in app.topLevelWidgets()
        if w.isVisible() and w.windowType() not in (Qt.WindowType.ToolTip, Qt.WindowType.Popup)
    }


# ------------------------------------------------------------- the checks
@pytest.fixture(scope="session", autouse=True)
def _gui_thread_gc(qapp: QApplication) -> None:
    """As in the app: cycles (and the Qt objects in them) are collected on the
    GUI thread, never on a run's threads (see qsim.ui.gui_gc)."""
    from qsim.ui import gui_gc

    gui_gc.install(qapp)


@pytest.fixture(autouse=True)
def _no_leaks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fail a test that leaves processes, threads, timers or windows behind.

    Autouse fixtures are set up first and torn down last, so a test's own
    fixtures (and pytest-qt's widget closing) have run before this looks.
    """
    kids_before = set(_children())
    threads_before = set(threading.enumerate())
    windows_before = _shown_windows()
    timers = _TimerWatch(monkeypatch)
    yield
    problems: list[str] = []
    gc.collect()  # what the test left in cycles goes now, on this (the GUI) thread

    leaked_kids = _wait_children_gone(kids_before, CHILD_GRACE_S)
    if leaked_kids:
        _kill(set(leaked_kids))
        problems.append(
            "child processes still running "
            f"{CHILD_GRACE_S:g} s after the test (killed now): "
            + "; ".join(f"pid {pid}: {cmd}" for pid, cmd in sorted(leaked_kids.items()))
        )

    active = timers.active()
    for timer, _ in active:
        timer.stop()
    if active:
        problems.append(
            "QTimers still active (stop them before the test ends), started at: "
            + "; ".join(where for _, where in active)
        )

    windows = _shown_windows() - windows_before
    for w in windows:
        w.close()
        w.deleteLater()
    if windows:
        problems.append(
            "top-level windows still shown (close them, or qtbot.addWidget them): "
            + ", ".join(f"{type(w).__name__} {w.windowTitle()!r}" for w in windows)
        )

    threads = _wait_threads_gone(threads_before, THREAD_GRACE_S)
    if threads:
        problems.append(
            "threads still running: " + ", ".join(f"{t.name} (daemon={t.daemon})" for t in threads)
        )

    if problems:
        pytest.fail("the test leaked:\n  " + "\n  ".join(problems), pytrace=False)


@pytest.fixture
def windows(qtbot: Any, tmp_path: Path) -> Iterator[Any]:
    """Opens main windows for a test (``tests/windows.py``), closed at its end."""
    from PySide6.QtCore import QSettings
    from windows import Windows

    made = Windows(qtbot, QSettings(str(tmp_path / "qsim.ini"), QSettings.Format.IniFormat))
    yield made
    made.close_all()
