"""What the reducer keeps per queue and per actor, and the run's accounting.

Plain records (no logic beyond derived figures): the reducer in
``qsim.model.state`` updates them, the views and reports read them.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, NamedTuple

# actor states, as the views name them
STARTING = "starting"
IDLE = "idle"
WORKING = "working"
BLOCKED_PUT = "blocked on put"
WAITING_GET = "waiting on get"
JOIN_WAIT = "waiting in join()"
FINISHED = "finished"
CRASHED = "crashed"
WAITING_STATES = (BLOCKED_PUT, WAITING_GET, JOIN_WAIT)


class Note(NamedTuple):
    """A line of narration: what happened, and for how long it stays true."""

    t: int
    text: str
    actor: int = -1  # the actor it is about (-1: none)
    holds_while: str = ""  # true while that actor is in this state ("": news for a moment)


class Contents(deque[int]):
    """A queue's entries, front first: O(1) at both ends, and sliceable like a list."""

    def __getitem__(self, i: Any) -> Any:
        if isinstance(i, slice):
            if i.step in (None, 1) and (i.start or 0) >= 0 and (i.stop is None or i.stop >= 0):
                return list(islice(self, i.start or 0, i.stop))
            return list(self)[i]
        return deque.__getitem__(self, i)


@dataclass
class QueueState:
    index: int
    id: str
    kind: str
    maxsize: int
    contents: Contents = field(default_factory=Contents)  # entry ids, front first
    overflow: list[int] = field(default_factory=list)  # puts waiting for their get
    puts: int = 0
    gets: int = 0
    max_depth: int = 0
    full: int = 0  # queue.Full raised by put(timeout=...)
    empty: int = 0  # queue.Empty raised by get(timeout=...)
    unfinished: int = 0  # JoinableQueue: puts not yet matched by task_done()
    task_done_errors: int = 0
    last_task_done_error: str = ""
    #: where the items are, when the run reports it (``observed``): put but
    #: still in the putting process's feeder buffer (item -> putting actor), and
    #: written into the pipe, in write order, with their pickled bytes
    buffered: dict[int, int] = field(default_factory=dict)
    pipe: Contents = field(default_factory=Contents)
    piped: dict[int, int] = field(default_factory=dict)
    pipe_bytes: int = 0  # bytes the items in the pipe were written with
    #: written before their PUT_DONE was applied (a SimpleQueue's put writes
    #: itself): item -> bytes, into the pipe when the put is applied
    early_writes: dict[int, int] = field(default_factory=dict)
    fionread: int = -1  # unread bytes the controller last read off the pipe (-1: none)
    pipe_capacity: int = 0  # the pipe's buffer, bytes (0: unknown)
    #: unread bytes once every process of the run had ended (-1: not read)
    pipe_final: int = -1
    #: why its contents died ("died with the manager (exit code -9)"), "" if alive
    lost_why: str = ""
    #: what was left in the pipe once every process had ended (after a crash):
    #: whole items (item -> bytes), and the item torn at its end (0: none, -1:
    #: unknown), and a torn item already counted lost
    left_in_pipe: dict[int, int] = field(default_factory=dict)
    torn_left: int = 0
    torn_lost: int = 0
    #: a traced program's Pool, manager or executor made it (from the topology)
    internal: bool = field(default=False, init=False)
    observed: bool = field(default=False, init=False)
    #: derived from kind and maxsize (the reducer's hot paths read these)
    cap: int = field(init=False)  # maxsize that makes put() block (0: never)
    joinable: bool = field(init=False)
    prioritised: bool = field(init=False)

    def __post_init__(self) -> None:
        self.cap = self.maxsize if self.kind != "SimpleQueue" else 0
        self.joinable = self.kind == "JoinableQueue"
        self.prioritised = self.kind == "PriorityQueue"

    @property
    def depth(self) -> int:
        return len(self.contents)

    @property
    def full_now(self) -> bool:
        return bool(self.cap) and len(self.contents) >= self.cap

    def insert(self, item: int, priority: dict[int, int]) -> None:
        """Add an entry where the real queue keeps it: last, or by priority
        (after the equal ones: FIFO among equals)."""
        c = self.contents
        if self.kind == "PriorityQueue":
            prio = priority.get(item, 0)
            pos = len(c)
            while pos > 0 and priority.get(c[pos - 1], 0) > prio:
                pos -= 1
            c.insert(pos, item)
        else:
            c.append(item)
        if len(c) > self.max_depth:
            self.max_depth = len(c)

    def remove(self, item: int, priority: dict[int, int]) -> bool:
        """Take an entry out (normally the front); False if it is not here.

        A put waiting in ``overflow`` for this very get takes the freed slot."""
        c = self.contents
        if c and c[0] == item:
            c.popleft()
        elif item in c:
            c.remove(item)  # real order differs (feeder threads): trust the get
        elif item in self.overflow:
            self.overflow.remove(item)
            return True
        else:
            return False
        if self.overflow and not self.full_now:
            self.insert(self.overflow.pop(0), priority)
        return True


