"""``qsim --self-test``: run every built-in lesson briefly and check the engine.

(Program lessons, real programs traced, are judged in ``qsim.selftest_program``.)

What a student or teacher runs when something seems wrong. Each lesson runs
headless with real processes, sped up, for a few seconds at most, one after
the other. A lesson passes when

* its worker processes really started (and, in the packaged app, each worker
  is the app's own binary: no Python needed on the machine);
* every event a worker sent arrived (``events_emitted == events_received``);
* the reducer saw no impossible state and the item accounting closes;
* no worker process is left once the run is stopped;
* it hangs only if it is meant to: the ``pitfall-*`` lessons (except
  ``pitfall-large-objects``) or a lesson whose ``[run]`` says
  ``expect_hang = true`` must hang or end; every other lesson must not hang.

Output: one JSON object per lesson on **stdout**, then a summary object
(``"summary": true``); plain sentences for people on **stderr**. So
``qsim --self-test > report.jsonl`` keeps the machine-readable part and still
shows the verdict. Exit code 0 only if every lesson passed.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from qsim.engine.headless import pump, watch_hangs
from qsim.engine.run import Run
from qsim.model.scenario import Scenario
from qsim.model.scenario_io import ScenarioError

#: time scale of every run (the fastest the engine allows)
SPEED = 10.0
#: longest one lesson may run, and what all of them together should stay under
LESSON_CAP_S = 4.0
TOTAL_BUDGET_S = 60.0
#: a stall this long (every live worker waiting, nothing moving) is a hang
HANG_AFTER_S = 1.0


@dataclass
class LessonResult:
    """What one lesson's run showed (one JSON line)."""

    lesson: str
    ok: bool = False
    seconds: float = 0.0
    events: int = 0
    problems: list[str] = field(default_factory=list)
    expect_hang: bool = False
    expect_error: bool = False  # a program lesson that ends with the error it teaches
    hung: bool = False
    finished: bool = False
    workers: int = 0
    start_method: str = ""
    worker_exe: list[str] = field(default_factory=list)
    hung_actors: list[str] = field(default_factory=list)  # "C1 (waiting on get)"

    def as_json(self) -> dict[str, Any]:
        return {
            "lesson": self.lesson,
            "ok": self.ok,
            "seconds": self.seconds,
            "events": self.events,
            "problems": self.problems,
            "expect_hang": self.expect_hang,
            "expect_error": self.expect_error,
            "hung": self.hung,
            "finished": self.finished,
            "workers": self.workers,
            "start_method": self.start_method,
            "worker_exe": self.worker_exe,
            "hung_actors": self.hung_actors,
        }


def expects_hang(sc: Scenario) -> bool:
    """Whether a lesson is meant to hang (it demonstrates a deadlock)."""
    hint = getattr(sc.run, "expect_hang", None)
    if hint is None:
        hint = getattr(sc, "expect_hang", None)
    if hint is not None:
        return bool(hint)
    return sc.id.startswith("pitfall-") and sc.id != "pitfall-large-objects"


def _process_exe(pid: int) -> str:
    """The binary a process runs (Linux: ``/proc/PID/exe``; elsewhere unknown)."""
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return ""


def _descendants() -> list[int]:
    """Processes started (directly or not) by this one that are still around,
    except multiprocessing's resource tracker (Linux; elsewhere: direct children)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return [p.pid for p in multiprocessing.active_children() if p.pid]
    parent: dict[int, int] = {}
    for d in proc.iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:  # it ended while we looked
            continue
        # "pid (comm) state ppid ...": comm may hold spaces, so split after ")"
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[0] != "Z":
            parent[int(d.name)] = int(fields[1])
    me, tracker = os.getpid(), _resource_tracker_pid()
    found = []
    for pid in parent:
        p, hops = parent[pid], 0
        while p not in (0, 1, me, tracker) and hops < 64:
            p, hops = parent.get(p, 0), hops + 1
        if p == me and pid != tracker:
            found.append(pid)
    return sorted(found)


def _still_running(pids: set[int], grace: float = 3.0) -> list[int]:
    """Those of ``pids`` still alive after ``grace`` seconds (workers that lost
    their parent notice it and leave within a sleep slice or two)."""
    deadline = time.monotonic() + grace
    while True:
        alive = sorted(pid for pid in pids if _alive(pid))
        if not alive or time.monotonic() >= deadline:
            return alive
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    if not Path("/proc").is_dir():  # no os.kill(pid, 0): on Windows it terminates
        return pid in {p.pid for p in multiprocessing.active_children()}
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:  # gone
        return False


def _resource_tracker_pid() -> int:
    """multiprocessing's resource tracker lives as long as the app: not a leak."""
    from multiprocessing import resource_tracker

    tracker = getattr(resource_tracker, "_resource_tracker", None)
    return int(getattr(tracker, "_pid", None) or -1)


