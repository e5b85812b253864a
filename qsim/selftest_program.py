"""``qsim --self-test`` for a program lesson: its program, traced, judged like a scenario.

The lesson's program runs as ``qsim run`` would run it (its knobs' defaults),
every ``time.sleep`` sped up, with the agent in every process of it. It
passes when

* its processes really started and reported (in the packaged app, each one
  is the app's own binary: no Python needed on the machine);
* every event sent arrived, nothing impossible was seen, the accounting closes;
* no process of the program is left once it is stopped;
* it ended as the lesson says (``expect``): ``finish`` ends (or still runs
  at the time limit) with exit code 0 and nothing crashed; ``hang`` hangs;
  ``error`` ends by itself with a non-zero exit code (the error it teaches).
"""

from __future__ import annotations

import os
import sys
import time

from qsim.engine.trace import TraceRun
from qsim.engine.trace_check import TraceError
from qsim.engine.trace_headless import hung_processes, pump, where_stuck
from qsim.model.events import EventKind
from qsim.model.program_lesson import ProgramLesson
from qsim.model.state import Reducer
from qsim.selftest import (
    SPEED,
    LessonResult,
    _descendants,
    _process_exe,
    _still_running,
)

#: a pitfall lesson runs at least its hang_after plus this, to show its hang
HANG_GRACE_S = 2.5


def run_program_lesson(lesson: ProgramLesson, cap: float, argv: list[str]) -> LessonResult:
    """Trace ``lesson``'s program with ``argv`` for at most ``cap`` seconds and judge it."""
    res = LessonResult(
        lesson=lesson.id,
        expect_hang=lesson.expect == "hang",
        expect_error=lesson.expect == "error",
    )
    res.start_method = "program's own"
    t0 = time.monotonic()
    try:
        run = TraceRun(lesson.program, argv, speed=SPEED, capture_output=True)
    except TraceError as e:
        res.problems.append(f"the program cannot be traced: {e}")
        return res
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    # the lesson's own hang_after (2-3 s), not the scenarios' 1 s: a main process
    # waiting in join() while its spawned children start (and do not report
    # yet) must not count as a hang on a slow machine
    hang_after = lesson.hang_after
    if lesson.expect == "hang":
        cap = max(cap, hang_after + HANG_GRACE_S)
    seen: dict[int, str] = {}  # pid -> its binary
    try:
        run.start()
        next_look = 0.0
        while not run.finished and time.monotonic() - t0 < cap:
            if time.monotonic() >= next_look:  # every process of the program, however deep
                for pid in set(run.alive()) - seen.keys():
                    seen[pid] = _process_exe(pid)
                next_look = time.monotonic() + 0.25
            pump(run, reducer)
            hung = hung_processes(reducer, time.monotonic_ns(), hang_after)
            if hung:
                res.hung = True
                res.hung_actors = [f"{a.name} ({where_stuck(reducer, a)})" for a in hung]
                for a in hung:
                    run.inject(a.index, EventKind.HUNG, "self-test")
                break
        res.finished = run.finished and not res.hung
    except OSError as e:
        res.problems.append(f"the program could not be started: {e}")
    finally:
        run.stop()
    res.seconds = round(time.monotonic() - t0, 2)
    for batch in run.collector.drain():
        reducer.feed(batch)
    reducer.flush()
    res.events = run.events_received
    res.workers = sum(1 for a in reducer.actors if a.started)
    res.worker_exe = sorted(set(seen.values()) - {""})
    _judge(res, lesson, run, reducer, set(seen))
    res.ok = not res.problems
    return res


def _judge(
    res: LessonResult, lesson: ProgramLesson, run: TraceRun, reducer: Reducer, seen: set[int]
) -> None:
    p = res.problems
    if not res.workers:
        p.append("the program's processes never reported that they started")
    if getattr(sys, "frozen", False) and res.worker_exe:
        own = os.path.realpath(sys.executable)
        strangers = [e for e in res.worker_exe if os.path.realpath(e) != own]
        if strangers:
            p.append(f"the program ran {', '.join(strangers)}, not the app's binary {own}")
    if run.events_emitted != run.events_received:
        p.append(
            f"events lost between the program and the app: {run.events_emitted} sent, "
            f"{run.events_received} received"
        )
    if reducer.violations:
        p.append(f"{reducer.violations} impossible state(s) seen: "
                 + "; ".join(reducer.violation_notes[:3]))  # fmt: skip
    if not reducer.accounting_closes():
        p.append(f"item accounting does not close: {reducer.acct}")
    left = _still_running(seen | set(run.alive()) | set(_descendants()))
    if left:
        p.append(
            "process(es) still running after the program was stopped: "
            + ", ".join(f"{pid} ({_process_exe(pid) or '?'})" for pid in left)
        )
    code = run.exit_codes.get(0)
    crashed = [a.name for a in reducer.actors if a.state == "crashed"]
    err = run.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if lesson.expect == "hang":
        if not res.hung:
            p.append(f"meant to show a hang, but it did not hang within {res.seconds} s")
    elif res.hung:
        p.append(f"hung (every process waits, nothing moves): {', '.join(res.hung_actors)}")
    if lesson.expect == "error":
        if not res.finished or code in (0, None):
            p.append(f"meant to fail with an error, but it ended with exit code {code}")
    elif res.finished and (code != 0 or crashed):
        who = f" ({', '.join(crashed)} crashed)" if crashed else ""
        p.append(f"ended with exit code {code}{who}: {err[0][:200]}")
