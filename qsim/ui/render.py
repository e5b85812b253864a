"""Rendering a recording to a video, frame-locked: ``qsim render`` and File > Export video.

Frame ``k`` shows the run at exactly ``t_from + k / fps`` of run time, drawn
by the real window (diagram, panels, caption, status bar) replaying the
recording, then grabbed. Nothing reads the wall clock: the replay is moved to
each frame's instant (``LiveSession.render_at``) and the views animate by
that instant alone, so the video is smooth and its clock exact however slow
the machine is. The window is a window of its own, never shown on screen
(``WA_DontShowOnScreen``), at exactly the size asked for.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPalette
from PySide6.QtWidgets import QApplication

from qsim.record.format import RecordingError
from qsim.ui.session import LiveSession
from qsim.ui.theme import THEMES, presentation, qt_palette
from qsim.ui.video_writers import open_writer

MAX_FRAMES = 216_000  # two hours at 30 frames a second


class RenderError(Exception):
    """What was asked cannot be rendered: one line saying why."""


@dataclass(frozen=True)
class RenderSpec:
    """What a video shows: ``t_from``/``t_to`` are seconds of run time (None: its end)."""

    size: tuple[int, int] = (1920, 1080)
    fps: int = 30
    presentation: bool = False
    theme: str = "light"
    t_from: float = 0.0
    t_to: float | None = None


class FrameRenderer:
    """A hidden window replaying ``recording``; ``render(k)`` is frame ``k`` as an image.

    Raises ``RecordingError`` for a recording that cannot be replayed and
    ``RenderError`` for a span with nothing in it. ``close()`` when done.
    """

    def __init__(self, recording: str | Path, spec: RenderSpec) -> None:
        from qsim.ui.main_window import MainWindow

        if not 1 <= spec.fps <= 120:
            raise RenderError(f"--fps must be between 1 and 120, got {spec.fps}")
        app = QApplication.instance()
        # a new window sets the application's palette to its theme: the user's
        # window (File > Export video...) gets its own back below
        before = QPalette(app.palette()) if isinstance(app, QApplication) else None
        self.spec = spec
        self.session = LiveSession()
        self.win = win = MainWindow(self.session, settings=None)
        win.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
        try:
            win.set_theme(spec.theme)
            win.install_panels()
            self.session.open_recording(recording)
            win.resize(*spec.size)
            win.fit_docks()
            if spec.presentation:
                win.set_presentation(True, fullscreen=False)
            theme = THEMES.get(spec.theme, THEMES["light"])
            win.setPalette(qt_palette(presentation(theme) if spec.presentation else theme))  # type: ignore[arg-type]
            win.show()
            if before is not None and isinstance(app, QApplication):
                app.setPalette(before)
            QApplication.processEvents()  # lay the window out at its size
            self._span(spec)
        except (RecordingError, RenderError):
            self.close()
            raise
        #: the status bar's item count of each frame rendered (what a still would say)
        self.frame_texts: list[str] = []
        self._now0 = time.monotonic_ns()

    def _span(self, spec: RenderSpec) -> None:
        src = self.session.source
        assert src is not None
        t0, end = src.t0, src.end_t
        if spec.t_from < 0 or (spec.t_to is not None and spec.t_to <= spec.t_from):
            raise RenderError(f"--from {spec.t_from:g} must be >= 0 and before --to")
        self.start = t0 + round(spec.t_from * 1e9)
        stop = end if spec.t_to is None else t0 + round(spec.t_to * 1e9)
        if stop <= self.start:
            length = max(0.0, (end - t0) / 1e9)
            raise RenderError(
                f"--from {spec.t_from:g} s is at or past the end of the recording ({length:.1f} s)"
            )
        self.frames = max(1, math.ceil((stop - self.start) * spec.fps / 1e9 - 1e-9))
        if self.frames > MAX_FRAMES:
            raise RenderError(f"{self.frames:,} frames is too long (at most {MAX_FRAMES:,})")

    @property
    def seconds(self) -> float:
        return self.frames / self.spec.fps

    def time_of(self, k: int) -> int:
        """The instant (monotonic ns of the run) frame ``k`` shows."""
        return self.start + k * 1_000_000_000 // self.spec.fps

    def render(self, k: int) -> QImage:
        """Frame ``k``: the window at ``time_of(k)``, exactly ``spec.size``, RGB."""
        win = self.win
        t = self.time_of(k)
        # frame times go on from now, 1/fps apart (views throttle by them)
        self.session.render_at(t, self._now0 + t - self.start)
        win.status.update_from(self.session)  # what a still of this instant says
        win.diagram.painter.complete_next = True  # every token labelled in every frame
        QApplication.processEvents()  # layouts the new texts asked for
        self.frame_texts.append(win.status.items.text())
        image = win.grab().toImage()
        w, h = self.spec.size
        if (image.width(), image.height()) != (w, h):  # a high-dpi screen
            image = image.scaled(
                w,
                h,
                Qt.AspectRatioMode.IgnoreAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        return image.convertToFormat(QImage.Format.Format_RGB888)

    def close(self) -> None:
        """Stop the replay and destroy the window now (no event loop may come to
        delete it later: a window left to Python's exit crashed Qt)."""
        self.win.close()
        self.session.shutdown()
        if shiboken6.isValid(self.win):
            shiboken6.delete(self.win)
        if shiboken6.isValid(self.session):
            shiboken6.delete(self.session)


def rgb_bytes(image: QImage) -> bytes:
    """An RGB888 image's pixels, rows packed (Qt pads rows to 4 bytes)."""
    w, h, bpl = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return data[:, : w * 3].tobytes()


def render_video(
    recording: str | Path,
    out: str | Path,
    spec: RenderSpec,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Render ``recording`` into the video ``out`` (.gif or .mp4); return what was
    made: path, frames, size, fps, seconds of run time, render frames/s, and the
    status bar's item count of each frame (``items_text``).

    Raises ``VideoError``, ``RecordingError`` or ``RenderError`` (one line each);
    nothing is left at ``out`` unless the whole video was written.
    """
    writer = open_writer(out, spec.size, spec.fps)
    try:
        renderer = FrameRenderer(recording, spec)
    except BaseException:
        writer.abort()
        raise
    began = time.perf_counter()
    try:
        for k in range(renderer.frames):
            writer.write(rgb_bytes(renderer.render(k)))
            if progress is not None:
                progress(k + 1, renderer.frames)
    except BaseException:
        writer.abort()
        raise
    finally:
        renderer.close()
    path = writer.close()
    elapsed = time.perf_counter() - began
    return {
        "path": str(path),
        "frames": writer.frames,
        "size": list(spec.size),
        "fps": spec.fps,
        "seconds": renderer.seconds,
        "render_fps": round(writer.frames / elapsed, 1) if elapsed > 0 else 0.0,
        "items_text": renderer.frame_texts,
    }
