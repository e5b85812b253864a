"""State icons drawn as vector shapes, so they look the same on every platform
(font glyphs such as the hourglass are missing from many system fonts)."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from qsim.model import state as S


def draw_state_icon(
    p: QPainter, state: str, rect: QRectF, color: QColor, back: QColor | None = None
) -> None:
    """Draw the icon of ``state`` (a reducer state, "hung" or "paused") in ``rect``;
    ``back`` is the colour behind it (cut-outs are drawn in it)."""
    p.save()
    pen = QPen(color, max(1.2, rect.width() * 0.12))
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    r = rect.adjusted(rect.width() * 0.1, rect.height() * 0.1, -rect.width() * 0.1, 0)
    r.setHeight(r.width())
    c = r.center()
    w = r.width()
    if state == S.WORKING:
        _gear(p, c, w / 2, color)
    elif state == S.BLOCKED_PUT:  # no-entry sign
        p.setBrush(color)
        p.drawEllipse(r)
        p.setPen(QPen(back if back is not None else QColor("white"), w * 0.16))
        p.drawLine(QPointF(r.left() + w * 0.25, c.y()), QPointF(r.right() - w * 0.25, c.y()))
    elif state in (S.WAITING_GET, S.JOIN_WAIT):  # hourglass
        poly = QPolygonF(
            [
                QPointF(r.left() + w * 0.15, r.top()),
                QPointF(r.right() - w * 0.15, r.top()),
                QPointF(r.left() + w * 0.15, r.bottom()),
                QPointF(r.right() - w * 0.15, r.bottom()),
            ]
        )
        p.drawPolygon(poly)
    elif state == S.FINISHED:  # check mark
        path = QPainterPath(QPointF(r.left() + w * 0.1, c.y()))
        path.lineTo(QPointF(r.left() + w * 0.4, r.bottom() - w * 0.12))
        path.lineTo(QPointF(r.right() - w * 0.05, r.top() + w * 0.1))
        p.drawPath(path)
    elif state == S.CRASHED:  # cross
        d = w * 0.15
        p.drawLine(r.topLeft() + QPointF(d, d), r.bottomRight() - QPointF(d, d))
        p.drawLine(r.topRight() + QPointF(-d, d), r.bottomLeft() + QPointF(d, -d))
    elif state == "hung":  # warning triangle with "!"
        tri = QPolygonF([QPointF(c.x(), r.top()), r.bottomRight(), r.bottomLeft()])
        p.drawPolygon(tri)
        p.drawLine(QPointF(c.x(), r.top() + w * 0.35), QPointF(c.x(), r.top() + w * 0.65))
        p.drawPoint(QPointF(c.x(), r.top() + w * 0.82))
    elif state == "paused":  # two bars
        p.setBrush(color)
        p.setPen(Qt.PenStyle.NoPen)
        p.drawRect(QRectF(r.left() + w * 0.18, r.top(), w * 0.22, w))
        p.drawRect(QRectF(r.right() - w * 0.4, r.top(), w * 0.22, w))
    elif state == S.STARTING:  # three dots
        p.setBrush(color)
        p.setPen(Qt.PenStyle.NoPen)
        for k in range(3):
            p.drawEllipse(QPointF(r.left() + w * (0.2 + 0.3 * k), c.y()), w * 0.09, w * 0.09)
    else:  # idle: hollow circle
        p.drawEllipse(r.adjusted(w * 0.12, w * 0.12, -w * 0.12, -w * 0.12))
    p.restore()


def _gear(p: QPainter, c: QPointF, radius: float, color: QColor) -> None:
    p.setBrush(color)
    p.setPen(Qt.PenStyle.NoPen)
    path = QPainterPath()
    teeth = 8
    for k in range(teeth * 2):
        ang = math.pi * k / teeth
        rad = radius if k % 2 == 0 else radius * 0.72
        pt = QPointF(c.x() + rad * math.cos(ang), c.y() + rad * math.sin(ang))
        if k == 0:
            path.moveTo(pt)
        else:
            path.lineTo(pt)
    path.closeSubpath()
    path.addEllipse(c, radius * 0.3, radius * 0.3)
    path.setFillRule(Qt.FillRule.OddEvenFill)
    p.drawPath(path)


def octagon(rect: QRectF) -> QPolygonF:
    """A stop-sign octagon inscribed in ``rect`` (the sentinel's shape)."""
    c = rect.center()
    rx, ry = rect.width() / 2, rect.height() / 2
    pts = []
    for k in range(8):
        ang = math.pi / 8 + k * math.pi / 4
        pts.append(QPointF(c.x() + rx * math.cos(ang), c.y() + ry * math.sin(ang)))
    return QPolygonF(pts)
