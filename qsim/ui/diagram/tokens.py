"""Tokens: the items on screen, drawn all at once by one scene item.

A token is a small pooled record (no QGraphicsItem per token): its look is
rendered once into a pixmap at the view's device scale and cached
(``token_look.TokenPainter``), so a frame costs one ``drawPixmap`` per token,
whatever the number of QGraphicsItems.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from qsim.ui.diagram.token_look import Look, TokenPainter

__all__ = ["LABEL_AFTER_NS", "Look", "Token", "TokenLayer", "TokenPainter"]

LABEL_AFTER_NS = 40_000_000  # a token gets its label once it lived this long


class Token:
    """One moving or resting item (a pooled record, reused)."""

    __slots__ = (
        "a0",
        "a1",
        "born",
        "dur",
        "item",
        "linear",
        "look",
        "opacity",
        "path",
        "pix",
        "place",
        "t0",
        "x",
        "x0",
        "x1",
        "y",
        "y0",
        "y1",
    )

    def __init__(self) -> None:
        self.item = 0
        self.look: Look | None = None
        self.pix: QPixmap | None = None
        self.place: tuple[int, int, int] | None = None  # (kind, index, slot); None: flyer
        self.x = self.y = self.x0 = self.y0 = self.x1 = self.y1 = 0.0
        self.a0 = self.a1 = self.opacity = 1.0
        self.t0 = 0
        self.born = 0  # animation time it appeared (labels wait LABEL_AFTER_NS)
        self.linear = False  # a flight in a stream: constant speed reads as a flow
        self.dur = 1
        #: a flight along an edge: the points and their running lengths (None: straight)
        self.path: tuple[tuple[tuple[float, float], ...], tuple[float, ...]] | None = None

    def go(self, x: float, y: float, t: int, dur: int, a1: float = 1.0) -> None:
        """Move (with easing) from where it is now to ``(x, y)``, fading to ``a1``."""
        self.x0, self.y0, self.a0 = self.x, self.y, self.opacity
        self.x1, self.y1, self.a1 = x, y, a1
        self.t0, self.dur = t, max(1, dur)
        self.path = None

    def go_along(
        self, points: tuple[tuple[float, float], ...], t: int, dur: int, a1: float = 1.0
    ) -> None:
        """Move from where it is now through ``points`` (an edge: a token never
        cuts across a queue's box), arriving at the last at ``t + dur``."""
        pts = ((self.x, self.y), *points)
        runs = [0.0]
        for (xa, ya), (xb, yb) in pairwise(pts):
            runs.append(runs[-1] + ((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5)
        self.go(points[-1][0], points[-1][1], t, dur, a1)
        if runs[-1] > 0 and len(pts) > 2:
            self.path = (pts, tuple(runs))

    def jump(self, x: float, y: float, opacity: float = 1.0) -> None:
        self.x = self.x0 = self.x1 = x
        self.y = self.y0 = self.y1 = y
        self.opacity = self.a0 = self.a1 = opacity
        self.path = None
        self.dur = 1

    def tick(self, t: int) -> bool:
        """Advance to time ``t``; True while still moving or fading."""
        f = (t - self.t0) / self.dur
        if f >= 1.0:
            self.x, self.y, self.opacity = self.x1, self.y1, self.a1
            return False
        if f <= 0.0:
            return True
        e = f if self.linear else _ease(f)
        if self.path is not None:
            self.x, self.y = _along(self.path, e)
        else:
            self.x = self.x0 + (self.x1 - self.x0) * e
            self.y = self.y0 + (self.y1 - self.y0) * e
        self.opacity = self.a0 + (self.a1 - self.a0) * f
        return True


def _along(
    path: tuple[tuple[tuple[float, float], ...], tuple[float, ...]], f: float
) -> tuple[float, float]:
    """The point a fraction ``f`` of the way along a polyline."""
    pts, runs = path
    d = f * runs[-1]
    for k in range(1, len(runs)):
        if d <= runs[k] or k == len(runs) - 1:
            seg = runs[k] - runs[k - 1]
            g = (d - runs[k - 1]) / seg if seg > 0 else 1.0
            (xa, ya), (xb, yb) = pts[k - 1], pts[k]
            return xa + (xb - xa) * g, ya + (yb - ya) * g
    return pts[-1]


def _ease(f: float) -> float:
    """Ease in-out cubic: a token starts and lands gently."""
    return 4 * f * f * f if f < 0.5 else 1 - (-2 * f + 2) ** 3 / 2


class TokenLayer(QGraphicsItem):
    """Draws every token and aggregate badge in one ``paint`` call.

    It is "under the mouse" only where a token is (``contains``), so the boxes
    below keep their own tooltips; a token's tooltip names its item in full
    (``describe``), which is where a label shortened with "…" can be read.
    """

    def __init__(
        self, painter: TokenPainter, describe: Callable[[int], str] | None = None
    ) -> None:
        super().__init__()
        self.painter = painter
        self.describe = describe
        self.tokens: list[Token] = []
        self.badges: list[tuple[float, float, str]] = []  # (x, y, text)
        self.now = 0  # animation time of the frame being drawn
        self._rect = QRectF(0, 0, 1280, 720)
        #: the scene: a token is drawn within it, whatever its flight says (a
        #: wide one on a path along the scene's margin is moved in)
        self.scene_rect = QRectF(0, 0, 1280, 720)
        self.setZValue(5)
        self.setAcceptHoverEvents(True)

    # ------------------------------------------------------------ hover
    def token_at(self, pos: QPointF) -> Token | None:
        """The topmost token drawn at ``pos`` (scene units), or None."""
        tp = self.painter
        half_h = tp.size * 0.5
        for t in reversed(self.tokens):
            if (
                t.look is not None
                and abs(pos.y() - t.y) <= half_h
                and abs(pos.x() - t.x) <= tp.half_width(t.look)
            ):
                return t
        return None

    def contains(self, point: QPointF | QPoint | QPainterPath.Element, /) -> bool:
        if isinstance(point, QPainterPath.Element):
            point = QPointF(point.x, point.y)
        return self.token_at(QPointF(point)) is not None

    def collidesWithPath(
        self,
        path: QPainterPath,
        mode: Qt.ItemSelectionMode = Qt.ItemSelectionMode.IntersectsItemShape,
    ) -> bool:
        """Hit only where a token is (the view asks with a one-pixel square)."""
        return self.token_at(path.boundingRect().center()) is not None

    def hoverMoveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        tok = self.token_at(event.pos())
        text = ""
        if tok is not None and self.describe is not None:
            text = self.describe(tok.item)
        if text != self.toolTip():
            self.setToolTip(text)
        super().hoverMoveEvent(event)

    def texts(self) -> list[tuple[str, int]]:
        """Every text the tokens and badges of this frame show, with its font size
        in scene units (tokens drawn plain for now are measured with their label)."""
        tp = self.painter
        out = [
            x
            for t in self.tokens
            if t.look is not None and (not t.linear or t.place is not None or t.look.sentinel)
            for x in tp.texts(t.look)
        ]
        out += [(text, tp.badge_font().pixelSize()) for _, _, text in self.badges]
        return out

    def set_rect(self, rect: QRectF, scene: QRectF | None = None) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)
        if scene is not None:
            self.scene_rect = QRectF(scene)

    def body_rect(self, t: Token) -> QRectF:
        """Where ``t``'s body is drawn (scene units): at its place, moved into
        the scene if it would stick out (as ``paint`` does)."""
        tp = self.painter
        hw = tp.half_width(t.look) if t.look is not None else 0.0
        hh = tp.size * 0.5
        r = self.scene_rect
        x = _within(t.x, r.left() + hw, r.right() - hw)
        y = _within(t.y, r.top() + hh, r.bottom() - hh)
        return QRectF(x - hw, y - hh, 2 * hw, 2 * hh)

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        tp = self.painter
        complete = tp.complete_next
        tp.begin_frame()
        m = tp.margin
        # blit in device space: no per-pixmap transform, integer positions; a
        # pixmap is centred on its token (a traced program's are of many widths)
        tr = p.worldTransform()
        sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()
        half = 0.5 / tp.dpr
        half_h = (tp.size * 0.5 + m) * tp.scale
        md = m * tp.scale  # a pixmap's margin: its body is within the scene
        r = self.scene_rect
        left, right = sx * r.left() + dx - md, sx * r.right() + dx + md
        top, bottom = sy * r.top() + dy + half_h - md, sy * r.bottom() + dy - half_h + md
        p.save()
        p.resetTransform()
        faded = False
        draw = p.drawPixmap
        young = self.now - LABEL_AFTER_NS  # in a fast run most tokens live one frame
        for t in self.tokens:
            pix = t.pix
            if pix is None:
                if t.look is None:
                    continue
                if t.linear and t.place is None:  # in flight (not kept: it may land)
                    pix = tp.dot(t.look)
                elif t.born > young and t.look.text and not complete:
                    pix = tp.plain(t.look)
                else:
                    pix, final = tp.pixmap(t.look)
                    if final:
                        t.pix = pix
            if t.opacity < 0.999:
                p.setOpacity(max(0.0, t.opacity))
                faded = True
            elif faded:
                p.setOpacity(1.0)
                faded = False
            pw = pix.width() * half
            x = _within(sx * t.x + dx, left + pw, right - pw)
            y = _within(sy * t.y + dy, top, bottom)
            draw(int(x - pw), int(y - half_h), pix)
        if faded:
            p.setOpacity(1.0)
        for x, y, text in self.badges:
            pix = tp.pixmap(_BADGE, text)[0]
            w, h = pix.width() / tp.dpr, pix.height() / tp.dpr
            draw(int(sx * x + dx - w / 2), int(sy * y + dy - h / 2), pix)
        p.restore()


def _within(v: float, lo: float, hi: float) -> float:
    """``v`` moved into ``[lo, hi]`` (its middle if the range is empty)."""
    if lo > hi:
        return (lo + hi) / 2
    return lo if v < lo else hi if v > hi else v


_BADGE = Look(False, "", "")
