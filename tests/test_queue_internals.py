"""Where a Queue's items really are: the putting process's feeder buffer, the
pipe, or taken (real processes, fork and spawn; the pipe read with FIONREAD)."""

from __future__ import annotations

import re
import sys
import time

import pytest

from qsim.engine.headless import run_headless
from qsim.engine.pipe_probe import pipe_capacity, unread_bytes
from qsim.engine.run import Run
from qsim.model.events import Event, EventKind
from qsim.model.scenario import (
    ConsumerSpec,
    MainSpec,
    ProducerSpec,
    QueueSpec,
    RunOptions,
    Scenario,
)
from qsim.model.state import Reducer

K = EventKind
ITEM = 64 * 1024
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="FIONREAD of a pipe")


def join_before_drain(items: int = 20) -> Scenario:
    return Scenario(
        id="jbd",
        title="join before drain",
        queues=(QueueSpec("q", "Queue", internals=True),),
        producers=(
            ProducerSpec(id="P", queue="q", items=items, interval=0.0, payload_bytes=ITEM),
        ),
        main=MainSpec(join_producers_first=True),
        run=RunOptions(duration=30, hang_after=1.5),
    )


def drained(kind: str, items: int = 12) -> Scenario:
    return Scenario(
        id="drained",
        title="drained slowly",
        queues=(QueueSpec("q", kind, internals=True),),
        producers=(
            ProducerSpec(
                id="P", queue="q", items=items, interval=0.0, payload_bytes=ITEM, sentinels=1
            ),
        ),
        consumers=(ConsumerSpec(id="C", queue="q", work_time=0.05),),
        run=RunOptions(duration=30),
    )


@linux
def test_at_the_hang_one_item_is_in_the_pipe_and_the_rest_in_the_buffer(
    start_method: str,
) -> None:
    report, r = run_headless(join_before_drain(), start_method=start_method)
    assert report["hung"] and not report["finished"]
    q = report["queues"]["q"]
    # the pipe (64 KiB) holds at most one 64 KiB item (plus its 4-byte length):
    # its write is stuck half-way; the other 19 never left P1's feeder buffer
    assert q["pipe_items"] == 1 and q["pipe_bytes"] == ITEM + 45  # pickle header + prefix
    assert q["in_buffers"] == 19 and q["in_buffers_by_process"] == {"P1": 19}
    assert q["in_buffers"] + q["pipe_items"] + q["gets"] == q["puts"] == 20
    # what the pipe itself says agrees within one item
    assert 0 < q["pipe_fionread"] <= q["pipe_capacity"]
    assert abs(q["pipe_bytes"] - q["pipe_fionread"]) < q["pipe_bytes"]
    said = [n.text for n in r.notes if "cannot exit" in n.text]
    # when it finished its code, its feeder thread had written none or one of them
    assert said and re.search(r"P1 has finished its code but cannot exit: (19|20) items", said[0])


@pytest.mark.parametrize("kind", ["Queue", "SimpleQueue"])
def test_drained_items_pass_buffer_pipe_taken_and_every_step_adds_up(
    start_method: str, kind: str
) -> None:
    run = Run(drained(kind), start_method=start_method)
    events: list[Event] = []
    live = Reducer(run.topology, reorder_ns=300_000_000)
    try:
        run.start()
        t0 = time.monotonic()
        while not run.finished and time.monotonic() - t0 < 30:
            run.collector.wait_for_data(0.05)
            for b in run.collector.drain():
                live.feed(b)
            live.advance(time.monotonic_ns())
            events += live.last_applied
    finally:
        run.stop()
    for b in run.collector.drain():
        live.feed(b)
    live.flush()
    events += live.last_applied
    assert run.finished and live.accounting_closes()
    # replay one event at a time: buffer + pipe + taken = put, at every step
    r = Reducer(run.topology, reorder_ns=0)
    seen_buffered = 0
    for e in events:
        r.feed([e])
        r.advance(e[0])
        q = r.queues[0]
        # a get stamped a moment before its put (two clocks read microseconds
        # apart) waits in the reducer's causality repair: it is not taken yet
        early = sum(1 for qi, _t in r._early_gets.values() if qi == 0)
        assert len(q.buffered) + len(q.pipe) + q.gets - early == q.puts, e
        assert len(q.pipe) == len(q.piped) and q.pipe_bytes == sum(q.piped.values())
        seen_buffered = max(seen_buffered, len(q.buffered))
    q = r.queues[0]
    assert q.gets == q.puts == 13 and not q.buffered and not q.pipe and q.pipe_bytes == 0
    if kind == "SimpleQueue":  # no feeder: put writes into the pipe itself
        assert all(e[3] != K.FEEDER_WRITE or e[2] == 1 for e in events), (
            "only the putting process writes"
        )
    p1 = r.actors[1]
    assert p1.state == "finished"  # drained: its feeder wrote everything, it could exit


