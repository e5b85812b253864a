"""Tokens: the items on screen, drawn all at once by one scene item.

A token is a small pooled record (no QGraphicsItem per token): its look is
rendered once into a pixmap at the view's device scale and cached, so a frame
costs one ``drawPixmap`` per token, whatever the number of QGraphicsItems.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

from PySide6.QtCore import QPoint, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPixmap
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from qsim.ui.diagram.actors import make_font, text_color_on
from qsim.ui.diagram.glyphs import octagon
from qsim.ui.theme import Theme, is_dark

CACHE_SIZE = 2048
LABELS_PER_FRAME = 6  # new token renders per frame; the rest wait a frame
LABEL_AFTER_NS = 40_000_000  # a token gets its label once it lived this long


@dataclass(frozen=True)
class Look:
    """What a token shows; equal looks share one cached pixmap."""

    sentinel: bool
    color: str
    text: str
    priority: str = ""  # "p3" for a PriorityQueue item
    batch: str = ""  # "×50" for a batch
    error: bool = False
    dot: bool = False  # a flight in a busy stream: a small dot, so a stream reads as a flow


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


class TokenPainter:
    """Renders looks into pixmaps at a device scale; an LRU cache of them."""

    def __init__(self, theme: Theme, size: float) -> None:
        self.theme = theme
        self.size = size  # token height in scene units
        self.scale = 1.0
        self.dpr = 1.0
        self.budget = LABELS_PER_FRAME
        self.complete_next = False  # the next paint renders every label (no budget)
        self.min_px = 0.0  # the smallest text on screen, in logical pixels (0: no floor)
        self._cache: OrderedDict[tuple[Look, str], QPixmap] = OrderedDict()

    def reset(
        self, theme: Theme, size: float, scale: float, dpr: float = 1.0, min_px: float = 0.0
    ) -> None:
        """New theme or view scale (scene -> logical pixels; ``dpr``: the screen's;
        ``min_px``: no text smaller than this on screen)."""
        self.theme, self.size, self.scale, self.dpr = theme, size, max(0.05, scale), dpr
        self.min_px = min_px
        self._cache.clear()
        self.complete_next = True

    @property
    def margin(self) -> float:
        return self.size * 0.35

    def plain(self, look: Look) -> QPixmap:
        """The look without its label text (cached per colour and tags)."""
        return self.pixmap(Look(look.sentinel, look.color, "STOP" if look.sentinel else ""))[0]

    def dot(self, look: Look) -> QPixmap:
        """A flight of a busy stream: a small dot in the item's colour (a
        sentinel stays an octagon: a STOP on its way matters)."""
        if look.sentinel:
            return self.plain(look)
        return self.pixmap(Look(False, look.color, "", dot=True))[0]

    def begin_frame(self) -> None:
        self.budget = 1 << 30 if self.complete_next else LABELS_PER_FRAME
        self.complete_next = False

    def pixmap(self, look: Look, badge_text: str = "") -> tuple[QPixmap, bool]:
        """The pixmap of ``look``; False with a plainer stand-in when this frame's
        budget of new renders is spent (the token asks again next frame)."""
        key = (look, badge_text)
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
            return pix, True
        if self.budget <= 0 and not badge_text:
            plain = Look(look.sentinel, look.color, "STOP" if look.sentinel else "")
            if plain != look:
                return self.pixmap(plain)[0], False
        self.budget -= 1
        pix = self._render(look) if not badge_text else self._render_badge(badge_text)
        self._cache[key] = pix
        if len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return pix, True

    def _canvas(self, w: float, h: float) -> tuple[QPixmap, QPainter]:
        # rendered at device scale and blitted 1:1 in device space (the fast path)
        s = self.scale
        pix = QPixmap(max(1, round(w * s * self.dpr)), max(1, round(h * s * self.dpr)))
        pix.setDevicePixelRatio(self.dpr)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.scale(s, s)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        return pix, p

    # ------------------------------------------------------------ text
    def font_px(self, px: float) -> float:
        """A font size in scene units, raised to what is still ``min_px`` on screen."""
        return max(px, math.ceil(self.min_px / self.scale - 1e-6) if self.min_px else 0.0)

    def label(self, look: Look) -> tuple[QFont, str, float]:
        """(font, text, body width) of a token's label: as big as fits the body,
        never smaller than ``min_px`` on screen; a label that does not fit at that
        size is shortened with "…" (its full value is in the token's tooltip). A
        sentinel's octagon grows a little wider for its word instead."""
        h = self.size
        w = h * 1.12
        if not look.text:
            return make_font(h * 0.5, bold=True), "", w
        pad = h * 0.14
        px = h * (0.42 if look.sentinel else 0.5)
        wide = _width(look.text, px)
        if wide > w - pad:
            px *= (w - pad) / wide
        font = make_font(self.font_px(math.floor(px)), bold=True)  # rounded down: it fits
        wide = QFontMetricsF(font).horizontalAdvance(look.text)
        if look.sentinel and wide > w - pad:  # up to the pixmap's margins
            w = min(wide + pad, h * 1.12 + 1.6 * self.margin)
        text = look.text
        if wide > w - pad:
            mode = Qt.TextElideMode.ElideLeft if text.isdigit() else Qt.TextElideMode.ElideRight
            text = QFontMetricsF(font).elidedText(text, mode, w - pad)
        return font, text, w

    def tag_font(self, scale: float = 0.4) -> QFont:
        return make_font(self.font_px(self.size * scale), bold=True)

    def texts(self, look: Look) -> list[tuple[str, int]]:
        """Every text a token of ``look`` shows, with its font size in scene units
        (what the legibility check multiplies by the view's scale)."""
        out = []
        font, text, _ = self.label(look)
        if text:
            out.append((text, font.pixelSize()))
        for tag in (look.priority, look.batch):
            if tag:
                out.append((tag, self.tag_font().pixelSize()))
        if look.error:
            out.append(("!", self.tag_font(0.5).pixelSize()))
        return out

    def badge_font(self) -> QFont:
        return make_font(self.font_px(self.size * 0.5), bold=True)

    # ------------------------------------------------------------ render
    def _render(self, look: Look) -> QPixmap:
        th = self.theme
        h = self.size
        m = self.margin
        font, text, w = self.label(look)
        pix, p = self._canvas(h * 1.12 + 2 * m, h + 2 * m)
        if look.dot:
            r = h * 0.3
            p.setPen(QPen(QColor("#FFFFFF" if is_dark(th) else "#000000"), 0.8))
            p.setBrush(QColor(look.color))
            p.drawEllipse(QPointF(m + h * 0.56, m + h * 0.5), r, r)
            p.end()
            return pix
        body = QRectF(m + (h * 1.12 - w) / 2, m, w, h)
        p.setFont(font)
        if look.sentinel:
            fill = QColor(th.sentinel)
            p.setPen(QPen(QColor(th.background), 1.2))
            p.setBrush(fill)
            p.drawPolygon(octagon(body.adjusted(-1, -1, 1, 1)))
        else:
            fill = QColor(look.color)
            p.setPen(QPen(QColor("#FFFFFF" if is_dark(th) else "#000000"), 1.0))
            p.setBrush(fill)
            p.drawRoundedRect(body, h * 0.28, h * 0.28)
        p.setPen(text_color_on(fill, th))
        p.drawText(body, Qt.AlignmentFlag.AlignCenter, text)
        small = self.tag_font()
        mid = m + h * 0.56
        if look.priority:  # centred above: neighbours in a queue do not cover it
            self._tag(p, QPointF(mid, m - h * 0.05), look.priority, small, "#FFFFFF", "#000")
        if look.batch:
            self._tag(p, QPointF(mid, m + h * 1.02), look.batch, small, "#000", "#FFFFFF")
        if look.error:
            self._tag(
                p, QPointF(m + w * 0.1, m + h * 0.1), "!", self.tag_font(0.5), "#D55E00", "#FFFFFF"
            )
        p.end()
        return pix

    @staticmethod
    def _tag(p: QPainter, at: QPointF, text: str, font: QFont, bg: str, fg: str) -> None:
        p.setFont(font)
        fm = p.fontMetrics()
        tw = fm.horizontalAdvance(text) + 4
        th = fm.height() * 0.9
        w = max(tw, th)
        r = QRectF(at.x() - w / 2, at.y() - th / 2, w, th)
        p.setPen(QPen(QColor(fg), 0.8))
        p.setBrush(QColor(bg))
        p.drawRoundedRect(r, th / 2, th / 2)
        p.setPen(QColor(fg))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)

    def _render_badge(self, text: str) -> QPixmap:
        th = self.theme
        font = self.badge_font()
        h = max(self.size * 0.8, QFontMetricsF(font).height() * 1.1)
        w = QFontMetricsF(font).horizontalAdvance(text) + h * 0.8
        pix, p = self._canvas(w + 2, h + 2)
        p.setPen(QPen(QColor(th.text), 1.0))
        p.setBrush(QColor(th.panel))
        p.drawRoundedRect(QRectF(1, 1, w, h), h / 2, h / 2)
        p.setFont(font)
        p.setPen(QColor(th.text))
        p.drawText(QRectF(1, 1, w, h), Qt.AlignmentFlag.AlignCenter, text)
        p.end()
        return pix


