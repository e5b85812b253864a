"""Each scenario lesson, run headless with real processes, shows what its text claims.

The assertions are what a student would see: the order items come out in,
counts, blocked time, queue.Full counted, hangs detected and stopped, the
pipeline's 3/1/1 analysis, priority order. Figures are printed (``-s``).
The lessons that are real programs now are tested in ``test_program_lessons.py``;
the scenario features they used (stages, a manager's priority queue, the
join-before-drain main, the inspect helper) keep their tests here, on the
scenarios those lessons were (``tests/scenarios``).
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from handy import handy
from procwait import wait_gone

from qsim.engine.headless import pump, run_headless, watch_hangs
from qsim.engine.run import Run
from qsim.model.events import (
    Event,
    EventKind,
    describe_item,
    item_origin,
)
from qsim.model.lessons import item_lives, served_in_order
from qsim.model.metrics import build_report
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.resources import load

K = EventKind


@dataclass
class Recorded:
    """A finished run: every applied event, the reducer and the JSON report."""

    events: list[Event]
    reducer: Reducer
    report: dict[str, Any]
    hung: list[str] = field(default_factory=list)

    def of(self, kind: EventKind, actor: int | None = None) -> list[Event]:
        return [e for e in self.events if e[3] == kind and (actor is None or e[2] == actor)]

    def actor(self, name: str) -> int:
        return self.reducer.topology.names.index(name)


def run_recorded(
    sc: Scenario,
    method: str,
    speed: float | None = None,
    limit: float = 30.0,
    each: Callable[[Reducer], None] | None = None,
) -> Recorded:
    """``run_headless`` that keeps the events (and calls ``each`` per pump)."""
    run = Run(sc, start_method=method, speed=speed)
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    events: list[Event] = []
    hung: list[str] = []
    t0 = time.monotonic()
    try:
        run.start()
        while not run.finished and time.monotonic() - t0 < limit:
            pump(run, reducer)
            events.extend(reducer.last_applied)
            if each is not None:
                each(reducer)
            hung = watch_hangs(run, reducer, sc.run.hang_after)
            if hung:
                break
    finally:
        run.stop()
    for batch in run.collector.drain():
        reducer.feed(batch)
    reducer.flush()
    events.extend(reducer.last_applied)
    report = build_report(reducer, scenario=sc.id, finished=not hung and run.finished)
    return Recorded(events, reducer, report, hung)


def got_by(rec: Recorded, name: str) -> list[str]:
    names = rec.reducer.topology.names
    return [describe_item(e[4], names) for e in rec.of(K.GET_DONE, rec.actor(name))]


# ------------------------------------------------------------ basics
def test_backpressure_blocks_the_producer_under_spawn() -> None:
    rec = run_recorded(load("backpressure"), "spawn", speed=10)
    r = rec.report
    print("\nbackpressure: producer blocked", r["actors"]["P1"]["blocked_s"], "s")
    assert r["finished"] and r["invariant_violations"] == 0
    assert r["queues"]["q"]["max_depth"] == 2  # never above maxsize
    assert r["actors"]["P1"]["blocked_s"] > 0
    assert rec.of(K.PUT_BLOCKED, rec.actor("P1"))
    assert r["accounting"]["processed"] == 12


def test_put_timeout_raises_full_and_counts_it() -> None:
    rec = run_recorded(load("put-timeout"), "spawn", speed=10)
    r = rec.report
    full = r["queues"]["q"]["full"]
    print("\nput-timeout: queue.Full raised", full, "times")
    assert full > 0
    assert full == len(rec.of(K.PUT_TIMEOUT)) == r["actors"]["P1"]["put_timeouts"]
    ac = r["accounting"]
    assert ac["dropped_on_full"] == full
    assert ac["produced"] + ac["dropped_on_full"] == 12
    assert ac["processed"] == ac["produced"] and ac["closes"]


def test_errors_every_item_ends_processed_failed_or_lost() -> None:
    rec = run_recorded(load("errors"), "fork", speed=2)
    ac = rec.report["accounting"]
    actors = rec.report["actors"]
    producer_errors = actors["P-keep"]["errors"] + actors["P-abort"]["errors"]
    empties = actors["C1"]["get_timeouts"] + actors["C2"]["get_timeouts"]
    print(f"\nerrors: {ac}, error records sent {producer_errors}, queue.Empty {empties}")
    assert ac["produced"] == 15 + actors["P-abort"]["items"]
    assert ac["in_queue"] == ac["in_hands"] == 0
    assert ac["produced"] == ac["processed"] + ac["failed"] + ac["lost"]
    assert ac["closes"] and ac["processed"] > 0
    assert ac["failed"] >= producer_errors > 0  # error records count as failed
    assert rec.report["finished"], "consumers kept going until their STOP"


# ------------------------------------------------------------ priority
def test_priority_order_then_fifo_among_equals_under_spawn() -> None:
    sc = handy("small-priority")
    rec = run_recorded(sc, "spawn", speed=5)
    checked, problems = served_in_order(rec.events, 0)
    names = rec.reducer.topology.names
    lives = item_lives(rec.events)
    order = [
        f"{describe_item(e[4], names)}(p{lives[e[4]].priority})"
        for e in rec.of(K.GET_DONE)
        if e[4] in lives
    ]
    print("\npriority: service order", " ".join(order))
    assert checked >= 5 and problems == []
    assert rec.report["finished"] and rec.report["accounting"]["processed"] == 15


def test_starvation_low_priority_waits_much_longer() -> None:
    rec = run_recorded(load("starvation"), "fork", speed=4)
    lives = item_lives(rec.events)
    hi, lo = rec.actor("Urgent"), rec.actor("Low")
    waits = {a: [x.waited_s for x in lives.values() if item_origin(x.item) == a] for a in (hi, lo)}
    hi_mean = sum(waits[hi]) / len(waits[hi])
    lo_mean = sum(waits[lo]) / len(waits[lo])
    print(f"\nstarvation: mean time in queue: priority 1 {hi_mean:.3f} s, 5 {lo_mean:.3f} s")
    assert len(waits[hi]) == 24 and len(waits[lo]) == 2
    assert lo_mean > 2 * hi_mean


# ------------------------------------------------------------ pipeline
def test_pipeline_counts_3_1_1_under_spawn() -> None:
    rec = run_recorded(handy("small-pipeline"), "spawn", speed=5)
    r = rec.report
    assert r["marks"] == {"error": 1, "system_event": 1, "user_action": 3}
    assert r["finished"] and r["accounting"]["processed"] == 5
    # the STOP went down the line: collect -> parse -> analyse
    assert [r["actors"][a]["sentinels_received"] for a in ("parse", "analyse")] == [1, 1]
    assert r["actors"]["parse"]["sentinels_sent"] == 1


# ------------------------------------------------------------ pitfalls
def test_no_sentinel_consumer_is_shown_hung_and_stopped() -> None:
    t0 = time.monotonic()
    report, reducer = run_headless(handy("pitfall-small-no-sentinel"), start_method="fork")
    assert time.monotonic() - t0 < 15
    assert report["hung"] == ["C1"] and not report["finished"]
    assert report["actors"]["C1"]["state"] == "hung"
    assert report["actors"]["C1"]["items"] == 5, "it handled every item, then waited"
    assert any("C1 is hung: waiting on get" in text for _, text, *_ in reducer.notes)


def test_no_sentinel_fixed_by_the_knob() -> None:
    sc = handy("pitfall-small-no-sentinel")
    from qsim.model.scenario_io import apply_knob

    knob = next(k for k in sc.knobs if k.path == "producers.P.sentinels")
    report, _ = run_headless(apply_knob(sc, knob, 1), start_method="fork", speed=10)
    assert report["finished"] and report["hung"] == []


def test_forgot_task_done_main_hangs_in_join_with_unfinished_count() -> None:
    report, reducer = run_headless(load("pitfall-forgot-task-done"), start_method="fork")
    print("\nforgot-task-done: unfinished tasks", report["queues"]["q"]["unfinished_tasks"])
    assert report["hung"] == ["main"]
    assert report["actors"]["main"]["state"] == "hung"
    assert report["queues"]["q"]["unfinished_tasks"] == 6  # 5 items + the STOP
    assert report["actors"]["C1"]["state"] == "finished"
    assert any("main waits in q.join(): " in text for _, text, *_ in reducer.notes)


def _gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except FileNotFoundError:
        return True


def _all_gone(pids: list[int], within: float = 3.0) -> bool:
    """The grandchild is not ours to join: poll /proc until it has gone."""
    return not wait_gone(pids, within)


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="checks processes in /proc")
def test_join_before_drain_deadlock_is_hung_and_every_process_ends_under_spawn() -> None:
    rec = run_recorded(handy("small-join-first"), "spawn")
    r = rec.report
    assert sorted(rec.hung) == ["P1", "main"]
    assert r["hung"] == ["P1", "main"]
    assert r["actors"]["P1"]["items"] == 20, "every put() returned"
    assert r["accounting"]["in_queue"] == 20, "nothing was got"
    notes = [n.text for n in rec.reducer.notes]
    assert "main waits in P1.join()" in notes
    assert any(t.startswith("P1 waits in q.join_thread()") for t in notes)
    pids = [e[6] for e in rec.of(K.ACTOR_STARTED) if isinstance(e[6], int)]
    assert len(pids) == 2
    assert _all_gone(pids), "main and the producer it started have both ended"


def test_join_before_drain_small_data_fits_the_pipe_and_join_returns() -> None:
    sc = handy("small-join-first")
    p = dataclasses.replace(sc.producers[0], items=2, payload_bytes=1000)
    rec = run_recorded(dataclasses.replace(sc, producers=(p,)), "fork")
    assert rec.report["finished"] and rec.hung == []
    assert rec.report["actors"]["main"]["items"] == 2, "main drained the queue after join()"


# ------------------------------------------------------------ inspect
def test_inspect_lists_contents_in_order_and_reports_the_get_nowait_trap() -> None:
    snapshots: list[list[str]] = []

    def look(r: Reducer) -> None:
        if r.queues[0].depth >= 3:
            snapshots.append(build_report(r)["queues"]["q"]["contents"])

    rec = run_recorded(handy("small-inspect"), "fork", speed=10, each=look)
    marks = rec.report["marks"]
    print("\ninspect: helper verdicts", marks)
    assert snapshots, "the queue held several items at some point"
    for contents in snapshots:
        if contents[-1] == "STOP(P1)":  # DONE is put last, so it is last in line
            contents = contents[:-1]
        assert all(c.startswith("P1#") for c in contents), contents
        numbers = [int(c.split("#")[1]) for c in contents]
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), contents
    rounds = marks.get("Items match: False", 0) + marks.get("Items match: True", 0)
    assert rounds == 20
    assert marks.get("Items match: False", 0) >= 1, "the trap shows"
    assert rec.report["finished"]
