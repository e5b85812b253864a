"""Hung traced programs, and the line each process is on (the code markers).

A process blocked in ``q.get()`` or ``p.join()`` is shown on exactly that
line; a paused process on the line where it parked.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tracing import PROGRAMS, closes, marked_line, trace

from qsim.engine.trace import TraceRun
from qsim.engine.trace_headless import pump
from qsim.model.state import Reducer


def _line(path_line: str | None) -> tuple[str, int]:
    assert path_line, "no line reported"
    path, line = path_line.rsplit(":", 1)
    return Path(path).name, int(line)


def test_a_consumer_without_sentinel_hangs_on_its_get(start_method: str) -> None:
    t = trace("hang_no_sentinel.py", start_method, hang_after=1.0)
    closes(t)
    prog = "hang_no_sentinel.py"
    assert t.report["hung"] == ["consumer", "main"]
    consumer, main = t.actor("consumer"), t.actor("main")
    assert consumer["state"] == main["state"] == "hung"
    assert _line(consumer["line"]) == (prog, marked_line(prog, "consumer blocks here"))
    assert _line(main["line"]) == (prog, marked_line(prog, "main blocks here"))
    text = " ".join(t.report["messages"])
    assert (
        f"consumer waiting on get on q at {prog}:{marked_line(prog, 'consumer blocks here')}"
        in text
    )
    assert (
        f"main waiting in consumer.join() at {prog}:{marked_line(prog, 'main blocks here')}"
        in text
    )
    assert t.gets("q", "consumer") == ["0", "1", "2"]


def test_joining_a_producer_before_draining_hangs(start_method: str) -> None:
    prog = "join_before_drain.py"
    t = trace(prog, start_method, hang_after=1.0)
    closes(t)
    assert t.report["hung"] == ["main", "producer"]
    assert _line(t.actor("main")["line"]) == (prog, marked_line(prog, "main blocks here"))
    # it ran off the end of producer() and waits for its queue's feeder thread
    assert _line(t.actor("producer")["line"]) == (prog, marked_line(prog, "producer puts"))
    text = " ".join(t.report["messages"])
    assert "producer waiting in its queue's feeder thread" in text
    assert t.report["queues"]["q"]["puts"] == 50
    assert t.report["queues"]["q"]["gets"] == 0


def _wait(cond: object, timeout: float, run: TraceRun, r: Reducer) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        pump(run, r, 0.05)


@pytest.mark.parametrize("method", ["fork", "spawn"])
def test_pause_parks_every_process_on_its_line_and_step_moves_one(
    method: str, tmp_path: Path
) -> None:
    prog = "forever.py"
    run = TraceRun(PROGRAMS / prog, [method, str(tmp_path / "pids")])
    r = Reducer(run.topology, reorder_ns=0)
    try:
        run.start()
        _wait(lambda: len([a for a in r.actors if a.started]) == 3, 30, run, r)
        q = r.topology.queue_index("q")
        _wait(lambda: r.queues[q].gets >= 3, 30, run, r)
        run.pause()
        names = {"producer", "consumer"}
        _wait(lambda: all(a.paused for a in r.actors if a.name in names), 10, run, r)
        lines = {a.name: a.line[1] for a in r.actors if a.name in names and a.line}
        assert lines["consumer"] == marked_line(prog, "consumer gets")
        assert lines["producer"] in (
            marked_line(prog, "producer puts"),
            marked_line(prog, "producer sleeps"),
        )
        before = r.queues[q].puts + r.queues[q].gets
        for _ in range(3):  # nothing moves while paused...
            pump(run, r, 0.1)
        assert r.queues[q].puts + r.queues[q].gets == before
        run.step()  # ...but a step lets exactly one queue operation through
        _wait(lambda: r.queues[q].puts + r.queues[q].gets == before + 1, 10, run, r)
        for _ in range(3):
            pump(run, r, 0.1)
        assert r.queues[q].puts + r.queues[q].gets == before + 1
        run.resume()
        _wait(lambda: r.queues[q].gets >= before + 5, 10, run, r)
        pids = json.loads((tmp_path / "pids").read_text())
        assert sorted(a.pid for a in r.actors) == sorted(pids)
    finally:
        run.stop()
    assert run.alive() == []
