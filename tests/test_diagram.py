"""The live diagram with real processes: tokens, queue contents, actor states."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from handy import handy
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from qsim.model import state as S
from qsim.model.events import producer_item_id
from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, RunOptions, Scenario
from qsim.resources import load
from qsim.ui.diagram import DiagramView
from qsim.ui.session import LiveSession
from qsim.ui.theme import DARK, presentation

Live = Callable[..., tuple[LiveSession, DiagramView]]
FrameHook = Callable[[LiveSession, DiagramView], None]


@pytest.fixture
def live(qtbot: QtBot) -> Iterator[Live]:
    """``live(scenario, start_method, on_frame)``: a playing session drawn by a view."""
    sessions: list[LiveSession] = []

    def start(
        sc: Scenario, start_method: str = "fork", on_frame: FrameHook | None = None
    ) -> tuple[LiveSession, DiagramView]:
        session = LiveSession(start_method=start_method)
        sessions.append(session)
        view = DiagramView()
        qtbot.addWidget(view)
        view.resize(1280, 720)

        def frame(now_ns: int) -> None:
            assert session.reducer is not None
            view.apply_frame(session.reducer, session.applied, now_ns)
            if on_frame is not None:
                on_frame(session, view)

        session.scenario_loaded.connect(lambda s: view.set_scenario(s, session.topology))
        session.frame.connect(frame)
        view.show()
        qtbot.waitExposed(view)
        session.load(sc)
        session.play()
        return session, view

    yield start
    for s in sessions:
        s.shutdown()


def quick_basic() -> Scenario:
    """The basic lesson as a scenario, sped up: 5 items and a DONE sentinel."""
    sc = handy("small-basic")
    p = replace(sc.producers[0], items=5, interval=0.05)
    c = replace(sc.consumers[0], work_time=0.1)
    return replace(sc, producers=(p,), consumers=(c,))


def test_play_makes_tokens_appear_and_items_reach_the_consumer(
    live: Live, qtbot: QtBot, start_method: str
) -> None:
    seen = {"tokens": 0, "in_hand": set()}
    consumer = 2  # main 0, P 1, C 2

    def watch(s: LiveSession, v: DiagramView) -> None:
        seen["tokens"] = max(seen["tokens"], v.token_count())
        seen["in_hand"].update(v.hand_items(consumer))  # type: ignore[attr-defined]

    session, view = live(quick_basic(), start_method, watch)
    qtbot.waitUntil(lambda: session.status == "finished", timeout=20_000)
    assert session.reducer is not None
    assert session.reducer.acct.processed == 5
    assert seen["tokens"] > 0
    # every data item was drawn in the consumer's hand at some frame
    data = {i for i in seen["in_hand"] if i > 0}  # type: ignore[attr-defined]
    assert len(data) == 5
    assert view.actor_state_text(consumer) == "finished"
    assert view.actor_items[consumer].counter == "5 done"


def test_drawn_queue_equals_reducer_contents_under_backpressure(live: Live, qtbot: QtBot) -> None:
    sc = load("backpressure")
    sc = replace(sc, consumers=(replace(sc.consumers[0], work_time=0.15),))
    checks = {"frames": 0, "full_frames": 0, "blocked": 0, "tooltip": ""}

    def watch(s: LiveSession, v: DiagramView) -> None:
        r = s.reducer
        assert r is not None
        q = r.queues[0]
        assert v.drawn_queue_contents(0) == q.contents[: v.visible_slots(0)]
        checks["frames"] += 1
        if q.depth == q.maxsize:
            checks["full_frames"] += 1
        if r.actors[1].state == S.BLOCKED_PUT and not r.actors[1].paused:
            assert v.actor_state_text(1) == "blocked on put"
            checks["blocked"] += 1
            checks["tooltip"] = v.actor_tooltip(1)

    session, view = live(sc, "fork", watch)
    qtbot.waitUntil(lambda: checks["blocked"] >= 3, timeout=15_000)
    assert view.visible_slots(0) == 2  # Queue(maxsize=2) draws exactly its two slots
    assert checks["full_frames"] >= 1
    assert "P1 is blocked in put(): queue q is full (2/2)" in str(checks["tooltip"])
    session.stop()  # the blocked producer is stopped: its last events still arrive
    qtbot.waitUntil(lambda: view.actor_state_text(1) == S.FINISHED, timeout=10_000)
    r = session.reducer
    assert r is not None
    assert view.drawn_queue_contents(0) == r.queues[0].contents[:2]
    # a new theme (presentation scale) lays out again and shows the same contents
    view.set_theme(presentation(DARK))
    assert view.drawn_queue_contents(0) == r.queues[0].contents[:2]
    assert view.actor_state_text(1) == S.FINISHED


def test_waiting_consumer_is_explained(live: Live, qtbot: QtBot) -> None:
    sc = quick_basic()
    slow = replace(sc.producers[0], interval=0.6, items=3)
    session, view = live(replace(sc, producers=(slow,)), "fork")
    consumer = 2

    def waiting() -> bool:
        r = session.reducer
        return (
            r is not None
            and r.actors[consumer].state == S.WAITING_GET
            and r.actors[1].state == S.WORKING  # the explanation names what P1 does
        )

    qtbot.waitUntil(waiting, timeout=10_000)
    view.apply_frame(session.reducer, [], session.reducer.last_t)  # type: ignore[arg-type]
    assert view.actor_state_text(consumer) == "waiting on get"
    tip = view.actor_tooltip(consumer)
    assert "C1 is waiting in get(): queue q is empty; P1 is busy working" in tip


def test_crashed_consumer_shows_crashed_and_its_exit_code(live: Live, qtbot: QtBot) -> None:
    sc = Scenario(
        id="crash",
        title="crash",
        queues=(QueueSpec("q", "Queue", 3),),
        producers=(ProducerSpec("P", "q", 1, items=8, interval=0.02),),
        consumers=(ConsumerSpec("C", "q", 1, work_time=0.05, crash_after=2, crash_mode="exit"),),
        run=RunOptions(start_method="fork", hang_after=30.0),
    )
    _session, view = live(sc, "fork")
    consumer = 2
    qtbot.waitUntil(lambda: view.actor_state_text(consumer).startswith("crashed"), timeout=15_000)
    assert view.actor_state_text(consumer) == "crashed (exit 3)"
    tip = view.actor_tooltip(consumer)
    assert "C1 crashed with exit code 3" in tip
    assert "os._exit(3)" in tip
    assert view.actor_items[consumer].state_key == S.CRASHED
    # hovering the box shows the same explanation as its tooltip
    item = view.actor_items[consumer]
    centre = view.mapFromScene(item.sceneBoundingRect().center())
    QTest.mouseMove(view.viewport(), centre)
    qtbot.waitUntil(lambda: "C1 crashed with exit code 3" in item.toolTip(), timeout=3_000)


def test_pause_freezes_the_tokens(live: Live, qtbot: QtBot) -> None:
    session, view = live(load("backpressure"), "fork")
    qtbot.waitUntil(lambda: view.token_count() >= 2, timeout=10_000)
    session.pause()
    view.set_paused(True)
    qtbot.waitUntil(
        lambda: session.reducer is not None and session.reducer.held == 0, timeout=5_000
    )
    qtbot.wait(400)  # let the last moves settle (the frame timer keeps running)

    def positions() -> list[tuple[int, float, float]]:
        return sorted((t.item, t.x, t.y) for t in view.layer.tokens)  # type: ignore[union-attr]

    before = positions()
    n = session.frames
    qtbot.waitUntil(lambda: session.frames >= n + 10, timeout=5_000)
    assert positions() == before
    # the producer reached the pause gate and says so
    qtbot.waitUntil(lambda: view.actor_state_text(1) == "paused", timeout=5_000)
    assert "paused at the run's pause gate" in view.actor_tooltip(1)


def test_killed_consumer_loses_the_item_it_held(live: Live, qtbot: QtBot) -> None:
    sc = Scenario(
        id="kill",
        title="kill",
        queues=(QueueSpec("q", "Queue", 2),),
        producers=(ProducerSpec("P", "q", 1, items=3, interval=0.01),),
        consumers=(ConsumerSpec("C", "q", 1, work_time=5.0),),
        run=RunOptions(start_method="fork", hang_after=30.0),
    )
    session, view = live(sc, "fork")
    consumer = 2
    qtbot.waitUntil(lambda: view.hand_items(consumer) == [producer_item_id(1, 1)], timeout=10_000)
    assert view.actor_state_text(consumer) == "working"
    assert session.run is not None
    os.kill(session.run.pids()["C1"], signal.SIGKILL)
    qtbot.waitUntil(lambda: view.actor_state_text(consumer) == "crashed (exit -9)", timeout=10_000)
    tip = view.actor_tooltip(consumer)
    assert "C1 crashed with exit code -9 (killed by SIGKILL); it held P1#1, now lost" in tip
    assert view.hand_items(consumer) == []
