"""Videos of a run: frame-locked, exact frame counts, each frame a true still.

A real run (real processes) is recorded once for the module; videos are
rendered from it and read back: GIF with Pillow, MP4 with imageio-ffmpeg's
ffmpeg (skipped, saying why, when that optional extra is not installed).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from handy import scenario_ref
from PIL import Image
from PySide6.QtCore import QRect
from PySide6.QtGui import QImage
from pytestqt.qtbot import QtBot

from qsim.engine.headless import run_headless
from qsim.resources import load
from qsim.ui.export_video import start_export
from qsim.ui.main_window import MainWindow
from qsim.ui.render import FrameRenderer, RenderError, RenderSpec, render_video
from qsim.ui.session import LiveSession
from qsim.ui.shot import bring_up_to_date
from qsim.ui.video_writers import MP4_MISSING, VideoError, gif_delay_cs, have_mp4

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Backpressure at 2x: about 3 s of a producer blocking on a full queue."""
    path = tmp_path_factory.mktemp("rec") / "bp.qrec"
    run_headless(load("backpressure"), start_method="fork", speed=2, record=path)
    yield path


@pytest.fixture
def window(qtbot: QtBot) -> Iterator[MainWindow]:
    session = LiveSession(start_method="fork")
    win = MainWindow(session, settings=None)
    session.setParent(win)
    qtbot.addWidget(win)
    win.install_panels()
    win.resize(1280, 720)
    win.fit_docks()
    with qtbot.waitExposed(win):
        win.show()
    yield win
    win.close()


def read_gif(path: Path) -> tuple[int, tuple[int, int], list[int]]:
    """Frames, size and each frame's delay (ms) of a GIF, read back with Pillow."""
    with Image.open(path) as im:
        delays = []
        for k in range(im.n_frames):
            im.seek(k)
            delays.append(int(im.info["duration"]))
        return im.n_frames, im.size, delays


def gif_frame(path: Path, k: int) -> np.ndarray:
    with Image.open(path) as im:
        im.seek(k)
        return np.asarray(im.convert("RGB"), dtype=np.int16)


def qimage_array(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=bpl * h).reshape(h, bpl)
    return data[:, : w * 3].reshape(h, w, 3).astype(np.int16)


def crop(a: np.ndarray, r: QRect) -> np.ndarray:
    return a[r.top() : r.bottom() + 1, r.left() : r.right() + 1]