@dataclass
class ActorState:
    index: int
    name: str
    role: str
    state: str = STARTING
    since_ns: int = 0
    started: bool = False
    started_ns: int = 0  # when it said it started (its lifetime begins)
    paused: bool = False
    hung: bool = False
    hung_reason: str = ""  # what it was doing when found hung, in words
    item: int = 0  # the item being worked on or put (0: none)
    queue: int = -1  # the queue it is blocked or waiting on
    items: int = 0  # produced (producer) or handled (consumer, stage)
    failed: int = 0
    errors: int = 0
    blocked_ns: int = 0
    waiting_ns: int = 0
    working_ns: int = 0
    put_timeouts: int = 0
    get_timeouts: int = 0
    task_done: int = 0
    sentinels_sent: int = 0
    sentinels_received: int = 0
    exit_code: int | None = None
    exit_reason: str = ""
    last_error: str = ""
    holding: dict[int, int] = field(default_factory=dict)  # item -> item count
    sink: bool = False  # puts nothing on: an item it finishes is done
    phase: str = ""  # a measured lane's phase in words (EventKind.PHASE), "" when none
    #: its code is done; it waits at exit for its queues' feeder threads
    exit_wait: bool = False
    #: a sink's finished items: time and count of its first, time of its last
    #: (its throughput over its whole life, however long the run)
    first_done_t: int = 0
    first_done_n: int = 0
    last_done_t: int = 0
    #: the state after a wait ends: idle for scenario workers; a traced
    #: process runs the program's code (working) until it waits again
    resume_state: str = IDLE
    # traced processes only
    puts: int = 0
    pid: int = 0
    parent: int = -1  # the actor that started it
    internal: bool = False  # a Pool's worker, a manager's server, an executor's worker
    line_file: str = ""  # the program's file and line it is on, as last reported
    line_no: int = 0
    join_what: str = ""  # what it waits for in join() ("consumer.join()"), if not a queue
    #: blocked in get() reading an item whose bytes stopped coming (its writer
    #: died half-way): the queue (-1: not), the item (0: unknown), what came
    torn_queue: int = -1
    torn_item: int = 0
    torn_bytes: str = ""

    @property
    def line(self) -> tuple[str, int] | None:
        """(file, line) a traced process is on, if it reported one."""
        return (self.line_file, self.line_no) if self.line_no else None

    @property
    def alive(self) -> bool:
        return self.started and self.state not in (FINISHED, CRASHED)


@dataclass
class Accounting:
    produced: int = 0
    processed: int = 0
    failed: int = 0
    dropped: int = 0  # put(timeout) raised Full and the producer moved on
    lost: int = 0
    lost_reasons: list[str] = field(default_factory=list)

    @property
    def consumed(self) -> int:
        return self.processed + self.failed
