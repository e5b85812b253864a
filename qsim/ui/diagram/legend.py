"""The diagram's colour legend: what a token's colour means, as chips that look
like the tokens themselves ("priority: [1] most urgent [2] [3] least urgent",
"items made by: [P1] [P2] [P3]"). Placed by the layout; drawn once, cached."""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from qsim.ui.diagram.actors import MIN_FONT, make_font, text_color_on
from qsim.ui.diagram.colours import ColourKey
from qsim.ui.diagram.layout import LegendSpot
from qsim.ui.theme import Theme, is_dark


class LegendItem(QGraphicsItem):
    """Chips in the token colours with their labels (see the module docstring)."""

    def __init__(self, spots: list[LegendSpot], key: ColourKey, theme: Theme) -> None:
        super().__init__()
        self.spots = spots
        self.theme = theme
        self.colour = {e.label: e.colour for e in key.entries}
        self.font = make_font(MIN_FONT * theme.font_scale)
        self.bold = make_font(MIN_FONT * theme.font_scale, bold=True)
        fm = QFontMetricsF(self.font)
        self.gap = 6.0 * theme.font_scale
        rect = QRectF()
        for s in spots:
            words = self.gap + fm.horizontalAdvance(s.words) if s.words else 0.0
            rect = rect.united(QRectF(s.x, s.y, s.w + words + 2, s.h))
        self._rect = rect.adjusted(-2, -2, 2, 2)
        self.setZValue(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setToolTip("What the colour of a token means")

    def boundingRect(self) -> QRectF:
        return self._rect

    def texts(self) -> list[tuple[str, int]]:
        """What the legend writes, with font sizes in scene units."""
        out = []
        for s in self.spots:
            font = self.bold if not s.title and s.label else self.font
            out.append((s.label, font.pixelSize()))
            if s.words:
                out.append((s.words, self.font.pixelSize()))
        return out

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        th = self.theme
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        outline = QColor("#FFFFFF" if is_dark(th) else "#000000")
        for s in self.spots:
            if s.title:
                p.setFont(self.font)
                p.setPen(QColor(th.muted))
                p.drawText(QRectF(s.x, s.y, s.w + 4, s.h), Qt.AlignmentFlag.AlignVCenter, s.label)
                continue
            fill = QColor(self.colour.get(s.label, "#888888"))
            chip = QRectF(s.x, s.y, s.w, s.h)
            p.setPen(QPen(outline, 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(chip, s.h * 0.28, s.h * 0.28)
            p.setFont(self.bold)
            p.setPen(text_color_on(fill, th))
            p.drawText(chip, Qt.AlignmentFlag.AlignCenter, s.label)
            if s.words:
                p.setFont(self.font)
                p.setPen(QColor(th.text))
                words = QRectF(chip.right() + self.gap, s.y, self._rect.right(), s.h)
                p.drawText(words, Qt.AlignmentFlag.AlignVCenter, s.words)
