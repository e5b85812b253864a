"""Panels on real runs, one queue's view: capacity and backpressure, priority
order, JoinableQueue completion. Every figure a panel shows equals what the
test works out itself, at the same frame, from the session's reducer and the
events it applied (see ``live_panels``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from live_panels import K, Live, backpressure, in_state, live_sessions, run_to_end
from PySide6.QtCore import Qt

from qsim.model.events import describe_item
from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.state import BLOCKED_PUT, CRASHED


@pytest.fixture
def live(qtbot: Any) -> Iterator[Live]:
    with live_sessions(qtbot) as make:
        yield make


# ---------------------------------------------------------------- capacity
def test_capacity_figures_equal_the_reducer_frame_by_frame(qtbot: Any, live: Any) -> None:
    s, panels, rec = live(backpressure())
    panel = panels["capacity"]
    seen_blocked = []

    def check(now: int) -> None:
        if panel.shown_now != now or s.reducer is None:
            return
        r, t, fig = s.reducer, panel.view_t, panel.figures()
        q, p = r.queues[0], r.actors[1]
        assert fig["q.depth"] == q.depth and fig["q.maxsize"] == 2
        assert fig["q.full"] == q.full
        blocked = in_state(p, BLOCKED_PUT, p.blocked_ns, t)
        assert fig["P1.blocked_s"] == blocked / 1e9
        life = rec.lifetime(1, t)
        assert fig["P1.blocked_pct"] == (100.0 * blocked / life if life else 0.0)
        assert fig["P1.put_timeouts"] == p.put_timeouts
        seen_blocked.append(p.state == BLOCKED_PUT)
        rec.compared += 1

    rec.checks.append(check)
    run_to_end(qtbot, s)
    assert rec.compared >= 5 and any(seen_blocked)  # compared while P1 was blocked too
    fig = panel.figures()
    assert float(fig["P1.blocked_pct"]) > 25
    assert fig["situation"] == (
        f"Producers are blocked {fig['P1.blocked_pct']:.0f}% of the time: "
        "the consumers are the bottleneck."
    )


def test_capacity_controls_restart_with_maxsize_and_put_timeout(qtbot: Any, live: Any) -> None:
    s, panels, _rec = live(backpressure(items=10))
    panel = panels["capacity"]
    panel.maxsize.setValue(5)
    panel.timeout.setValue(0.1)
    qtbot.mouseClick(panel.apply, Qt.MouseButton.LeftButton)
    assert s.scenario is not None
    assert s.scenario.queues[0].maxsize == 5
    assert s.scenario.producers[0].put_timeout == pytest.approx(0.1)
    assert panel.figures()["q.maxsize"] == 5
    # a short timeout against a slow consumer: queue.Full, counted as the reducer did
    panel.maxsize.setValue(1)
    panel.timeout.setValue(0.03)
    qtbot.mouseClick(panel.apply, Qt.MouseButton.LeftButton)
    assert s.scenario.producers[0].put_timeout == pytest.approx(0.03)
    run_to_end(qtbot, s)
    assert s.reducer is not None
    fig = panel.figures()
    assert fig["q.full"] == s.reducer.queues[0].full > 0
    assert fig["P1.put_timeouts"] == s.reducer.actors[1].put_timeouts == fig["q.full"]


# ---------------------------------------------------------------- priority
def test_priority_orders_and_waits_equal_the_events_under_spawn(qtbot: Any, live: Any) -> None:
    sc = Scenario(
        id="prio",
        title="prio",
        queues=(QueueSpec("pq", kind="PriorityQueue"),),
        producers=(
            ProducerSpec(
                id="P", queue="pq", items=30, interval=0.01, priorities=(1, 2, 3), sentinels=1
            ),
        ),
        consumers=(ConsumerSpec(id="C", queue="pq", work_time=0.03),),
        run=RunOptions(duration=30),
    )
    s, panels, rec = live(sc, "spawn")
    panel = panels["priority"]
    run_to_end(qtbot, s, 40_000)
    names = s.reducer.topology.names if s.reducer else []
    prio = {e[4]: e[7] for e in rec.events if e[3] == K.PUT_DONE and e[4] > 0}
    puts = [e for e in rec.events if e[3] == K.PUT_DONE and e[4] > 0 and e[5] == 0]
    gets = [e for e in rec.events if e[3] == K.GET_DONE and e[4] > 0 and e[5] == 0]
    k = panel.strips.capacity()
    fig = panel.figures()
    assert fig["arrival_order"] == " ".join(describe_item(e[4], names) for e in puts[-k:])
    assert fig["service_order"] == " ".join(describe_item(e[4], names) for e in gets[-k:])
    put_t = {e[4]: e[0] for e in puts}
    for level in (1, 2, 3):
        # a put is timed after its call returns, so it may look a hair later than
        # its get: such a wait counts as 0
        waits = [max(0, g[0] - put_t[g[4]]) for g in gets if prio[g[4]] == level]
        assert fig[f"p{level}.served"] == len(waits)
        if waits:
            assert fig[f"p{level}.mean_wait_s"] == pytest.approx(np.mean(waits) / 1e9)
            assert fig[f"p{level}.max_wait_s"] == max(waits) / 1e9
    assert "(priority, put time, item)" in str(fig["ties"])


# ---------------------------------------------------------------- joinable
def joinable(task_done: str, items: int = 8) -> Scenario:
    return Scenario(
        id="join",
        title="join",
        queues=(QueueSpec("jq", kind="JoinableQueue"),),
        producers=(ProducerSpec(id="P", queue="jq", items=items, interval=0.01),),
        consumers=(
            ConsumerSpec(id="C", queue="jq", count=2, work_time=0.03, task_done=task_done),
        ),
        main=MainSpec(sentinels=2, sentinel_queue="jq", join="jq"),
        run=RunOptions(duration=20, hang_after=1.0),
    )


def test_joinable_counts_equal_the_reducer_and_join_returns(qtbot: Any, live: Any) -> None:
    s, panels, rec = live(joinable("always"))
    panel = panels["joinable"]

    def check(now: int) -> None:
        if panel.shown_now != now or s.reducer is None:
            return
        r, fig = s.reducer, panel.figures()
        assert fig["unfinished"] == r.queues[0].unfinished
        for a in r.actors:
            if a.role == "consumer":
                assert fig[f"{a.name}.task_done"] == a.task_done
        rec.compared += 1

    rec.checks.append(check)
    run_to_end(qtbot, s)
    fig = panel.figures()
    assert rec.compared >= 3
    assert fig["unfinished"] == 0 and fig["never_zero"] == "" and fig["outstanding"] == ""
    assert "main: jq.join() returned at" in str(fig["join"])


def test_joinable_says_when_the_count_can_never_reach_zero(qtbot: Any, live: Any) -> None:
    s, panels, rec = live(joinable("never", items=4))
    panel = panels["joinable"]
    run_to_end(qtbot, s)
    assert s.status == "hung"
    r = s.reducer
    assert r is not None
    fig = panel.figures()
    assert fig["unfinished"] == r.queues[0].unfinished == 6  # 4 items + 2 STOPs
    assert "main waits in jq.join() since" in str(fig["join"])
    text = str(fig["never_zero"])
    assert "C never calls task_done()" in text
    put = [describe_item(e[4], r.topology.names) for e in rec.events if e[3] == K.PUT_DONE]
    assert fig["outstanding"] == " ".join(put)
    assert "Outstanding: P1#1, P1#2, P1#3, P1#4" in text


def test_joinable_shows_the_value_error_of_too_many_task_done(qtbot: Any, live: Any) -> None:
    s, panels, _rec = live(joinable("twice", items=6))
    panel = panels["joinable"]
    run_to_end(qtbot, s)
    r = s.reducer
    assert r is not None
    q = r.queues[0]
    err = str(panel.figures()["task_done_error"])
    # the real queue's ValueError: caught after a second call, or it ended a consumer
    assert "ValueError: task_done() called too many times" in err
    if q.task_done_errors:
        assert q.last_task_done_error in err
    crashed = [a for a in r.actors if a.role == "consumer" and a.state == CRASHED]
    for a in crashed:
        assert a.name in err and a.last_error in err
    assert q.task_done_errors or crashed
