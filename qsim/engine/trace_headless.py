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
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from qsim.engine.trace import TraceRun
from qsim.engine.trace_hang import hung_processes, where_stuck
from qsim.model.entities import ActorState
from qsim.model.events import Event, EventKind
from qsim.model.program import OUTPUT_IN_REPORT, program_messages, program_report
from qsim.model.state import Reducer

__all__ = ["hung_processes", "messages", "pump", "trace_headless", "where_stuck"]


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
    record: str | Path | None = None,
    on_frame: Callable[[Reducer], None] | None = None,
) -> tuple[dict[str, Any], Reducer, TraceRun]:
    """Trace ``script`` until it ends, hangs, or ``duration`` passes
    (``keep`` gets every event, in arrival order; ``record``: also write the
    run's recording, ``.qrec``, there; ``on_frame``: called with the reducer
    after each step that applied events).

    Raises ``TraceError`` (nothing started) for a program that cannot be traced,
    ``OSError`` if the recording cannot be written.
    """
    run = TraceRun(
        script, args, speed=speed, capture_output=True, python=python, internals=internals
    )
    reducer = Reducer(run.topology, reorder_ns=300_000_000)  # nobody watches live
    try:
        recorder = None if record is None else _recorder(run, reducer, record)
    except OSError:
        run.stop()
        raise
    try:
        return _trace(script, run, reducer, recorder, duration, hang_after, keep, on_frame)
    finally:
        if recorder is not None:
            recorder.close()


def _trace(
    script: str,
    run: TraceRun,
    reducer: Reducer,
    recorder: Any,
    duration: float | None,
    hang_after: float,
    keep: list[Event] | None,
    on_frame: Callable[[Reducer], None] | None,
) -> tuple[dict[str, Any], Reducer, TraceRun]:
    hung: list[ActorState] = []
    stuck: dict[str, str] = {}  # hung process -> where, in words, when it was found
    t0 = time.monotonic()
    try:
        run.start()
        while not run.finished:
            if duration is not None and time.monotonic() - t0 >= duration:
                break
            pump(run, reducer, keep=keep)
            if on_frame is not None and reducer.last_applied:
                on_frame(reducer)
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
    if on_frame is not None:
        on_frame(reducer)
    head = {
        "program": script,
        "args": list(run.args),
        "start_method": run.start_method,
        "duration_s": round(elapsed, 3),
        "events_emitted": run.events_emitted,
        "events_received": run.events_received,
        "finished": ended,
    }
    stdout = run.stdout.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
    stderr = run.stderr.decode("utf-8", "replace")[-OUTPUT_IN_REPORT:]
    main_code = run.exit_codes.get(0)
    report = program_report(reducer, head, stuck, main_code, run.returncode, stdout, stderr)
    if recorder is not None:
        from qsim.record.program import program_run_info

        recorder.finish(program_run_info(head, stuck, main_code, run.returncode, stdout, stderr))
    return report, reducer, run


def _recorder(run: TraceRun, reducer: Reducer, path: str | Path) -> Any:
    """A recorder streaming the program's run into ``path`` (imported here: a
    run that is not recorded needs none)."""
    from qsim.model.program import Program
    from qsim.record.program import program_meta
    from qsim.record.recorder import Recorder

    program = Program(run.script, tuple(run.args), internals=run.internals)
    rec = Recorder(
        run.topology,
        scenario_id=program.scenario().id,
        start_method=run.start_method,
        path=path,
        program=program_meta(program),
    )
    rec.attach(reducer)
    return rec


def messages(r: Reducer, run: TraceRun, stuck: dict[str, str]) -> list[str]:
    """What a student should know about this run, in plain words."""
    return program_messages(r, run.returncode, stuck)