def test_a_5_s_gif_has_fps_x_5_frames_each_the_still_of_its_instant(
    recording: Path, window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    out = tmp_path / "clip.gif"
    spec = RenderSpec(size=(1280, 720), fps=10, t_to=5.0)
    info = render_video(recording, out, spec)
    frames, size, delays = read_gif(out)
    assert (frames, size) == (50, (1280, 720)) == (info["frames"], tuple(info["size"]))
    assert sum(delays) == 5000 and delays == [gif_delay_cs(k, 10) * 10 for k in range(50)]
    assert not list(tmp_path.glob(".*part*"))
    texts = info["items_text"]
    assert texts[0] == "items done 0/12" and texts[-1] == "items done 12/12"
    assert texts == sorted(texts, key=lambda t: int(t.split()[2].split("/")[0]))

    # a still of the same instant (what `qsim shot` grabs) tells the same counts
    assert window.open_recording(str(recording))
    s, src = window.session, window.session.source
    assert src is not None
    probe = FrameRenderer(recording, spec)  # the instants the video's frames show
    try:
        for k in (3, 12, 25, 49):
            t = probe.time_of(k)
            s.seek_time(t)
            qtbot.waitUntil(lambda t=t: src.t == min(t, src.end_t) and not s._timer.isActive())
            bring_up_to_date(window)
            window.status.clearMessage()  # "Replaying bp.qrec" on the left: not in the video
            assert window.status.items.text() == texts[k], f"frame {k}"
            items = window.status.items
            qtbot.waitUntil(lambda items=items: items.width() >= items.sizeHint().width())
            still = qimage_array(window.grab().toImage())
            frame = gif_frame(out, k)
            bar = window.status
            for label in (bar.items, bar.time):
                r = QRect(label.mapTo(window, label.rect().topLeft()), label.size())
                diff = min(  # the status bars may lie a pixel apart (messages on their left)
                    np.abs(crop(frame, r.translated(dx, dy)) - crop(still, r)).mean()
                    for dx in range(-2, 3)
                    for dy in range(-2, 3)
                )
                assert diff < 6, f"frame {k}: {label.objectName()} differs by {diff:.1f}"
    finally:
        probe.close()


@pytest.mark.skipif(not have_mp4(), reason=f"optional extra missing: {MP4_MISSING}")
def test_an_mp4_has_exactly_its_frames_at_its_size(recording: Path, tmp_path: Path) -> None:
    ffmpeg = pytest.importorskip("imageio_ffmpeg")
    out = tmp_path / "clip.mp4"
    info = render_video(recording, out, RenderSpec(size=(640, 360), fps=15, t_to=2.0))
    assert info["frames"] == 30
    assert ffmpeg.count_frames_and_secs(str(out))[0] == 30
    reader = ffmpeg.read_frames(str(out))
    meta = next(reader)
    assert tuple(meta["size"]) == (640, 360) and meta["fps"] == 15
    reader.close()


def test_bad_requests_are_one_clear_error_and_leave_nothing(
    recording: Path, tmp_path: Path, qtbot: QtBot
) -> None:
    with pytest.raises(VideoError, match=r"\.mp4 or \.gif"):
        render_video(recording, tmp_path / "clip.avi", RenderSpec())
    with pytest.raises(VideoError, match="at most 50"):
        render_video(recording, tmp_path / "clip.gif", RenderSpec(fps=60))
    with pytest.raises(RenderError, match="past the end"):
        render_video(recording, tmp_path / "clip.gif", RenderSpec(size=(320, 240), t_from=60))
    foreign = tmp_path / "foreign.qrec"
    foreign.write_bytes(b"\x89PNG not a recording at all" * 10)
    from qsim.record.format import RecordingError

    with pytest.raises(RecordingError, match="not a qsim recording"):
        render_video(foreign, tmp_path / "clip.gif", RenderSpec(size=(320, 240)))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.qrec"]


def test_export_video_in_the_window_shows_progress_and_can_be_cancelled(
    recording: Path, window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    assert window.open_recording(str(recording))
    out = tmp_path / "from-window.gif"
    job = start_export(window, out, RenderSpec(size=(640, 360), fps=5, t_to=2.0))
    assert job is not None and job.progress.maximum() == 10
    with qtbot.waitSignal(job.finished, timeout=30_000) as done:
        pass
    assert done.args == [str(out)] and read_gif(out)[0] == 10
    assert window.session.mode == "replay", "the window keeps showing its replay"

    cancelled = tmp_path / "cancelled.gif"
    job = start_export(window, cancelled, RenderSpec(size=(640, 360), fps=10))
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=30_000) as done:
        job.progress.cancel()
    assert done.args == [""] and not cancelled.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["from-window.gif"]


def test_export_video_of_the_live_run_renders_its_recording(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    assert window.open_lesson(scenario_ref("small-basic"))
    window.actions_run.speed.slider.setValue(window.actions_run.speed.slider.maximum())
    window.actions_run.play.trigger()
    qtbot.waitUntil(lambda: window.session.status == "finished", timeout=30_000)
    out = tmp_path / "live.gif"
    job = start_export(window, out, RenderSpec(size=(640, 360), fps=5))
    assert job is not None
    with qtbot.waitSignal(job.finished, timeout=60_000) as done:
        pass
    assert done.args == [str(out)]
    frames, size, _delays = read_gif(out)
    assert size == (640, 360) and frames == job.total > 0
    assert window.session.mode == "live"


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(
        [sys.executable, "-m", "qsim", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=REPO,
    )


def test_qsim_render_a_lesson_and_a_recording(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "basic.gif"
    lesson = scenario_ref("small-basic")  # the basic lesson as a scenario
    done = run_cli("render", lesson, "-o", str(out), "--size", "320x240", "--fps", "5")
    assert done.returncode == 0, done.stderr
    assert "running small-basic with real processes" in done.stderr
    frames, size, _ = read_gif(out)
    assert size == (320, 240) and f"{out}: {frames} frames of 320x240 at 5 fps" in done.stdout
    out2 = tmp_path / "part.gif"
    done = run_cli(
        "render", str(recording), "-o", str(out2), "--size", "320x240", "--fps", "4",
        "--from", "0.5", "--to", "2", "--presentation", "--theme", "dark",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert read_gif(out2)[:2] == (6, (320, 240))
    bad = run_cli("render", str(recording), "-o", str(tmp_path / "x.mov"))
    assert bad.returncode == 2 and bad.stderr.strip() == (
        f"qsim render: {tmp_path / 'x.mov'}: the name must end in .mp4 or .gif"
    )
    missing = run_cli("render", "no-such-lesson", "-o", str(tmp_path / "y.gif"))
    assert missing.returncode == 2 and "no-such-lesson" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["basic.gif", "part.gif"]
