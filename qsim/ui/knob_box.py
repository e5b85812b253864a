"""One knob's spin box and tooltip, for scenario knobs and program lesson knobs alike."""

from __future__ import annotations

import math

from PySide6.QtCore import Signal
from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QDoubleSpinBox, QWidget

from qsim.model.program_lesson import ProgramKnob
from qsim.model.scenario import Knob
from qsim.model.scenario_errors import num

APPLY_DELAY_MS = 400


def knob_tooltip(knob: Knob) -> str:
    how = "restarts the run" if knob.restart else "applies to the running workers at once"
    tip = f"{knob.tooltip}\n" if knob.tooltip else ""
    return f"{tip}Range {num(knob.min)} to {num(knob.max)}, step {num(knob.step)}; {how}."


def program_knob_tooltip(knob: ProgramKnob) -> str:
    """What a program lesson's control does: the option it sets, and the restart."""
    tip = f"{knob.tooltip}\n" if knob.tooltip else ""
    if knob.kind == "flag":
        what = f"on: the program runs with {knob.arg}"
    elif knob.kind == "choice":
        what = f"the program runs with {knob.arg} {' or '.join(knob.choices)}"
    else:
        what = f"Range {num(knob.min)} to {num(knob.max)}, step {num(knob.step)}: {knob.arg} N"
    return f"{tip}{what}; a change starts the program again."


def decimals_for(step: float) -> int:
    if step >= 1 and float(step).is_integer():
        return 0
    return min(4, max(1, math.ceil(-math.log10(step)) if step > 0 else 2))


class KnobBox(QDoubleSpinBox):
    """A spin box that tells (``refused``) when typed text is out of range.

    It serves a scenario's knob and a program lesson's number knob alike
    (named ``knob_<path>`` or ``knob_<option>``: ``knob_--items``).
    """

    refused = Signal(str)

    def __init__(self, knob: Knob | ProgramKnob, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.knob = knob
        key = knob.arg if isinstance(knob, ProgramKnob) else knob.path
        self.setObjectName(f"knob_{key}")
        self.setDecimals(decimals_for(knob.step))
        self.setRange(knob.min, knob.max)
        self.setSingleStep(knob.step)
        self.setKeyboardTracking(False)  # apply on Enter / focus out, not per keystroke
        tip = program_knob_tooltip(knob) if isinstance(knob, ProgramKnob) else knob_tooltip(knob)
        self.setToolTip(tip)
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
