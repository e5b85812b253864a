"""The window's side of ``qsim bench replay``: seeks as a user drags, video frames at 1080p.

Run in a fresh interpreter by ``qsim.record.bench`` (which stays Qt-free).
A seek is timed from the request to the window repainted at the new instant;
a video frame from moving the replay to its instant to its pixels grabbed at
1920x1080 (encoding not included: GIF adds ~0.1 s a 1080p frame, MP4 little).
"""

from __future__ import annotations

import os
import random
import statistics
import time
from pathlib import Path
from typing import Any


def measure_gui(
    path: str | Path, seeks: int = 30, frames: int = 60, seed: int = 1
) -> dict[str, Any]:
    """Window seek latency (1280x720) and 1080p render frames/s for ``path``."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt

    from qsim.ui.app import make_app
    from qsim.ui.main_window import MainWindow
    from qsim.ui.render import FrameRenderer, RenderSpec, rgb_bytes
    from qsim.ui.session import LiveSession

    make_app()
    session = LiveSession()
    win = MainWindow(session, settings=None)
    win.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    win.install_panels()
    win.resize(1280, 720)
    win.fit_docks()
    win.show()
    t = time.perf_counter()
    session.open_recording(path)
    open_s = time.perf_counter() - t
    src = session.source
    assert src is not None
    rng = random.Random(seed)
    times = []
    for _ in range(seeks):
        at = rng.randrange(src.start_t, src.end_t + 1)
        t = time.perf_counter()
        session.seek_time(at)  # no frame timer runs while paused: shown at once
        win.repaint()
        times.append(time.perf_counter() - t)
    win.close()
    session.shutdown()
    length = (src.end_t - src.t0) / 1e9
    spec = RenderSpec(size=(1920, 1080), fps=30, t_from=min(1.0, length / 2))
    renderer = FrameRenderer(path, spec)
    n = min(frames, renderer.frames)
    renderer.render(0)  # the first frame restores a snapshot: not a steady frame
    t = time.perf_counter()
    for k in range(1, n + 1):
        rgb_bytes(renderer.render(k))
    render_s = time.perf_counter() - t
    renderer.close()
    ms = 1000.0
    return {
        "gui_open_ms": round(open_s * ms, 1),
        "gui_seeks": seeks,
        "gui_seek_ms_p50": round(statistics.median(times) * ms, 1),
        "gui_seek_ms_max": round(max(times) * ms, 1),
        "render_frames": n,
        "render_fps_1080p": round(n / render_s, 1) if render_s > 0 else 0.0,
    }
