"""The "Lesson controls" dock: one spin box per knob the lesson offers.

A live knob (time per item, failure rate) reaches the running workers at once;
a restart knob (queue size, item count) restarts the run with the new value.
Typing a value outside the knob's range is refused, and the panel says why.
Changes are applied after a short pause, so holding an arrow key does not
restart the run ten times.

A program lesson's controls (``qsim.ui.program_knobs``) are its program's
command-line options: the panel shows them and reports changes
(``program_values_changed``); whoever opened the lesson restarts the program.
"""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qsim.model.program_lesson import KnobValue, ProgramLesson
from qsim.model.scenario import Knob, Scenario
from qsim.model.scenario_io import ScenarioError, knob_value
from qsim.ui.knob_box import APPLY_DELAY_MS, KnobBox, knob_tooltip
from qsim.ui.program_knobs import ProgramKnobForm
from qsim.ui.session import LiveSession


class KnobPanel(QWidget):
    """Knob widgets for the current scenario, applied through the session, or
    for the current program lesson (``program_values_changed(dict)``)."""

    program_values_changed = Signal(dict)

    def __init__(self, session: LiveSession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.boxes: dict[str, KnobBox] = {}
        self._knobs: tuple[Knob, ...] = ()
        self._pending: dict[str, float] = {}
        self._apply_timer = QTimer(self)
        self._apply_timer.setSingleShot(True)
        self._apply_timer.setInterval(APPLY_DELAY_MS)
        self._apply_timer.timeout.connect(self._apply_pending)
        self.form = QFormLayout()
        self.error = QLabel(self)
        self.error.setObjectName("knob_error")
        self.error.setWordWrap(True)
        self.program = ProgramKnobForm(self)
        self.program.hide()
        self.program.values_changed.connect(self.program_values_changed)
        self.program.refused.connect(self.error.setText)
        self.empty = QLabel("This lesson has no controls.", self)
        self.defaults = QPushButton("Defaults", self)
        self.defaults.setToolTip("Set every control back to the lesson's value")
        self.defaults.clicked.connect(self._on_defaults)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(self.form)
        lay.addWidget(self.program)
        lay.addWidget(self.empty)
        lay.addWidget(self.error)
        lay.addWidget(self.defaults)
        lay.addStretch(1)

    # ------------------------------------------------------------ scenario
    def set_scenario(self, sc: Scenario) -> None:
        """Rebuild for a new lesson; for the same knobs only show the values.

        The scenario that stands for the program lesson shown (a traced
        program's, from the same file) keeps the program's controls.
        """
        lesson = self.program.lesson
        if lesson is not None and sc.source == str(lesson.program):
            return
        if lesson is not None:
            self.program.clear()
            self.program.hide()
        if sc.knobs != self._knobs or lesson is not None:
            self._rebuild(sc.knobs)
        for k in sc.knobs:
            box = self.boxes[k.name]
            with QSignalBlocker(box):
                box.setValue(knob_value(sc, k))

    def _rebuild(self, knobs: tuple[Knob, ...]) -> None:
        self._apply_timer.stop()
        self._pending.clear()
        self.error.clear()
        while self.form.rowCount():
            self.form.removeRow(0)
        self.boxes.clear()
        self._knobs = knobs
        for k in knobs:
            box = KnobBox(k, self)
            box.valueChanged.connect(lambda v, name=k.name: self._on_changed(name, v))
            box.refused.connect(self.error.setText)
            label = QLabel(k.name + ("" if k.restart else " ⚡"), self)
            label.setToolTip(knob_tooltip(k))
            label.setWordWrap(True)
            self.form.addRow(label, box)
            self.boxes[k.name] = box
        self.empty.setVisible(not knobs)
        self.defaults.setVisible(bool(knobs))

    def show_program_lesson(
        self, lesson: ProgramLesson, values: dict[str, KnobValue], error: str = ""
    ) -> None:
        """The controls of a program lesson, at ``values`` (and why a change was refused)."""
        if self.program.lesson is None:
            self._rebuild(())
        self.program.show_lesson(lesson, values)
        self.program.show()
        self.empty.setVisible(not lesson.knobs)
        self.defaults.setVisible(bool(lesson.knobs))
        self.error.setText(error)

    # ------------------------------------------------------------ applying
    def apply(self, name: str, value: float) -> bool:
        """Set knob ``name`` now; on a refused value show why and keep the old one."""
        knob = next((k for k in self._knobs if k.name == name), None)
        if knob is None or self.session.scenario is None:
            return False
        try:
            self.session.set_knob(knob, value)
        except ScenarioError as e:
            self.error.setText(str(e))
            box = self.boxes.get(name)
            if box is not None:
                with QSignalBlocker(box):
                    box.setValue(knob_value(self.session.scenario, knob))
            return False
        self.error.clear()
        return True

    def stop_pending(self) -> None:
        """Drop changes not applied yet (the window is closing)."""
        self._apply_timer.stop()
        self._pending.clear()
        self.program.stop_pending()

    def _on_changed(self, name: str, value: float) -> None:
        self._pending[name] = value
        self._apply_timer.start()

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for name, value in pending.items():
            self.apply(name, value)

    def _on_defaults(self) -> None:
        if self.program.lesson is not None:
            self.program.set_defaults()
            return
        for k in self._knobs:
            self.boxes[k.name].setValue(k.default)
