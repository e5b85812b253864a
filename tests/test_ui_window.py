"""The main window with real runs: lessons, play/pause/step, reset, files, presentation."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from pathlib import Path

import pytest
from handy import scenario_ref
from PySide6.QtCore import QPointF, QSettings, Qt
from PySide6.QtGui import QEnterEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.exceptions import TimeoutError as QtTimeout
from pytestqt.qtbot import QtBot
from windows import Windows

from qsim.model.scenario_io import load_scenario
from qsim.resources import list_builtin
from qsim.ui.main_window import MainWindow

WindowFactory = Callable[..., MainWindow]
BASIC = scenario_ref("small-basic")  # 5 items and a DONE: the basic lesson as a scenario


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    """A settings file of the test's own: never the user's."""
    return QSettings(str(tmp_path / "qsim.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(windows: Windows, settings: QSettings) -> WindowFactory:
    def make(start_method: str = "fork", lesson: str = BASIC, **kw: object) -> MainWindow:
        return windows.open(start_method, lesson, settings=kw.get("settings", settings))  # type: ignore[arg-type]

    return make


def live_all_paused(win: MainWindow) -> bool:
    r = win.session.reducer
    assert r is not None
    live = r.live_actors()
    return bool(live) and all(a.paused for a in live)


def queue_ops(win: MainWindow) -> int:
    r = win.session.reducer
    assert r is not None
    return sum(q.puts + q.gets for q in r.queues)


def error_boxes(win: MainWindow) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


# ---------------------------------------------------------------- the window
def test_window_lists_the_lessons_and_filters_them(make_window: WindowFactory) -> None:
    win = make_window(lesson="")
    shown = win.lessons.titles()
    for sc in list_builtin():
        assert any(sc.title in t for t in shown), sc.title
    win.lessons.search.setText("maxsize")  # in titles, ids or summaries
    wanted = [e.title for e in win.lessons.entries if "maxsize" in e.search_text]
    assert win.lessons.titles() == wanted
    assert 0 < len(wanted) < len(shown) or len(shown) == 1
    win.lessons.search.clear()
    assert win.lessons.titles() == shown
    for name in ("capacity", "priority", "joinable", "pipeline", "throughput"):
        assert win.findChild(type(win.docks[name]), f"dock_{name}") is win.docks[name]


def test_every_control_has_a_tooltip_naming_its_shortcut(make_window: WindowFactory) -> None:
    win = make_window(lesson="")
    ra = win.actions_run
    for act, key in (
        (ra.play, "Space"),
        (ra.step, "S"),
        (ra.reset, "R"),
        (win.act_presentation, "F11"),
        (win.act_open, "Ctrl+O"),
        (win.act_save, "Ctrl+S"),
    ):
        assert key in act.toolTip(), (act.text(), act.toolTip())
    assert ra.stop.toolTip()
    assert "4x" in ra.speed.slider.toolTip()


# ---------------------------------------------------------------- running
def test_play_makes_items_reach_the_consumer(
    make_window: WindowFactory, qtbot: QtBot, start_method: str
) -> None:
    win = make_window(start_method)
    win.actions_run.speed.slider.setValue(win.actions_run.speed.slider.maximum())  # 4x
    seen_tokens = []
    win.session.frame.connect(lambda _now: seen_tokens.append(win.diagram.token_count()))
    win.actions_run.play.trigger()
    assert win.session.status == "running"
    assert win.actions_run.play.text() == "Pause"
    assert win.session.run is not None and win.session.run.speed == 4.0
    assert win.actions_run.speed.value_label.text() == "4.0x"
    r = win.session.reducer
    assert r is not None
    qtbot.waitUntil(lambda: r.acct.consumed == 5, timeout=20_000)
    assert max(seen_tokens) > 0
    consumer = next(a for a in r.actors if a.role == "consumer")
    assert consumer.items == 5
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=10_000)
    assert "items done 5/5" in win.status.items.text()


def test_pause_freezes_the_real_event_count(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window("spawn", "backpressure")
    win.actions_run.play.trigger()
    run = win.session.run
    assert run is not None
    qtbot.waitUntil(lambda: queue_ops(win) >= 3, timeout=15_000)
    win.actions_run.play.trigger()  # now "Pause"
    assert win.session.status == "paused"
    assert "paused" in win.status.state.text()
    assert win.actions_run.play.text() == "Play"
    qtbot.waitUntil(lambda: live_all_paused(win), timeout=5_000)
    frozen = run.events_received
    with pytest.raises(QtTimeout):
        qtbot.waitUntil(lambda: run.events_received != frozen, timeout=500)
    win.actions_run.play.trigger()  # resume
    qtbot.waitUntil(lambda: run.events_received > frozen, timeout=5_000)


def test_step_advances_exactly_one_queue_operation(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    win = make_window("fork", "backpressure")
    win.actions_run.step.trigger()  # from idle: starts paused, then one operation
    qtbot.waitUntil(lambda: queue_ops(win) == 1, timeout=10_000)
    qtbot.waitUntil(lambda: live_all_paused(win), timeout=5_000)
    with pytest.raises(QtTimeout):
        qtbot.waitUntil(lambda: queue_ops(win) != 1, timeout=500)
    for n in (2, 3):
        win.actions_run.step.trigger()
        qtbot.waitUntil(lambda n=n: queue_ops(win) == n, timeout=5_000)
    with pytest.raises(QtTimeout):
        qtbot.waitUntil(lambda: queue_ops(win) != 3, timeout=500)
    r = win.session.reducer
    assert r is not None
    drawn = win.diagram.drawn_queue_contents(0)
    assert drawn == list(r.queues[0].contents)


def test_reset_and_switching_lessons_leave_no_stray_process(
    make_window: WindowFactory, qtbot: QtBot, start_method: str
) -> None:
    win = make_window(start_method, "backpressure")
    win.actions_run.play.trigger()
    first = win.session.run
    assert first is not None
    qtbot.waitUntil(lambda: queue_ops(win) >= 1, timeout=15_000)
    win.actions_run.reset.trigger()
    qtbot.waitUntil(lambda: first.alive() == [], timeout=5_000)  # stopped off the GUI thread
    second = win.session.run
    assert second is not None and second is not first
    assert win.session.status == "running"
    qtbot.waitUntil(lambda: queue_ops(win) >= 1, timeout=15_000)
    item = next(
        win.lessons.list.item(i)
        for i in range(win.lessons.list.count())
        if win.lessons.list.item(i).data(Qt.ItemDataRole.UserRole) == "put-timeout"
    )
    win.lessons.list.itemClicked.emit(item)
    qtbot.waitUntil(lambda: second.alive() == [] and not win.session.stopping, timeout=5_000)
    assert win.session.scenario is not None and win.session.scenario.id == "put-timeout"
    assert win.session.status == "idle" and win.session.run is None
    assert multiprocessing.active_children() == []


def test_closing_the_window_stops_every_worker(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window("spawn", "backpressure")
    win.actions_run.play.trigger()
    run = win.session.run
    assert run is not None
    qtbot.waitUntil(lambda: queue_ops(win) >= 1, timeout=15_000)
    assert run.alive()
    win.close()
    assert run.alive() == []
    assert multiprocessing.active_children() == []


# ---------------------------------------------------------------- files
BROKEN = """[scenario]
id = "broken"
title = "Broken"

