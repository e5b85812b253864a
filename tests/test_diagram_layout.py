"""The diagram's layout stays readable: no overlapping boxes, text big enough."""

from __future__ import annotations

import itertools

import pytest
from pytestqt.qtbot import QtBot

from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    Scenario,
)
from qsim.model.topology import build_topology
from qsim.ui.diagram import DiagramView
from qsim.ui.theme import DARK, LIGHT, Theme, presentation


def many_to_many(n: int = 16) -> Scenario:
    return Scenario(
        id="many",
        title=f"{n} x {n}",
        queues=(QueueSpec("q", "Queue", 8),),
        producers=(ProducerSpec("P", "q", n),),
        consumers=(ConsumerSpec("C", "q", n),),
    )


def pipeline(stages: int = 3, workers: int = 2) -> Scenario:
    queues = tuple(QueueSpec(f"q{k + 1}", "Queue", 4) for k in range(stages + 1))
    cons = [
        ConsumerSpec(f"S{k + 1}", f"q{k + 1}", workers, output=f"q{k + 2}") for k in range(stages)
    ]
    cons.append(ConsumerSpec("C", f"q{stages + 1}", 1))
    return Scenario(
        id="pipe",
        title="pipeline",
        queues=queues,
        producers=(ProducerSpec("P", "q1", 2),),
        consumers=tuple(cons),
    )


def joinable() -> Scenario:
    return Scenario(
        id="join",
        title="join",
        queues=(QueueSpec("q", "JoinableQueue", 5),),
        producers=(ProducerSpec("P", "q", 3),),
        consumers=(ConsumerSpec("C", "q", 3),),
        main=MainSpec(sentinels=3, sentinel_queue="q", join="q"),
    )


CASES = {
    "1x1": many_to_many(1),
    "16x16": many_to_many(16),
    "3 stages": pipeline(3, 2),
    "3 stages x 6": pipeline(3, 6),
    "main joins": joinable(),
}
SIZES = [(1280, 720), (1920, 1080)]
CROWDS = ("16x16", "3 stages x 6")


def show(qtbot: QtBot, sc: Scenario, size: tuple[int, int], theme: Theme) -> DiagramView:
    view = DiagramView()
    qtbot.addWidget(view)
    view.resize(*size)
    view.set_theme(theme, presenting=theme.font_scale > 1)
    view.set_scenario(sc, build_topology(sc))
    view.show()
    qtbot.waitExposed(view)
    return view


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("theme", [LIGHT, presentation(LIGHT)], ids=["light", "presentation"])
def test_boxes_do_not_overlap_and_text_is_readable(
    qtbot: QtBot, case: str, size: tuple[int, int], theme: Theme
) -> None:
    sc = CASES[case]
    view = show(qtbot, sc, size, theme)
    actors = [item.sceneBoundingRect() for item in view.actor_items.values()]
    queues = [item.sceneBoundingRect() for item in view.queue_items]
    expected = sum(p.count for p in sc.producers) + sum(c.count for c in sc.consumers)
    assert len(actors) == expected + (1 if sc.main.join else 0)
    for a, b in itertools.combinations(actors + queues, 2):
        assert not a.intersects(b), f"{case}: {a} overlaps {b}"
    scene = view.sceneRect()
    for r in actors + queues:
        assert scene.contains(r), f"{case}: {r} sticks out of {scene}"
    # the smallest text on screen: the legible minimum where it can be had (a
    # crowd of 16 x 16 or 18 stage workers in a 1280x720 view cannot: then the
    # best that fits, still readable)
    smallest = min(px for _, _, px in view.text_sizes())
    want = 8.0 if case in CROWDS else view.min_text_px  # presenting: 18 px at 1080 high
    assert want >= (18.0 if theme.font_scale > 1 and size[1] == 1080 else 11.0) or want == 8
    assert smallest >= want, f"{case} at {size}: the smallest text is {smallest:.1f} px"


def test_main_is_drawn_only_when_it_runs(qtbot: QtBot) -> None:
    view = show(qtbot, many_to_many(2), (1280, 720), LIGHT)
    assert 0 not in view.actor_items
    assert view.actor_state_text(0) == ""
    view.set_scenario(joinable(), build_topology(joinable()))
    assert view.actor_items[0].title == "main process"


def test_queue_labels_say_kind_and_capacity(qtbot: QtBot) -> None:
    sc = Scenario(
        id="kinds",
        title="kinds",
        queues=(
            QueueSpec("a", "Queue", 2),
            QueueSpec("b", "SimpleQueue"),
            QueueSpec("c", "ManagerQueue"),
            QueueSpec("d", "PriorityQueue", 30),
        ),
        producers=tuple(ProducerSpec(f"P{q}", q) for q in "abcd"),
        consumers=tuple(ConsumerSpec(f"C{q}", q) for q in "abcd"),
    )
    view = show(qtbot, sc, (1280, 720), DARK)
    titles = [q.title for q in view.queue_items]
    assert titles == [
        "a: Queue(maxsize=2)",
        "b: SimpleQueue()",
        "c: Manager().Queue()",
        "d: PriorityQueue (manager), maxsize=30",
    ]
    # bounded and small: exactly maxsize slots; unbounded or large: the first slots
    assert view.visible_slots(0) == 2
    assert view.visible_slots(3) < 30
