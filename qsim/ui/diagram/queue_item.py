"""A queue drawn as a row of slots with its kind, capacity and fill labelled.

The tokens sitting in the slots are drawn by the token layer (they move);
this item draws the frame, the slots and the text, cached until they change.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from qsim.model.state import QueueState
from qsim.ui.diagram.actors import make_font
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
        return self._rect.adjusted(-4, -4, 4, 4)

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
        # title, centred over the row
        p.setFont(make_font(12 * fs, bold=True))
        p.setPen(text)
        row_top = b.row.y - b.y
        p.drawText(
            QRectF(-40, 0, b.w + 80, row_top - 2 * fs),
            Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom,
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
        small = make_font(10.5 * fs)
        p.setFont(small)
        line = 13.5 * fs
        y = row.bottom() + 4 * fs
        p.setPen(QColor(th.text) if self.left else muted)
        if self.left:
            p.setFont(make_font(10.5 * fs, bold=True))
            p.drawText(QRectF(rx, y, b.row.w, line), Qt.AlignmentFlag.AlignLeft, self.left)
            p.setFont(small)
        p.setPen(text)
        if self.full:
            p.setFont(make_font(10.5 * fs, bold=True))
        p.drawText(QRectF(rx, y, b.row.w, line), Qt.AlignmentFlag.AlignRight, self.right)
        if self.extra:
            p.setFont(small)
            p.setPen(muted)
            p.drawText(
                QRectF(-40, y + line, b.w + 80, line), Qt.AlignmentFlag.AlignHCenter, self.extra
            )