[[queues]]
id = "q"
maxsize = -3
"""


def test_opening_a_broken_file_shows_why_and_keeps_the_run(
    make_window: WindowFactory, qtbot: QtBot, scenario_file: Callable[..., Path]
) -> None:
    win = make_window("fork", "backpressure")
    win.actions_run.play.trigger()
    run = win.session.run
    path = scenario_file(BROKEN, "mine.toml")
    assert not win.open_lesson(str(path))
    boxes = error_boxes(win)
    assert len(boxes) == 1
    text = boxes[0].text()
    assert "mine.toml" in text and "maxsize" in text and "line" in text, text
    assert win.session.run is run and win.session.status == "running"
    assert win.session.scenario is not None and win.session.scenario.id == "backpressure"
    boxes[0].close()


def test_save_as_writes_a_scenario_that_loads_back_the_same(
    make_window: WindowFactory, tmp_path: Path
) -> None:
    win = make_window("fork", "backpressure")
    assert win.knobs.apply("maxsize", 5)
    path = tmp_path / "saved.toml"
    assert win.save_scenario(str(path))
    back = load_scenario(path)
    sc = win.session.scenario
    assert sc is not None and sc.queues[0].maxsize == 5
    assert back.queues == sc.queues and back.producers == sc.producers
    assert back.consumers == sc.consumers and back.knobs == sc.knobs
    assert back.run == sc.run and back.main == sc.main and back.title == sc.title


def test_export_picture_writes_a_png(make_window: WindowFactory, tmp_path: Path) -> None:
    win = make_window()
    path = tmp_path / "diagram.png"
    assert win.export_picture(str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_knob_out_of_range_is_refused_with_a_message(make_window: WindowFactory) -> None:
    win = make_window("fork", "backpressure")
    assert not win.knobs.apply("maxsize", 99)
    assert "out of range" in win.knobs.error.text()
    sc = win.session.scenario
    assert sc is not None and sc.queues[0].maxsize == 2
    box = win.knobs.boxes["maxsize"]
    assert box.value() == 2
    box.lineEdit().selectAll()
    box.lineEdit().insert("99")  # typed: refused by the box, and said why
    assert "99 is out of range" in win.knobs.error.text()
    assert win.knobs.apply("maxsize", 4)
    assert win.knobs.error.text() == ""
    sc = win.session.scenario
    assert sc is not None and sc.queues[0].maxsize == 4


def test_a_run_error_is_shown(make_window: WindowFactory) -> None:
    win = make_window()
    win.session.error.emit("Could not start basic: out of file handles")
    boxes = error_boxes(win)
    assert len(boxes) == 1 and "out of file handles" in boxes[0].text()
    assert "out of file handles" in win.status.currentMessage()
    boxes[0].close()


# ---------------------------------------------------------------- look
def test_presentation_mode_hides_secondary_docks_and_comes_back(
    make_window: WindowFactory,
) -> None:
    win = make_window()
    assert win.docks["event_log"].isVisible() and win.docks["knobs"].isVisible()
    normal_caption, normal_figure = win.caption.font_px(), win.key_figure.font_px()
    win.act_presentation.trigger()
    assert win.presenting and win.isFullScreen()
    for name in ("lessons", "knobs", "event_log", "throughput"):
        assert not win.docks[name].isVisible(), name
    assert win.docks["lesson_text"].isVisible()
    assert win.caption.font_px() > normal_caption
    assert win.key_figure.isVisible() and win.key_figure.font_px() > normal_figure
    # no menus, no toolbar; their keys still work
    assert not win.menuBar().isVisible() and not win.toolbar.isVisible()
    for act in (win.actions_run.play, win.actions_run.step, win.act_presentation):
        assert act in win.actions()
    # the mouse at the top edge brings them back; down in the diagram, away again
    QApplication.sendEvent(
        win.chrome.edge, QEnterEvent(QPointF(1, 1), QPointF(1, 1), QPointF(1, 1))
    )
    assert win.menuBar().isVisible() and win.toolbar.isVisible()
    centre = win.centralWidget()
    assert centre is not None
    QApplication.sendEvent(centre, QEnterEvent(QPointF(9, 99), QPointF(9, 99), QPointF(9, 99)))
    assert not win.menuBar().isVisible() and not win.toolbar.isVisible()
    win.act_presentation.trigger()
    assert not win.presenting and not win.isFullScreen()
    assert win.docks["event_log"].isVisible() and win.docks["knobs"].isVisible()
    assert win.menuBar().isVisible() and win.toolbar.isVisible()


def test_settings_remember_theme_lesson_and_docks(
    make_window: WindowFactory, settings: QSettings
) -> None:
    win = make_window("fork", "backpressure")
    win.set_theme("dark")
    win.docks["event_log"].hide()
    win.close()
    again = make_window(lesson="", settings=settings)
    assert again.base_theme.name == "dark"
    assert again.theme_actions["dark"].isChecked()
    assert again.last_lesson() == "backpressure"
    assert not again.docks["event_log"].isVisible()
    assert again.docks["knobs"].isVisible()


HANGS = """[scenario]
id = "hangs"
title = "A consumer waits for a sentinel nobody sends"

