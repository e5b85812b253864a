"""``qsim bench engine``: what full event reporting costs, measured in one run.

Both sides move the same small item tuples from 1 producer to 1 consumer
through a plain ``multiprocessing.Queue``, flat out:

* raw: two bare processes, no qsim at all;
* instrumented: the same load as a qsim scenario, every put/get reported.

Throughput is items / (first put -> last get), timed inside the workers, so
process start-up is left out of both. The controller receives and decodes
every batch while the lane runs (records, as the window drains them); the
reducer bench's Python tuples are made after the run, off the lane's cores.
Rounds alternate raw and instrumented so that a noisy neighbour hurts both
alike; the medians are reported.
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from multiprocessing.connection import Connection
from typing import Any

from qsim.engine.run import Run
from qsim.model.events import EventKind
from qsim.model.records import to_events
from qsim.model.scenario import ConsumerSpec, ProducerSpec, QueueSpec, RunOptions, Scenario
from qsim.model.state import Reducer


def _raw_producer(q: Any, n: int, out: Connection) -> None:
    t0 = time.monotonic_ns()
    for i in range(1, n + 1):
        q.put((0, i, 0, None))
    q.put((1, -1, 0, None))
    out.send(t0)
    out.close()


def _raw_consumer(q: Any, out: Connection) -> None:
    get = q.get
    while True:
        obj = get()
        if obj[0] == 1:
            break
    out.send(time.monotonic_ns())
    out.close()


def raw_rate(ctx: Any, n: int) -> float:
    q = ctx.Queue()
    pr, pw = multiprocessing.Pipe(duplex=False)
    cr, cw = multiprocessing.Pipe(duplex=False)
    cons = ctx.Process(target=_raw_consumer, args=(q, cw))
    prod = ctx.Process(target=_raw_producer, args=(q, n, pw))
    cons.start()
    prod.start()
    t0 = pr.recv()
    t1 = cr.recv()
    prod.join(30)
    cons.join(30)
    q.close()
    return n / ((t1 - t0) / 1e9)


def flat_out_scenario(n: int, start_method: str) -> Scenario:
    return Scenario(
        id="bench-engine",
        title="1 producer -> Queue -> 1 consumer, flat out",
        queues=(QueueSpec("q", "Queue", 0),),
        producers=(ProducerSpec(id="P", queue="q", items=n, interval=0.0, sentinels=1),),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.0),),
        run=RunOptions(start_method=start_method, duration=120.0),
    )


def instrumented_rate(n: int, start_method: str) -> tuple[float, list[list[Any]], int, int]:
    """Items/s through the engine, plus the events (for the reducer bench)."""
    run = Run(flat_out_scenario(n, start_method))
    records: list[Any] = []
    try:
        run.start()
        deadline = time.monotonic() + 120
        while not run.finished and time.monotonic() < deadline:
            run.collector.wait_for_data(0.2)
            records.extend(run.collector.drain_records())  # as the window takes them
    finally:
        run.stop()
    records.extend(run.collector.drain_records())
    # Python tuples for the reducer bench: made after the run, not on its cores
    batches = [to_events(b, run.collector.strings) for b in records]
    first_put = min(e[0] for b in batches for e in b if e[3] == EventKind.PUT_DONE)
    last_get = max(e[0] for b in batches for e in b if e[3] == EventKind.GET_DONE)
    return n / ((last_get - first_put) / 1e9), batches, run.events_emitted, run.events_received


def reducer_rate(run_batches: list[list[Any]], start_method: str, n: int) -> float:
    topo = Run(flat_out_scenario(n, start_method)).topology
    events = sum(len(b) for b in run_batches)
    r = Reducer(topo, reorder_ns=50_000_000)
    # replay as the GUI sees it: whatever arrived in a 16 ms frame, then advance
    frame_ns = 16_000_000
    t0 = time.perf_counter()
    next_frame = run_batches[0][-1][0] + frame_ns if run_batches else 0
    for b in run_batches:
        r.feed(b)
        if b[-1][0] >= next_frame:
            r.advance(b[-1][0])
            next_frame = b[-1][0] + frame_ns
    r.flush()
    dt = time.perf_counter() - t0
    assert r.accounting_closes(), "the benchmark run's accounting must close"
    return events / dt


def bench_engine(
    items: int = 200_000, start_method: str = "fork", rounds: int = 3
) -> dict[str, Any]:
    ctx = multiprocessing.get_context(start_method)
    raw: list[float] = []
    inst: list[float] = []
    red: list[float] = []
    emitted = received = 0
    for _ in range(rounds):
        raw.append(raw_rate(ctx, items))
        rate, batches, e, r = instrumented_rate(items, start_method)
        inst.append(rate)
        emitted += e
        received += r
        red.append(reducer_rate(batches, start_method, items))
    raw_m, inst_m = statistics.median(raw), statistics.median(inst)
    return {
        "start_method": start_method,
        "items": items,
        "rounds": rounds,
        "raw_msgs_per_s": round(raw_m),
        "instrumented_msgs_per_s": round(inst_m),
        "ratio": round(inst_m / raw_m, 3),
        "reducer_events_per_s": round(statistics.median(red)),
        "events_emitted": emitted,
        "events_received": received,
        "raw_rounds": [round(x) for x in raw],
        "instrumented_rounds": [round(x) for x in inst],
    }
