"""A traced program in the window: its diagram, its tokens, its code view.

Real programs (tests/programs), real processes under the start method the
program is told to use, the real window offscreen. Every frame is checked
with the consistency checker the lessons use.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMenu, QMessageBox
from pytestqt.exceptions import TimeoutError as QtTimeout
from pytestqt.qtbot import QtBot
from tracing import PROGRAMS, marked_line
from windows import Windows

from qsim.model.traced import token_label
from qsim.ui.consistency import check_frame
from qsim.ui.main_window import MainWindow

WindowFactory = Callable[..., MainWindow]


@pytest.fixture
def make_window(windows: Windows) -> WindowFactory:
    def make(lesson: str = "") -> MainWindow:
        return windows.open(None, lesson, panels=True)

    return make


class Frames:
    """Checks every frame of a window, and keeps what its tokens showed."""

    def __init__(self, win: MainWindow) -> None:
        self.win = win
        self.problems: list[str] = []
        self.count = 0
        self.labels: set[str] = set()  # token texts drawn resting in a queue
        self.sentinels: set[str] = set()
        win.session.frame.connect(self.on_frame)

    def on_frame(self, _now: int) -> None:
        self.count += 1
        status = self.win.session.status
        self.problems += [f"frame {self.count} ({status}): {p}" for p in check_frame(self.win)]
        animator = self.win.diagram.animator
        if animator is None:
            return
        painter = self.win.diagram.painter
        for tok in animator.placed.values():
            if tok.look is not None and tok.place is not None and tok.place[0] == 0:
                drawn = painter.label(tok.look)[1]  # the text its pixmap shows
                (self.sentinels if tok.look.sentinel else self.labels).add(drawn)

    def stop(self) -> None:
        self.win.session.frame.disconnect(self.on_frame)


def error_boxes(win: MainWindow) -> list[QMessageBox]:
    return [b for b in win.findChildren(QMessageBox) if b.isVisible()]


def queue_ops(win: MainWindow) -> int:
    r = win.session.reducer
    assert r is not None
    return sum(q.puts + q.gets for q in r.queues)


def printed(win: MainWindow) -> dict[str, object]:
    run = win.programs.trace
    assert run is not None
    lines = run.stdout.decode().strip().splitlines()
    assert lines, run.stderr.decode()[-2000:]
    return dict(json.loads(lines[-1]))


def test_a_program_plays_in_the_window_with_its_own_names_and_objects(
    make_window: WindowFactory, qtbot: QtBot, start_method: str
) -> None:
    win = make_window("backpressure")
    frames = Frames(win)
    prog = PROGRAMS / "slow_one_to_one.py"
    assert win.programs.open_program(str(prog), [start_method, "6", "0.1"])
    s = win.session
    qtbot.waitUntil(lambda: s.status == "finished", timeout=45_000)
    frames.stop()
    assert not frames.problems, "; ".join(frames.problems[:5])
    assert frames.count > 20
    # the diagram's processes and queues are the program's, named as it names them
    topo = win.diagram.topology
    assert topo is not None and topo.traced
    assert sorted(a.name for a in topo.actors) == ["consumer", "main", "producer"]
    assert sorted(q.id for q in topo.queues) == ["orders", "results"]
    roles = {a.name: a.role for a in topo.actors}
    assert roles == {"producer": "producer", "consumer": "stage", "main": "consumer"}
    # tokens showed the objects the program put, as it printed them
    got = printed(win)["got"]
    assert isinstance(got, list) and len(got) == 6
    shown = {token_label(text) for text in got}
    assert frames.labels, "no token rested in a queue"
    assert frames.labels <= shown | {token_label(repr(got))}, frames.labels - shown
    assert "'DONE'" in frames.sentinels  # the sentinel's value, drawn as a sentinel
    r = s.reducer
    assert r is not None
    orders = r.topology.queue_index("orders")
    assert r.queues[orders].puts == r.queues[orders].gets == 7
    assert r.violations == 0, r.violation_notes
    assert win.programs.code.path == str(prog)
    producer = r.topology.names.index("producer")
    assert win.diagram.actor_items[producer].counter == "put 7 · got 0"
    # the throughput panel counts the program's own puts and gets: every item
    # got is finished (its time in the system known), none is left inside
    panel = win.panels["throughput"]
    panel.redraw()
    panel.refresh_plots()
    fig = panel.figures()
    assert fig["littles.finished"] == r.acct.consumed == 7 + 1  # and main got the list
    assert fig["littles.in_system"] == 0
    assert float(fig["littles.W"]) > 0
    assert {"rate:producer", "got:consumer"} <= set(fig), sorted(fig)


def test_pause_holds_a_program_still_and_step_moves_one_operation(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    win = make_window()
    frames = Frames(win)
    assert win.programs.open_program(str(PROGRAMS / "forever.py"), ["fork", str(tmp_path / "p")])
    s = win.session
    qtbot.waitUntil(lambda: queue_ops(win) >= 10, timeout=30_000)
    win.actions_run.play.trigger()  # Space: pause
    assert s.status == "paused"
    r = s.reducer
    assert r is not None

    def parked() -> bool:
        live = [a for a in r.actors if a.alive and a.name in ("producer", "consumer")]
        return len(live) == 2 and all(a.paused for a in live)

    qtbot.waitUntil(parked, timeout=10_000)
    before = queue_ops(win)
    with pytest.raises(QtTimeout):
        qtbot.waitUntil(lambda: queue_ops(win) != before, timeout=600)
    # each parked process's marker is on the line it parked on
    code = win.programs.code
    consumer = r.actors[r.topology.names.index("consumer")]
    assert consumer.line is not None
    assert consumer.line[1] == marked_line("forever.py", "consumer gets")
    qtbot.waitUntil(
        lambda: "consumer" in code.markers_on(marked_line("forever.py", "consumer gets")),
        timeout=5_000,
    )
    win.actions_run.step.trigger()
    qtbot.waitUntil(lambda: queue_ops(win) == before + 1, timeout=10_000)
    with pytest.raises(QtTimeout):
        qtbot.waitUntil(lambda: queue_ops(win) != before + 1, timeout=600)
    win.actions_run.play.trigger()
    qtbot.waitUntil(lambda: queue_ops(win) >= before + 6, timeout=10_000)
    win.stop()
    qtbot.waitUntil(lambda: not s.stopping, timeout=10_000)
    frames.stop()
    assert not frames.problems, "; ".join(frames.problems[:5])


def test_a_hung_program_is_shown_hung_with_each_process_on_its_line(
    make_window: WindowFactory, qtbot: QtBot, start_method: str
) -> None:
    win = make_window()
    frames = Frames(win)
    prog = "hang_no_sentinel.py"
    assert win.programs.open_program(str(PROGRAMS / prog), [start_method])
    s = win.session
    qtbot.waitUntil(lambda: s.status == "hung", timeout=30_000)
    view, code = win.diagram, win.programs.code
    r = s.reducer
    assert r is not None
    names = r.topology.names
    shown_hung = [names.index(n) for n in ("consumer", "main")]
    qtbot.waitUntil(
        lambda: all(view.actor_state_text(i) == "hung" for i in shown_hung), timeout=5_000
    )
    consumer_line = marked_line(prog, "consumer blocks here")
    main_line = marked_line(prog, "main blocks here")
    qtbot.waitUntil(lambda: code.markers_on(consumer_line) == ["consumer"], timeout=5_000)
    assert code.markers_on(main_line) == ["main"]
    # clicking the consumer in the diagram shows its line in the code view
    code.editor.show_line(1)
    view.actor_clicked.emit(names.index("consumer"))
    assert code.editor.textCursor().blockNumber() + 1 == consumer_line
    # the hung run is stopped after a moment; it stays shown hung, on its lines
    qtbot.waitUntil(lambda: s.run is None and not s.stopping, timeout=15_000)
    assert view.actor_state_text(names.index("consumer")) == "hung"
    assert code.markers_on(consumer_line) == ["consumer"]
    notes = code.notes.text()
    assert f"consumer waiting on get on q at {prog}:{consumer_line}" in notes, notes
    frames.stop()
    assert not frames.problems, "; ".join(frames.problems[:5])


@pytest.mark.parametrize(
    ("name", "text", "why"),
    [
        ("broken.py", "def f(:\n    pass\n", "is not valid Python"),
        ("script.py", "#!/bin/sh\necho hi\n", "is not a Python program"),
        ("missing.py", None, "no such file"),
    ],
)
def test_a_program_that_cannot_be_traced_is_refused_and_the_lesson_stays(
    make_window: WindowFactory,
    qtbot: QtBot,
    tmp_path: Path,
    name: str,
    text: str | None,
    why: str,
) -> None:
    win = make_window("backpressure")
    win.actions_run.play.trigger()
    run = win.session.run
    path = tmp_path / name
    if text is not None:
        path.write_text(text)
    assert not win.programs.open_program(str(path))
    boxes = error_boxes(win)
    assert len(boxes) == 1
    assert name in boxes[0].text() and why in boxes[0].text(), boxes[0].text()
    s = win.session
    assert s.run is run and s.status == "running" and s.program is None
    assert s.scenario is not None and s.scenario.id == "backpressure"
    assert win.diagram.scenario is s.scenario
    boxes[0].close()


def test_file_open_python_program_asks_for_the_file_and_its_arguments(
    make_window: WindowFactory, qtbot: QtBot, tmp_path: Path
) -> None:
    win = make_window("backpressure")
    act = win.programs.act_open
    assert act.shortcut().toString() == "Ctrl+Shift+O"
    file_menu = win.menuBar().findChildren(QMenu)[0]
    assert file_menu.title() == "&File" and act in file_menu.actions()
    bad = tmp_path / "notes.py"
    bad.write_text("this is not python at all\n")
    act.trigger()
    dlg = win.programs.dialog
    assert dlg is not None and dlg.isVisible()
    dlg.path.setText(str(bad))
    dlg.args.setText('fork "two words"')
    assert dlg.argv() == ["fork", "two words"]
    dlg.accept()
    qtbot.waitUntil(lambda: len(error_boxes(win)) == 1, timeout=5_000)
    assert win.session.scenario is not None and win.session.scenario.id == "backpressure"
    error_boxes(win)[0].close()
    # a good one: played, and its folder and arguments remembered
    act.trigger()
    dlg = win.programs.dialog
    assert dlg is not None
    dlg.path.setText(str(PROGRAMS / "slow_one_to_one.py"))
    dlg.args.setText("fork 2 0.01")
    dlg.accept()
    s = win.session
    assert s.program is not None and s.program.args == ("fork", "2", "0.01")
    qtbot.waitUntil(lambda: s.status == "finished", timeout=30_000)
    st = win.settings
    assert st is not None
    assert st.value("program_dir") == str(PROGRAMS)
    assert st.value("program_args") == "fork 2 0.01"
    assert printed(win)["put"] == 3


def test_a_pool_s_own_queues_are_drawn_internal(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window()
    frames = Frames(win)
    assert win.programs.open_program(str(PROGRAMS / "pool_map.py"), ["fork"])
    s = win.session
    qtbot.waitUntil(lambda: s.status == "finished", timeout=30_000)
    frames.stop()
    assert not frames.problems, "; ".join(frames.problems[:5])
    view = win.diagram
    topo = view.topology
    assert topo is not None
    inq = next(i for i, q in enumerate(topo.queues) if q.id.startswith("_inqueue"))
    assert topo.queues[inq].id == "_inqueue (internal)"
    assert view.queue_items[inq].opacity() < 1.0
    assert "Pool" in win.programs.code.notes.text()
    r = s.reducer
    assert r is not None
    # the Pool's terminate() at the end of the with block is not a crash
    assert [a.name for a in r.actors if a.state == "crashed"] == []
    assert printed(win)["results"] == [x**3 for x in range(8)]


def test_a_program_that_fails_says_why(make_window: WindowFactory, qtbot: QtBot) -> None:
    win = make_window()
    assert win.programs.open_program(str(PROGRAMS / "crash_main.py"), ["fork"])
    qtbot.waitUntil(lambda: len(error_boxes(win)) == 1, timeout=30_000)
    box = error_boxes(win)[0]
    assert "crash_main.py ended with exit code 1" in box.text()
    assert "Traceback" in box.text() or "Error" in box.text()
    box.close()


def test_a_program_puts_the_lesson_docks_away_and_a_lesson_brings_them_back(
    make_window: WindowFactory, qtbot: QtBot
) -> None:
    win = make_window("backpressure")
    lessons, knobs, code = win.docks["lessons"], win.docks["knobs"], win.docks["code"]
    assert lessons.isVisible() and knobs.isVisible()
    assert win.programs.open_program(str(PROGRAMS / "slow_one_to_one.py"), ["fork", "2", "0.01"])
    assert not lessons.isVisible() and not knobs.isVisible() and code.isVisible()
    qtbot.waitUntil(lambda: win.session.status == "finished", timeout=30_000)
    assert win.open_lesson("backpressure")
    assert lessons.isVisible() and knobs.isVisible()
    assert win.session.program is None
