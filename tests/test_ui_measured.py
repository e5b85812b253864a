"""The window shows what a lesson measured: the *Measured in this run* list in
the lesson text; and the errors lesson's accounting and why P-abort stopped
(real runs under fork and spawn)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from qsim.resources import load
from qsim.ui.lesson_text import LessonText
from qsim.ui.main_window import MainWindow
from qsim.ui.session import LiveSession

HEADING = "\nMeasured in this run\n"  # the list's heading (the texts also name it)


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path, start_method: str) -> Iterator[MainWindow]:
    settings = QSettings(str(tmp_path / "qsim.ini"), QSettings.Format.IniFormat)
    session = LiveSession(start_method=start_method)
    win = MainWindow(session, settings)
    session.setParent(win)
    qtbot.addWidget(win)
    win.resize(1280, 720)
    with qtbot.waitExposed(win):
        win.show()
    yield win
    win.close()


def test_lesson_text_lists_what_was_measured_before_what_to_notice(qtbot: QtBot) -> None:
    text = LessonText()
    qtbot.addWidget(text)
    text.set_scenario(load("serialization"))
    assert HEADING not in text.toPlainText()
    text.show_measured(["`pickle.dumps(simple_msg)`: 38 bytes in 0.3 µs"])
    shown = text.toPlainText()
    assert "pickle.dumps(simple_msg): 38 bytes in 0.3 µs" in shown
    assert shown.index(HEADING) < shown.index("What to notice")
    text.set_scenario(load("batching"))  # another lesson: nothing measured yet
    assert HEADING not in text.toPlainText()


def test_batching_shows_100_items_in_5_puts_of_20(window: MainWindow, qtbot: QtBot) -> None:
    assert window.open_lesson("batching")
    assert window.knobs.apply("Items per lane (0: for the seconds)", 100)
    window.actions_run.play.trigger()
    qtbot.waitUntil(lambda: window.session.status == "finished", timeout=30_000)
    qtbot.waitUntil(
        lambda: "P-batch20 → C-batch20: 100 items in 5 puts" in window.lesson_text.toPlainText(),
        timeout=10_000,
    )
    shown = window.lesson_text.toPlainText()
    assert "P-batch1 → C-batch1: 100 items in 100 puts" in shown
    assert "from the first put to the last get" in shown
    assert shown.index(HEADING) < shown.index("What to notice")


def test_errors_window_says_what_the_items_came_to_and_why_p_abort_stopped(
    window: MainWindow, qtbot: QtBot
) -> None:
    assert window.open_lesson("errors")
    window.actions_run.speed.slider.setValue(window.actions_run.speed.slider.maximum())
    window.actions_run.play.trigger()
    qtbot.waitUntil(lambda: window.session.status == "finished", timeout=30_000)
    r = window.session.reducer
    assert r is not None and r.acct.failed > 0
    window.refresh_key_figure()
    ac = r.acct
    assert window.key_figure.text() == (
        f"processed {ac.processed} · failed {ac.failed} of {ac.produced} made"
    )
    abort = r.topology.names.index("P-abort")
    k = r.actors[abort].items
    assert f"aborted after item {k} failed" in window.diagram.actor_tooltip(abort)
