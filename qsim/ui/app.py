"""Start the GUI: the QApplication, its name (for QSettings), icon and style.

The window is shown first and filled right after (topic panels, the lesson),
so the student sees a window as early as possible; the topic panels, which
may import pyqtgraph, are created once the first frame is painted.
"""

from __future__ import annotations

import os
import sys
import time

from PySide6.QtCore import QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from qsim.model.scenario_io import ScenarioError
from qsim.resources import builtin_ids, load_lesson, resources_dir
from qsim.ui import gui_gc

APP_NAME = "qsim"
ORG_NAME = "qsim"
_T_IMPORT = time.monotonic()


def app_icon() -> QIcon:
    icon = QIcon()
    for name in ("qsim.svg", "qsim.png"):
        path = resources_dir() / "icons" / name
        if path.is_file():
            icon.addFile(str(path))
    return icon


def make_app() -> QApplication:
    """The application object (reused if one exists), named for ``QSettings``."""
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(ORG_NAME)
    app.setApplicationDisplayName("qsim")
    app.setStyle("Fusion")  # the palette (light/dark) applies fully on every platform
    app.setWindowIcon(app_icon())
    gui_gc.install(app)  # cycles holding Qt objects die on this thread, not a run's
    return app


def seconds_since_process_start() -> float:
    """Wall time since this process started (Linux: from /proc; else since import)."""
    try:
        with open("/proc/self/stat", "rb") as f:
            stat = f.read()
        start_ticks = int(stat[stat.rfind(b")") + 2 :].split()[19])
        boot = time.clock_gettime(time.CLOCK_BOOTTIME)
        return boot - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, AttributeError, IndexError):
        return time.monotonic() - _T_IMPORT


class FirstPaint(QObject):
    """Calls ``then`` once, when the watched widget is painted the first time."""

    def __init__(self, widget: QObject, then: object) -> None:
        super().__init__(widget)
        self.then = then
        self.seconds = 0.0
        widget.installEventFilter(self)

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and not self.seconds:
            self.seconds = seconds_since_process_start()
            obj.removeEventFilter(self)
            if os.environ.get("QSIM_STARTUP_TIME"):
                print(f"qsim: first paint {self.seconds:.3f} s after process start", flush=True)
            QTimer.singleShot(0, self.then)  # type: ignore[call-overload]
        return False


def _initial_lesson(asked: str | None, last: str) -> str:
    """The lesson to open: the one asked for, else the last one, else the first."""
    if asked:
        return asked
    if last:
        try:
            load_lesson(last)
            return last
        except (ScenarioError, OSError):
            pass  # moved or broken since: not worth an error box at start
    ids = builtin_ids()
    return ids[0] if ids else ""


def run_gui(
    lesson: str | None = None,
    quit_after: float | None = None,
    recording: str | None = None,
    program: tuple[str, list[str]] | None = None,
    speed: float = 1.0,
    internals: bool = False,
) -> int:
    """Open the main window; return the exit code.

    ``quit_after`` (hidden ``--quit-after``): play the lesson and close the
    window after that many seconds (smoke tests of the real app).
    ``recording``: replay this ``.qrec`` file instead of opening a lesson (a
    file that cannot be replayed is reported, and the last lesson opens).
    ``program``: ``(path, args)`` of a Python program to open and play, traced
    (``qsim trace prog.py``), at ``speed``, instead of a lesson (``internals``:
    its Queues drawn opened up).
    """
    app = make_app()
    from qsim.ui.main_window import MainWindow
    from qsim.ui.session import LiveSession

    session = LiveSession()
    win = MainWindow(session, QSettings())

    filled = False

    def fill() -> None:
        nonlocal filled
        if filled or not win.isVisible():
            return
        filled = True
        win.install_panels()
        if program is not None:
            win.programs.open_program(*program, internals=internals)
            session.set_speed(speed)  # live: the program has started
            win.actions_run.speed.set_speed(session.speed)
        else:
            ref = _initial_lesson(lesson, win.last_lesson())
            if ref:
                win.open_lesson(ref)
        if recording is not None and win.open_recording(recording):
            session.replay_play()
        elif quit_after is not None:
            session.play()
        if quit_after is not None:
            QTimer.singleShot(int(quit_after * 1000), win.close)

    FirstPaint(win.diagram.viewport(), fill)
    for ms in (1500, 5000):  # in case no paint ever comes (a hidden, or very slow, window)
        QTimer.singleShot(ms, fill)
    if quit_after is not None:  # a smoke test must end even if the window never showed
        QTimer.singleShot(int(quit_after * 1000) + 20_000, app.quit)
    win.show()
    try:
        return app.exec()
    finally:
        session.shutdown()