@linux
def test_fionread_and_capacity_of_a_real_pipe() -> None:
    import multiprocessing

    q = multiprocessing.get_context("fork").Queue()
    try:
        fd = q._reader.fileno()  # type: ignore[attr-defined]
        assert unread_bytes(fd) == 0
        assert pipe_capacity(fd) >= 4096
        q._writer.send_bytes(b"x" * 1000)  # type: ignore[attr-defined]
        assert unread_bytes(fd) == 1004  # the 4-byte length prefix and the bytes
    finally:
        q.close()


# ------------------------------------------------------------ traced programs
def traced(program: str, method: str, *args: str) -> tuple[dict[str, object], list[Event]]:
    from tracing import PROGRAMS

    from qsim.engine.trace_headless import trace_headless

    events: list[Event] = []
    report, _r, _run = trace_headless(
        str(PROGRAMS / program),
        [method, *args],
        duration=30,
        hang_after=1.5,
        keep=events,
        internals=True,
    )
    return report, events


def test_a_traced_join_before_drain_leaves_what_the_pipe_cannot_take_in_the_buffer(
    start_method: str,
) -> None:
    report, _ = traced("join_before_drain.py", start_method)
    assert report["hung"]
    q = report["queues"]["q"]  # type: ignore[index]
    # 50 items of 10 KB: the pipe (64 KiB) takes six whole ones and part of a
    # seventh, whose write is stuck; the rest never left the feeder buffer
    item = 10_000 + 4
    assert q["pipe_items"] * item <= 65536 + 2 * item
    assert q["in_buffers"] + q["pipe_items"] + q["gets"] == q["puts"] == 50
    assert q["in_buffers"] >= 50 - 65536 // item - 2 > 0
    # the program's own pipe, asked by the process that made the queue: all but
    # the part of a page the stuck write could not fill
    assert q["pipe_capacity"] == 65536
    assert 65536 - item < q["pipe_fionread"] <= 65536


def test_a_traced_get_nowait_that_finds_nothing_sees_the_item_in_the_feeder_buffer(
    start_method: str,
) -> None:
    report, events = traced("inspect_empty.py", start_method, "20")
    printed = __import__("json").loads(str(report["stdout"]).strip().splitlines()[-1])
    # replay to each get_nowait() that raised Empty: the item was in the buffer
    from qsim.model.topology import Topology

    r = Reducer(Topology((), ()), reorder_ns=0)
    looked_empty = 0
    for e in sorted(events, key=lambda e: (e[0], e[1])):
        r.feed([e])
        r.advance(e[0])
        if e[3] == K.GET_TIMEOUT:
            looked_empty += 1
            q = r.queues[e[5]]
            assert q.buffered and not q.pipe, "Empty while the item was in the pipe"
    assert looked_empty == printed["found_empty"] > 0


# ------------------------------------------------------------ the window
def test_the_window_opens_a_watched_queue_up_and_explains_the_hang(qtbot: object) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    from qsim.ui.consistency import check_frame
    from qsim.ui.main_window import MainWindow
    from qsim.ui.session import LiveSession

    win = MainWindow(LiveSession(start_method="fork"), settings=None)
    win.session.setParent(win)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.resize(1280, 720)
    win.show()
    win.show_scenario(join_before_drain())
    s, view = win.session, win.diagram
    problems: list[str] = []
    s.frame.connect(lambda _now: problems.extend(check_frame(win)))
    s.play()
    qtbot.waitUntil(lambda: s.status == "hung", timeout=20_000)  # type: ignore[attr-defined]
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: (
            view.queue_items[0].opened is not None
            and "feeder buffer 19" in view.queue_items[0].extra
        ),
        timeout=5_000,
    )
    item = view.queue_items[0]
    assert item.opened is not None and item.opened.pipe_slots == 1  # one item in the pipe
    assert "pipe 64 KiB of 64 KiB" in item.extra
    tip = view.queue_tooltip(0)
    assert "In P1's feeder buffer: 19 items" in tip and "In the pipe: 1 item" in tip
    caption = win.caption.text() + win.caption.toolTip()
    assert "P1 has finished its code but cannot exit: 19 items still in its feeder buffer" in (
        caption
    )
    assert "P1's feeder thread is blocked writing: the pipe is full (64 KiB)" in caption
    assert not problems, problems[:3]
    # double-click closes it: the total, and how many are not in the pipe yet
    centre = item.mapToScene(item.boundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=view.mapFromScene(centre))
    assert item.opened is None and "19 in buffers" in item.extra
    win.close()
