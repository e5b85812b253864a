"""Program lessons in the window: listed with the scenarios, their controls are
the program's options (a change starts the program again with new arguments),
and opening one runs its real program traced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QMessageBox
from pytestqt.qtbot import QtBot

from qsim.model.program_lesson import ProgramLesson
from qsim.resources import builtin_ids, load_program, program_ids
from qsim.ui.knob_box import KnobBox
from qsim.ui.knobs import KnobPanel
from qsim.ui.lesson_list import LessonList
from qsim.ui.main_window import MainWindow
from qsim.ui.session import LiveSession


def test_the_list_has_every_lesson_in_order_and_says_which_are_programs(qtbot: QtBot) -> None:
    lessons = LessonList()
    qtbot.addWidget(lessons)
    ids = [
        lessons.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(lessons.list.count())
    ]
    assert ids == builtin_ids()
    for n, e in enumerate(lessons.entries):
        item = lessons.list.item(n)
        assert item.text().startswith(f"{n + 1}. ")
        if e.id in program_ids():
            assert e.program == Path(load_program(e.id).program).name
            assert f"A real Python program, {e.program}" in item.toolTip()
        else:
            assert not e.program and "A real Python program" not in item.toolTip()
    lessons.search.setText("pickled spawn")  # every word, in a title, id or summary
    assert lessons.titles() == [
        e.title for e in lessons.entries if "pickled" in e.search_text and "spawn" in e.search_text
    ]
    assert "10. Pitfall: a nested function cannot be pickled under spawn" in lessons.titles()


@pytest.fixture
def panel(qtbot: QtBot) -> Iterator[KnobPanel]:
    session = LiveSession()
    p = KnobPanel(session)
    qtbot.addWidget(p)
    yield p
    p.stop_pending()
    session.shutdown()


def _show(panel: KnobPanel, lesson: ProgramLesson) -> None:
    panel.show_program_lesson(lesson, lesson.defaults())
    panel.show()


def test_each_kind_of_knob_gets_its_control(panel: KnobPanel, qtbot: QtBot) -> None:
    lesson = load_program("pitfall-join-before-drain")
    _show(panel, lesson)
    fix = panel.findChild(QCheckBox, "knob_--drain-first")
    items = panel.findChild(KnobBox, "knob_--items")
    size = panel.findChild(KnobBox, "knob_--size")
    assert fix is not None and items is not None and size is not None
    assert not fix.isChecked() and items.value() == 20 and size.value() == 65536
    assert items.decimals() == 0 and (items.minimum(), items.maximum()) == (1, 100)
    assert "--drain-first" in fix.toolTip() and "starts the program again" in fix.toolTip()
    pick = load_program("spawn-pickling")
    _show(panel, pick)
    method = panel.findChild(QComboBox, "knob_--start-method")
    assert method is not None and method.currentText() == "spawn"
    assert [method.itemText(i) for i in range(method.count())] == ["spawn", "fork", "forkserver"]
    assert panel.findChild(QCheckBox, "knob_--drain-first") is None, "the old controls went"


def test_changes_come_out_together_after_a_pause(panel: KnobPanel, qtbot: QtBot) -> None:
    lesson = load_program("pitfall-join-before-drain")
    _show(panel, lesson)
    got: list[dict[str, object]] = []
    panel.program_values_changed.connect(got.append)
    with qtbot.waitSignal(panel.program_values_changed, timeout=5_000):
        panel.findChild(KnobBox, "knob_--items").setValue(3)  # type: ignore[union-attr]
        panel.findChild(QCheckBox, "knob_--drain-first").setChecked(True)  # type: ignore[union-attr]
    assert got == [{"Items": 3.0, "Drain before join (the fix)": True}]
    assert lesson.argv(got[0]) == ["--drain-first", "--items", "3", "--size", "65536"]  # type: ignore[arg-type]
    with qtbot.waitSignal(panel.program_values_changed, timeout=5_000):
        panel.defaults.click()
    assert got[-1] == {"Items": 20, "Drain before join (the fix)": False}


def test_a_number_typed_out_of_range_is_refused_with_a_reason(
    panel: KnobPanel, qtbot: QtBot
) -> None:
    _show(panel, load_program("basic"))
    box = panel.findChild(KnobBox, "knob_--items")
    assert box is not None
    box.lineEdit().selectAll()
    qtbot.keyClicks(box.lineEdit(), "500")
    assert panel.error.text() == "Items: 500 is out of range (allowed 1 to 50)"


def test_a_scenario_after_a_program_lesson_gets_its_own_controls(panel: KnobPanel) -> None:
    from qsim.resources import load

    _show(panel, load_program("basic"))
    panel.set_scenario(load("backpressure"))
    assert panel.program.lesson is None and not panel.program.isVisible()
    assert panel.boxes, "the scenario's knobs"


# ------------------------------------------------------------ in the window
@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    made: list[MainWindow] = []

    def make(start_method: str | None = "fork") -> MainWindow:
        session = LiveSession(start_method=start_method)
        win = MainWindow(session, QSettings(str(tmp_path / "q.ini"), QSettings.Format.IniFormat))
        session.setParent(win)
        qtbot.addWidget(win)
        win.resize(1280, 720)
        with qtbot.waitExposed(win):
            win.show()
        made.append(win)
        return win

    yield make  # type: ignore[misc]
    for win in made:
        win.close()


def test_a_program_lesson_runs_its_program_and_a_knob_restarts_it(  # type: ignore[no-untyped-def]
    window, qtbot: QtBot, start_method: str
) -> None:
    win = window(start_method)
    assert win.open_lesson("basic")
    lesson = load_program("basic")
    # a lesson keeps its list and its controls beside the program's code
    assert all(win.docks[d].isVisible() for d in ("lessons", "knobs", "code"))
    assert win.lessons.list.currentItem().data(Qt.ItemDataRole.UserRole) == "basic"
    assert win.program_lessons.argv() == lesson.argv(start_method=start_method)
    assert win.windowTitle() == f"qsim — {lesson.title}"
    assert "def producer(q, items, delay):" in win.lesson_text.toPlainText()
    win.session.set_speed(4.0)
    win.session.play()
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=30_000)
    r = win.session.reducer
    assert r is not None and r.queues[r.topology.queue_index("q")].gets == 6
    items = win.knobs.findChild(KnobBox, "knob_--items")
    assert items is not None
    with qtbot.waitSignal(win.session.scenario_loaded, timeout=5_000):
        items.setValue(2)
    assert win.program_lessons.argv()[:2] == ["--items", "2"]
    win.session.play()
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=30_000)
    r = win.session.reducer
    assert r is not None and r.queues[r.topology.queue_index("q")].gets == 3
    assert items.value() == 2, "the knob keeps its value across the restart"


def test_a_pitfall_program_is_shown_hung(window, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    win = window("fork")
    assert win.open_lesson("pitfall-no-sentinel")
    win.session.set_speed(4.0)
    win.session.play()
    qtbot.waitUntil(lambda: win.session.status == "hung", timeout=30_000)


def test_the_pickling_lesson_shows_the_real_error_and_its_fix_runs(  # type: ignore[no-untyped-def]
    window, qtbot: QtBot
) -> None:
    win = window(None)  # no start method of the session's own: the lesson's spawn
    assert win.open_lesson("spawn-pickling")
    assert win.program_lessons.argv() == ["--start-method", "spawn"]
    win.session.play()

    def box() -> QMessageBox | None:
        shown = [b for b in win.findChildren(QMessageBox) if b.isVisible()]
        return shown[0] if shown else None

    qtbot.waitUntil(lambda: box() is not None, timeout=30_000)
    b = box()
    assert b is not None and "main.<locals>.nested_work" in b.text()
    b.close()
    fix = win.knobs.findChild(QCheckBox, "knob_--fixed")
    assert fix is not None
    with qtbot.waitSignal(win.session.scenario_loaded, timeout=5_000):
        fix.setChecked(True)
    assert win.program_lessons.argv() == ["--fixed", "--start-method", "spawn"]
    win.session.play()
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=30_000)
    r = win.session.reducer
    assert r is not None and r.queues[r.topology.queue_index("tasks")].gets == 3
    assert box() is None
