"""A traced program in the window is recorded like a lesson: its timeline
scrubs back (while it runs too), File > Save recording keeps it, and File >
Open recording replays it with its own diagram and its Code dock, even when
the program's file is gone.

Real programs (tests/programs), real processes, the real window offscreen;
every frame is checked with the consistency checker the lessons use, and
what is drawn is compared with a fresh replay of the recording at the same
instant: the same processes and queues (a program's grow as it runs), the
same state, each process's line marked in the code.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from test_record_program import _patch_record, made_up_program
from tracing import PROGRAMS
from windows import Windows

from qsim.model.events import EventKind
from qsim.model.state import Reducer
from qsim.record import snapshot
from qsim.record.recording import Recording, open_recording
from qsim.record.replay import Replay
from qsim.ui.code_view import shown_line
from qsim.ui.consistency import check_frame
from qsim.ui.diagram.actors import ActorItem
from qsim.ui.diagram.program_roles import drawn_topology
from qsim.ui.diagram.queue_item import QueueItem
from qsim.ui.main_window import MainWindow

WindowFactory = Callable[[], MainWindow]


@pytest.fixture
def make_window(windows: Windows) -> WindowFactory:
    def make() -> MainWindow:
        return windows.open(None, "", panels=True)

    return make


class Frames:
    """Every frame of the window checked (tokens drawn where they are counted)."""

    def __init__(self, win: MainWindow) -> None:
        self.win, self.count = win, 0
        self.problems: list[str] = []
        win.session.frame.connect(self.on_frame)

    def on_frame(self, _now: int) -> None:
        self.count += 1
        mode = self.win.session.mode
        self.problems += [f"frame {self.count} ({mode}): {p}" for p in check_frame(self.win)]

    def stop(self) -> None:
        self.win.session.frame.disconnect(self.on_frame)
        assert not self.problems, "; ".join(self.problems[:5])


def expected_at(rec: Recording, k: int) -> Reducer:
    replay = Replay(rec)
    replay.seek(k)
    return replay.reducer


def assert_draws(win: MainWindow, r: Reducer) -> None:
    """The window shows exactly the state ``r``: its processes and queues (no
    more: a program's topology grows), their states, each process's line."""
    shown = win.session.reducer
    assert shown is not None
    assert snapshot.capture(shown) == snapshot.capture(r)
    view = win.diagram
    assert view.topology == drawn_topology(r.topology)
    items = view.scene().items()
    assert len([i for i in items if isinstance(i, ActorItem)]) == len(r.actors)
    queues = [i for i in items if isinstance(i, QueueItem)]
    assert len(queues) == len(r.queues)
    drawn = drawn_topology(r.topology).queues
    assert sorted(q.title.rsplit(": ", 1)[0] for q in queues) == sorted(q.id for q in drawn)
    code = win.programs.code
    assert code.actor_lines == {
        a.index: where for a in r.actors if (where := shown_line(a)) is not None
    }


def seek_to(win: MainWindow, qtbot: QtBot, k: int) -> None:
    """Move the timeline to instant ``k`` (its event's time), as a drag would."""
    s = win.session
    src = s.source
    assert src is not None
    s.seek_time(src.replay.time_at(k))
    qtbot.waitUntil(lambda: src.pos == k and not s._timer.isActive(), timeout=5000)


def started_at(rec: Recording, name: str) -> int:
    """The instant just after process ``name`` said it started."""
    for k, e in enumerate(rec.events(0, len(rec)), start=1):
        if e[3] == EventKind.PROCESS_STARTED and e[6] == name:
            return k
    raise LookupError(name)


def test_a_program_run_is_scrubbed_saved_and_replayed_with_its_code(
    make_window: WindowFactory, qtbot: QtBot, start_method: str, tmp_path: Path
) -> None:
    prog = tmp_path / "pipeline_prog.py"
    shutil.copy(PROGRAMS / "slow_pipeline.py", prog)
    source = prog.read_text()
    win = make_window()
    frames = Frames(win)
    assert win.programs.open_program(str(prog), [start_method, "8", "0.05"])
    s = win.session
    qtbot.waitUntil(lambda: s.status == "finished", timeout=45_000)
    live = s.live_reducer
    assert live is not None and s.recorder is not None
    assert s.recorder.count == live.applied > 0, "every applied event is recorded"
    assert win.act_save_recording.isEnabled()
    start, end = s.timeline_span()
    assert end > start and win.timeline.slider.maximum() > 0

    # drag back: the frame shows the run as it was then, processes and all
    win.timeline.slider.setValue(win.timeline.slider.maximum() // 3)
    qtbot.waitUntil(lambda: s.mode == "scrub" and not s._timer.isActive(), timeout=5000)
    src = s.source
    assert src is not None
    view = s.recorder.view()
    assert_draws(win, expected_at(view, src.pos))
    k = started_at(view, "save")
    seek_to(win, qtbot, k - 1)  # the instant before 'save' started: not drawn yet
    assert "save" not in [a.name for a in s.reducer.actors]  # type: ignore[union-attr]
    assert_draws(win, expected_at(view, k - 1))
    QTest.keyClick(win, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: src.pos == k)
    assert_draws(win, expected_at(view, k))
    QTest.keyClick(win, Qt.Key.Key_End)  # Live: the end of the run again
    qtbot.waitUntil(lambda: s.mode == "live")
    assert s.reducer is live

    path = tmp_path / "saved.qrec"
    assert win.save_recording(str(path))
    rec = open_recording(path)
    rec.check_all()
    assert len(rec) == live.applied and rec.meta.settled
    assert rec.meta.program is not None and rec.meta.program.sources[str(prog)] == source
    assert snapshot.capture(expected_at(rec, len(rec))) == snapshot.capture(live)

    # reopened as a recording, with the program's file gone: its code comes along
    prog.unlink()
    assert win.open_recording(str(path))
    assert s.mode == "replay" and s.program is not None
    assert "replay of saved.qrec" in win.windowTitle()
    code = win.programs.code
    assert code.path == str(prog) and code.editor.toPlainText() == source
    assert '{"lines": 8' in code.output.toPlainText(), "what the program printed"
    src = s.source
    assert src is not None
    middle = len(src) // 2
    seek_to(win, qtbot, middle)
    here = expected_at(rec, middle)
    assert_draws(win, here)
    QTest.keyClick(win, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: src.pos == middle - 1)
    assert_draws(win, expected_at(rec, middle - 1))
    QTest.keyClick(win, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: src.pos == middle)
    assert_draws(win, here)
    lined = [a for a in here.actors if shown_line(a) is not None]
    assert lined, "some process is on a line of the program at that instant"
    for a in lined:
        where = shown_line(a)
        assert where is not None and a.name in code.markers_on(where[1])
    seek_to(win, qtbot, 0)
    assert_draws(win, expected_at(rec, 0))
    assert not win.diagram.actor_items, "nothing had started yet"
    frames.stop()

    # Reset runs the program again: its file is gone, so it says so, in one box
    win.reset()
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "no such file" in boxes[0].text()
    assert s.run is None and s.status == "stopped"
    boxes[0].close()


def test_a_running_program_is_scrubbed_back_then_live_again(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    win = make_window()
    frames = Frames(win)
    assert win.programs.open_program(str(PROGRAMS / "slow_one_to_one.py"), ["fork", "60", "0.04"])
    s = win.session
    qtbot.waitUntil(
        lambda: s.live_reducer is not None and s.live_reducer.acct.consumed >= 5, timeout=30_000
    )
    live = s.live_reducer
    assert live is not None
    win.timeline.slider.setValue(win.timeline.slider.maximum() // 2)  # drag back
    qtbot.waitUntil(lambda: s.mode == "scrub")
    src = s.source
    assert src is not None and s.reducer is src.reducer and s.reducer is not live
    start, _end = s.timeline_span()
    qtbot.waitUntil(lambda: src.t == start + win.timeline.slider.value() * 1_000_000)
    past = snapshot.capture(src.reducer)
    before = live.applied
    qtbot.waitUntil(lambda: live.applied > before + 10, timeout=20_000)
    assert s.status == "running" and snapshot.capture(src.reducer) == past
    rec = s.recorder
    assert rec is not None
    assert_draws(win, expected_at(rec.view(), src.pos))
    win.timeline.live.click()
    qtbot.waitUntil(lambda: s.mode == "live")
    assert s.reducer is live
    win.stop()
    qtbot.waitUntil(lambda: not s.stopping, timeout=10_000)
    frames.stop()


def test_a_corrupt_program_recording_is_refused_and_the_window_keeps_its_run(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.qrec"
    made_up_program(bad)
    _patch_record(bad, 20, "queue", 5)  # a put on a queue the program never made
    win = make_window()
    assert win.open_lesson("backpressure")
    assert not win.open_recording(str(bad))
    boxes = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
    assert len(boxes) == 1 and "never made" in boxes[0].text()
    assert win.session.mode == "live" and win.session.scenario is not None
    assert win.session.scenario.id == "backpressure" and win.session.program is None
    boxes[0].close()


def test_qsim_render_makes_a_gif_of_a_program_recording(tmp_path: Path) -> None:
    rec = tmp_path / "prog.qrec"
    prog = str(PROGRAMS / "slow_one_to_one.py")
    argv = ["trace", prog, "fork", "6", "0.05", "--headless", "--record", str(rec)]
    done = subprocess.run([sys.executable, "-m", "qsim", *argv], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = tmp_path / "prog.gif"
    render = ["render", str(rec), "-o", str(out), "--size", "640x360", "--fps", "5", "--to", "1"]
    done = subprocess.run(
        [sys.executable, "-m", "qsim", *render], capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as im:
        assert (im.n_frames, im.size) == (5, (640, 360))
    # a program itself: traced and recorded first, then rendered
    direct = ["render", prog, "--args", "spawn 4 0.05", "-o", str(out), "--size", "480x270"]
    done = subprocess.run(
        [sys.executable, "-m", "qsim", *direct, "--fps", "4", "--to", "0.5"],
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with Image.open(out) as im:
        assert (im.n_frames, im.size) == (2, (480, 270))
