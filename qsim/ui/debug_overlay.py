"""A hidden debug overlay (Ctrl+Shift+F12): the consistency checker on every frame.

It runs ``qsim.ui.consistency.check_frame`` on each frame the window draws and
prints what disagrees over the diagram (or that nothing does), so a frame
that looks wrong on a projector can be checked on the spot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel

from qsim.ui.consistency import check_frame

if TYPE_CHECKING:
    from qsim.ui.main_window import MainWindow

KEY = "Ctrl+Shift+F12"


class ConsistencyOverlay(QLabel):
    """Mismatches of the current frame, drawn over the diagram while switched on."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win.diagram.viewport())
        self.win = win
        self.setObjectName("consistency_overlay")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setWordWrap(True)
        self.setStyleSheet(
            "QLabel { background: rgba(0,0,0,170); color: #ffffff; padding: 6px;"
            " font-family: monospace; }"
        )
        self.mismatched_frames = 0
        self.hide()
        self.action = QAction("Frame consistency check", win)
        self.action.setShortcut(QKeySequence(KEY))
        self.action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        self.action.setCheckable(True)
        self.action.toggled.connect(self.set_active)
        win.addAction(self.action)

    def set_active(self, on: bool) -> None:
        session = self.win.session
        if on:
            session.frame.connect(self._on_frame)
            self._on_frame(0)
            self.show()
        else:
            session.frame.disconnect(self._on_frame)
            self.hide()

    def _on_frame(self, _now: int) -> None:
        problems = check_frame(self.win)
        if problems:
            self.mismatched_frames += 1
            text = "\n".join(["⚠ this frame contradicts itself:", *problems[:8]])
        else:
            text = f"✓ frame consistent (mismatched frames so far: {self.mismatched_frames})"
        self.setText(text)
        self.setMaximumWidth(max(200, self.win.diagram.viewport().width() - 20))
        self.adjustSize()
        self.move(10, 10)
