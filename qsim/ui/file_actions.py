"""File menu actions of the main window: scenarios, recordings, pictures, errors.

A mixin for ``MainWindow``, kept apart so the window module keeps one job.
Errors are shown in a message box that does not block: the run goes on.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from qsim.model.scenario_io import dump_scenario
from qsim.record.format import RecordingError
from qsim.ui.diagram.view import DiagramView
from qsim.ui.session import LiveSession
from qsim.ui.status import RunStatusBar

RECORDING_FILTER = "qsim recordings (*.qrec);;All files (*)"


class FileActions:
    """Open / save / export for a window with a session, a diagram and a status bar."""

    session: LiveSession
    settings: QSettings | None
    status: RunStatusBar
    diagram: DiagramView

    def open_lesson(self, ref: str) -> bool:
        raise NotImplementedError

    @property
    def _widget(self) -> QWidget:
        return cast(QWidget, self)

    def open_dialog(self) -> None:
        start = str(self.settings.value("dir", "")) if self.settings is not None else ""
        path, _ = QFileDialog.getOpenFileName(
            self._widget, "Open scenario", start, "qsim scenarios (*.toml);;All files (*)"
        )
        if path:
            if self.settings is not None:
                self.settings.setValue("dir", str(Path(path).parent))
            self.open_lesson(path)

    def save_scenario(self, path: str) -> bool:
        """Write the current scenario (with the knobs as set) as TOML."""
        sc = self.session.scenario
        if sc is None:
            return False
        try:
            Path(path).write_text(dump_scenario(sc), encoding="utf-8")
        except OSError as e:
            self.show_error("Cannot save the scenario", f"{path}: {e.strerror or e}")
            return False
        self.status.showMessage(f"Saved {path}", 5000)
        return True

    def save_dialog(self) -> None:
        sc = self.session.scenario
        if sc is None:
            return
        path, _ = QFileDialog.getSaveFileName(
            self._widget, "Save scenario as", f"{sc.id}.toml", "qsim scenarios (*.toml)"
        )
        if path:
            self.save_scenario(path)

    def export_picture(self, path: str) -> bool:
        """Save the diagram as a PNG."""
        if not self.diagram.grab().save(path, "PNG"):
            self.show_error("Cannot export the picture", f"{path}: could not write a PNG")
            return False
        self.status.showMessage(f"Saved {path}", 5000)
        return True

    def export_dialog(self) -> None:
        name = f"{self.session.scenario.id if self.session.scenario else 'qsim'}.png"
        path, _ = QFileDialog.getSaveFileName(self._widget, "Export picture", name, "PNG (*.png)")
        if path:
            self.export_picture(path)

    # ------------------------------------------------------------ recordings
    def _start_dir(self) -> str:
        return str(self.settings.value("dir", "")) if self.settings is not None else ""

    def open_recording_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self._widget, "Open recording", self._start_dir(), RECORDING_FILTER
        )
        if path:
            if self.settings is not None:
                self.settings.setValue("dir", str(Path(path).parent))
            self.open_recording(path)

    def open_recording(self, path: str) -> bool:
        """Replay the recording ``path`` in this window; a file that cannot be
        replayed is reported and the window keeps what it shows."""
        try:
            self.session.open_recording(path)
        except RecordingError as e:
            self.show_error("Cannot open the recording", str(e))
            return False
        self.status.showMessage(f"Replaying {Path(path).name}", 8000)
        return True

    def save_recording_dialog(self) -> None:
        if not self.session.can_save_recording:
            return
        sc = self.session.scenario
        name = f"{sc.id if sc is not None else 'run'}.qrec"
        path, _ = QFileDialog.getSaveFileName(
            self._widget, "Save recording", str(Path(self._start_dir()) / name), RECORDING_FILTER
        )
        if path:
            self.save_recording(path)

    def save_recording(self, path: str) -> bool:
        """Save the run's recording so far (or a copy of the replayed file)."""
        try:
            self.session.save_recording(path)
        except OSError as e:
            self.show_error("Cannot save the recording", f"{path}: {e.strerror or e}")
            return False
        self.status.showMessage(f"Saved {path}", 5000)
        return True

    def export_video_dialog(self) -> None:
        from qsim.ui.export_video import export_video_dialog

        export_video_dialog(self)  # type: ignore[arg-type]

    def show_error(self, title: str, text: str) -> None:
        """A message box that does not block: the run goes on behind it."""
        self.status.showMessage(text.splitlines()[0] if text else title, 10_000)
        ok = QMessageBox.StandardButton.Ok
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, ok, self._widget)
        box.setObjectName("error_box")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
