"""Small widgets the panels share: headline, warning banner, figure table, plot area."""

from __future__ import annotations

from collections.abc import Sequence

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QLayout,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from qsim.ui.theme import Theme, is_dark

WARN_LIGHT = ("#7A1F00", "#FFE3D6")  # text, background: dark on light orange
WARN_DARK = ("#FFD7C2", "#5A2410")


def clear_layout(layout: QLayout) -> None:
    """Remove and delete every widget of ``layout`` (rows about to be rebuilt)."""
    while layout.count():
        item = layout.takeAt(0)
        w = item.widget() if item is not None else None
        if w is not None:
            w.hide()  # at once: deleteLater alone leaves it drawn until then
            w.deleteLater()


class Headline(QLabel):
    """A sentence that states the situation; wraps, selectable for copying."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        f = self.font()
        f.setBold(True)
        self.setFont(f)

    def show_text(self, text: str) -> None:
        if text != self.text():
            self.setText(text)


class Banner(QLabel):
    """A warning (starvation, a count that can never reach 0, a ValueError):
    a glyph and words on a tinted background, hidden when there is nothing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.set_theme_colours(False)
        self.hide()

    def set_theme_colours(self, dark: bool) -> None:
        # palette, not a style sheet: a style sheet would stop the panel's (1.5x
        # presentation) font from reaching this label
        fg, bg = WARN_DARK if dark else WARN_LIGHT
        pal = self.palette()
        pal.setColor(QPalette.ColorRole.Window, QColor(bg))
        pal.setColor(QPalette.ColorRole.WindowText, QColor(fg))
        self.setPalette(pal)
        self.setAutoFillBackground(True)
        self.setMargin(4)

    def show_text(self, text: str) -> None:
        if not text:
            self.hide()
            return
        text = "⚠ " + text
        if text != self.text():
            self.setText(text)
        self.show()


class FigureTable(QTableWidget):
    """A read-only table of figures that only rewrites cells whose text changed."""

    def __init__(self, headers: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(0, len(headers), parent)
        self.setHorizontalHeaderLabels(list(headers))
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.verticalHeader().hide()
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        h = self.horizontalHeader()
        h.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        h.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_rows(self, n: int) -> None:
        if self.rowCount() != n:
            self.setRowCount(n)
            for r in range(n):
                for c in range(self.columnCount()):
                    item = QTableWidgetItem("")
                    align = Qt.AlignmentFlag.AlignVCenter
                    align |= Qt.AlignmentFlag.AlignLeft if c == 0 else Qt.AlignmentFlag.AlignRight
                    item.setTextAlignment(align)
                    self.setItem(r, c, item)
        self.fit_height()

    def set_cell(self, row: int, col: int, text: str) -> None:
        item = self.item(row, col)
        if item is not None and item.text() != text:
            item.setText(text)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.horizontalHeader().setFont(self.font())
            self.fit_height()

    def fit_height(self) -> None:
        """As tall as its rows (up to 6), so the rest of the panel keeps its room."""
        self.resizeRowsToContents()
        rows = min(self.rowCount(), 6)
        h = self.horizontalHeader().sizeHint().height() + 2 * self.frameWidth()
        h += sum(self.rowHeight(r) for r in range(rows))
        self.setFixedHeight(h)


class PlotArea(pg.GraphicsLayoutWidget):
    """A pyqtgraph layout widget that asks for little room: it takes what the
    panel has left (a scrolling panel sizes its content by the size hints)."""

    def sizeHint(self) -> QSize:
        return QSize(320, 120)


def plot_area(theme: Theme, parent: QWidget | None = None) -> pg.GraphicsLayoutWidget:
    """A pyqtgraph layout widget with the theme's background."""
    glw = PlotArea(parent)
    glw.setBackground(theme.panel)
    glw.setMinimumHeight(80)  # a title, some data and the x axis at 11 px letters
    glw.ci.setContentsMargins(2, 2, 6, 2)
    return glw


def warn_colours(theme: Theme) -> bool:
    return is_dark(theme)


class FillBar(QWidget):
    """A bar filled to ``value / maximum`` with its text centred on it.

    Unlike ``QProgressBar.setValue`` (which repaints at once), ``set`` only
    schedules a repaint, so a frame that updates many bars stays cheap.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = 0.0
        self.maximum = 1.0
        self.text = ""
        self.fill = QColor("#56B4E9")
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(40)

    def sizeHint(self) -> QSize:
        return QSize(120, QFontMetrics(self.font()).height() + 6)

    def minimumSizeHint(self) -> QSize:
        return QSize(40, QFontMetrics(self.font()).height() + 6)

    def set(self, value: float, maximum: float, text: str) -> None:
        if (value, maximum, text) != (self.value, self.maximum, self.text):
            self.value, self.maximum, self.text = value, max(maximum, 1e-9), text
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        r = self.rect().adjusted(0, 1, -1, -2)
        pal = self.palette()
        p.setPen(pal.mid().color())
        p.setBrush(pal.base())
        p.drawRoundedRect(r, 3, 3)
        frac = max(0.0, min(1.0, self.value / self.maximum))
        if frac > 0:
            inner = r.adjusted(1, 1, 0, 0)
            inner.setWidth(max(1, round((r.width() - 1) * frac)))
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(self.fill)
            p.drawRoundedRect(inner, 2, 2)
        p.setPen(pal.text().color())
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, self.text)
        p.end()
