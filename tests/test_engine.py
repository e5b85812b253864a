"""The engine with real processes and real queues, under fork and spawn.

Nothing is mocked: every test starts real worker processes, and asserts what a
user would see in the report or the reducer (order, counts, states, exit codes).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from procwait import wait_gone

from qsim.engine.headless import run_headless
from qsim.engine.run import Run
from qsim.model.events import Event, EventKind, item_number
from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.state import BLOCKED_PUT, CRASHED, Reducer

K = EventKind
REPO = Path(__file__).resolve().parent.parent


def scenario(
    *,
    kind: str = "Queue",
    maxsize: int = 0,
    items: int = 20,
    interval: float = 0.0,
    work: float = 0.0,
    consumers: int = 1,
    sentinels: int = 1,
    **producer: object,
) -> Scenario:
    return Scenario(
        id="t",
        title="test",
        queues=(QueueSpec("q", kind, maxsize),),
        producers=(
            ProducerSpec(
                id="P", queue="q", items=items, interval=interval, sentinels=sentinels, **producer
            ),  # type: ignore[arg-type]
        ),
        consumers=(ConsumerSpec(id="C", queue="q", count=consumers, work_time=work),),
        run=RunOptions(duration=60.0),
    )


class Live:
    """A run plus a reducer fed as the GUI would, with condition waits (no sleeps)."""

    def __init__(self, sc: Scenario, method: str, **kw: object) -> None:
        self.run = Run(sc, start_method=method, **kw)  # type: ignore[arg-type]
        self.reducer = Reducer(self.run.topology, reorder_ns=20_000_000)
        self.events: list[Event] = []

    def pump(self, timeout: float = 0.05) -> None:
        self.run.collector.wait_for_data(timeout)
        for b in self.run.collector.drain():
            self.events.extend(b)
            self.reducer.feed(b)
        self.reducer.advance(time.monotonic_ns())

    def until(self, cond: Callable[[], bool], timeout: float = 20.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError(f"timed out waiting for {what or cond}\n{self.describe()}")
            self.pump()

    def describe(self) -> str:
        """What a hang looked like: each actor's state and process, the queues, the events."""
        procs = self.run.processes
        lines = []
        for a in self.reducer.actors:
            p = procs.get(a.index)
            proc = "no process" if p is None else f"pid {p.pid} exitcode {p.exitcode}"
            lines.append(f"  {a.name}: state {a.state}, {proc}")
        for q in self.reducer.queues:
            lines.append(f"  queue {q.index}: depth {q.depth}, unfinished {q.unfinished}")
        kinds: dict[str, int] = {}
        for e in self.events:
            name = EventKind(e[3]).name
            kinds[name] = kinds.get(name, 0) + 1
        lines.append(f"  events: {kinds}")
        lines.append(
            f"  emitted {self.run.events_emitted}, received {self.run.events_received}, "
            f"pipes open {self.run.collector.open_count}"
        )
        return "\n".join(lines)

    def holds(self, cond: Callable[[], bool], seconds: float) -> bool:
        """Keep pumping for ``seconds``; False as soon as ``cond`` stops holding."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.02)
            if not cond():
                return False
        return True

    def count(self, *kinds: int) -> int:
        return sum(1 for e in self.events if e[3] in kinds)

    def finish(self) -> None:
        self.run.stop()
        for b in self.run.collector.drain():
            self.events.extend(b)
            self.reducer.feed(b)
        self.reducer.flush()

    def __enter__(self) -> Live:
        self.run.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def test_fifo_order_one_producer_one_consumer(start_method: str) -> None:
    with Live(scenario(items=200), start_method) as live:
        live.until(lambda: live.run.finished, what="the run to finish")
    got = [e[4] for e in sorted(live.events) if e[3] == K.GET_DONE and e[4] > 0]
    assert [item_number(i) for i in got] == list(range(1, 201))
    assert live.reducer.acct.processed == 200
    assert live.reducer.violations == 0


def test_depth_never_exceeds_maxsize_and_blocked_put_is_observed(start_method: str) -> None:
    sc = scenario(maxsize=2, items=15, work=0.03)
    depths: list[int] = []
    blocked: list[float] = []
    with Live(sc, start_method) as live:
        producer = live.reducer.actors[1]

        def step() -> bool:
            depths.append(live.reducer.queues[0].depth)
            if producer.state == BLOCKED_PUT:
                blocked.append(producer.blocked_ns)
            return live.run.finished

        live.until(step, what="the run to finish")
    assert max(depths) == 2
    assert live.reducer.queues[0].max_depth == 2
    assert live.count(K.PUT_BLOCKED) >= 5, "a fast producer must be seen blocked on a full queue"
    # time blocked accumulates from one blocked spell to the next
    assert producer.blocked_ns > 0
    assert blocked == sorted(blocked) and blocked[-1] > blocked[0]
    assert live.reducer.violations == 0


def test_joinable_queue_unfinished_tasks_return_to_zero(start_method: str) -> None:
    sc = Scenario(
        id="j",
        title="joinable",
        queues=(QueueSpec("q", "JoinableQueue", 0),),
        producers=(ProducerSpec(id="P", queue="q", items=12, interval=0.0),),
        consumers=(ConsumerSpec(id="C", queue="q", count=2, work_time=0.01),),
        main=MainSpec(sentinels=2, sentinel_queue="q", join="q"),
    )
    with Live(sc, start_method) as live:
        peak = 0

        def seen() -> bool:
            nonlocal peak
            peak = max(peak, live.reducer.queues[0].unfinished)
            return live.run.finished

        live.until(seen, what="join() to return and the run to end")
    assert peak >= 3, "the unfinished-task count rises while items wait"
    assert live.reducer.queues[0].unfinished == 0
    assert live.count(K.JOIN_WAIT) == 1 and live.count(K.JOIN_DONE) == 1
    assert live.count(K.TASK_DONE) == 12 + 2  # every item and both sentinels


def test_main_stops_never_overtake_items_still_in_a_producer_feeder(start_method: str) -> None:
    # 1 MB items: put() returns at once, and the producer's feeder thread
    # writes them into the pipe long after. main stands for p.join() on the
    # producer, which returns once its exit flushed the feeder: its STOPs
    # come after every item (they once overtook them: join() hung on the
    # items left behind the STOPs)
    sc = Scenario(
        id="o",
        title="overtake",
        queues=(QueueSpec("q", "JoinableQueue", 0),),
        producers=(
            ProducerSpec(id="P", queue="q", items=8, interval=0.0, payload_bytes=1_000_000),
        ),
        # slow readers: the pipe stays full, and the feeder writes item by item
        consumers=(ConsumerSpec(id="C", queue="q", count=2, work_time=0.1),),
        main=MainSpec(sentinels=2, sentinel_queue="q", join="q"),
    )
    with Live(sc, start_method) as live:
        live.until(lambda: live.run.finished, what="join() to return and the run to end")
    got = [e for e in sorted(live.events) if e[3] == K.GET_DONE]
    stops = [n for n, e in enumerate(got) if e[4] < 0]
    assert len(got) == 8 + 2 and stops == [8, 9], "both STOPs are got after every item"
    assert live.reducer.acct.processed == 8
    assert live.reducer.queues[0].unfinished == 0


def test_priority_items_leave_in_priority_order_fifo_among_equals(start_method: str) -> None:
    sc = scenario(kind="PriorityQueue", items=40, work=0.01, priorities=(1, 2, 3), sentinels=1)
    with Live(sc, start_method) as live:
        live.until(lambda: live.run.finished, what="the run to finish")
    ev = sorted(live.events)
    last_put = max(e[0] for e in ev if e[3] == K.PUT_DONE and e[4] > 0)
    prio = {e[4]: e[7] for e in ev if e[3] == K.PUT_DONE}
    # once everything is queued, the consumer must take strictly by (priority, arrival)
    served = [e[4] for e in ev if e[3] == K.GET_DONE and e[0] > last_put + 5_000_000 and e[4] > 0]
    assert len(served) >= 20
    keys = [(prio[i], item_number(i)) for i in served]
    assert keys == sorted(keys)
    assert live.reducer.acct.processed == 40


@pytest.mark.parametrize("mode, code", [("exception", 1), ("exit", 3), ("kill", -signal.SIGKILL)])
def test_crashed_worker_reported_with_exit_code_run_goes_on(mode: str, code: int) -> None:
    sc = Scenario(
        id="c",
        title="crash",
        queues=(QueueSpec("q", "Queue", 0),),
        producers=(ProducerSpec(id="P", queue="q", items=30, interval=0.005, sentinels=1),),
        consumers=(
            ConsumerSpec(
                id="C", queue="q", count=2, work_time=0.01, crash_after=3, crash_mode=mode
            ),
        ),
    )
    report, r = run_headless(sc, start_method="fork", duration=20)
    crashed = [a for a in r.actors if a.state == CRASHED]
    assert crashed, report["actors"]
    assert {a.exit_code for a in crashed} == {code}
    assert report["accounting"]["closes"]
    assert r.actors[1].items == 30, "the producer keeps going after a consumer crash"


def test_consumer_killed_mid_run_is_crashed_and_accounting_closes(start_method: str) -> None:
    sc = scenario(items=40, interval=0.01, work=0.05, sentinels=0)
    with Live(sc, start_method) as live:
        consumer = live.reducer.actors[2]
        live.until(lambda: consumer.items >= 2 and consumer.holding, what="C to hold an item")
        os.kill(live.run.pids()["C1"], signal.SIGKILL)
        live.until(lambda: consumer.state == CRASHED, what="C to be shown crashed")
        produced = live.reducer.acct.produced
        live.until(lambda: live.reducer.acct.produced > produced + 3, what="the run to go on")
    assert consumer.exit_code == -signal.SIGKILL
    r = live.reducer
    assert r.acct.lost >= 1 and "crashed (exit code -9)" in r.acct.lost_reasons[0]
    assert r.accounting_closes()
    assert not live.run.alive()


@pytest.mark.parametrize(
    "producer",
    [
        {"items": 10_000, "interval": 0.002},
        # flat out (its puts skip the runtime's per-call path) into a bounded queue
        {"items": 100_000, "interval": 0.0, "maxsize": 50},
        # flat out into an unbounded queue: runs of puts packed at once
        {"items": 1_000_000, "interval": 0.0},
    ],
    ids=["paced", "flat-out", "flat-out-unbounded"],
)
def test_pause_freezes_queue_operations_and_step_does_exactly_one(
    start_method: str, producer: dict[str, Any]
) -> None:
    sc = scenario(work=0.004, consumers=2, sentinels=0, **producer)
    ops = (K.PUT_DONE, K.GET_DONE)
    with Live(sc, start_method) as live:
        live.until(lambda: live.count(*ops) > 20, what="queue operations")
        live.run.pause()
        workers = live.reducer.actors[1:]
        live.until(lambda: all(a.paused for a in workers), what="every worker to park")
        before = live.count(*ops)
        received = live.run.events_received
        assert live.holds(lambda: live.run.events_received == received, 0.5)
        for n in (1, 2, 3):
            live.run.step()
            live.until(lambda n=n: live.count(*ops) == before + n, what=f"step {n}")
            assert live.holds(lambda n=n: live.count(*ops) == before + n, 0.3)
        live.run.resume()
        live.until(lambda: live.count(*ops) > before + 20, what="resumed operations")


def test_stop_leaves_no_child_process(start_method: str) -> None:
    sc = scenario(kind="ManagerQueue", maxsize=3, items=100_000, interval=0.001, work=0.01)
    with Live(sc, start_method) as live:
        live.until(lambda: live.count(K.GET_DONE) > 5, what="gets")
        pids = list(live.run.pids().values())
    assert not live.run.alive()
    for pid in pids:
        assert not Path(f"/proc/{pid}").exists() or _is_zombie_free(pid)


def _is_zombie_free(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[1].split()[0]
    except (OSError, IndexError):
        return True
    return state != "Z"


def test_events_emitted_equal_events_received_flat_out(start_method: str) -> None:
    sc = scenario(items=30_000, consumers=2, sentinels=2)
    report, _ = run_headless(sc, start_method=start_method, duration=60)
    assert report["events_emitted"] == report["events_received"] > 60_000
    assert report["accounting"]["consumed"] == 30_000
    assert report["invariant_violations"] == 0


ORPHAN_SCRIPT = """
import sys, threading
from qsim.engine.run import Run
from qsim.model.scenario import *
sc = Scenario(id="o", title="o", queues=(QueueSpec("q", "Queue", 2),),
    producers=(ProducerSpec(id="P", queue="q", items=10**6, interval=0.01),),
    consumers=(ConsumerSpec(id="C", queue="q", count=2, work_time=0.5),))
