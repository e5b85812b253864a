"""The main windows a test opens: offscreen, 1280x720, with a settings file of
the test's own (never the user's), every one closed when the test ends."""

from __future__ import annotations

from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from qsim.ui.main_window import MainWindow
from qsim.ui.session import LiveSession


class Windows:
    def __init__(self, qtbot: QtBot, settings: QSettings) -> None:
        self.qtbot = qtbot
        self.settings = settings
        self.made: list[MainWindow] = []

    def open(
        self,
        start_method: str | None = None,
        lesson: str = "",
        *,
        panels: bool = False,
        settings: QSettings | None = None,
    ) -> MainWindow:
        """A shown window (its live session on ``start_method``, or the
        session's own default), with ``lesson`` open if one is named;
        ``panels``: the panels installed, as the app does at start."""
        session = LiveSession() if start_method is None else LiveSession(start_method=start_method)
        win = MainWindow(session, settings if settings is not None else self.settings)
        session.setParent(win)
        self.qtbot.addWidget(win)
        if panels:
            win.install_panels()
        win.resize(1280, 720)
        with self.qtbot.waitExposed(win):
            win.show()
        if lesson:
            assert win.open_lesson(lesson)
        self.made.append(win)
        return win

    def close_all(self) -> None:
        for win in self.made:
            win.close()
        self.made.clear()
