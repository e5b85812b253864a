"""Run a scenario without a GUI and report what happened (``qsim run --headless``)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qsim.engine.run import Run
from qsim.model.events import EventKind
from qsim.model.lessons import lane_report
from qsim.model.metrics import build_report
from qsim.model.scenario import Scenario
from qsim.model.state import Reducer
from qsim.model.waits import wait_reason


def pump(run: Run, reducer: Reducer, timeout: float = 0.05) -> int:
    """Move what the collector has into the reducer (waits up to ``timeout``)."""
    run.collector.wait_for_data(timeout)
    n = 0
    for batch in run.collector.drain():
        reducer.feed(batch)
        n += len(batch)
    reducer.advance(time.monotonic_ns())
    return n


def watch_hangs(run: Run, reducer: Reducer, hang_after: float) -> list[str]:
    """Mark hung actors (once); return their names.

    Judged on what is known now, not on what a lagging view shows: only when
    the reducer has taken in everything the processes sent (nothing waiting,
    nothing kept back by a measuring lane), and nothing arrived for a while.
    """
    collector = run.collector
    if collector.pending() or collector.deferring:
        return []
    now = time.monotonic_ns()
    quiet = now - collector.last_arrival_ns if collector.last_arrival_ns else 0
    hung = reducer.hung_actors(now, int(hang_after * 1e9), quiet)
    for a in hung:
        if not a.hung:
            reason = wait_reason(reducer, a)
            why = (
                f"{a.state}; {reason}"
                if reason
                else f"{a.state} with no progress for {hang_after:g} s"
            )
            run.inject(a.index, EventKind.HUNG, why)
            a.hung = True
    return [a.name for a in hung]


def run_headless(
    scenario: Scenario,
    duration: float | None = None,
    start_method: str | None = None,
    speed: float | None = None,
    seed: int | None = None,
    stop_on_hang: bool = True,
    record: str | Path | None = None,
    on_frame: Callable[[Reducer], None] | None = None,
    on_started: Callable[[Run], None] | None = None,
) -> tuple[dict[str, Any], Reducer]:
    """Run ``scenario`` with real processes until every worker ended, it hung,
    or ``duration`` seconds passed; return the JSON report and the reducer.

    ``record``: also write the run's recording (``.qrec``) there.
    ``on_frame``: called with the reducer after each step that applied events.
    ``on_started``: called with the run once its processes are started (a test
    that kills one of them keeps it).
    """
    limit = scenario.run.duration if duration is None else duration
    run = Run(scenario, start_method=start_method, speed=speed, seed=seed)
    # nobody watches live: a long reorder window costs nothing and is exact
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    recorder = None
    hung: list[str] = []
    ended = False  # every worker ended by itself (not stopped at the limit or a hang)
    t0 = time.monotonic()
    try:
        try:
            if record is not None:
                recorder = _recorder(scenario, run, reducer, record)
            run.start()
            if on_started is not None:
                on_started(run)
            while not run.finished and time.monotonic() - t0 < limit:
                pump(run, reducer)
                if on_frame is not None and reducer.last_applied:
                    on_frame(reducer)
                hung = watch_hangs(run, reducer, scenario.run.hang_after)
                if hung and stop_on_hang:
                    break
            ended = run.finished and not hung
        finally:
            run.stop()
        elapsed = time.monotonic() - t0
        for batch in run.collector.drain():
            reducer.feed(batch)
        reducer.flush()
        if on_frame is not None:
            on_frame(reducer)
        head: dict[str, Any] = {
            "scenario": scenario.id,
            "start_method": run.start_method,
            "duration_s": round(elapsed, 3),
            "events_emitted": run.events_emitted,
            "events_received": run.events_received,
            "finished": ended,
        }
        report = build_report(reducer, **head)
        exit_codes = {run.topology.actors[a].name: c for a, c in run.exit_codes.items()}
        report["exit_codes"] = exit_codes
        report["lanes"] = lane_report(scenario, reducer)
        if recorder is not None:
            recorder.finish({"head": head, "exit_codes": exit_codes})
    finally:
        if recorder is not None:
            recorder.close()
    return report, reducer


def _recorder(scenario: Scenario, run: Run, reducer: Reducer, path: str | Path) -> Any:
    """A recorder streaming into ``path`` (imported here: a plain run needs none)."""
    from qsim.model.scenario_save import dump_scenario
    from qsim.record.recorder import Recorder

    rec = Recorder(
        run.topology,
        scenario_id=scenario.id,
        scenario_toml=dump_scenario(scenario),
        start_method=run.start_method,
        path=path,
    )
    rec.attach(reducer)
    return rec
