"""Open a Python program in the window: File > Open Python program…, the Code dock.

The one entry point for "show this program" is ``ProgramActions.open_program``
(``qsim trace prog.py`` and program lessons use it too): it asks the session
to ``load_program`` (which refuses, with one line, a file that is missing, not
Python or does not compile: then an error box, and the window keeps what it
had), shows the program's code and plays it.

While a program runs, the Code dock follows the displayed instant (a marker
per process on its line), shows what the program prints, and, when the run
ends, says in plain words what a student should know: it hung (and where),
it crashed, it used no queue, it used a Pool whose queues are internal. A
program whose main process fails gets an error box with its traceback.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QWidget,
)

from qsim.engine.trace import TraceRun
from qsim.engine.trace_check import TraceError
from qsim.engine.trace_hang import where_stuck
from qsim.engine.trace_headless import messages
from qsim.model.program import program_messages
from qsim.record.program import program_report_args
from qsim.ui.code_view import CodeView
from qsim.ui.controls import make_action

if TYPE_CHECKING:
    from qsim.model.state import Reducer
    from qsim.ui.main_window import MainWindow

OUTPUT_EVERY_NS = 250_000_000  # the program's output is shown at most 4 times a second
STDERR_LINES = 15  # lines of a failed program's stderr in its error box
#: line tracking (every line, not samples) while the Code dock is open; off by
#: default: it costs a busy program (see README, "Line tracking")
TRACK_LINES_DEFAULT = False


class ProgramDialog(QDialog):
    """A program file and its arguments (the last folder is remembered)."""

    def __init__(self, parent: QWidget, start_dir: str, args: str = "") -> None:
        super().__init__(parent)
        self.setObjectName("program_dialog")
        self.setWindowTitle("Open Python program")
        self.start_dir = start_dir
        self.path = QLineEdit(self)
        self.path.setObjectName("program_path")
        self.path.setPlaceholderText("a Python program (.py)")
        browse = QPushButton("Browse…", self)
        browse.setObjectName("program_browse")
        browse.clicked.connect(self.browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.args = QLineEdit(args, self)
        self.args.setObjectName("program_args")
        self.args.setPlaceholderText("optional, as on a command line: 4 --fast")
        self.problem = QLabel(self)
        self.problem.setObjectName("program_problem")
        self.problem.setStyleSheet("color: #B00020;")
        self.problem.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self._on_ok)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Program:", row)
        form.addRow("Arguments:", self.args)
        form.addRow(self.problem)
        form.addRow(buttons)
        self.resize(560, self.sizeHint().height())

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Open Python program", self.start_dir, "Python programs (*.py);;All files (*)"
        )
        if path:
            self.path.setText(path)

    def argv(self) -> list[str] | None:
        """The arguments split as a shell would (None: unbalanced quotes)."""
        try:
            return shlex.split(self.args.text())
        except ValueError:
            return None

    def _on_ok(self) -> None:
        if not self.path.text().strip():
            self._say("Choose a program first.")
        elif self.argv() is None:
            self._say("The arguments have an unclosed quote.")
        else:
            self.accept()

    def _say(self, text: str) -> None:
        self.problem.setText(text)
        self.problem.show()


class ProgramActions(QObject):
    """The Code dock, the Open Python program action, and a program run's messages."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.session = win.session
        self.code = CodeView(win)
        self.code.track.setChecked(TRACK_LINES_DEFAULT)
        dock = QDockWidget("Code", win)
        dock.setObjectName("dock_code")
        dock.setWidget(self.code)
        win.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        win.tabifyDockWidget(win.docks["lesson_text"], dock)
        win.docks["lesson_text"].raise_()
        win.docks["code"] = dock
        self.dock = dock
        self.act_open = make_action(
            win,
            "Open &Python program…",
            "Run a Python program of yours and watch its real processes and queues",
            ("Ctrl+Shift+O",),
            self.open_dialog,
            name="act_open_program",
        )
        self._add_to_menus()
        self.trace: TraceRun | None = None  # the program's last run (output, exit code)
        self._output_at = 0
        self._stuck: dict[str, str] = {}  # hung process -> where it waits, in words
        self._put_away: list[str] = []  # docks hidden while a program is shown
        self.dialog: ProgramDialog | None = None
        self._at_end = False  # a recording's replay is shown at its end
        s = self.session
        s.scenario_loaded.connect(self._on_loaded)
        s.run_started.connect(self._on_run_started)
        s.frame.connect(self._on_frame)
        s.state_changed.connect(self._on_state)
        win.diagram.actor_clicked.connect(self._on_actor_clicked)
        dock.visibilityChanged.connect(self._sync_tracking)
        self.code.tracking_changed.connect(self._sync_tracking)

    def _add_to_menus(self) -> None:
        """After File > Open scenario…, and in the panels list of View."""
        win = self.win
        for menu in win.menuBar().findChildren(QMenu):
            items = menu.actions()
            if win.act_open in items:
                at = items.index(win.act_open) + 1
                if at < len(items):
                    menu.insertAction(items[at], self.act_open)
                else:
                    menu.addAction(self.act_open)
            if menu.title() == "&Panels":
                view_act = self.dock.toggleViewAction()
                view_act.setToolTip("Show or hide the Code panel")
                menu.addAction(view_act)
        win.addAction(self.act_open)

    # ------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        st = self.win.settings
        start = str(st.value("program_dir", "")) if st is not None else ""
        args = str(st.value("program_args", "")) if st is not None else ""
        dlg = ProgramDialog(self.win, start, args)
        self.dialog = dlg
        dlg.accepted.connect(lambda: self._on_dialog_ok(dlg))
        dlg.finished.connect(dlg.deleteLater)
        dlg.open()

    def _on_dialog_ok(self, dlg: ProgramDialog) -> None:
        path = dlg.path.text().strip()
        argv = dlg.argv() or []
        self.dialog = None
        if self.open_program(path, argv) and self.win.settings is not None:
            self.win.settings.setValue("program_dir", os.path.dirname(os.path.abspath(path)))
            self.win.settings.setValue("program_args", dlg.args.text())

    def open_program(
        self,
        path: str,
        argv: Sequence[str] = (),
        title: str = "",
        lesson_text: str = "",
        play: bool = True,
        internals: bool = False,
    ) -> bool:
        """Show ``python path *argv`` traced, and play it (``play``).

        A program that cannot be traced (missing, not Python, a syntax error)
        gets an error box; the window keeps what it had. False then.
        """
        try:
            self.win.show_program(path, argv, title, lesson_text, internals)
        except TraceError as e:
            self.win.show_error("Cannot open the program", str(e))
            return False
        if play:
            self.session.play()
        return True

    # ------------------------------------------------------------ session
    def _on_loaded(self, _sc: object) -> None:
        program = self.session.program
        win = self.win
        if program is None:  # a lesson again: the docks a program put away come back
            for name in self._put_away:
                win.docks[name].show()
            self._put_away = []
            return
        lesson = win.program_lessons.lesson  # a program lesson keeps its list and controls
        own = lesson is None or str(lesson.program) != program.path
        if own and not win.presenting:  # a program has no lesson controls; its diagram needs room
            for name in ("lessons", "knobs"):
                if not win.docks[name].isHidden():  # (a hidden window: not visible yet)
                    win.docks[name].hide()
                    self._put_away.append(name)
        replayed = self.session.replayed_program
        if replayed is not None:  # a recording's: its code as it ran, what it printed
            self.trace = None
            self.code.set_program(program.path, replayed.sources)
            self._show_recorded()
        else:
            self.code.set_program(program.path)
        self.dock.show()
        self.dock.raise_()
        self.fit_dock()

    def _show_recorded(self) -> None:
        """A recording's run: what the program printed (all of it: the code's
        markers follow the displayed instant; how it ended shows at its end)."""
        src = self.session.source
        if src is None:
            return
        _head, _stuck, _code, _rc, out, err = program_report_args(src.replay.meta.run)
        self.code.set_output(out + (f"\n--- stderr ---\n{err}" if err else ""))
        self._at_end = False

    def _replay_notes(self, r: Reducer) -> None:
        """At a recording's end, what a student should know (as the live run said)."""
        src = self.session.source
        at_end = src is not None and src.pos >= len(src)
        if src is None or at_end == self._at_end:
            return
        self._at_end = at_end
        _head, stuck, _code, returncode, _out, _err = program_report_args(src.replay.meta.run)
        self.code.set_notes(program_messages(r, returncode, stuck) if at_end else [])

    def fit_dock(self) -> None:
        """Room for the program's code lines beside the diagram (a third of the window)."""
        win = self.win
        if self.session.program is not None and self.dock.isVisible():
            w = max(self.dock.width(), win.width() * 33 // 100)
            win.resizeDocks([self.dock], [w], Qt.Orientation.Horizontal)

    def _on_run_started(self) -> None:
        self.trace = self.session.trace_run
        self._stuck = {}
        if self.trace is not None:
            self.code.clear_run()
            self._sync_tracking()

    def _on_frame(self, now_ns: int) -> None:
        s = self.session
        r = s.reducer
        if s.program is None or r is None:
            return
        log = self.win.event_log
        # a program's topology grows as it runs (and is restored by a seek)
        if log.topology is not r.topology or log.reprs is not r.item_repr:
            log.topology = r.topology
            log.reprs = r.item_repr
        if s.replayed_program is not None:
            self._replay_notes(r)
        if not self.dock.visibleRegion().isEmpty():
            self.code.update_from(r)
            if now_ns - self._output_at >= OUTPUT_EVERY_NS or s.run is None:
                self._output_at = now_ns
                self._show_output()

    def _show_output(self) -> None:
        run = self.trace
        if run is None:
            return
        out = run.stdout.decode("utf-8", "replace")
        err = run.stderr.decode("utf-8", "replace")
        self.code.set_output(out + (f"\n--- stderr ---\n{err}" if err else ""))

    def _on_state(self, status: str) -> None:
        s, run, r = self.session, self.trace, self.session.reducer
        if s.program is None or run is None or r is None:
            return
        if status not in ("finished", "hung", "stopped"):
            self.code.set_notes([])
            return
        if status == "hung":  # where each waits, now (a stop makes them finished)
            self._stuck = {a.name: where_stuck(r, a) for a in r.actors if a.hung}
        stuck = self._stuck if status != "finished" else {}
        notes = messages(r, run, stuck)
        self.code.set_notes(notes)
        self.code.update_from(r)
        self._show_output()
        if notes:
            self.win.status.showMessage(notes[0], 15_000)
        code = run.returncode
        if status == "finished" and code not in (0, None):
            err = run.stderr.decode("utf-8", "replace").strip().splitlines()
            tail = "\n".join(err[-STDERR_LINES:])
            what = s.program.name
            self.win.show_error(
                "The program failed",
                f"{what} ended with exit code {code}." + (f"\n\n{tail}" if tail else ""),
            )

    def _on_actor_clicked(self, index: int) -> None:
        if self.session.program is None:
            return
        self.dock.show()
        self.dock.raise_()
        r = self.session.reducer
        if r is not None:
            self.code.update_from(r)
        self.code.show_actor(index)

    def _sync_tracking(self, *_: object) -> None:
        """Track every line only while someone can see the code (and asked for it)."""
        on = self.code.track.isChecked() and self.dock.isVisible()
        if on != self.session.line_tracking:
            self.session.set_line_tracking(on)
