"""The lanes between actors and queues: thin arrows, drawn once into a cache."""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen, QPolygonF

from qsim.ui.diagram.layout import Point
from qsim.ui.theme import Theme


def paint_edges(p: QPainter, edges: list[tuple[Point, ...]], th: Theme) -> None:
    """Every lane of the layout as an arrow from source to destination.

    Drawn into the view's cached background: lanes never move, so a frame
    costs one opaque blit for the background and all lanes together.
    """
    color = QColor(th.muted)
    color.setAlphaF(0.7)
    p.save()
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    pen = QPen(color, 1.3 * th.font_scale)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    head = 7.0 * th.font_scale
    for edge in edges:
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(_route(edge, 10.0 * th.font_scale))
        (x1, y1), (x2, y2) = edge[-2], edge[-1]
        b = QPointF(x2, y2)
        if abs(x2 - x1) < 1:  # straight down (main -> its queue)
            ang = math.pi / 2 if y2 > y1 else -math.pi / 2
        else:  # every route arrives horizontally
            ang = 0.0 if x2 > x1 else math.pi
        tip = QPolygonF(
            [
                b,
                b - QPointF(head * math.cos(ang - 0.4), head * math.sin(ang - 0.4)),
                b - QPointF(head * math.cos(ang + 0.4), head * math.sin(ang + 0.4)),
            ]
        )
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(color)
        p.drawPolygon(tip)
    p.restore()


def _route(pts: tuple[Point, ...], r: float) -> QPainterPath:
    """Two points: a gentle S-curve (reads well when many lanes fan in).
    More: a polyline with rounded corners (a wrapped pipeline's lane)."""
    (x1, y1), (x2, y2) = pts[0], pts[-1]
    path = QPainterPath(QPointF(x1, y1))
    if len(pts) == 2:
        mx = (x1 + x2) / 2
        path.cubicTo(QPointF(mx, y1), QPointF(mx, y2), QPointF(x2, y2))
        return path
    for k in range(1, len(pts) - 1):
        (ax, ay), (bx, by), (cx, cy) = pts[k - 1], pts[k], pts[k + 1]
        d1 = max(abs(bx - ax), abs(by - ay)) or 1.0
        d2 = max(abs(cx - bx), abs(cy - by)) or 1.0
        f1, f2 = min(r, d1 / 2) / d1, min(r, d2 / 2) / d2
        path.lineTo(QPointF(bx - (bx - ax) * f1, by - (by - ay) * f1))
        path.quadTo(QPointF(bx, by), QPointF(bx + (cx - bx) * f2, by + (cy - by) * f2))
    path.lineTo(QPointF(x2, y2))
    return path
