"""Measuring every text a window shows, in pixels on screen (for the legibility
tests): the diagram's own painting (via ``DiagramView.text_sizes``), plots,
lesson text, and every visible widget that shows words.

Also ``busy_events``: a run's worth of hand-made events for a lesson, so that
tokens (with their labels, priorities, big numbers, a sentinel) are on screen
without starting a process.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QFont, QFontInfo, QTextCharFormat, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QComboBox,
    QDockWidget,
    QGraphicsTextItem,
    QLabel,
    QLineEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)

from qsim.model.events import Event, EventKind, make_event, producer_item_id, sentinel_id
from qsim.model.scenario import Scenario
from qsim.model.topology import Topology
from qsim.ui.main_window import MainWindow

K = EventKind
S = 1_000_000_000
Sample = tuple[str, str, float]  # (where, text, pixels)


def px_of(font: QFont) -> float:
    return float(QFontInfo(font).pixelSize())


def busy_events(sc: Scenario, topo: Topology, t0: int = 10 * S) -> list[Event]:
    """Every actor started; each producer has put items (the last with a five
    digit number, a priority if it gives them) and holds one; each consumer
    works on one; a sentinel waits at the back of every queue."""
    events: list[Event] = []
    t = t0
    for a in topo.actors:
        events.append(make_event(t, a.index, K.ACTOR_STARTED))
    prios = {p.id: p.priorities for p in sc.producers}
    numbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 12345]
    for a in topo.actors:
        if a.role != "producer" or a.output_queue < 0:
            continue
        ranks = prios.get(a.group) or (0,)
        for k, n in enumerate(numbers):
            t += 1000
            item = producer_item_id(a.index, n)
            events.append(
                make_event(t, a.index, K.PUT_DONE, item, a.output_queue, 1, ranks[k % len(ranks)])
            )
        t += 1000
        events.append(make_event(t, a.index, K.WORK_START, producer_item_id(a.index, 99)))
    for a in topo.actors:
        if a.role in ("consumer", "stage") and a.input_queue >= 0:
            src = next(p for p in topo.actors if p.output_queue == a.input_queue)
            if src.role == "producer":
                t += 1000
                item = producer_item_id(src.index, 1 + a.index % 3)
                events.append(make_event(t, a.index, K.GET_DONE, item, a.input_queue, 1))
    for q in topo.queues:
        t += 1000
        events.append(make_event(t, 0, K.PUT_DONE, sentinel_id(0, q.index + 1), q.index, 1))
    return events


def widget_texts(win: MainWindow) -> list[Sample]:
    """Font pixel sizes of every visible widget that shows words."""
    out: list[Sample] = []
    for w in win.findChildren(QWidget):
        if not w.isVisible() or w.width() < 2 or w.height() < 2:
            continue
        name = w.objectName() or type(w).__name__
        if isinstance(w, QLabel):
            font_px = getattr(w, "font_px", None)
            px = float(font_px()) if callable(font_px) and font_px() else px_of(w.font())
            if w.text().strip():
                out.append((f"label {name}", w.text()[:40], px))
        elif isinstance(w, QTextEdit):
            out += document_texts(w.document(), f"document {name}")
        elif isinstance(w, QAbstractButton | QComboBox | QLineEdit | QAbstractSpinBox):
            text = getattr(w, "text", lambda: "")() if not isinstance(w, QComboBox) else "combo"
            if text or not isinstance(w, QAbstractButton):
                out.append((f"control {name}", str(text)[:40], px_of(w.font())))
        elif isinstance(w, QTabBar | QAbstractItemView):
            out.append((f"list {name}", "", px_of(w.font())))
        elif isinstance(w, QDockWidget) and not w.isFloating():
            out.append((f"dock title {name}", w.windowTitle(), px_of(w.font())))
        elif isinstance(w, pg.GraphicsView):
            out += plot_texts(w, name)
        elif w.metaObject().className() == "QMenuBar":
            out.append(("menu bar", "", px_of(w.font())))
    return out


def document_texts(doc: QTextDocument, where: str) -> list[Sample]:
    """Each run of text in a rich text document, with its resolved font size."""
    base = doc.defaultFont()
    out: list[Sample] = []
    block = doc.begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            frag = it.fragment()
            fmt: QTextCharFormat = frag.charFormat()
            font = fmt.font().resolve(base)
            px = px_of(font)
            if fmt.hasProperty(fmt.Property.FontSizeAdjustment):
                px *= 1.2 ** fmt.intProperty(fmt.Property.FontSizeAdjustment)
            text = frag.text().strip()
            if text:
                out.append((where, text[:40], px))
            it += 1
        block = block.next()
    return out


def plot_texts(view: pg.GraphicsView, name: str) -> list[Sample]:
    """Axis tick labels and titles of a pyqtgraph view (drawn 1:1)."""
    out: list[Sample] = []
    for item in view.scene().items():
        if not item.isVisible():
            continue
        if isinstance(item, pg.AxisItem) and item.style.get("showValues", True):
            font = item.style.get("tickFont") or item.font()
            out.append((f"plot axis {name}", item.orientation, px_of(font)))
        elif isinstance(item, QGraphicsTextItem) and item.toPlainText().strip():
            item.document().setDefaultFont(item.font())
            out += document_texts(item.document(), f"plot text {name}")
    return out


def all_texts(win: MainWindow) -> list[Sample]:
    diagram = [(f"diagram {w}", t, px) for w, t, px in win.diagram.text_sizes() if t.strip()]
    return diagram + widget_texts(win)