def run_lesson(sc: Scenario, cap: float = LESSON_CAP_S) -> LessonResult:
    """Run one lesson headless for at most ``cap`` seconds and judge it."""
    res = LessonResult(lesson=sc.id, expect_hang=expects_hang(sc))
    if res.expect_hang:  # a hang shows only after its processes started and stalled
        cap = max(cap, LESSON_CAP_S)
    sc = replace(sc, run=replace(sc.run, hang_after=min(sc.run.hang_after, HANG_AFTER_S)))
    from qsim.model.state import Reducer

    t0 = time.monotonic()
    try:
        run = Run(sc, speed=SPEED)
    except ValueError as e:  # a start method this platform lacks
        res.problems.append(str(e))
        return res
    res.start_method = run.start_method
    reducer = Reducer(run.topology, reorder_ns=300_000_000)
    hung: list[str] = []
    pids: dict[str, int] = {}
    seen: dict[int, str] = {}  # pid -> its binary
    try:
        run.start()
        pids = run.pids()
        next_look = 0.0
        while not run.finished and time.monotonic() - t0 < cap:
            if time.monotonic() >= next_look:  # every process the run made, however deep
                for pid in set(_descendants()) - seen.keys():
                    seen[pid] = _process_exe(pid)
                next_look = time.monotonic() + 0.25
            pump(run, reducer)
            hung = watch_hangs(run, reducer, sc.run.hang_after)
            if hung:
                res.hung_actors = [f"{a.name} ({a.state})" for a in reducer.actors if a.hung]
                break
        res.finished = run.finished and not hung  # before stop() ends them all
    except (OSError, RuntimeError) as e:
        res.problems.append(f"the run could not start its processes: {e}")
    finally:
        run.stop()
    res.seconds = round(time.monotonic() - t0, 2)
    for batch in run.collector.drain():
        reducer.feed(batch)
    reducer.flush()
    res.hung = bool(hung)
    res.events = run.events_received
    res.workers = len(pids)
    res.worker_exe = sorted(set(seen.values()) - {""})
    _judge(res, run, reducer, pids, set(seen))
    res.ok = not res.problems
    return res


def _judge(
    res: LessonResult, run: Run, reducer: Any, pids: dict[str, int], seen: set[int]
) -> None:
    p = res.problems
    if not pids:
        p.append("no worker process was started")
    elif os.getpid() in pids.values():
        p.append("a worker ran inside the app's own process, not a process of its own")
    silent = [reducer.actors[a].name for a in run.processes if not reducer.actors[a].started]
    if silent:
        p.append(f"worker(s) never reported that they started: {', '.join(silent)}")
    if getattr(sys, "frozen", False) and res.worker_exe:
        own = os.path.realpath(sys.executable)
        strangers = [e for e in res.worker_exe if os.path.realpath(e) != own]
        if strangers:
            p.append(f"workers ran {', '.join(strangers)}, not the app's binary {own}")
    emitted = run.events_emitted
    if emitted != run.events_received:
        p.append(
            f"events lost between workers and app: {emitted} sent, {run.events_received} received"
        )
    if reducer.violations:
        notes = "; ".join(reducer.violation_notes[:3])
        p.append(f"{reducer.violations} impossible state(s) seen: {notes}")
    if not reducer.accounting_closes():
        ac = reducer.acct
        p.append(
            f"item accounting does not close: produced {ac.produced} != consumed "
            f"{ac.consumed} + in queues {reducer.in_queues()} + in hands "
            f"{reducer.in_hands()} + lost {ac.lost}"
        )
    left = _still_running({x.pid for x in run.alive() if x.pid} | seen | set(_descendants()))
    if left:
        p.append(
            "process(es) still running after the run was stopped: "
            + ", ".join(f"{pid} ({_process_exe(pid) or '?'})" for pid in left)
        )
    if res.hung and not res.expect_hang:
        p.append(f"hung (every worker waits, nothing moves): {', '.join(res.hung_actors)}")
    if res.expect_hang and not (res.hung or res.finished):
        p.append(f"meant to show a hang, but neither hung nor ended within {res.seconds} s")


