"""A queue drawn as a row of slots with its kind, capacity and fill labelled.

The tokens sitting in the slots are drawn by the token layer (they move);
this item draws the frame, the slots and the text, cached until they change.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from qsim.model.state import QueueState
from qsim.ui.diagram.actors import MIN_FONT, make_font
from qsim.ui.diagram.layout import QueueBox, queue_title
from qsim.ui.theme import Theme

FULL_COLOR = "#D55E00"  # Okabe-Ito vermillion: a full queue's frame and "full" label


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


class QueueItem(QGraphicsItem):
    """One queue's frame, slots and labels."""

    def __init__(self, box: QueueBox, qid: str, kind: str, maxsize: int, theme: Theme) -> None:
        super().__init__()
        self.box = box
        self.kind = kind
        self.maxsize = maxsize
        self.title = queue_title(qid, kind, maxsize)
        self.theme = theme
        self.left = ""
        self.right = "empty"
        self.extra = "unfinished: 0" if kind == "JoinableQueue" else ""
        self.full = False
        self._rect = QRectF(0, 0, box.w, box.h)
        self.setPos(box.x, box.y)
        self.setZValue(0)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_theme(self, theme: Theme) -> None:
        self.theme = theme
        self.update()

    def set_content(self, q: QueueState, lane: str = "") -> None:
        """Show ``q``; ``lane``: a measured lane's figures, under the row."""
        left, right = queue_status(q, self.box.slots)
        extra = " · ".join(x for x in (queue_extra(q), lane) if x)
        full = q.maxsize > 0 and q.kind != "SimpleQueue" and q.depth >= q.maxsize
        if (left, right, extra, full) != (self.left, self.right, self.extra, self.full):
            self.left, self.right, self.extra, self.full = left, right, extra, full
            self.update()

    def boundingRect(self) -> QRectF:
        spill = max(4.0, self.box.spill)
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
            wide = QRectF(-b.spill, y + line, b.w + 2 * b.spill, line)
            p.drawText(wide, Qt.AlignmentFlag.AlignHCenter, self.extra)

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
