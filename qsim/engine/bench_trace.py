"""``qsim bench trace``: what tracing costs an unmodified program, in one run.

The same flat-out 1:1 queue program (``bench_trace_program.py``) runs
untraced (``python prog.py``), traced (``qsim trace``'s agent, lines sampled)
and traced with line tracking on (what the open code view asks for: every
line of the program's own code, ``sys.monitoring`` on 3.12+, ``sys.settrace``
before), in alternating rounds so that a noisy neighbour hurts all alike; the
program times itself (first put -> last get), so start-up is left out. The
medians and their ratios are reported, with the traced runs' event counts.
``python``: another interpreter to measure (e.g. a 3.12 for sys.monitoring).
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


def untraced_rate(items: int, start_method: str, python: str | None = None) -> float:
    out = subprocess.run(
        [python or sys.executable, str(PROGRAM), start_method, str(items)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    return float(json.loads(out.strip().splitlines()[-1])["items_per_s"])


def traced_rate(
    items: int, start_method: str, lines: bool = False, python: str | None = None
) -> tuple[float, int, int, bool]:
    """Items/s traced, events emitted and received, and whether accounting closed."""
    run = TraceRun(
        PROGRAM, [start_method, str(items)], capture_output=True, python=python, lines=lines
    )
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
    out = run.stdout.decode().strip().splitlines()
    if run.returncode != 0 or not out:
        raise RuntimeError(f"the traced benchmark program failed: {run.stderr.decode()[-2000:]}")
    rate = float(json.loads(out[-1])["items_per_s"])
    return rate, run.events_emitted, run.events_received, reducer.accounting_closes()


def bench_trace(
    items: int = 200_000,
    start_method: str = "fork",
    rounds: int = 3,
    python: str | None = None,
) -> dict[str, Any]:
    plain: list[float] = []
    traced: list[float] = []
    tracked: list[float] = []
    emitted = received = 0
    closes = True
    for _ in range(rounds):
        plain.append(untraced_rate(items, start_method, python))
        for lines, into in ((False, traced), (True, tracked)):
            rate, e, r, ok = traced_rate(items, start_method, lines, python)
            into.append(rate)
            emitted += e
            received += r
            closes = closes and ok
    plain_m, traced_m = statistics.median(plain), statistics.median(traced)
    tracked_m = statistics.median(tracked)
    version = subprocess.run(
        [python or sys.executable, "-c", "import sys; print(sys.version.split()[0])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return {
        "program": PROGRAM.name,
        "python": version,
        "start_method": start_method,
        "items": items,
        "rounds": rounds,
        "untraced_msgs_per_s": round(plain_m),
        "traced_msgs_per_s": round(traced_m),
        "ratio": round(traced_m / plain_m, 3),
        "line_tracking": "sys.monitoring" if version >= "3.12" else "sys.settrace",
        "traced_lines_msgs_per_s": round(tracked_m),
        "ratio_lines": round(tracked_m / plain_m, 3),
        "events_emitted": emitted,
        "events_received": received,
        "accounting_closes": closes,
        "untraced_rounds": [round(x) for x in plain],
        "traced_rounds": [round(x) for x in traced],
        "traced_lines_rounds": [round(x) for x in tracked],
    }