run = Run(sc, start_method=sys.argv[1])
run.start()
print(" ".join(str(p) for p in run.pids().values()), flush=True)
threading.Event().wait(600)  # until the test kills us
"""


def test_workers_leave_within_2s_when_their_parent_is_sigkilled(start_method: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    with subprocess.Popen(
        [sys.executable, "-c", ORPHAN_SCRIPT, start_method],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,  # the killed parent's resource tracker complains
        env=env,
        text=True,
    ) as parent:
        try:
            assert parent.stdout is not None
            pids = [int(p) for p in parent.stdout.readline().split()]
            assert len(pids) == 3 and all(Path(f"/proc/{p}").exists() for p in pids)
        finally:
            parent.kill()
            parent.wait(10)
    left = wait_gone(pids, 2.5)
    assert not left, f"workers {sorted(left)} outlived their parent by more than 2.5 s"


def test_speed_factor_changes_worker_timing_live() -> None:
    sc = scenario(items=10_000, interval=0.02, work=0.0, sentinels=0)
    with Live(sc, "fork", speed=1.0) as live:
        live.until(lambda: live.reducer.acct.produced >= 5)
        t0, n0 = time.monotonic(), live.reducer.acct.produced
        live.until(lambda: live.reducer.acct.produced >= n0 + 10)
        slow = 10 / (time.monotonic() - t0)
        live.run.set_speed(8.0)
        live.until(lambda: live.reducer.acct.produced >= n0 + 15)
        t1, n1 = time.monotonic(), live.reducer.acct.produced
        live.until(lambda: live.reducer.acct.produced >= n1 + 40)
        fast = 40 / (time.monotonic() - t1)
    assert fast > 2.5 * slow


def test_put_timeout_counts_queue_full() -> None:
    sc = replace(
        scenario(maxsize=1, items=20, interval=0.0, work=0.05),
        producers=(
            ProducerSpec(id="P", queue="q", items=20, interval=0.0, sentinels=1, put_timeout=0.01),
        ),
    )
    report, _ = run_headless(sc, start_method="fork", duration=20)
    assert report["queues"]["q"]["full"] > 0
    assert report["actors"]["P1"]["put_timeouts"] == report["queues"]["q"]["full"]
    ac = report["accounting"]
    assert ac["produced"] + ac["dropped_on_full"] == 20
    assert ac["closes"]
