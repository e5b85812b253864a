"""``qsim trace PROGRAM --headless``: trace a program without a window and report.

The report has the shape of ``qsim run``'s (actors, queues, accounting,
events emitted and received), plus what only a traced program has: each
process's pid, puts, gets and current line, internal queues and processes,
the program's exit code and output, and plain-words ``messages`` for what a
student should know (it crashed, it hung and where, it used no queue, it used
a Pool whose own queues are shown as internal).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from qsim.engine.trace import TraceRun
from qsim.engine.trace_hang import hung_processes, where_stuck
from qsim.model.entities import ActorState
from qsim.model.events import Event, EventKind
from qsim.model.metrics import build_report, traced_details
from qsim.model.state import Reducer

__all__ = ["hung_processes", "messages", "pump", "trace_headless", "where_stuck"]

OUTPUT_IN_REPORT = 20_000  # characters of the program's stdout/stderr in the report


def pump(
    run: TraceRun, reducer: Reducer, timeout: float = 0.05, keep: list[Event] | None = None
) -> int:
    """Move what the collector has into the reducer (waits up to ``timeout``);
    ``keep`` gets every event too."""
    run.collector.wait_for_data(timeout)
    n = 0
    for batch in run.collector.drain():
        reducer.feed(batch)
        if keep is not None:
            keep.extend(batch)
        n += len(batch)
    reducer.advance(time.monotonic_ns())
    return n


def trace_headless(
    script: str,
    args: Sequence[str] = (),
    duration: float | None = None,
    hang_after: float = 3.0,
    speed: float = 1.0,
    python: str | None = None,
    keep: list[Event] | None = None,
    internals: bool = False,
) -> tuple[dict[str, Any], Reducer, TraceRun]:
    """Trace ``script`` until it ends, hangs, or ``duration`` passes
    (``keep`` gets every event, in arrival order).

    Raises ``TraceError`` (nothing started) for a program that cannot be traced.
    """
    run = TraceRun(
        script, args, speed=speed, capture_output=True, python=python, internals=internals
    )
    reducer = Reducer(run.topology, reorder_ns=300_000_000)  # nobody watches live
    hung: list[ActorState] = []
    stuck: dict[str, str] = {}  # hung process -> where, in words, when it was found
    t0 = time.monotonic()
    try:
        run.start()
        while not run.finished:
            if duration is not None and time.monotonic() - t0 >= duration:
                break
            pump(run, reducer, keep=keep)
            hung = hung_processes(reducer, time.monotonic_ns(), hang_after)
            if hung:
                for a in hung:
                    stuck[a.name] = where_stuck(reducer, a)
                    why = f"{stuck[a.name]}, no progress for {hang_after:g} s"
                    run.inject(a.index, EventKind.HUNG, why)
                break
        ended = run.finished and not hung
    finally:
        run.stop()
    elapsed = time.monotonic() - t0
    for batch in run.collector.drain():
        reducer.feed(batch)
        if keep is not None:
            keep.extend(batch)
    reducer.flush()
    report = build_report(
        reducer,
        program=script,
        args=list(args),
        start_method=run.start_method,
        duration_s=round(elapsed, 3),
        events_emitted=run.events_emitted,
        events_received=run.events_received,
        finished=ended,
    )
    traced_details(reducer, report)
    for name in stuck:  # a stop ends a hung program: it is still shown hung
        report["actors"][name]["state"] = "hung"
    report["hung"] = sorted(stuck)
    report["exit_codes"] = {"main": run.exit_codes.get(0)}
    report["exit_codes"].update({a.name: a.exit_code for a in reducer.actors[1:] if a.started})
    report["stdout"] = run.stdout.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
    report["stderr"] = run.stderr.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
    report["messages"] = messages(reducer, run, stuck)
    return report, reducer, run


def messages(r: Reducer, run: TraceRun, stuck: dict[str, str]) -> list[str]:
    """What a student should know about this run, in plain words."""
    out: list[str] = []
    if stuck:
        out.append("The program hung: " + "; ".join(f"{n} {w}" for n, w in stuck.items()) + ".")
    for a in r.actors:
        if a.state == "crashed" or (a.exit_code not in (0, None) and a.role == "process"):
            err = f": {a.last_error}" if a.last_error else ""
            out.append(f"{a.name} crashed (exit code {a.exit_code}){err}.")
    own = [q for q in r.queues if not q.internal]
    if not r.queues:
        out.append("The program used no queue: there is nothing to animate.")
    if any(q.internal for q in r.queues) or any(a.internal for a in r.actors):
        out.append(
            "The program uses a Pool, a manager or an executor: the queues and "
            "processes it made for itself are shown as internal."
        )
    if r.queues and not own:
        out.append("The program made no queue of its own: only internal ones.")
    if run.returncode not in (0, None) and not any("main crashed" in m for m in out):
        out.append(f"The program ended with exit code {run.returncode}.")
    return out