[run]
hang_after = 0.5

[[queues]]
id = "q"

[[producers]]
id = "P"
items = 2
interval = 0.01

[[consumers]]
id = "C"
work_time = 0.01
"""


def test_a_hung_run_is_shown_then_stopped(
    make_window: WindowFactory,
    qtbot: QtBot,
    scenario_file: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("qsim.ui.main_window.HANG_STOP_MS", 300)
    win = make_window("fork", str(scenario_file(HANGS, "hangs.toml")))
    win.actions_run.play.trigger()
    qtbot.waitUntil(lambda: win.session.status == "hung", timeout=15_000)
    assert "HUNG" in win.status.state.text()
    assert "C1 is hung: waiting on get" in win.caption.text()
    qtbot.waitUntil(lambda: win.session.run is None, timeout=5_000)
    qtbot.waitUntil(lambda: multiprocessing.active_children() == [], timeout=5_000)
    assert "C1 is hung" in win.caption.text()


def test_event_log_tells_what_happened(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window()
    win.docks["event_log"].raise_()
    win.actions_run.speed.slider.setValue(win.actions_run.speed.slider.maximum())
    win.actions_run.play.trigger()
    qtbot.waitUntil(lambda: "got the sentinel" in win.event_log.toPlainText(), timeout=20_000)
    text = win.event_log.toPlainText()
    assert "P1 put P1#1 into q" in text and "C1 got P1#1 from q" in text


def test_keyboard_space_plays_and_pauses(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window("fork", "backpressure")
    win.activateWindow()
    assert QTest.qWaitForWindowActive(win)
    win.diagram.setFocus()
    qtbot.keyClick(win.diagram, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.session.status == "running", timeout=2_000)
    qtbot.keyClick(win.diagram, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: win.session.status == "paused", timeout=2_000)
    qtbot.waitUntil(lambda: live_all_paused(win), timeout=5_000)
    ops = queue_ops(win)
    qtbot.keyClick(win.diagram, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: queue_ops(win) == ops + 1, timeout=5_000)
    before = win.actions_run.speed.speed
    qtbot.keyClick(win.diagram, Qt.Key.Key_Minus)
    assert win.actions_run.speed.speed < before
    qtbot.keyClick(win.diagram, Qt.Key.Key_F11)
    assert win.presenting
    qtbot.keyClick(win.diagram, Qt.Key.Key_Escape)
    assert not win.presenting


def test_a_topic_panel_plugs_into_its_dock(make_window: WindowFactory) -> None:
    from PySide6.QtWidgets import QLabel

    win = make_window(lesson="")
    panel = QLabel("priority order")
    win.set_panel("priority", panel)
    assert win.panel("priority") is panel
    win.docks["priority"].raise_()
    assert panel.isVisibleTo(win.docks["priority"])
    with pytest.raises(KeyError):
        win.set_panel("nonsense", QLabel())


def test_about_names_the_version_and_the_licences() -> None:
    import qsim
    from qsim.ui.menus import about_text

    text = about_text()
    assert qsim.__version__ in text
    for name in ("qsim", "PySide6", "pyqtgraph", "NumPy", "LGPL", "MIT", "BSD"):
        assert name in text


def test_a_picture_taken_mid_run_agrees_with_the_diagram(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    """The status bar and the panels redraw a few times a second, the diagram
    every frame; ``qsim shot`` brings them up to date before it grabs, so the
    picture never shows "items done 5/8" next to consumers that did 7."""
    from qsim.ui.shot import bring_up_to_date

    win = make_window(lesson=scenario_ref("small-joinable"))
    win.install_panels()
    win.actions_run.speed.slider.setValue(win.actions_run.speed.slider.maximum())
    panel = win.panel("joinable")
    assert panel is not None
    checked = []

    def check(_now: int) -> None:
        r = win.session.reducer
        if r is None or not panel.isVisible():
            return
        bring_up_to_date(win)
        assert win.status.items.text() == f"items done {r.acct.consumed}/8"
        assert panel.figures()["unfinished"] == r.queues[0].unfinished  # type: ignore[attr-defined]
        checked.append(r.acct.consumed)

    win.session.frame.connect(check)
    win.actions_run.play.trigger()
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=20_000)
    win.session.frame.disconnect(check)
    assert len(set(checked)) >= 5, "the check must have seen the run progress"
