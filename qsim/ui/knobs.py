"""The "Lesson controls" dock: one spin box per knob the lesson offers.

A live knob (time per item, failure rate) reaches the running workers at once;
a restart knob (queue size, item count) restarts the run with the new value.
Typing a value outside the knob's range is refused, and the panel says why.
Changes are applied after a short pause, so holding an arrow key does not
restart the run ten times.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QSignalBlocker, QTimer, Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from qsim.model.scenario import Knob, Scenario
from qsim.model.scenario_errors import num
from qsim.model.scenario_io import ScenarioError, knob_value
from qsim.ui.session import LiveSession

APPLY_DELAY_MS = 400


def knob_tooltip(knob: Knob) -> str:
    how = "restarts the run" if knob.restart else "applies to the running workers at once"
    tip = f"{knob.tooltip}\n" if knob.tooltip else ""
    return f"{tip}Range {num(knob.min)} to {num(knob.max)}, step {num(knob.step)}; {how}."


def decimals_for(step: float) -> int:
    if step >= 1 and float(step).is_integer():
        return 0
    return min(4, max(1, math.ceil(-math.log10(step)) if step > 0 else 2))


class KnobBox(QDoubleSpinBox):
    """A spin box that tells (``refused``) when typed text is out of range."""

    refused = Signal(str)

    def __init__(self, knob: Knob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.knob = knob
        self.setObjectName(f"knob_{knob.path}")
        self.setDecimals(decimals_for(knob.step))
        self.setRange(knob.min, knob.max)
        self.setSingleStep(knob.step)
        self.setKeyboardTracking(False)  # apply on Enter / focus out, not per keystroke
        self.setToolTip(knob_tooltip(knob))
        self.setAccelerated(True)

    def validate(self, text: str, pos: int) -> tuple[QValidator.State, str, int]:
        result = super().validate(text, pos)
        if result[0] == QValidator.State.Invalid:
            value, ok = self.locale().toDouble(text.strip())
            if ok and not self.minimum() <= value <= self.maximum():
                k = self.knob
                self.refused.emit(
                    f"{k.name}: {num(value)} is out of range "
                    f"(allowed {num(k.min)} to {num(k.max)})"
                )
        return result


class KnobPanel(QWidget):
    """Knob widgets for the current scenario, applied through the session."""

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
        self.empty = QLabel("This lesson has no controls.", self)
        self.defaults = QPushButton("Defaults", self)
        self.defaults.setToolTip("Set every control back to the lesson's value")
        self.defaults.clicked.connect(self._on_defaults)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        lay.addLayout(self.form)
        lay.addWidget(self.empty)
        lay.addWidget(self.error)
        lay.addWidget(self.defaults)
        lay.addStretch(1)

    # ------------------------------------------------------------ scenario
    def set_scenario(self, sc: Scenario) -> None:
        """Rebuild for a new lesson; for the same knobs only show the values."""
        if sc.knobs != self._knobs:
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

    def _on_changed(self, name: str, value: float) -> None:
        self._pending[name] = value
        self._apply_timer.start()

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, {}
        for name, value in pending.items():
            self.apply(name, value)

    def _on_defaults(self) -> None:
        for k in self._knobs:
            self.boxes[k.name].setValue(k.default)
