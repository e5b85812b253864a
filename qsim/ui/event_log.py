"""The event log: the latest events in plain words, bounded in size.

A flat-out run applies thousands of events a frame; the log shows at most
``PER_FRAME`` of them and says how many it skipped, so it never slows a frame.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QPlainTextEdit, QWidget

from qsim.model.events import Event, EventKind, describe_item
from qsim.model.topology import Topology

K = EventKind
MAX_LINES = 2000
PER_FRAME = 40

_Describe = Callable[[str, str, str, object], str]
#: kind -> words, from (actor, item, queue, value)
_WORDS: dict[int, _Describe] = {
    K.ACTOR_STARTED: lambda a, i, q, v: f"{a} started",
    K.ACTOR_EXITED: lambda a, i, q, v: f"{a} exited" + (f" ({v})" if v else ""),
    K.ACTOR_CRASHED: lambda a, i, q, v: f"{a} CRASHED (exit code {v})",
    K.PUT_BLOCKED: lambda a, i, q, v: f"{a} is blocked in put({i}): {q} is full",
    K.PUT_DONE: lambda a, i, q, v: f"{a} put {i} into {q}{_batch(v)}",
    K.PUT_TIMEOUT: lambda a, i, q, v: f"{a}: put({i}, timeout) raised queue.Full on {q}",
    K.GET_WAITING: lambda a, i, q, v: f"{a} waits in get(): {q} is empty",
    K.GET_DONE: lambda a, i, q, v: f"{a} got {i} from {q}{_batch(v)}",
    K.GET_TIMEOUT: lambda a, i, q, v: f"{a}: get(timeout) raised queue.Empty on {q}",
    K.TASK_DONE: lambda a, i, q, v: f"{a} called {q}.task_done()",
    K.TASK_DONE_ERROR: lambda a, i, q, v: f"{a}: {q}.task_done() raised {v}",
    K.JOIN_WAIT: lambda a, i, q, v: f"{a} waits in {q}.join()",
    K.JOIN_DONE: lambda a, i, q, v: f"{a}: {q}.join() returned",
    K.WORK_START: lambda a, i, q, v: f"{a} works on {i}",
    K.SENTINEL_SENT: lambda a, i, q, v: f"{a} sent the sentinel {i}",
    K.SENTINEL_RECEIVED: lambda a, i, q, v: f"{a} got the sentinel {i} and stops",
    K.ERROR: lambda a, i, q, v: f"{a}: error: {v}",
    K.ITEM_FAILED: lambda a, i, q, v: f"{a} sent an error record instead of {i}",
    K.HUNG: lambda a, i, q, v: f"{a} is HUNG: {v}",
}


def _batch(v: object) -> str:
    return f" (a batch of {v})" if isinstance(v, int) and v > 1 else ""


def describe_event(e: Event, topology: Topology, reprs: dict[int, str] | None = None) -> str:
    """One event in plain words ('' for the ones the log leaves out); ``reprs``:
    a traced program's objects, named by their repr."""
    words = _WORDS.get(e[3])
    if words is None:
        return ""
    names = topology.names
    actor = names[e[2]] if 0 <= e[2] < len(names) else f"A{e[2]}"
    item = describe_item(e[4], names) if e[4] else ""
    if reprs and e[4] in reprs:
        item = reprs[e[4]]
    queue = topology.queues[e[5]].id if 0 <= e[5] < len(topology.queues) else ""
    return words(actor, item, queue, e[6])


class EventLog(QPlainTextEdit):
    """Read-only, bounded log of what the workers did."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("event_log")
        self.setReadOnly(True)
        self.setMaximumBlockCount(MAX_LINES)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.topology: Topology | None = None
        self.reprs: dict[int, str] | None = None  # a traced program's item reprs
        self.t0 = 0

    def reset(self, topology: Topology) -> None:
        self.topology = topology
        self.reprs = None
        self.t0 = 0
        self.clear()

    def add_events(self, events: list[Event]) -> None:
        """Append the notable ones of ``events``: at most ``PER_FRAME`` lines."""
        topo = self.topology
        if topo is None or not events:
            return
        if not self.t0:
            self.t0 = events[0][0]
        lines: list[str] = []
        skipped = 0
        for e in events:
            text = describe_event(e, topo, self.reprs)
            if not text:
                continue
            if len(lines) >= PER_FRAME:
                skipped += 1
                continue
            lines.append(f"{(e[0] - self.t0) / 1e9:8.3f} s  {text}")
        if skipped:
            lines.append(f"{'':8}    … and {skipped} more events in this frame")
        if lines:
            self.appendPlainText("\n".join(lines))
