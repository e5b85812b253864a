"""How a token looks: its label fitted to it, its tags, its colour, rendered
into pixmaps at the view's device scale and cached (``TokenPainter``).

A lesson's label takes the largest size that fits its token and never less
than the legible minimum on screen (``min_px``): a label too long for that is
cut short with "…", keeping its last digits (neighbours differ there). A
traced program's token (``token_w`` set) is as wide as its label, the repr
cut by ``token_label``, up to the width the layout made room for (see
``token_width``). The token's tooltip tells the item in full. Every text a
look shows can be listed with its size (``texts``), so the legibility test
measures what is really drawn.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen, QPixmap

from qsim.ui.diagram.actors import make_font, text_color_on
from qsim.ui.diagram.glyphs import octagon
from qsim.ui.diagram.token_width import NARROW, PAD, label_px
from qsim.ui.theme import Theme, is_dark

CACHE_SIZE = 2048
LABELS_PER_FRAME = 6  # new token renders per frame; the rest wait a frame


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
    width: float = 0.0  # a stand-in without its label: the labelled token's body width


class TokenPainter:
    """Renders looks into pixmaps at a device scale; an LRU cache of them."""

    def __init__(self, theme: Theme, size: float, token_w: float = 0.0) -> None:
        self.theme = theme
        self.size = size  # token height in scene units
        self.token_w = token_w  # a traced program's widest token (0: a lesson's tokens)
        self.scale = 1.0
        self.dpr = 1.0
        self.budget = LABELS_PER_FRAME
        self.complete_next = False  # the next paint renders every label (no budget)
        self.min_px = 0.0  # the smallest text on screen, in logical pixels (0: no floor)
        self._cache: OrderedDict[tuple[Look, str], QPixmap] = OrderedDict()
        self._labels: dict[Look, tuple[QFont, str, float]] = {}

    def reset(
        self,
        theme: Theme,
        size: float,
        scale: float,
        dpr: float = 1.0,
        min_px: float = 0.0,
        token_w: float = 0.0,
    ) -> None:
        """New theme or view scale (scene -> logical pixels; ``dpr``: the screen's;
        ``min_px``: no text smaller than this on screen; ``token_w``: see ``__init__``)."""
        self.theme, self.size, self.scale, self.dpr = theme, size, max(0.05, scale), dpr
        self.min_px = min_px
        self.token_w = token_w
        self._cache.clear()
        self._labels.clear()
        self.complete_next = True

    @property
    def margin(self) -> float:
        return self.size * 0.35

    def plain(self, look: Look) -> QPixmap:
        """The look without its label text (cached per colour, tags and width)."""
        return self.pixmap(self._stand_in(look))[0]

    def _stand_in(self, look: Look) -> Look:
        """What a token shows until its label is rendered: as wide, no text."""
        if not self.token_w:
            return Look(look.sentinel, look.color, "STOP" if look.sentinel else "")
        return Look(look.sentinel, look.color, "", width=self.label(look)[2])

    def half_width(self, look: Look) -> float:
        """Half a token's body width (scene units): where it can be pointed at."""
        if not self.token_w or look.dot:
            return self.size * NARROW / 2
        return self.label(look)[2] / 2

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
            plain = self._stand_in(look)
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
        sentinel's octagon grows a little wider for its word instead. A traced
        program's token is as wide as its label (``_fitted``)."""
        if self.token_w:
            got = self._labels.get(look)
            if got is None:
                if len(self._labels) > CACHE_SIZE:
                    self._labels.clear()
                got = self._labels[look] = self._fitted(look)
            return got
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

    def _fitted(self, look: Look) -> tuple[QFont, str, float]:
        """A traced token's label: one size (``token_width.label_px``), the body
        as wide as the text (a stand-in: as ``look.width``), up to ``token_w``
        (beyond, which the layout avoids, the text is cut short with "…")."""
        h = self.size
        font = make_font(self.font_px(label_px(h)), bold=True)
        if not look.text:
            return font, "", max(h * NARROW, min(look.width, self.token_w))
        fm = QFontMetricsF(font)
        pad = h * PAD
        wide = fm.horizontalAdvance(look.text)
        w = max(h * NARROW, min(wide + pad, self.token_w))
        text = look.text
        if wide > w - pad + 0.01:
            text = fm.elidedText(text, Qt.TextElideMode.ElideRight, w - pad)
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
        for tag in (self.priority_tag(look), look.batch):
            if tag:
                out.append((tag, self.tag_font().pixelSize()))
        if look.error:
            out.append(("!", self.tag_font(0.5).pixelSize()))
        return out

    def priority_tag(self, look: Look) -> str:
        """The "p2" tab above a lesson's token; a traced program's token shows
        the object itself, whose repr holds its priority already (a tab there
        would cover the queue's title)."""
        return "" if self.token_w else look.priority

    def badge_font(self) -> QFont:
        return make_font(self.font_px(self.size * 0.5), bold=True)

    # ------------------------------------------------------------ render
    def _render(self, look: Look) -> QPixmap:
        th = self.theme
        h = self.size
        m = self.margin
        font, text, w = self.label(look)
        if look.dot:
            pix, p = self._canvas(h * NARROW + 2 * m, h + 2 * m)
            r = h * 0.3
            p.setPen(QPen(QColor("#FFFFFF" if is_dark(th) else "#000000"), 0.8))
            p.setBrush(QColor(look.color))
            p.drawEllipse(QPointF(m + h * NARROW / 2, m + h * 0.5), r, r)
            p.end()
            return pix
        # the body centred in the pixmap: a lesson's is one width (a sentinel's
        # octagon may spread into the margins), a traced program's its own
        canvas = w if self.token_w else h * NARROW
        pix, p = self._canvas(canvas + 2 * m, h + 2 * m)
        body = QRectF(m + (canvas - w) / 2, m, w, h)
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
        mid = m + canvas / 2
        if self.priority_tag(look):  # centred above: neighbours in a queue do not cover it
            self._tag(p, QPointF(mid, m - h * 0.05), look.priority, small, "#FFFFFF", "#000")
        if look.batch:
            self._tag(p, QPointF(mid, m + h * 1.02), look.batch, small, "#000", "#FFFFFF")
        if look.error:
            self._tag(
                p,
                QPointF(body.x() + w * 0.1, m + h * 0.1),
                "!",
                self.tag_font(0.5),
                "#D55E00",
                "#FFFFFF",
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


@lru_cache(maxsize=4)
def _metrics(px: float) -> QFontMetricsF:
    return QFontMetricsF(make_font(px, bold=True))


@lru_cache(maxsize=4096)
def label_em(text: str) -> float:
    """A traced token's label width in em of its font (what the layout makes room for)."""
    return _metrics(100.0).horizontalAdvance(text) / 100.0
