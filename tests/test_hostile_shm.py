"""A scenario cannot make qsim remove shared memory it did not create (issue 15, item 6).

The large-objects reader unlinks each block it has read. Before, it took any
``("shm", name, size)`` payload at its word, so a pipeline that parses the
record ``"shm:<name>:8"`` made it unlink ``/dev/shm/<name>`` of any program of
the same user. Now block names are made by qsim (a per-run random prefix and a
per-producer count) and the reader refuses every other name.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from multiprocessing import shared_memory

import pytest

from qsim.engine.headless import pump
from qsim.engine.run import Run
from qsim.model.events import Event, EventKind
from qsim.model.scenario_io import parse_scenario

VICTIM_SCENARIO = """\
[scenario]
id = "shm-victim"
title = "A record that names someone else's shared memory"

[run]
duration = 20.0

[[queues]]
id = "raw"

[[queues]]
id = "parsed"

[[producers]]
id = "P"
queue = "raw"
records = ["shm:{name}:8", "user:alice:login"]
interval = 0.0
sentinels = 1

[[consumers]]
id = "parse"
queue = "raw"
output = "parsed"
function = "parse"
work_time = 0.0

[[consumers]]
id = "R"
queue = "parsed"
work_time = 0.0
loop = "read_payload"
"""


@pytest.fixture
def victim() -> Iterator[shared_memory.SharedMemory]:
    """A real shared-memory block of this test, which must survive the run."""
    shm = shared_memory.SharedMemory(f"qsimtest_{os.getpid()}", create=True, size=8)
    assert shm.buf is not None
    shm.buf[:8] = b"precious"
    yield shm
    shm.close()
    shm.unlink()


def _run_to_end(run: Run, limit: float = 20.0) -> list[Event]:
    from qsim.model.state import Reducer

    reducer = Reducer(run.topology, reorder_ns=0)
    events: list[Event] = []
    t0 = time.monotonic()
    try:
        run.start()
        while not run.finished and time.monotonic() - t0 < limit:
            pump(run, reducer)
            events.extend(reducer.last_applied)
    finally:
        run.stop()
    for batch in run.collector.drain():
        reducer.feed(batch)
    reducer.flush()
    events.extend(reducer.last_applied)
    return events


def test_a_record_naming_a_block_does_not_remove_it(
    victim: shared_memory.SharedMemory, start_method: str
) -> None:
    sc = parse_scenario(VICTIM_SCENARIO.format(name=victim.name), "victim.toml")
    run = Run(sc, start_method=start_method)
    events = _run_to_end(run)
    assert run.finished
    # the block is still there, with its data
    again = shared_memory.SharedMemory(victim.name)
    try:
        assert again.buf is not None and bytes(again.buf[:8]) == b"precious"
    finally:
        again.close()
    # the reader said why it did not read it, and went on with the next item
    errors = [str(e[6]) for e in events if e[3] == EventKind.ERROR]
    assert any("not made by this run" in text for text in errors), errors
    reader = run.topology.actors_in("R")[0].index
    assert run.exit_codes[reader] == 0
