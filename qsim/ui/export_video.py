"""File > Export video...: the shown run or recording as an MP4 or a GIF.

The frames are rendered by a window of their own (never on screen, see
``qsim.ui.render``), a few at a time from a zero-interval timer, so the
window stays responsive; a progress dialog shows how far it got and can
cancel (nothing is left behind then). A live run is saved to a temporary
recording first, so what is rendered is exactly what was recorded until then.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QProgressDialog,
    QSpinBox,
    QWidget,
)

from qsim.record.format import RecordingError
from qsim.ui.render import FrameRenderer, RenderError, RenderSpec, rgb_bytes
from qsim.ui.video_writers import GIF_MAX_FPS, VideoError, VideoWriter, open_writer

if TYPE_CHECKING:
    from qsim.ui.main_window import MainWindow

SIZES = ((1280, 720), (1920, 1080), (2560, 1440), (3840, 2160))
CHUNK_NS = 40_000_000  # render for about this long per timer tick, then let the window live


class VideoOptions(QDialog):
    """Size, frame rate, look and the span of run time to render."""

    def __init__(self, parent: QWidget, length_s: float, gif: bool, presenting: bool) -> None:
        super().__init__(parent)
        self.setObjectName("video_options")
        self.setWindowTitle("Export video")
        form = QFormLayout(self)
        self.size_box = QComboBox(self)
        for w, h in SIZES:
            self.size_box.addItem(f"{w} x {h}", (w, h))
        self.size_box.setCurrentIndex(0 if gif else 1)
        self.size_box.setToolTip("Frame size in pixels")
        self.fps = QSpinBox(self)
        self.fps.setRange(1, GIF_MAX_FPS if gif else 60)
        self.fps.setValue(15 if gif else 30)
        self.fps.setToolTip("Frames per second: each frame is exactly 1/fps of the run apart")
        self.presentation = QCheckBox("Presentation look (large, high contrast)", self)
        self.presentation.setChecked(presenting)
        self.t_from = QDoubleSpinBox(self)
        self.t_to = QDoubleSpinBox(self)
        for box, value in ((self.t_from, 0.0), (self.t_to, length_s)):
            box.setRange(0.0, max(0.1, length_s))
            box.setDecimals(1)
            box.setSingleStep(0.5)
            box.setSuffix(" s")
            box.setValue(value)
        self.t_from.setToolTip("Where the video starts, in seconds of the run")
        self.t_to.setToolTip("Where the video ends, in seconds of the run")
        form.addRow("Size", self.size_box)
        form.addRow("Frames per second", self.fps)
        form.addRow("", self.presentation)
        form.addRow("From", self.t_from)
        form.addRow("To", self.t_to)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def spec(self, theme: str) -> RenderSpec:
        size = self.size_box.currentData()
        return RenderSpec(
            size=(int(size[0]), int(size[1])),
            fps=self.fps.value(),
            presentation=self.presentation.isChecked(),
            theme=theme,
            t_from=self.t_from.value(),
            t_to=self.t_to.value(),
        )


class VideoExport(QObject):
    """One export running in the background of the window (see the module docstring).

    ``finished(str)``: the path written, or "" if it failed or was cancelled
    (``error`` then holds why, "" for a cancel).
    """

    finished = Signal(str)

    def __init__(
        self,
        window: MainWindow,
        recording: str | Path,
        out: str | Path,
        spec: RenderSpec,
        temporary: tempfile.TemporaryDirectory[str] | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.error = ""
        self.done = 0
        self._cancelled = False
        self._temporary = temporary
        self._writer: VideoWriter | None = None
        self._renderer: FrameRenderer | None = None
        self._writer = open_writer(out, spec.size, spec.fps)
        try:
            self._renderer = FrameRenderer(recording, spec)
        except (RecordingError, RenderError):
            self._writer.abort()
            self._cleanup()
            raise
        self.total = self._renderer.frames
        self.progress = QProgressDialog(
            f"Rendering {self.total:,} frames to {Path(out).name}…",
            "Cancel",
            0,
            self.total,
            window,
        )
        self.progress.setObjectName("video_progress")
        self.progress.setWindowTitle("Export video")
        self.progress.setWindowModality(Qt.WindowModality.WindowModal)
        self.progress.setMinimumDuration(0)
        self.progress.canceled.connect(self.cancel)
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)
        self._timer.start()

    def _step(self) -> None:
        r, w = self._renderer, self._writer
        if r is None or w is None:
            return
        deadline = time.monotonic_ns() + CHUNK_NS
        try:
            # a frame lets the window's events in (Cancel among them): checked each time
            while not self._is_cancelled() and self.done < self.total:
                w.write(rgb_bytes(r.render(self.done)))
                self.done += 1
                if time.monotonic_ns() >= deadline:
                    break
        except (VideoError, RecordingError) as e:
            self._end(str(e))
            return
        if self._is_cancelled():
            self._end("")
            return
        self.progress.setValue(self.done)
        if self.done >= self.total:
            try:
                path = w.close()
            except VideoError as e:
                self._writer = None
                self._end(str(e))
                return
            self._writer = None
            self._end("", str(path))

    def _is_cancelled(self) -> bool:
        return self._cancelled or self.progress.wasCanceled()

    def cancel(self) -> None:
        """Stop and remove the unfinished file (at the next frame)."""
        self._cancelled = True

    def _end(self, error: str, path: str = "") -> None:
        self._timer.stop()
        self.error = error
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        self._cleanup()
        self.progress.canceled.disconnect(self.cancel)
        self.progress.close()
        self.progress.deleteLater()
        self.finished.emit(path)

    def _cleanup(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None


def export_video_dialog(win: MainWindow) -> None:
    """Ask where and how, then start rendering (see ``start_export``)."""
    from PySide6.QtWidgets import QFileDialog

    from qsim.ui.video_writers import check_output

    s = win.session
    if not s.can_save_recording:
        win.show_error(
            "Nothing to export yet",
            "A video is made from a recording: play the lesson (every run is recorded) "
            "or open a recording first.",
        )
        return
    name = f"{s.scenario.id if s.scenario is not None else 'qsim'}.mp4"
    path, chosen = QFileDialog.getSaveFileName(
        win, "Export video", name, "MP4 video (*.mp4);;Animated GIF (*.gif)"
    )
    if not path:
        return
    if not Path(path).suffix:
        path += ".gif" if "gif" in chosen.lower() else ".mp4"
    try:
        check_output(path)
    except VideoError as e:
        win.show_error("Cannot export the video", str(e))
        return
    start, end = s.timeline_span()
    length = max(0.1, (end - start) / 1e9)
    opts = VideoOptions(win, length, path.lower().endswith(".gif"), win.presenting)
    if opts.exec() == QDialog.DialogCode.Accepted:
        start_export(win, path, opts.spec(win.base_theme.name))


def start_export(win: MainWindow, path: str | Path, spec: RenderSpec) -> VideoExport | None:
    """Render what the window shows (the file replayed, or the run's recording so
    far) into ``path``; errors are reported in the window, None returned."""
    s = win.session
    temporary: tempfile.TemporaryDirectory[str] | None = None
    try:
        if s.mode == "replay":
            recording: str | Path = s.recording_path
        else:
            temporary = tempfile.TemporaryDirectory(prefix="qsim-video-")
            recording = s.save_recording(Path(temporary.name) / "run.qrec")
        job = VideoExport(win, recording, path, spec, temporary)
    except (VideoError, RecordingError, RenderError, OSError) as e:
        if temporary is not None:
            temporary.cleanup()
        win.show_error("Cannot export the video", str(e))
        return None

    def done(written: str) -> None:
        if written:
            win.status.showMessage(f"Saved {written} ({job.total:,} frames)", 8000)
        elif job.error:
            win.show_error("The video export failed", job.error)
        else:
            win.status.showMessage("Video export cancelled", 5000)
        job.deleteLater()

    job.finished.connect(done)
    return job
