"""Little's law, live: L (items in the system, time-averaged) next to lambda x W.

L is the integral over time of the items produced and not yet finished (in
queues plus in workers' hands, the reducer's own accounting) divided by the
run time; lambda is items produced per second; W is the mean time from an
item's first put to its finish. Over a run that starts and ends empty the two
sides are equal; while items are still inside, W only counts finished ones.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from qsim.model.panel_figures import LittlesLaw
from qsim.ui.panels.base import Figures


class LittlesLawBox(QWidget):
    """L and lambda x W side by side, with what each is made of."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("littles_law")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        self.sides = QLabel(self)  # L and lambda x W, side by side (wraps when narrow)
        self.sides.setWordWrap(True)
        self.sides.setObjectName("littles_sides")
        self.parts = QLabel(self)
        self.parts.setWordWrap(True)
        self.setToolTip(
            "L: items in queues and in workers' hands, averaged over the run.\n"
            "λ: items produced per second. W: mean time from put to finish.\n"
            "While items are still inside, W counts only the finished ones;\n"
            "over a run that drains, L = λ × W."
        )
        lay.addWidget(self.sides)
        lay.addWidget(self.parts)

    def show_law(self, law: LittlesLaw) -> Figures:
        """Show ``law``; return the figures shown."""
        self.sides.setText(
            f"<b>Little's law:</b>&nbsp; <b>L = {law.L:.2f}</b> items &nbsp;vs&nbsp; "
            f"<b>λ × W = {law.lam_w:.2f}</b> items"
        )
        self.parts.setText(
            f"λ = {law.lam:.2f} items/s produced · W = {law.W:.3f} s in the system "
            f"({law.finished} finished) · {law.n_now} inside now"
        )
        return {
            "littles.L": law.L,
            "littles.lambda": law.lam,
            "littles.W": law.W,
            "littles.lambda_W": law.lam_w,
            "littles.in_system": law.n_now,
            "littles.finished": law.finished,
        }
