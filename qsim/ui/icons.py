"""Toolbar icons drawn in the theme's text colour.

The style's standard media icons are black, which vanishes on the dark
theme; these are painted for each theme so they always contrast.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF

SIZE = 64  # drawn large, scaled down by Qt: crisp at any toolbar size


def _triangle(p: QPainter, x0: float, x1: float) -> None:
    p.drawPolygon(QPolygonF([QPointF(x0, 14), QPointF(x1, 32), QPointF(x0, 50)]))


def _draw(name: str, p: QPainter, colour: QColor) -> None:
    p.setBrush(colour)
    p.setPen(Qt.PenStyle.NoPen)
    if name == "play":
        _triangle(p, 18, 50)
    elif name == "pause":
        p.drawRoundedRect(QRectF(16, 14, 11, 36), 2, 2)
        p.drawRoundedRect(QRectF(37, 14, 11, 36), 2, 2)
    elif name == "step":
        _triangle(p, 14, 42)
        p.drawRoundedRect(QRectF(44, 14, 7, 36), 2, 2)
    elif name == "step_back":
        p.drawRoundedRect(QRectF(13, 14, 7, 36), 2, 2)
        _triangle(p, 50, 22)
    elif name == "start":
        p.drawRoundedRect(QRectF(12, 14, 7, 36), 2, 2)
        _triangle(p, 36, 20)
        _triangle(p, 54, 38)
    elif name == "end":
        _triangle(p, 10, 26)
        _triangle(p, 28, 44)
        p.drawRoundedRect(QRectF(45, 14, 7, 36), 2, 2)
    elif name == "stop":
        p.drawRoundedRect(QRectF(16, 16, 32, 32), 4, 4)
    elif name == "reset":
        pen = QPen(colour, 7, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        arc = QPainterPath()
        arc.arcMoveTo(QRectF(14, 14, 36, 36), 60)
        arc.arcTo(QRectF(14, 14, 36, 36), 60, 270)
        p.drawPath(arc)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(colour)
        p.drawPolygon(QPolygonF([QPointF(33, 4), QPointF(50, 15), QPointF(33, 26)]))
    else:
        raise KeyError(name)


def run_icon(name: str, colour: str) -> QIcon:
    """``play``, ``pause``, ``step``, ``step_back``, ``start``, ``end``, ``stop`` or
    ``reset`` in ``colour``."""
    pix = QPixmap(SIZE, SIZE)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    _draw(name, p, QColor(colour))
    p.end()
    icon = QIcon(pix)
    faded = QPixmap(pix.size())
    faded.fill(Qt.GlobalColor.transparent)
    p = QPainter(faded)
    p.setOpacity(0.35)
    p.drawPixmap(0, 0, pix)
    p.end()
    icon.addPixmap(faded, QIcon.Mode.Disabled)
    return icon
