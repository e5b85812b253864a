"""An actor (producer, consumer, stage worker, main) drawn as a box with its
state in colour AND words AND an icon, plus a small counter.

The box is rendered into a device-coordinate cache and only redrawn when what
it shows changes, so a frame costs one blit per actor.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from qsim.ui.diagram.glyphs import draw_state_icon
from qsim.ui.diagram.layout import ActorBox
from qsim.ui.theme import Theme


def text_color_on(fill: QColor, theme: Theme) -> QColor:
    """Black or white, whichever reads better on ``fill``."""
    lum = 0.299 * fill.redF() + 0.587 * fill.greenF() + 0.114 * fill.blueF()
    return QColor("#000000") if lum > 0.55 else QColor("#FFFFFF")


#: the smallest font of the diagram at scale 1 (counters, queue fill, legend):
#: the view scales the fonts so that this is never below ``MIN_TEXT_PX`` on screen
MIN_FONT = 11.0


def make_font(px: float, bold: bool = False) -> QFont:
    f = QFont()
    f.setPixelSize(max(6, round(px)))
    f.setBold(bold)
    return f


class ActorItem(QGraphicsItem):
    """One actor's box. ``set_content`` changes what it shows (repaints if changed)."""

    def __init__(
        self,
        box: ActorBox,
        title: str,
        theme: Theme,
        tooltip: Callable[[], str],
    ) -> None:
        super().__init__()
        self.box = box
        self.title = title
        self.theme = theme
        self.state_key = "starting"
        self.label = "starting"
        self.counter = ""
        self.hovered = False
        self._tooltip = tooltip
        self._rect = QRectF(0, 0, box.w, box.h)
        self.setPos(box.x, box.y)
        self.setZValue(1)
        self.setAcceptHoverEvents(True)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._fonts(theme)

    def _fonts(self, theme: Theme) -> None:
        fs = theme.font_scale
        self.f_name = make_font(12.5 * fs, bold=True)
        self.f_state = make_font(MIN_FONT * fs)
        self.f_small = make_font(MIN_FONT * fs)
        self.counter_w = QFontMetricsF(self.f_small).horizontalAdvance("99999 done") + 2

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self._fonts(theme)
        self.update()

    def set_content(self, state_key: str, label: str) -> None:
        """State and label (re-renders the cached box when they change)."""
        if (state_key, label) != (self.state_key, self.label):
            self.state_key, self.label = state_key, label
            self.update()

    def fill(self) -> QColor:
        th = self.theme
        if self.state_key == "paused":
            return QColor(th.panel)
        return QColor(th.states.get(self.state_key, th.states.get("idle", "#EEEEEE")))

    def _insets(self) -> tuple[float, float]:
        box, fs = self.box, self.theme.font_scale
        hand = 13 * self.theme.token_scale  # room for a held token on the edge it sits on
        left = 8 * fs + (hand if abs(box.hand[0] - box.x) < 1 else 0.0)
        right = box.w - 8 * fs - (hand if abs(box.hand[0] - box.right) < 1 else 0.0)
        return left, right

    def counter_rect(self) -> tuple[QRectF, Qt.AlignmentFlag]:
        """Where the counter goes, in scene coordinates (drawn by ``CountersItem``)."""
        left, right = self._insets()
        b = self.box
        if b.compact:
            w = self.counter_w
            rect, align = QRectF(right - w, 0, w, b.h), Qt.AlignmentFlag.AlignRight
        else:
            lh = b.h / 3.3
            top = (b.h - 3 * lh) / 2
            rect, align = QRectF(left, top + 2 * lh, right - left, lh), Qt.AlignmentFlag.AlignLeft
        return rect.translated(b.x, b.y), align | Qt.AlignmentFlag.AlignVCenter

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def texts(self) -> list[tuple[str, int]]:
        """What the box writes, with font sizes in scene units (the counter is
        written by ``CountersItem``)."""
        return [(self.title, self.f_name.pixelSize()), (self.label, self.f_state.pixelSize())]

    # ------------------------------------------------------------ hover
    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = True
        self.refresh_tooltip()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        self.hovered = False
        super().hoverLeaveEvent(event)

    def refresh_tooltip(self) -> None:
        self.setToolTip(self._tooltip())

    # ------------------------------------------------------------ paint
    def paint(
        self,
        p: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        th = self.theme
        key = self.state_key
        fill = self.fill()
        fg = text_color_on(fill, th)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        pen = QPen(QColor(th.queue_border), 1.4 * th.font_scale)
        if key in ("finished", "paused"):
            pen.setStyle(Qt.PenStyle.DashLine)
        if key in ("blocked on put", "crashed", "hung"):
            pen.setWidthF(2.6 * th.font_scale)
        p.setPen(pen)
        p.setBrush(fill)
        r = self._rect
        radius = 7 * th.font_scale
        p.drawRoundedRect(r, radius, radius)

        box = self.box
        fs = th.font_scale
        left, right = self._insets()
        icon = 14 * fs
        p.setPen(fg)
        if box.compact:
            cy = r.height() / 2
            p.setFont(self.f_name)
            fm_name = p.fontMetrics()
            name_w = fm_name.horizontalAdvance(self.title)
            p.drawText(
                QRectF(left, 0, name_w + 2, r.height()), Qt.AlignmentFlag.AlignVCenter, self.title
            )
            x = left + name_w + 8 * fs
            draw_state_icon(p, key, QRectF(x, cy - icon / 2, icon, icon), fg, fill)
            x += icon + 4 * fs
            p.setFont(self.f_state)
            avail = max(0.0, right - self.counter_w - 6 * fs - x)
            text = p.fontMetrics().elidedText(self.label, Qt.TextElideMode.ElideRight, int(avail))
            p.drawText(QRectF(x, 0, avail, r.height()), Qt.AlignmentFlag.AlignVCenter, text)
            return
        lh = r.height() / 3.3
        top = (r.height() - 3 * lh) / 2
        p.setFont(self.f_name)
        p.drawText(QRectF(left, top, right - left, lh), Qt.AlignmentFlag.AlignVCenter, self.title)
        y2 = top + lh
        draw_state_icon(p, key, QRectF(left, y2 + (lh - icon) / 2, icon, icon), fg, fill)
        p.setFont(self.f_state)
        x = left + icon + 4 * fs
        text = p.fontMetrics().elidedText(
            self.label, Qt.TextElideMode.ElideRight, int(max(0.0, right - x))
        )
        p.drawText(QRectF(x, y2, right - x, lh), Qt.AlignmentFlag.AlignVCenter, text)


class CountersItem(QGraphicsItem):
    """Every actor's small counter, drawn fresh each frame (not cached): counters
    change every frame in a fast run, and a few lines of text cost less than
    re-rendering the cached boxes."""

    def __init__(self, actors: list[ActorItem], rect: QRectF) -> None:
        super().__init__()
        self.actors = actors
        self._rect = QRectF(rect)
        self.setZValue(2)

    def boundingRect(self) -> QRectF:
        return self._rect

    def texts(self) -> list[tuple[str, int]]:
        return [(a.counter, a.f_small.pixelSize()) for a in self.actors if a.counter]

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        for a in self.actors:
            if not a.counter:
                continue
            rect, align = a.counter_rect()
            p.setFont(a.f_small)
            p.setPen(text_color_on(a.fill(), a.theme))
            p.drawText(rect, align, a.counter)
