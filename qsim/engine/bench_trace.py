"""``qsim bench trace``: what tracing costs an unmodified program, in one run.

The same flat-out 1:1 queue program (``bench_trace_program.py``) runs
untraced (``python prog.py``) and traced (``qsim trace``'s agent), in
alternating rounds so that a noisy neighbour hurts both alike; the program
times itself (first put -> last get), so start-up is left out of both. The
medians and their ratio are reported, with the traced run's event counts.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from qsim.engine.trace import TraceRun
from qsim.model.records import to_events
from qsim.model.state import Reducer

PROGRAM = Path(__file__).with_name("bench_trace_program.py")


def untraced_rate(items: int, start_method: str) -> float:
    out = subprocess.run(
        [sys.executable, str(PROGRAM), start_method, str(items)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["items_per_s"])


def traced_rate(items: int, start_method: str) -> tuple[float, int, int, bool]:
    """Items/s traced, events emitted and received, and whether accounting closed."""
    run = TraceRun(PROGRAM, [start_method, str(items)], capture_output=True)
    records: list[np.ndarray] = []
    try:
        run.start()
        # keep the records (cheap) and reduce them afterwards: what is measured
        # is what tracing costs the program, not what a viewer costs the machine
        while not run.finished:
            run.collector.wait_for_data(0.2)
            records.extend(run.collector.drain_records())
    finally:
        run.stop()
    records.extend(run.collector.drain_records())
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    for arr in records:
        reducer.feed(to_events(arr, run.collector.strings))
    reducer.flush()
    lines = run.stdout.decode().strip().splitlines()
    if run.returncode != 0 or not lines:
        raise RuntimeError(f"the traced benchmark program failed: {run.stderr.decode()[-2000:]}")
    rate = float(json.loads(lines[-1])["items_per_s"])
    return rate, run.events_emitted, run.events_received, reducer.accounting_closes()


def bench_trace(
    items: int = 200_000, start_method: str = "fork", rounds: int = 3
) -> dict[str, Any]:
    plain: list[float] = []
    traced: list[float] = []
    emitted = received = 0
    closes = True
    for _ in range(rounds):
        plain.append(untraced_rate(items, start_method))
        rate, e, r, ok = traced_rate(items, start_method)
        traced.append(rate)
        emitted += e
        received += r
        closes = closes and ok
    plain_m, traced_m = statistics.median(plain), statistics.median(traced)
    return {
        "program": PROGRAM.name,
        "start_method": start_method,
        "items": items,
        "rounds": rounds,
        "untraced_msgs_per_s": round(plain_m),
        "traced_msgs_per_s": round(traced_m),
        "ratio": round(traced_m / plain_m, 3),
        "events_emitted": emitted,
        "events_received": received,
        "accounting_closes": closes,
        "untraced_rounds": [round(x) for x in plain],
        "traced_rounds": [round(x) for x in traced],
    }
