"""Two strips side by side: the order items arrived (put) and were served (get).

Each item is a box coloured by its priority level (Okabe-Ito, colour-blind
safe) with the priority number and the item's name written in it, so nothing
depends on telling colours apart. A thin line joins an item's two boxes when
both are in view: crossing lines are the reordering a priority queue does.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QSizePolicy, QWidget

from qsim.ui.theme import OKABE_ITO, Theme, priority_colours

Entry = tuple[int, str, int]  # item id, label, priority
GAP = 26  # px between the strips, where the joining lines go


def text_on(colour: str) -> QColor:
    """Black or white, whichever reads better on ``colour``."""
    c = QColor(colour)
    lum = 0.2126 * c.redF() ** 2.2 + 0.7152 * c.greenF() ** 2.2 + 0.0722 * c.blueF() ** 2.2
    return QColor("#000000" if lum > 0.18 else "#FFFFFF")


class OrderStrips(QWidget):
    """Arrival order and service order of one queue's most recent items."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.arrivals: list[Entry] = []
        self.services: list[Entry] = []
        self.levels: list[int] = []
        self.theme: Theme | None = None
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(80)

    def sizeHint(self) -> QSize:
        return QSize(300, 160)

    def row_height(self) -> float:
        return QFontMetricsF(self.font()).height() + 6

    def capacity(self) -> int:
        """How many boxes fit in one strip now."""
        head = self.row_height() + 4
        return max(1, int((self.height() - head) // self.row_height()))

    def set_entries(
        self, arrivals: Sequence[Entry], services: Sequence[Entry], levels: Sequence[int]
    ) -> None:
        arrivals, services, levels = list(arrivals), list(services), sorted(levels)
        if (arrivals, services, levels) != (self.arrivals, self.services, self.levels):
            self.arrivals, self.services, self.levels = arrivals, services, levels
            self.update()

    def colour_of(self, prio: int) -> str:
        """The diagram's colour for this priority (the same key, the same legend)."""
        if self.theme is not None:
            colours = priority_colours(self.theme, self.levels)
            if prio in colours:
                return colours[prio]
        n = self.levels.index(prio) if prio in self.levels else len(self.levels)
        return OKABE_ITO[n % len(OKABE_ITO)]

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        text = self.palette().windowText().color()
        rh = self.row_height()
        col_w = max(40.0, (self.width() - GAP) / 2)
        head = QRectF(0, 0, col_w, rh)
        p.setPen(text)
        bold = self.font()
        bold.setBold(True)
        p.setFont(bold)
        p.drawText(head, Qt.AlignmentFlag.AlignCenter, "arrival order (put)")
        p.drawText(head.translated(col_w + GAP, 0), Qt.AlignmentFlag.AlignCenter, "service (get)")
        p.setFont(self.font())
        k = self.capacity()
        left = self.arrivals[-k:]
        right = self.services[-k:]
        y0 = rh + 4
        where_left = {item: y0 + i * rh for i, (item, _, _) in enumerate(left)}
        line_pen = QPen(text)
        line_pen.setWidthF(1.0)
        p.setPen(line_pen)
        for i, (item, _, _) in enumerate(right):
            yl = where_left.get(item)
            if yl is not None:
                yr = y0 + i * rh
                p.drawLine(QPointF(col_w, yl + rh / 2), QPointF(col_w + GAP, yr + rh / 2))
        for x, strip in ((0.0, left), (col_w + GAP, right)):
            for i, (_item, label, prio) in enumerate(strip):
                box = QRectF(x, y0 + i * rh, col_w, rh - 2)
                colour = self.colour_of(prio)
                p.setPen(Qt.PenStyle.NoPen)
                p.setBrush(QColor(colour))
                p.drawRoundedRect(box, 3, 3)
                p.setPen(text_on(colour))
                inner = box.adjusted(5, 0, -5, 0)
                p.drawText(
                    inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, label
                )
                p.drawText(
                    inner, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, f"p{prio}"
                )
        if not left and not right:
            p.setPen(self.palette().placeholderText().color())
            p.drawText(
                QRectF(0, y0, self.width(), rh * 2),
                Qt.AlignmentFlag.AlignCenter,
                "No items yet",
            )
        p.end()
