"""What a token's colour means, its label, its tooltip, and zooming the diagram.

The diagram is fed hand-made events (no process): tokens are where the
reducer says, coloured by priority in the priority lessons and by producer
where several producers share a queue, with a legend saying which is which.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from handy import scenario
from legibility import busy_events
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from qsim.model.events import EventKind, producer_item_id
from qsim.model.state import Reducer
from qsim.model.topology import build_topology
from qsim.ui.diagram import DiagramView
from qsim.ui.diagram.colours import BY_PRIORITY, BY_PRODUCER
from qsim.ui.diagram.tokens import Look
from qsim.ui.theme import DARK, LIGHT, PRIORITIES, Theme, presentation

K = EventKind


@pytest.fixture
def view(qtbot: QtBot) -> Iterator[DiagramView]:
    v = DiagramView()
    qtbot.addWidget(v)
    v.resize(1280, 720)
    v.show()
    qtbot.waitExposed(v)
    yield v


def busy(view: DiagramView, lesson: str, theme: Theme = LIGHT) -> Reducer:
    sc = scenario(lesson)
    topo = build_topology(sc)
    view.set_theme(theme)
    view.set_scenario(sc, topo)
    r = Reducer(topo, reorder_ns=0)
    r.feed(busy_events(sc, topo))
    r.flush()
    view.apply_frame(r, r.last_applied, r.last_t)
    view.apply_frame(r, [], r.last_t + 2 * 10**9)
    return r


def queued_looks(view: DiagramView, queue: int = 0) -> dict[int, Look]:
    animator = view.animator
    assert animator is not None
    looks = {}
    for item in view.drawn_queue_contents(queue):
        look = animator.placed[item].look
        assert look is not None
        looks[item] = look
    return looks


@pytest.mark.parametrize("lesson", ["small-priority", "starvation"])
@pytest.mark.parametrize("theme", [LIGHT, DARK], ids=["light", "dark"])
def test_priority_lessons_colour_by_priority_with_a_legend(
    view: DiagramView, lesson: str, theme: Theme
) -> None:
    r = busy(view, lesson, theme)
    key = view.colours
    assert key is not None and key.mode == BY_PRIORITY
    assert view.legend is not None and view.legend.isVisible()
    labels = [s.label for s in view.legend.spots if not s.title]
    assert labels == [str(p) for p in sorted(key.by_priority)]
    words = [s.words for s in view.legend.spots if not s.title]
    assert words[0] == "most urgent" and words[-1] == "least urgent"
    # the most and least urgent get the palette's two ends; each token its priority's
    assert key.by_priority[min(key.by_priority)] == PRIORITIES[0]
    assert key.by_priority[max(key.by_priority)] == PRIORITIES[-1]
    for item, look in queued_looks(view).items():
        if item > 0:
            prio = r.priority[item]
            assert look.color == key.by_priority[prio]
            assert look.priority == f"p{prio}"


def test_an_item_keeps_its_priority_colour_once_got(view: DiagramView) -> None:
    r = busy(view, "small-priority")
    key = view.colours
    assert key is not None
    consumer = next(a.index for a in r.topology.actors if a.role == "consumer")
    held = view.hand_items(consumer)
    assert held
    animator = view.animator
    assert animator is not None
    look = animator.placed[held[0]].look
    assert look is not None and look.color in key.by_priority.values()


def test_producers_sharing_a_queue_get_colours_and_a_legend(view: DiagramView) -> None:
    busy(view, "small-many-to-many")
    key = view.colours
    assert key is not None and key.mode == BY_PRODUCER
    assert view.legend is not None
    assert [s.label for s in view.legend.spots if not s.title] == ["P1", "P2", "P3"]
    colours = [e.colour for e in key.entries]
    assert len(set(colours)) == 3
    # two items with the same number from two producers: same label, other colour
    looks = queued_looks(view)
    by_origin: dict[str, set[str]] = {}
    for item, look in looks.items():
        if item > 0:
            by_origin.setdefault(look.text, set()).add(look.color)
    assert any(len(c) > 1 for c in by_origin.values()), by_origin


def test_one_producer_per_queue_needs_no_legend(view: DiagramView) -> None:
    busy(view, "small-basic")
    assert view.legend is None
    busy(view, "serialization")  # four lanes: each its own colour, no legend needed
    assert view.legend is None


def test_a_label_too_long_for_its_token_is_cut_short_and_told_in_full(view: DiagramView) -> None:
    busy(view, "small-basic")
    painter = view.painter
    font, text, _ = painter.label(Look(False, "#0072B2", "12345"))
    assert text.startswith("…") and text.endswith("5")  # the last digits tell neighbours apart
    assert font.pixelSize() * view.transform().m11() >= view.min_text_px - 0.01
    font, text, _ = painter.label(Look(False, "#0072B2", "42"))
    assert text == "42"
    font, text, _ = painter.label(Look(True, "#000000", "STOP"))
    assert text == "STOP"  # the octagon grows a little for its word
    item = producer_item_id(1, 12345)
    assert view.token_tooltip(item) == "item 12345 made by P1"


def test_hovering_a_token_shows_its_item(view: DiagramView, qtbot: QtBot) -> None:
    busy(view, "small-priority")
    layer = view.layer
    assert layer is not None
    front = next(i for i in view.drawn_queue_contents(0) if i > 0)
    tok = view.animator.placed[front] if view.animator else None
    assert tok is not None
    assert layer.token_at(QPointF(tok.x, tok.y)) is tok
    assert layer.contains(QPointF(tok.x, tok.y))
    assert not layer.contains(QPointF(-500, -500))  # elsewhere: the boxes below get the mouse
    assert "priority" in view.token_tooltip(front)


def test_zoom_keys_and_ctrl_wheel_scale_the_diagram(view: DiagramView) -> None:
    busy(view, "small-basic")
    fitted = view.transform().m11()
    view.zoom_in()
    assert view.transform().m11() == pytest.approx(fitted * 1.25)
    wheel = QWheelEvent(
        QPointF(300, 200),
        QPointF(view.mapToGlobal(QPoint(300, 200))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(view.viewport(), wheel)
    assert view.transform().m11() == pytest.approx(fitted * 1.25**2)
    view.zoom_fit()
    assert view.transform().m11() == pytest.approx(fitted)
    view.zoom_out()
    assert view.transform().m11() == pytest.approx(fitted / 1.25)


def test_presenting_the_diagram_fills_the_view(view: DiagramView) -> None:
    busy(view, "backpressure")  # a small diagram: not blown up in a window
    normal = view.transform().m11()
    view.set_theme(presentation(LIGHT), presenting=True)
    scene = view.sceneRect()
    scale = view.transform().m11()
    filled = max(scene.width() * scale / view.width(), scene.height() * scale / view.height())
    assert filled == pytest.approx(1.0, abs=0.01)
    assert scale * view.scene_theme.font_scale > normal
