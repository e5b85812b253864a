"""Replays in the window: a recording file, and the live run looked back at.

Recordings come from real runs (real processes, fork and spawn). What is
checked is what a user sees: the diagram's actor labels and queue slots, the
status bar's counts, the mode the timeline says; each is compared with a
fresh replay of the same recording at the same instant.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from handy import scenario, scenario_ref
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from windows import Windows

from qsim.engine.headless import run_headless
from qsim.model.state import BLOCKED_PUT, Reducer
from qsim.model.wire import RECORD_FIELDS
from qsim.record import snapshot
from qsim.record.format import DATA_OFFSET, PREAMBLE
from qsim.record.recording import open_recording
from qsim.record.replay import Replay
from qsim.ui.diagram.hover import state_text
from qsim.ui.main_window import MainWindow
from qsim.ui.timeline import seconds_text

WindowFactory = Callable[..., MainWindow]


def record(lesson: str, start_method: str, path: Path, speed: float = 5.0) -> Path:
    """A real run of ``lesson``, recorded to ``path``."""
    run_headless(scenario(lesson), start_method=start_method, speed=speed, record=path)
    return path


@pytest.fixture
def make_window(windows: Windows) -> WindowFactory:
    def make(start_method: str = "fork", lesson: str = "") -> MainWindow:
        return windows.open(start_method, lesson)

    return make


def error_boxes(win: MainWindow) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


def expected_at(path: Path, k: int) -> Reducer:
    """A fresh replay of the file at instant ``k``: what the window must show."""
    replay = Replay(open_recording(path))
    replay.seek(k)
    return replay.reducer


def assert_shows(win: MainWindow, r: Reducer, planned: int) -> None:
    """The diagram and status bar show exactly the state ``r``."""
    assert snapshot.capture(win.session.reducer) == snapshot.capture(r)  # type: ignore[arg-type]
    for a in r.actors:
        if a.index:
            assert win.diagram.actor_state_text(a.index) == state_text(a), a.name
    for q in r.queues:
        slots = win.diagram.visible_slots(q.index)
        assert win.diagram.drawn_queue_contents(q.index) == list(q.contents)[:slots]
    assert win.status.items.text() == f"items done {r.acct.consumed}/{planned}"


# ---------------------------------------------------------------- a file
def test_a_recording_opens_and_shows_the_replayed_state_at_any_instant(
    make_window: WindowFactory, qtbot: QtBot, start_method: str, tmp_path: Path
) -> None:
    path = record("backpressure", start_method, tmp_path / "bp.qrec")
    win = make_window(start_method, "put-timeout")
    assert win.open_recording(str(path))
    s = win.session
    assert s.mode == "replay" and s.status == "replay_paused" and s.run is None
    assert "replay of bp.qrec" in win.windowTitle()
    assert not win.knobs.isEnabled(), "a knob would start a live run"
    assert "replay paused" in win.status.state.text()
    src = s.source
    assert src is not None and src.pos == 0
    start, end = s.timeline_span()
    assert win.timeline.slider.maximum() == (end - start) // 1_000_000
    for fraction in (0.2, 0.45, 0.7, 0.95, 1.0):
        t = start + int((end - start) * fraction)
        win.timeline.slider.setValue((t - start) // 1_000_000)  # as a drag does
        k = src.replay.prefix_at(start + win.timeline.slider.value() * 1_000_000)
        qtbot.waitUntil(lambda k=k: src.pos == k and not s._timer.isActive(), timeout=5000)
        assert_shows(win, expected_at(path, k), 12)
        shown = seconds_text(win.timeline.slider.value() / 1000)
        assert win.timeline.time.text().startswith(f"{shown} / ")


def test_step_back_then_on_returns_to_the_same_state_and_keys_move_the_timeline(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    path = record("backpressure", "fork", tmp_path / "bp.qrec")
    win = make_window("fork")
    assert win.open_recording(str(path))
    s, src = win.session, win.session.source
    assert src is not None
    middle = len(src) // 2
    s.seek_time(src.replay.time_at(middle))
    qtbot.waitUntil(lambda: src.pos == middle)
    here = snapshot.capture(s.reducer)  # type: ignore[arg-type]
    QTest.keyClick(win, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: src.pos == middle - 1)
    assert_shows(win, expected_at(path, middle - 1), 12)
    QTest.keyClick(win, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: src.pos == middle)
    assert snapshot.capture(s.reducer) == here  # type: ignore[arg-type]
    assert (s.applied and len(s.applied) <= 1) or not s.applied  # one event, animated
    win.timeline.back.click()
    qtbot.waitUntil(lambda: src.pos == middle - 1)
    win.timeline.forward.click()
    qtbot.waitUntil(lambda: src.pos == middle)
    assert snapshot.capture(s.reducer) == here  # type: ignore[arg-type]

    QTest.keyClick(win, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: src.pos == 0)
    assert win.status.items.text() == "items done 0/12"
    QTest.keyClick(win, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: src.pos == len(src))
    assert_shows(win, expected_at(path, len(src)), 12)
    marks = s.marks()
    assert [m[0] for m in marks] == ["first_block"]
    QTest.keyClick(win, Qt.Key.Key_1)  # presentation keys: 1-9 jump to the marks
    qtbot.waitUntil(lambda: src.pos == src.replay.marks()["first_block"])
    blocked = [a for a in s.reducer.actors if a.state == BLOCKED_PUT]  # type: ignore[union-attr]
    assert blocked and "blocked" in win.caption.text()
    assert "first blocked put()" in win.timeline.slider.marks[0][2]
    QTest.keyClick(win, Qt.Key.Key_2)  # no second mark: nothing moves
    assert src.pos == src.replay.marks()["first_block"]


def test_a_replay_plays_to_its_end_at_the_speed_set(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    path = record("backpressure", "fork", tmp_path / "bp.qrec", speed=5)
    win = make_window("fork")
    assert win.open_recording(str(path))
    s = win.session
    win.timeline.speed.setCurrentIndex(win.timeline.speed.findData(2.0))
    assert s.replay_speed == 2.0 and s.source is not None and s.source.speed == 2.0
    assert win.settings is not None and float(win.settings.value("replay_speed")) == 2.0
    QTest.keyClick(win, Qt.Key.Key_Space)
    assert s.status == "replaying" and win.actions_run.play.text() == "Pause"
    assert not win.diagram.paused
    seen: list[int] = []
    s.frame.connect(lambda _now: seen.append(s.reducer.acct.consumed))  # type: ignore[union-attr]
    qtbot.waitUntil(lambda: s.status == "replay_paused", timeout=15_000)
    assert s.source.at_end and win.diagram.paused
    assert seen == sorted(seen) and len(set(seen)) > 3, "it played through, in order"
    assert_shows(win, expected_at(path, len(s.source)), 12)
    qtbot.waitUntil(lambda: not s._timer.isActive())


# ---------------------------------------------------------------- the live run
def test_the_live_run_is_scrubbed_back_while_it_goes_on_then_live_again(
    make_window: WindowFactory, qtbot: QtBot, start_method: str
) -> None:
    win = make_window(start_method, "backpressure")
    s = win.session
    assert not win.act_save_recording.isEnabled(), "nothing recorded yet"
    win.actions_run.play.trigger()
    live = s.live_reducer
    assert live is not None
    qtbot.waitUntil(lambda: live.acct.consumed >= 3, timeout=20_000)
    assert s.mode == "live" and win.timeline.live.text() == "● LIVE"
    start, end = s.timeline_span()
    win.timeline.slider.setValue((end - start) // 2_000_000)  # drag back to the middle
    qtbot.waitUntil(lambda: s.mode == "scrub")
    src = s.source
    assert src is not None and s.reducer is src.reducer and s.reducer is not live
    qtbot.waitUntil(lambda: src.t == start + win.timeline.slider.value() * 1_000_000)
    past = src.reducer.acct.consumed
    # the processes go on: the live state moves, the view stays in the past
    before = live.applied
    qtbot.waitUntil(lambda: live.applied > before + 10, timeout=20_000)
    assert s.status == "running" and src.reducer.acct.consumed == past
    qtbot.waitUntil(lambda: "looking back" in win.status.slowed.text())
    assert win.status.items.text() == f"items done {past}/12"
    assert win.timeline.live.isEnabled() and "Live" in win.timeline.live.text()
    rec = s.recorder
    assert rec is not None
    assert snapshot.capture(src.reducer) == snapshot.capture(expected_at_view(rec.view(), src.pos))
    # one event back and on again, while the run goes on
    here = snapshot.capture(src.reducer)
    QTest.keyClick(win, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: snapshot.capture(src.reducer) != here)
    QTest.keyClick(win, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: snapshot.capture(src.reducer) == here)
    QTest.keyClick(win, Qt.Key.Key_End)  # Live
    qtbot.waitUntil(lambda: s.mode == "live")
    assert s.reducer is live and s.source is None
    qtbot.waitUntil(lambda: win.status.items.text() == f"items done {live.acct.consumed}/12")
    qtbot.waitUntil(lambda: s.status == "finished", timeout=30_000)
    assert win.act_save_recording.isEnabled()


def expected_at_view(rec: object, k: int) -> Reducer:
    replay = Replay(rec)  # type: ignore[arg-type]
    replay.seek(k)
    return replay.reducer


def test_playing_a_look_back_catches_up_with_the_live_run(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    win = make_window("fork", "backpressure")
    s = win.session
    win.actions_run.play.trigger()
    live = s.live_reducer
    assert live is not None
    qtbot.waitUntil(lambda: live.acct.consumed >= 2, timeout=20_000)
    s.step_events(-1)
    qtbot.waitUntil(lambda: s.mode == "scrub")
    win.timeline.speed.setCurrentIndex(win.timeline.speed.findData(4.0))
    win.timeline.play.click()
    assert s.source is not None and s.source.playing and not win.diagram.paused
    qtbot.waitUntil(lambda: s.mode == "live", timeout=20_000)
    assert s.reducer is live


def test_a_finished_run_saves_a_recording_that_replays_its_end(
    make_window: WindowFactory, qtbot: QtBot, start_method: str, tmp_path: Path
) -> None:
    win = make_window(start_method, scenario_ref("small-basic"))
    s = win.session
    win.actions_run.speed.slider.setValue(win.actions_run.speed.slider.maximum())
    win.actions_run.play.trigger()
    qtbot.waitUntil(lambda: s.status == "finished", timeout=30_000)
    live = s.live_reducer
    assert live is not None and win.act_save_recording.isEnabled()
    path = tmp_path / "saved.qrec"
    assert win.save_recording(str(path))
    rec = open_recording(path)
    assert len(rec) == live.applied and rec.meta.settled
    assert snapshot.capture(expected_at(path, len(rec))) == snapshot.capture(live)
    # after the end the timeline still reaches back into the run
    s.go_start()
    qtbot.waitUntil(lambda: s.mode == "scrub" and s.source is not None and s.source.pos == 0)
    assert win.status.items.text() == "items done 0/5"
    s.go_end()
    qtbot.waitUntil(lambda: s.mode == "live")
    assert win.status.items.text() == "items done 5/5"


# ---------------------------------------------------------------- bad files
@pytest.mark.parametrize("damage", ["foreign", "cut", "corrupt record", "no scenario"])
def test_a_bad_recording_shows_why_and_the_window_keeps_its_run(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path, damage: str
) -> None:
    good = record("small-basic", "fork", tmp_path / "good.qrec", speed=10)
    data = bytearray(good.read_bytes())
    bad = tmp_path / "bad.qrec"
    if damage == "foreign":
        bad.write_bytes(b"PK\x03\x04 this is a zip file, not a recording" * 20)
        why = "not a qsim recording"
    elif damage == "cut":
        bad.write_bytes(bytes(data[: len(data) // 2]))
        why = "cut short"
    elif damage == "corrupt record":
        actor_off = next(off for name, _f, off in RECORD_FIELDS if name == "actor")
        data[DATA_OFFSET + 40 * 5 + actor_off] = 200  # record 5 names actor 200
        bad.write_bytes(bytes(data))
        why = "record 5 is corrupt"
    else:
        rec = open_recording(good)
        meta = dict(rec.meta.raw, scenario_toml="")
        fields = list(PREAMBLE.unpack(bytes(data[: PREAMBLE.size])))
        m_off = fields[9]
        body = json.dumps(meta).encode()
        fields[10] = len(body)
        head = PREAMBLE.pack(*fields)
        bad.write_bytes(head + bytes(data[len(head) : m_off]) + body)
        why = "has no scenario"
    win = make_window("fork", "backpressure")
    win.actions_run.play.trigger()
    run = win.session.run
    assert not win.open_recording(str(bad))
    boxes = error_boxes(win)
    assert len(boxes) == 1 and "bad.qrec" in boxes[0].text() and why in boxes[0].text()
    assert win.session.run is run and win.session.status == "running"
    assert win.session.mode == "live" and win.session.scenario is not None
    assert win.session.scenario.id == "backpressure"
    boxes[0].close()


# ---------------------------------------------------------------- qsim replay
def test_qsim_replay_opens_the_window_and_plays_it(tmp_path: Path) -> None:
    """``qsim replay FILE`` is the window replaying FILE (here offscreen, quitting
    itself); a bad file is one line in the window and the app still starts."""
    good = record("small-basic", "fork", tmp_path / "good.qrec", speed=10)
    bad = tmp_path / "bad.qrec"
    bad.write_bytes(b"not a recording")
    env = {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),  # never the user's settings
    }
    for path in (good, bad):
        done = subprocess.run(
            [sys.executable, "-m", "qsim", "replay", str(path), "--quit-after", "1.5"],
            capture_output=True,
            text=True,
            timeout=60,
            env=env,
        )
        assert done.returncode == 0, done.stderr


def test_presenting_the_keys_still_move_the_timeline(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    """Issue 12: presenting (no menus, no toolbar), 1-9 jump to the marks and
    Left/Right/Home/End move through the run as they do otherwise."""
    path = record("backpressure", "fork", tmp_path / "bp.qrec")
    win = make_window("fork")
    assert win.open_recording(str(path))
    win.set_presentation(True, fullscreen=False)
    assert not win.menuBar().isVisible() and win.timeline.isVisible()
    src = win.session.source
    assert src is not None
    QTest.keyClick(win, Qt.Key.Key_1)
    mark = src.replay.marks()["first_block"]
    qtbot.waitUntil(lambda: src.pos == mark)
    QTest.keyClick(win, Qt.Key.Key_Left)
    qtbot.waitUntil(lambda: src.pos == mark - 1)
    QTest.keyClick(win, Qt.Key.Key_End)
    qtbot.waitUntil(lambda: src.pos == len(src))
    QTest.keyClick(win, Qt.Key.Key_Home)
    qtbot.waitUntil(lambda: src.pos == 0)
    win.set_presentation(False)
