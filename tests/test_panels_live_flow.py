"""Panels on real runs, the flow through the system: pipeline stages (+ / -
workers) and the throughput graphs with Little's law. Every figure a panel
shows equals what the test works out itself, at the same frame, from the
session's reducer and the events it applied (see ``live_panels``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from live_panels import K, Live, backpressure, in_state, live_sessions, run_to_end
from PySide6.QtCore import Qt

from qsim.model.events import ends_item
from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, RunOptions, Scenario
from qsim.model.state import CRASHED, FINISHED, WORKING


@pytest.fixture
def live(qtbot: Any) -> Iterator[Live]:
    with live_sessions(qtbot) as make:
        yield make


# ---------------------------------------------------------------- pipeline
def two_stages(items: int = 80) -> Scenario:
    return Scenario(
        id="pipe",
        title="pipe",
        queues=(QueueSpec("q1"), QueueSpec("q2")),
        producers=(ProducerSpec(id="P", queue="q1", items=items, interval=0.004, sentinels=1),),
        consumers=(
            ConsumerSpec(id="slow", queue="q1", output="q2", work_time=0.05, function="identity"),
            ConsumerSpec(id="C", queue="q2", work_time=0.0),
        ),
        run=RunOptions(duration=30),
    )


def test_pipeline_rows_equal_the_reducer_and_plus_adds_a_real_worker(
    qtbot: Any, live: Any
) -> None:
    s, panels, rec = live(two_stages())
    panel = panels["pipeline"]
    groups = {"slow": (0, "stage"), "C": (1, "consumer")}

    def check(now: int) -> None:
        if panel.shown_now != now or s.reducer is None:
            return
        r, t, fig = s.reducer, panel.view_t, panel.figures()
        for g, (qi, role) in groups.items():
            members = [a.index for a in r.topology.actors if a.group == g]
            live_ = [i for i in members if r.actors[i].state not in (FINISHED, CRASHED)]
            assert fig[f"{g}.workers"] == len(live_)
            assert fig[f"{g}.depth"] == r.queues[qi].depth
            mine = set(members)
            got_in = rec.window(t, lambda e, m=mine: e[2] in m and e[3] == K.GET_DONE)
            put_out = rec.window(
                t,
                lambda e, m=mine, stage=role == "stage": (
                    e[2] in m and (e[3] == K.PUT_DONE if stage else ends_item(e))
                ),
            )
            assert fig[f"{g}.in_per_s"] == got_in
            assert fig[f"{g}.out_per_s"] == put_out
            work = sum(in_state(r.actors[i], WORKING, r.actors[i].working_ns, t) for i in members)
            life = sum(rec.lifetime(i, t) for i in members)
            assert fig[f"{g}.utilization_pct"] == pytest.approx(100.0 * work / life if life else 0)
        rec.compared += 1

    rec.checks.append(check)
    s.play()
    # the slow stage alone for a while: its rate with one worker
    qtbot.waitUntil(
        lambda: s.reducer is not None and s.reducer.last_t and rec.compared > 8, timeout=10_000
    )
    qtbot.waitUntil(lambda: panel.figures().get("bottleneck") == "slow", timeout=5_000)
    t1 = panel.view_t
    before = rec.window(t1, lambda e: e[2] == 2 and e[3] == K.PUT_DONE)
    n_actors = len(s.topology.actors) if s.topology else 0
    assert panel.add_worker("slow") == n_actors
    assert s.run is not None
    new = s.run.processes[n_actors]
    assert new.is_alive()
    assert panel.figures()["slow.workers"] == 2
    # give the newcomer a second, then the stage's rate over the last second
    qtbot.waitUntil(lambda: panel.view_t > t1 + 1_600_000_000, timeout=10_000)
    stage = {2, n_actors}
    after = rec.window(panel.view_t, lambda e: e[2] in stage and e[3] == K.PUT_DONE)
    assert after > 1.4 * before, (before, after)
    qtbot.waitUntil(lambda: s.status == "finished", timeout=20_000)
    assert not new.is_alive() and new.exitcode == 0
    assert rec.compared > 10
    assert s.reducer is not None and s.reducer.acct.processed == 80


def test_minus_retires_a_worker_that_finishes_its_item(qtbot: Any, live: Any) -> None:
    sc = two_stages(items=60)
    slow = ConsumerSpec(
        id="slow", queue="q1", output="q2", count=2, work_time=0.05, function="identity"
    )
    sc = Scenario(**{**sc.__dict__, "consumers": (slow, sc.consumers[1])})
    sc = Scenario(
        **{
            **sc.__dict__,
            "producers": (ProducerSpec(id="P", queue="q1", items=60, interval=0.03, sentinels=2),),
        }
    )
    s, panels, rec = live(sc)
    panel = panels["pipeline"]
    s.play()
    qtbot.waitUntil(lambda: len(rec.started) >= 4, timeout=10_000)
    assert panel.remove_worker("slow")
    assert not panel.remove_worker("slow")  # a stage keeps one worker
    qtbot.waitUntil(
        lambda: any(e[3] == K.ACTOR_EXITED and e[6] == "retired" for e in rec.events),
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: panel.figures().get("slow.workers") == 1, timeout=5_000)
    qtbot.waitUntil(lambda: s.status == "finished", timeout=20_000)
    r = s.reducer
    assert r is not None and r.acct.processed == 60 and r.acct.lost == 0
    assert r.violations == 0


# ---------------------------------------------------------------- throughput
def test_throughput_samples_equal_the_reducer_and_littles_law_holds(
    qtbot: Any, live: Any, tmp_path: Any
) -> None:
    sc = Scenario(
        id="tp",
        title="tp",
        queues=(QueueSpec("q", maxsize=4),),
        producers=(ProducerSpec(id="P", queue="q", items=60, interval=0.01, sentinels=1),),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.025),),
        run=RunOptions(duration=30),
    )
    s, panels, rec = live(sc)
    panel = panels["throughput"]
    h = panel.history
    # what the reducer said at each sampling frame: the plots show the latest
    # sample, taken this frame or a few frames before they were refreshed
    at_sample: dict[int, tuple[int, int, list[int], int]] = {}

    def check(now: int) -> None:
        r = s.reducer
        if r is None:
            return
        if h.sampled_now == now:
            at_sample[now] = (h.t, r.queues[0].depth, list(r.latency_ns)[-500:], len(rec.events))
        if panel.shown_now != now:
            return
        fig = panel.figures()
        law_in = r.in_queues() + r.in_hands()
        assert fig["littles.in_system"] == law_in
        span = (h.t - h.t0) / 1e9
        assert fig["littles.lambda"] == pytest.approx(r.acct.produced / span)
        if panel.plotted_now == now and h.sampled_now in at_sample:  # plotted this frame
            t, depth, lat, n = at_sample[h.sampled_now]
            assert fig["depth:q"] == depth
            put = rec.window(t, lambda e: e[2] == 1 and e[3] == K.PUT_DONE, n)
            end = rec.window(t, lambda e: e[2] == 2 and ends_item(e), n)
            assert fig["rate:P1"] == put
            assert fig["rate:C1"] == end
            if lat:
                p50, p95 = np.percentile(lat, [50, 95]) / 1e6
                assert fig["lat_p50_ms"] == pytest.approx(p50)
                assert fig["lat_p95_ms"] == pytest.approx(p95)
            rec.compared += 1

    rec.checks.append(check)
    run_to_end(qtbot, s)
    assert rec.compared >= 3
    fig = panel.figures()
    assert fig["littles.in_system"] == 0
    # the run drained: L and lambda x W agree (frame-sampled integral: a few %)
    assert float(fig["littles.L"]) == pytest.approx(float(fig["littles.lambda_W"]), rel=0.1)
    # CSV: one row per kept sample, the depth column as sampled
    path = tmp_path / "tp.csv"
    panel.export_csv(str(path))
    rows = path.read_text(encoding="utf-8").splitlines()
    header = rows[0].split(",")
    assert header[0] == "t_s" and "depth:q" in header and "state P1" in header
    assert len(rows) == 1 + h.samples
    col = header.index("depth:q")
    assert [float(r.split(",")[col]) for r in rows[1:]] == h.series["depth:q"].values().tolist()
    # the worker-state timeline: the fast producer blocks, the consumer works
    p1 = {r.split(",")[header.index("state P1")] for r in rows[1:]}
    c1 = {r.split(",")[header.index("state C1")] for r in rows[1:]}
    assert "blocked on put" in p1 and "working" in c1
    png = tmp_path / "tp.png"
    from qsim.ui.panels.plots import export_png

    export_png(panel.rate_plot.plot, png)
    assert png.stat().st_size > 1000


def test_pause_freezes_the_graphs(qtbot: Any, live: Any) -> None:
    sc = Scenario(
        id="long",
        title="long",
        queues=(QueueSpec("q", maxsize=3),),
        producers=(ProducerSpec(id="P", queue="q", items=500, interval=0.01),),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.02),),
        run=RunOptions(duration=30),
    )
    s, panels, _rec = live(sc)
    panel = panels["throughput"]
    curve = panel.rate_plot.curves.curves["rate:P1"]
    s.play()
    qtbot.waitUntil(
        lambda: len(curve.xData if curve.xData is not None else []) > 5, timeout=10_000
    )
    s.pause()
    # what the workers did until they reached the pause gate plays out, then holds
    qtbot.waitUntil(lambda: s.clock.rate == 0 and not s.clock.behind_ns, timeout=5_000)
    panel.redraw()
    frozen, shown = curve.xData.copy(), s.t_display
    frames = s.frames
    qtbot.waitUntil(lambda: s.frames > frames + 20, timeout=5_000)
    # frames go on, the displayed instant and the graph stand still
    assert s.t_display == shown and np.array_equal(curve.xData, frozen)
    s.play()
    qtbot.waitUntil(lambda: not np.array_equal(curve.xData, frozen), timeout=5_000)


def test_scrolling_back_stops_following_until_asked(qtbot: Any, live: Any) -> None:
    s, panels, _rec = live(backpressure(items=30))
    panel = panels["throughput"]
    run_to_end(qtbot, s)
    curve = panel.rate_plot.curves.curves["rate:P1"]
    latest = panel.history.x.last()
    assert curve.xData[-1] == latest
    vb = panel.rate_plot.plot.getViewBox()
    vb.sigRangeChangedManually.emit([True, False])  # what a drag or a wheel turn sends
    panel.rate_plot.plot.setXRange(0.0, latest / 3, padding=0)
    assert not panel.follow.following and panel.follow_button.isVisibleTo(panel)
    assert curve.xData[-1] < latest / 2  # fed the window scrolled to, from the rings
    qtbot.mouseClick(panel.follow_button, Qt.MouseButton.LeftButton)
    assert panel.follow.following and not panel.follow_button.isVisibleTo(panel)
    assert curve.xData[-1] == latest


def test_plus_before_a_run_sets_the_stage_worker_count(qtbot: Any, live: Any) -> None:
    s, panels, _rec = live(two_stages())
    panel = panels["pipeline"]
    assert panel.figures()["slow.workers"] == 1
    panel.add_worker("slow")
    assert s.scenario is not None and s.scenario.consumers[0].count == 2
    assert s.run is None  # nothing started
    assert panel.figures()["slow.workers"] == 2
    panel.remove_worker("slow")
    assert s.scenario.consumers[0].count == 1
