"""Measured lanes: one lane at a time, each first as a plain program, and the
lesson's own figures next to the plain ones (real processes, fork and spawn)."""

from __future__ import annotations

import time
from itertools import pairwise

import numpy as np

from qsim.engine.headless import watch_hangs
from qsim.engine.run import Run
from qsim.model.events import WAITING_TURN, Event, EventKind
from qsim.model.lessons import lane_figures
from qsim.model.records import to_events
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import apply_knob
from qsim.model.state import Reducer
from qsim.resources import load

K = EventKind


def shortened(lesson: str, seconds: float = 0.5) -> Scenario:
    sc = load(lesson)
    knob = next(k for k in sc.knobs if k.path == "producers.*.duration")
    return apply_knob(sc, knob, seconds)


def test_lanes_run_one_at_a_time_and_report_the_plain_figure(start_method: str) -> None:
    sc = shortened("queue-types")
    run = Run(sc, start_method=start_method)
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    lane_of = {a: k for k, lane in enumerate(run.lanes) for a in lane}
    events: list[Event] = []
    drained: list[int] = []  # how many events had come out when each event did
    early: set[str] = set()  # a lane whose events came out while it still ran
    taken_in = [0] * len(run.lanes)  # when the reducer had taken in a lane's last item
    t0 = time.monotonic()
    try:
        run.start()
        while not run.finished and time.monotonic() - t0 < 60:
            run.collector.wait_for_data(0.05)
            fed: set[int] = set()
            for batch in run.collector.drain_records():
                for a in set(batch["actor"].tolist()):
                    if a in lane_of and run._lane_left[lane_of[a]]:
                        early.add(run.topology.actors[a].name)
                moved = np.isin(batch["kind"], (K.PUT_DONE, K.GET_DONE))
                fed.update(lane_of[a] for a in set(batch["actor"][moved].tolist()) if a in lane_of)
                got = to_events(batch, run.collector.strings)
                drained += [len(events)] * len(got)
                events += got
                reducer.feed(got)
            reducer.advance(time.monotonic_ns())
            for k in fed:
                taken_in[k] = time.monotonic_ns()
            assert not watch_hangs(run, reducer, sc.run.hang_after)
    finally:
        run.stop()
    for batch in run.collector.drain():
        events += batch
        reducer.feed(batch)
    reducer.flush()
    assert run.finished and not early
    # an opened-up queue's pipe samples, made here, wait with its lane's events:
    # none dated after the lane's first put comes out before its puts do
    for k, qi in enumerate(run.topology.queue_index(p.queue) for p in sc.producers):
        mine = [n for n, e in enumerate(events) if e[2] == run.lanes[k][0] and e[3] == K.PUT_DONE]
        began, shown = min(events[n][0] for n in mine), min(drained[n] for n in mine)
        ahead = [e for n, e in enumerate(events) if e[5] == qi and e[0] >= began and n < shown]
        assert not ahead, f"{sc.queues[qi].id}: {ahead[:3]}"
    assert run.events_emitted == run.events_received
    assert reducer.accounting_closes() and reducer.violations == 0
    # lane k+1 put its first item after lane k got its last
    spans = []
    for producer, consumer in run.lanes:
        puts = [e[0] for e in events if e[2] == producer and e[3] == K.PUT_DONE]
        gets = [e[0] for e in events if e[2] == consumer and e[3] == K.GET_DONE]
        spans.append((min(puts), max(gets)))
    for (_, last_get), (first_put, _) in pairwise(spans):
        assert first_put > last_get, "two lanes ran at the same time"
    # a lane's plain phase is measured with this process quiet: it began
    # after the reducer had taken in all of the lane before it
    for k, (producer, _) in enumerate(run.lanes[1:], 1):
        phases = [e for e in events if e[2] == producer and e[3] == K.PHASE]
        plain = [e[0] for e in phases if e[6] and e[6] != WAITING_TURN]
        assert plain and plain[0] > taken_in[k - 1], f"lane {k} measured during a replay"
    figures = lane_figures(sc, reducer)
    assert [f.lane for f in figures] == ["C-Queue", "C-Simple", "C-Joinable", "C-Manager"]
    for f in figures:  # both figures measured, each plausible
        assert f.items_per_s > 0 and f.plain_items_per_s > 0, f
        assert 0.1 < f.ratio < 10, f
    # the JoinableQueue lane's task_done() calls rode on its gets: none unfinished
    names = run.topology.names
    jq = reducer.queues[run.topology.queue_index("q-joinable")]
    assert jq.unfinished == 0
    assert reducer.actors[names.index("C-Joinable")].task_done == jq.puts > 0
