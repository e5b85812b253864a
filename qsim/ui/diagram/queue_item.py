"""A queue drawn as a row of slots with its kind, capacity and fill labelled.

The tokens sitting in the slots are drawn by the token layer (they move);
this item draws the frame, the slots and the text, cached until they change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPen
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsSceneHoverEvent,
    QGraphicsSceneMouseEvent,
    QStyleOptionGraphicsItem,
    QWidget,
)

from qsim.model.internals import Opened, kib
from qsim.model.state import QueueState
from qsim.ui.diagram.actors import MIN_FONT, make_font
from qsim.ui.diagram.layout import QueueBox, queue_title
from qsim.ui.theme import Theme

FULL_COLOR = "#D55E00"  # Okabe-Ito vermillion: a full queue's frame and "full" label
PIPE_COLOR = "#56B4E9"  # Okabe-Ito sky blue: the pipe of a queue opened up
MANAGER_KINDS = ("ManagerQueue", "PriorityQueue")


def queue_status(q: QueueState, drawn: int) -> tuple[str, str]:
    """(left, right) texts under the slot row: ``+N more`` and the fill."""
    more = q.depth - drawn
    left = f"+{more} more" if more > 0 else ""
    bounded = q.maxsize > 0 and q.kind != "SimpleQueue"
    right = f"{q.depth}/{q.maxsize}" if bounded else f"{q.depth} in queue"
    if bounded and q.depth >= q.maxsize:
        right += " full"
    elif q.depth == 0:
        right = "empty"
    return left, right


def queue_extra(q: QueueState) -> str:
    """A second line for what some kinds add: unfinished tasks, Full/Empty counts."""
    parts = []
    if q.kind == "JoinableQueue":
        parts.append(f"unfinished: {q.unfinished}")
    if q.task_done_errors:
        parts.append(f"task_done() errors: {q.task_done_errors}")
    if q.full:
        parts.append(f"Full raised: {q.full}")
    if q.empty:
        parts.append(f"Empty raised: {q.empty}")
    return " · ".join(parts)


@dataclass(frozen=True)
class OpenedLook:
    """What an opened-up queue draws besides its tokens."""

    pipe_slots: int  # slots at the front that are the pipe
    fill: float  # bytes in the pipe / its capacity (-1: capacity unknown)
    words: str  # "pipe 64 of 64 KiB · P1's feeder buffer 19"


def opened_look(o: Opened, names: list[str] | tuple[str, ...]) -> OpenedLook:
    cap = o.capacity
    fill = min(1.0, o.pipe_bytes / cap) if cap else -1.0
    pipe = f"pipe {kib(min(o.pipe_bytes, cap or o.pipe_bytes))}"
    pipe += f" of {kib(cap)}" if cap else ""
    bufs = [
        f"{names[a] if 0 <= a < len(names) else a}'s feeder buffer {n}" for a, n in o.per_process
    ]
    return OpenedLook(len(o.pipe), fill, " · ".join([pipe, *bufs]))


class QueueItem(QGraphicsItem):
    """One queue's frame, slots and labels."""

    def __init__(
        self,
        box: QueueBox,
        qid: str,
        kind: str,
        maxsize: int,
        theme: Theme,
        tooltip: Callable[[], str] | None = None,
        on_double_click: Callable[[], None] | None = None,
    ) -> None:
        super().__init__()
        self._tooltip = tooltip
        self._on_double_click = on_double_click
        self.setAcceptHoverEvents(tooltip is not None)
        self.box = box
        self.kind = kind
        self.maxsize = maxsize
        self.title = queue_title(qid, kind, maxsize)
        self.theme = theme
        self.left = ""
        self.right = "empty"
        self.extra = "unfinished: 0" if kind == "JoinableQueue" else ""
        self.full = False
        self.opened: OpenedLook | None = None  # drawn opened up: feeder buffers and pipe
        self._rect = QRectF(0, 0, box.w, box.h)
        self.setPos(box.x, box.y)
        self.setZValue(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_theme(self, theme: Theme) -> None:
        self.prepareGeometryChange()  # its fonts, and so its reach, follow the theme
        self.theme = theme
        self.update()

    def set_content(
        self,
        q: QueueState,
        lane: str = "",
        inside: Opened | None = None,
        names: list[str] | None = None,
    ) -> None:
        """Show ``q``; ``lane``: a measured lane's figures, under the row;
        ``inside``: the queue opened up (feeder buffers and pipe), None: closed."""
        left, right = queue_status(q, self.box.slots)
        parts = [queue_extra(q), lane]
        opened: OpenedLook | None = None
        if inside is not None:
            opened = opened_look(inside, names or [])
            parts.insert(0, opened.words)
        elif q.observed and q.buffered:  # closed, but some are not in the pipe yet
            parts.insert(0, f"{len(q.buffered)} in buffers")
        extra = " · ".join(x for x in parts if x)
        full = q.maxsize > 0 and q.kind != "SimpleQueue" and q.depth >= q.maxsize
        now = (left, right, extra, full, opened)
        if now != (self.left, self.right, self.extra, self.full, self.opened):
            if extra != self.extra:
                self.prepareGeometryChange()  # a longer line under it reaches further out
            self.left, self.right, self.extra, self.full, self.opened = now
            self.update()

    def hoverEnterEvent(self, event: QGraphicsSceneHoverEvent) -> None:
        if self._tooltip is not None:
            self.setToolTip(self._tooltip())
        super().hoverEnterEvent(event)

    def mouseDoubleClickEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        if self._on_double_click is not None:
            self._on_double_click()
            if self._tooltip is not None:
                self.setToolTip(self._tooltip())
        super().mouseDoubleClickEvent(event)

    def extra_reach(self) -> float:
        """How far the line under the row reaches past each side of the box: it
        is never cut (an opened-up queue's words can be wider than its slots)."""
        if not self.extra:
            return 0.0
        w = QFontMetricsF(self.fonts()[2]).horizontalAdvance(self.extra) + 4
        return max(0.0, (w - self.box.w) / 2)

    def boundingRect(self) -> QRectF:
        spill = max(12.0 * self.theme.font_scale, self.box.spill, self.extra_reach())
        return self._rect.adjusted(-spill, -4, spill, 4)

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionGraphicsItem,
        widget: QWidget | None = None,
    ) -> None:
        th = self.theme
        fs = th.font_scale
        b = self.box
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        text = QColor(th.text)
        muted = QColor(th.muted)
        # title, centred over the row, at the top (a priority queue's items
        # wear their priority tags between it and the row)
        p.setFont(self.title_font())
        p.setPen(text)
        row_top = b.row.y - b.y
        p.drawText(
            QRectF(-b.spill, 0, b.w + 2 * b.spill, row_top),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
            self.title,
        )
        # the row frame and its slots
        rx = b.row.x - b.x
        row = QRectF(rx, row_top, b.row.w, b.row.h)
        frame_pen = QPen(QColor(FULL_COLOR) if self.full else text)
        frame_pen.setWidthF((2.8 if self.full else 1.6) * fs)
        p.setPen(frame_pen)
        p.setBrush(QColor(th.queue_fill))
        p.drawRoundedRect(row.adjusted(-3, -3, 3, 3), 5, 5)
        p.setPen(QPen(QColor(th.grid), 1.0))
        p.setBrush(QColor(th.slot))
        pad = 2.5 * th.token_scale
        for k in range(b.slots):
            x = row.right() - (k + 1) * b.slot_w
            p.drawRoundedRect(
                QRectF(x + pad, row.top() + pad, b.slot_w - 2 * pad, row.height() - 2 * pad), 4, 4
            )
        if self.opened is not None:
            self._paint_inside(p, row)
        if self.kind in MANAGER_KINDS:  # the queue is not here: it lives in a server
            self._paint_manager(p, row)
        if b.more:  # open at the back: the queue goes on
            pen = QPen(muted, 1.4 * fs, Qt.PenStyle.DashLine)
            p.setPen(pen)
            back = QPointF(-14 * fs, 0)
            p.drawLine(row.topLeft() + QPointF(-3, -3), row.topLeft() + QPointF(-3, -3) + back)
            p.drawLine(row.bottomLeft() + QPointF(-3, 3), row.bottomLeft() + QPointF(-3, 3) + back)
        # under the row: "+N more" at the back, the fill at the front
        line = self.line_h()
        y = row.bottom() + 4 * fs
        f_left, f_right, f_extra = self.fonts()
        if self.left:
            p.setFont(f_left)
            p.setPen(text)
            p.drawText(QRectF(rx, y, b.row.w, line), Qt.AlignmentFlag.AlignLeft, self.left)
        p.setPen(text)
        p.setFont(f_right)
        p.drawText(QRectF(rx, y, b.row.w, line), Qt.AlignmentFlag.AlignRight, self.right)
        if self.extra:
            p.setFont(f_extra)
            p.setPen(muted)
            reach = max(b.spill, self.extra_reach())
            wide = QRectF(-reach, y + line, b.w + 2 * reach, line)
            p.drawText(wide, Qt.AlignmentFlag.AlignHCenter, self.extra)

    def _paint_inside(self, p: QPainter, row: QRectF) -> None:
        """The pipe at the front (tinted, with its fill gauge), a feeder glyph where
        each process's buffer meets it."""
        o = self.opened
        assert o is not None
        th, b = self.theme, self.box
        fs = th.font_scale
        x_div = row.right() - o.pipe_slots * b.slot_w
        tube = QRectF(x_div, row.top(), row.right() - x_div, row.height())
        pipe_colour = QColor(PIPE_COLOR)
        pipe_colour.setAlpha(70)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(pipe_colour)
        p.drawRect(tube)
        if o.fill >= 0:  # the gauge under the pipe: its bytes of its capacity
            w = max(tube.width(), 2 * b.slot_w)
            h = 3.5 * fs
            p.setBrush(QColor(th.grid))
            p.drawRect(QRectF(row.right() - w, row.bottom() - h, w, h))
            p.setBrush(QColor(FULL_COLOR if o.fill >= 1.0 else PIPE_COLOR))
            p.drawRect(QRectF(row.right() - w * o.fill, row.bottom() - h, w * o.fill, h))
        pen = QPen(QColor(th.text), 1.4 * fs, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.drawLine(QPointF(x_div, row.top() - 2), QPointF(x_div, row.bottom() + 2))

    def _paint_manager(self, p: QPainter, row: QRectF) -> None:
        """A manager's queue lives in the manager's server process: a dashed box
        around it says so (every put() and get() is a message there and back)."""
        fs = self.theme.font_scale
        pen = QPen(QColor(self.theme.muted), 1.2 * fs, Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(row.adjusted(-7 * fs, -7 * fs, 7 * fs, 7 * fs), 8, 8)

    def line_h(self) -> float:
        return (MIN_FONT + 3) * self.theme.font_scale

    def fonts(self) -> tuple[QFont, QFont, QFont]:
        """Fonts of the "+N more", fill and extra lines (bold: "+N more", "full")."""
        fs = self.theme.font_scale
        small = make_font(MIN_FONT * fs)
        bold = make_font(MIN_FONT * fs, bold=True)
        return bold, bold if self.full else small, small

    def title_font(self) -> QFont:
        return make_font(12.5 * self.theme.font_scale, bold=True)

    def texts(self) -> list[tuple[str, int]]:
        """What the queue writes, with font sizes in scene units."""
        f_left, f_right, f_extra = self.fonts()
        out = [(self.title, self.title_font().pixelSize()), (self.right, f_right.pixelSize())]
        if self.left:
            out.append((self.left, f_left.pixelSize()))
        if self.extra:
            out.append((self.extra, f_extra.pixelSize()))
        return out
