"""Program lessons in the window: the lesson's program, traced, with its controls.

Opening one shows its program in the diagram (``MainWindow.show_program``,
which loads it into the session traced), its text beside it and its knobs in
the "Lesson controls" dock. A knob change starts the program again with the
new command-line arguments, playing again if it was playing. The session's
start method (a test's ``fork`` or ``spawn``), if it has one, is passed on as
``--start-method``; otherwise the program uses its own default.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from qsim.engine.trace_check import TraceError
from qsim.model.program_lesson import KnobValue, ProgramLesson
from qsim.model.scenario_io import ScenarioError

if TYPE_CHECKING:
    from qsim.ui.main_window import MainWindow


class ProgramLessons(QObject):
    """Opens program lessons in ``win`` and restarts them when a knob changes."""

    def __init__(self, win: MainWindow) -> None:
        super().__init__(win)
        self.win = win
        self.lesson: ProgramLesson | None = None
        self.values: dict[str, KnobValue] = {}
        win.knobs.program_values_changed.connect(self._on_values)
        win.session.scenario_loaded.connect(self._on_loaded)

    def showing(self, lesson_id: str) -> bool:
        """Whether the window shows program lesson ``lesson_id`` now."""
        sc, lesson = self.win.session.scenario, self.lesson
        return (
            lesson is not None
            and lesson.id == lesson_id
            and sc is not None
            and sc.source == str(lesson.program)
        )

    def argv(self) -> list[str]:
        """The program's arguments now: the knobs, and the session's start method."""
        assert self.lesson is not None
        return self.lesson.argv(self.values, start_method=self.win.session.start_method)

    def open(self, ref: str) -> bool:
        """Open a program lesson (a built-in id or its ``.toml``); say why not in an
        error box (the current lesson then stays)."""
        from qsim.resources import load_program

        try:
            lesson = load_program(ref)
        except ScenarioError as e:
            self.win.show_error("Cannot open the lesson", str(e))
            return False
        return self.show(lesson)

    def show(self, lesson: ProgramLesson, values: Mapping[str, KnobValue] | None = None) -> bool:
        """Stop the current run and get ``lesson``'s program ready to play."""
        old = self.lesson, self.values
        self.lesson, self.values = lesson, {**lesson.defaults(), **(values or {})}
        if not self._load():
            self.lesson, self.values = old
            return False
        self.win.knobs.show_program_lesson(lesson, self.values)
        self.win.lessons.select(lesson.id)
        return True

    def _load(self) -> bool:
        lesson = self.lesson
        assert lesson is not None
        try:
            self.win.show_program(
                str(lesson.program), self.argv(), lesson.title, lesson.lesson, lesson.internals
            )
        except TraceError as e:
            self.win.show_error("Cannot open the lesson", str(e))
            return False
        return True

    def _on_loaded(self, sc: object) -> None:
        """Something else was opened: no program lesson is shown any more."""
        lesson = self.lesson
        if lesson is not None and getattr(sc, "source", None) != str(lesson.program):
            self.lesson, self.values = None, {}

    def _on_values(self, changed: dict[str, KnobValue]) -> None:
        """Knobs changed: check them, then start the program again with them."""
        lesson = self.lesson
        if lesson is None:
            return
        values = dict(self.values)
        try:
            for name, value in changed.items():
                values[name] = lesson.knob(name).check(value)
        except (ScenarioError, KeyError) as e:
            self.win.knobs.show_program_lesson(lesson, self.values, str(e))
            return
        session = self.win.session
        was_running = session.status == "running"
        old, self.values = self.values, values
        if not self._load():
            self.values = old
            self.win.knobs.show_program_lesson(lesson, self.values)
            return
        self.win.knobs.show_program_lesson(lesson, self.values)
        if was_running:
            session.play()
