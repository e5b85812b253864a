"""Tokens past what can be drawn are counted on lane badges, exactly.

These feed the real reducer a burst of events (as a flat-out run delivers in
one frame) so the numbers are exact and the test needs no timing luck.
"""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from qsim.model.events import EventKind, make_event, producer_item_id
from qsim.model.state import Reducer
from qsim.model.topology import build_topology
from qsim.ui.bench import flat_out_scenario
from qsim.ui.diagram import DiagramView
from qsim.ui.diagram.animator import MAX_FLYING

K = EventKind
T0 = 10_000_000_000


def test_a_burst_beyond_the_drawable_is_counted_exactly(qtbot: QtBot) -> None:
    sc = flat_out_scenario()
    topo = build_topology(sc)
    reducer = Reducer(topo, reorder_ns=0)
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.set_scenario(sc, topo)
    producers = [a.index for a in topo.actors if a.role == "producer"]
    burst = []
    for n in range(1, 251):
        for k, p in enumerate(producers):
            t = T0 + n * 1000 + k
            burst.append(make_event(t, p, K.PUT_DONE, producer_item_id(p, n), 0, 1, seq=n))
    reducer.feed(burst)
    reducer.advance(T0 + 1_000_000)
    view.apply_frame(reducer, reducer.last_applied, T0 + 1_000_000)

    shown = view.visible_slots(0)
    assert reducer.queues[0].depth == 1000
    assert view.drawn_queue_contents(0) == reducer.queues[0].contents[:shown]
    animator = view.animator
    assert animator is not None
    flying = len(animator.flyers)
    assert flying <= MAX_FLYING
    # every put that is not resting in a drawn slot is in flight: drawn or counted
    assert view.in_flight() == 1000 - shown
    badges = sum(int(text[1:]) for _, _, text in animator.badges())
    assert badges == 1000 - shown - flying
    assert view.token_count() <= MAX_FLYING + shown
    # once the flights have landed, only the drawn slots are left
    view.apply_frame(reducer, [], T0 + 2_000_000_000)
    view.apply_frame(reducer, [], T0 + 3_000_000_000)
    assert view.in_flight() == 0
    assert view.token_count() == shown
