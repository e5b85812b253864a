"""The leak checks in conftest.py catch what they promise (and pass clean tests).

Runs a small inner test suite, with this project's conftest.py, in a separate
pytest process: each inner test leaks one kind of thing on purpose.
"""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent

INNER = """
import multiprocessing
import subprocess
import threading
import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QWidget

KEEP = []


def _nap(seconds):
    threading.Event().wait(seconds)


def test_clean(qtbot):
    t = QTimer()
    t.start(5)
    qtbot.waitUntil(lambda: t.remainingTime() >= 0)
    t.stop()
    p = multiprocessing.get_context("fork").Process(target=_nap, args=(0.01,))
    p.start()
    p.join(10)
    w = QWidget()
    qtbot.addWidget(w)
    w.show()
    done = []
    QTimer.singleShot(1, lambda: done.append(1))
    qtbot.waitUntil(lambda: bool(done))


def test_leaks_mp_process():
    p = multiprocessing.get_context("fork").Process(target=_nap, args=(60,), name="napper")
    p.start()
    KEEP.append(p)


def test_leaks_popen():
    KEEP.append(subprocess.Popen(["sleep", "60"]))


def test_leaks_thread():
    stop = threading.Event()
    threading.Thread(target=stop.wait, args=(4,), name="sleeper").start()


def test_leaks_timer(qapp):
    t = QTimer()
    t.start(1000)
    KEEP.append(t)


def test_leaks_single_shot(qapp):
    QTimer.singleShot(10_000, lambda: None)


def test_leaks_window(qapp):
    w = QWidget()
    w.setWindowTitle("left open")
    w.show()
    KEEP.append(w)


def test_after_the_leaks_nothing_is_left():
    assert multiprocessing.active_children() == []
"""


def test_leaks_fail_their_test_and_are_cleaned_up(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makeconftest((HERE / "conftest.py").read_text(encoding="utf-8"))
    pytester.makepyfile(procwait=(HERE / "procwait.py").read_text(encoding="utf-8"))
    pytester.makeini(
        """
        [pytest]
        qt_api = pyside6
        qt_log_level_fail = WARNING
        qt_log_ignore = ^This plugin does not support
        filterwarnings = error
        timeout = 60
        """
    )
    pytester.makepyfile(test_inner=INNER)
    monkeypatch.setenv("QSIM_TEST_CHILD_GRACE", "0.5")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v", timeout=120)
    out = result.stdout.str()
    result.assert_outcomes(passed=8, errors=6)
    for test in ("test_clean", "test_after_the_leaks_nothing_is_left"):
        assert f"test_inner.py::{test} PASSED" in out
    for test, words in {
        "test_leaks_mp_process": "napper",
        "test_leaks_popen": "sleep 60",
        "test_leaks_thread": "sleeper",
        "test_leaks_timer": "test_inner.py:",
        "test_leaks_single_shot": "QTimers still active",
        "test_leaks_window": "'left open'",
    }.items():
        assert f"test_inner.py::{test} ERROR" in out
        assert words in out, f"{test}: {words!r} not in the report"