@lru_cache(maxsize=512)
def _width(text: str, px: float) -> float:
    return QFontMetricsF(make_font(px, bold=True)).horizontalAdvance(text)


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
        self.setZValue(5)
        self.setAcceptHoverEvents(True)

    # ------------------------------------------------------------ hover
    def token_at(self, pos: QPointF) -> Token | None:
        """The topmost token drawn at ``pos`` (scene units), or None."""
        half_w, half_h = self.painter.size * 0.56, self.painter.size * 0.5
        for t in reversed(self.tokens):
            if (
                t.look is not None
                and abs(pos.x() - t.x) <= half_w
                and abs(pos.y() - t.y) <= half_h
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

    def set_rect(self, rect: QRectF) -> None:
        self.prepareGeometryChange()
        self._rect = QRectF(rect)

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
        # blit in device space: no per-pixmap transform, integer positions
        tr = p.worldTransform()
        sx, sy, dx, dy = tr.m11(), tr.m22(), tr.dx(), tr.dy()
        half_w = (tp.size * 0.56 + m) * tp.scale
        half_h = (tp.size * 0.5 + m) * tp.scale
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
            draw(int(sx * t.x + dx - half_w), int(sy * t.y + dy - half_h), pix)
        if faded:
            p.setOpacity(1.0)
        for x, y, text in self.badges:
            pix = tp.pixmap(_BADGE, text)[0]
            w, h = pix.width() / tp.dpr, pix.height() / tp.dpr
            draw(int(sx * x + dx - w / 2), int(sy * y + dy - h / 2), pix)
        p.restore()


_BADGE = Look(False, "", "")