def _streams() -> tuple[IO[str], IO[str]]:
    """stdout/stderr, or a log file where a windowed app has none (Windows)."""
    if sys.stdout is not None and sys.stderr is not None:
        return sys.stdout, sys.stderr
    import tempfile

    log = open(Path(tempfile.gettempdir()) / "qsim-self-test.txt", "w", encoding="utf-8")  # noqa: SIM115
    return (sys.stdout or log), (sys.stderr or log)


def self_test(lessons: list[str] | None = None) -> int:
    """Run every built-in lesson (or the given ids); 0 if all pass, else 1."""
    from qsim import __version__
    from qsim.resources import builtin_ids, is_program, load, load_program

    out, say = _streams()
    # hidden: QSIM_SELF_TEST_LESSONS=basic,joinable runs only those (tests)
    picked = [x for x in os.environ.get("QSIM_SELF_TEST_LESSONS", "").split(",") if x]
    ids = lessons or picked or builtin_ids()
    frozen = bool(getattr(sys, "frozen", False))
    cap = min(LESSON_CAP_S, max(1.5, TOTAL_BUDGET_S / max(1, len(ids))))
    say.write(
        f"qsim {__version__} self-test{' of the packaged app' if frozen else ''}: "
        f"{len(ids)} lessons, one after the other, each for up to {cap:.1f} s "
        f"at {SPEED:g}x speed\n"
    )
    say.flush()
    t0 = time.monotonic()
    results = []
    for lesson_id in ids:
        try:
            lesson = load_program(lesson_id) if is_program(lesson_id) else load(lesson_id)
        except (ScenarioError, OSError) as e:  # a broken lesson file is a result
            res = LessonResult(lesson=lesson_id, problems=[f"cannot load the lesson: {e}"])
        else:
            if isinstance(lesson, Scenario):
                res = run_lesson(lesson, cap)
            else:
                from qsim.selftest_program import run_program_lesson

                res = run_program_lesson(lesson, cap, lesson.argv())
        results.append(res)
        out.write(json.dumps(res.as_json()) + "\n")
        out.flush()
        say.write(_human_line(res))
        say.flush()
    passed = sum(r.ok for r in results)
    seconds = round(time.monotonic() - t0, 2)
    summary = {
        "summary": True,
        "ok": passed == len(results),
        "passed": passed,
        "failed": len(results) - passed,
        "lessons": len(results),
        "seconds": seconds,
        "version": __version__,
        "frozen": frozen,
        "executable": sys.executable,
        "platform": sys.platform,
    }
    out.write(json.dumps(summary) + "\n")
    out.flush()
    verdict = "all passed" if summary["ok"] else f"{summary['failed']} FAILED"
    say.write(f"{passed} of {len(results)} lessons passed in {seconds:g} s: {verdict}\n")
    if not summary["ok"]:
        say.write(
            "Please send this output (both the sentences and the JSON lines) "
            "to whoever looks after qsim.\n"
        )
    say.flush()
    return 0 if summary["ok"] else 1


def _human_line(r: LessonResult) -> str:
    if r.hung:
        how = "hung as it should" if r.expect_hang else "HUNG"
    elif r.finished:
        how = "ended with the error it shows" if r.expect_error else "finished"
    elif r.workers:
        how = "still running at the time limit (fine)"
    else:
        how = "did not run"
    head = f"  {'ok  ' if r.ok else 'FAIL'}  {r.lesson:28} {r.seconds:5.1f} s  "
    head += f"{r.workers} processes, {r.events} events, {how}"
    return head + "".join(f"\n        - {p}" for p in r.problems) + "\n"
