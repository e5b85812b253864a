"""Workers added or retired live (the pipeline panel's + / -), on the engine alone.

A worker added to a stage is a real process that takes items at once; it gets
its own STOP whether it joined before or after the STOPs went in, so the run
still ends by itself. A retired worker finishes its item and leaves; the STOP
count drops with it, so no STOP is left over (a JoinableQueue's join() would
otherwise wait for it forever).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from qsim.engine.headless import pump
from qsim.engine.run import Run
from qsim.model.events import EventKind
from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.state import Reducer

K = EventKind


def pipeline(items: int, interval: float, workers: int = 1, kind: str = "Queue") -> Scenario:
    return Scenario(
        id="pipe",
        title="pipe",
        queues=(QueueSpec("q1", kind=kind), QueueSpec("q2")),
        producers=(ProducerSpec(id="P", queue="q1", items=items, interval=interval),),
        consumers=(
            ConsumerSpec(
                id="slow",
                queue="q1",
                output="q2",
                count=workers,
                work_time=0.04,
                function="identity",
            ),
            ConsumerSpec(id="C", queue="q2", work_time=0.0),
        ),
        main=MainSpec(
            sentinels=workers, sentinel_queue="q1", join="q1" if kind != "Queue" else ""
        ),
        run=RunOptions(duration=30),
    )


def pump_until(run: Run, r: Reducer, cond: Callable[[], bool], what: str) -> None:
    """Feed the run's events to ``r`` until ``cond`` holds (20 s at most: a busy
    machine slows the run down, it never changes what must happen)."""
    deadline = time.monotonic() + 20
    while not cond():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        pump(run, r)


def finish(run: Run, r: Reducer) -> None:
    pump_until(run, r, lambda: run.finished, "the run to end by itself")
    run.stop()
    for batch in run.collector.drain():
        r.feed(batch)
    r.flush()


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_added_worker_starts_takes_items_and_gets_its_own_stop(start_method: str) -> None:
    sc = pipeline(items=30, interval=0.0)  # every item (and the STOP) is queued at once
    run = Run(sc, start_method=start_method)
    r = Reducer(run.topology, 0)
    try:
        run.start()
        # main's STOP is in before the newcomer
        pump_until(run, r, lambda: r.actors[0].sentinels_sent == 1, "main's STOP")
        assert not run.finished
        index = run.add_worker("slow")
        r.add_actor(run.topology.actors[index])
        assert run.topology.actors[index].name == "slow2"
        assert run.processes[index].is_alive()
        finish(run, r)
    finally:
        run.stop()
    new = r.actors[index]
    assert new.working_ns > 0  # it worked on items
    assert new.sentinels_received == 1 and new.state == "finished"  # and got a STOP
    assert r.acct.processed == 30 and r.acct.lost == 0 and r.violations == 0
    assert run.exit_codes[index] == 0 and not run.processes[index].is_alive()


def test_retired_worker_leaves_and_join_still_returns() -> None:
    sc = pipeline(items=40, interval=0.02, workers=2, kind="JoinableQueue")
    run = Run(sc, start_method="fork")
    r = Reducer(run.topology, 0)
    try:
        run.start()
        slow = [a for a in r.actors if a.name.startswith("slow")]
        pump_until(run, r, lambda: all(a.items >= 1 for a in slow), "both slow workers at work")
        assert not run.finished
        assert run.remove_worker("slow")
        assert not run.remove_worker("slow")  # the stage keeps one
        finish(run, r)
    finally:
        run.stop()
    retired = [a for a in r.actors if a.exit_reason == "retired"]
    assert len(retired) == 1
    assert r.queues[0].unfinished == 0 and r.queues[0].depth == 0  # no STOP left over
    main = r.actors[0]
    assert main.state == "finished"  # join() returned
    assert r.acct.processed == 40 and r.acct.lost == 0 and r.violations == 0
