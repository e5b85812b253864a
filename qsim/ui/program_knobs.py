"""A program lesson's controls: one widget per command-line option of its program.

A number is a spin box, a flag a check box, a choice a combo box. Every
change restarts the program with new arguments, so changes are gathered for
a moment and come out together (``values_changed``): holding an arrow key, or
Defaults, restarts the program once.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QWidget

from qsim.model.program_lesson import KnobValue, ProgramKnob, ProgramLesson
from qsim.ui.knob_box import APPLY_DELAY_MS, KnobBox, program_knob_tooltip

KnobWidget = KnobBox | QCheckBox | QComboBox


class ProgramKnobForm(QWidget):
    """The controls of one program lesson.

    Signals
    -------
    values_changed(dict)
        ``{knob name: value}`` of what the student changed (after a short pause).
    refused(str)
        a typed number out of range, in words.
    """

    values_changed = Signal(dict)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lesson: ProgramLesson | None = None
        self.widgets: dict[str, KnobWidget] = {}
        self._pending: dict[str, KnobValue] = {}
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(APPLY_DELAY_MS)
        self._timer.timeout.connect(self._emit)
        self.form = QFormLayout(self)
        self.form.setContentsMargins(0, 0, 0, 0)

    def show_lesson(self, lesson: ProgramLesson, values: Mapping[str, KnobValue]) -> None:
        """Controls for ``lesson`` (rebuilt only if its knobs changed), showing ``values``."""
        if self.lesson is None or self.lesson.knobs != lesson.knobs:
            self._rebuild(lesson.knobs)
        self.lesson = lesson
        for k in lesson.knobs:
            self.show_value(k, values.get(k.name, k.default))

    def show_value(self, knob: ProgramKnob, value: KnobValue) -> None:
        """Set a control without reporting it as a change."""
        w = self.widgets[knob.name]
        with QSignalBlocker(w):
            if isinstance(w, QCheckBox):
                w.setChecked(bool(value))
            elif isinstance(w, QComboBox):
                w.setCurrentIndex(max(0, w.findText(str(value))))
            else:
                w.setValue(float(value))

    def value(self, name: str) -> KnobValue:
        w = self.widgets[name]
        if isinstance(w, QCheckBox):
            return w.isChecked()
        if isinstance(w, QComboBox):
            return w.currentText()
        return float(w.value())

    def set_defaults(self) -> None:
        """Every control back to the lesson's value (one restart)."""
        if self.lesson is None:
            return
        for k in self.lesson.knobs:
            if self.value(k.name) != k.default:
                self.show_value(k, k.default)
                self._pending[k.name] = k.default
        if self._pending:
            self._timer.start()

    def stop_pending(self) -> None:
        self._timer.stop()
        self._pending.clear()

    def clear(self) -> None:
        self.stop_pending()
        while self.form.rowCount():
            self.form.removeRow(0)
        self.widgets.clear()
        self.lesson = None

    def _rebuild(self, knobs: tuple[ProgramKnob, ...]) -> None:
        self.clear()
        for k in knobs:
            w = self._widget(k)
            label = QLabel(k.name, self)
            label.setToolTip(program_knob_tooltip(k))
            label.setWordWrap(True)
            self.form.addRow(label, w)
            self.widgets[k.name] = w

    def _widget(self, k: ProgramKnob) -> KnobWidget:
        name = k.name
        w: KnobWidget
        if k.kind == "flag":
            w = QCheckBox(self)
            w.toggled.connect(lambda on, n=name: self._changed(n, bool(on)))
        elif k.kind == "choice":
            w = QComboBox(self)
            w.addItems(list(k.choices))
            w.currentTextChanged.connect(lambda text, n=name: self._changed(n, str(text)))
        else:
            w = KnobBox(k, self)
            w.valueChanged.connect(lambda v, n=name: self._changed(n, float(v)))
            w.refused.connect(self.refused)
            return w
        w.setObjectName(f"knob_{k.arg}")
        w.setToolTip(program_knob_tooltip(k))
        return w

    def _changed(self, name: str, value: KnobValue) -> None:
        self._pending[name] = value
        self._timer.start()

    def _emit(self) -> None:
        pending, self._pending = self._pending, {}
        if pending:
            self.values_changed.emit(pending)
