"""Event records: one per thing that happened in a worker.

On the wire and in recordings an event is a fixed-width binary record
(``qsim.model.wire``); in this process, for the reducer and the views, it is
a plain tuple, decoded in bulk (``qsim.model.records``)::

    (t_ns, seq, actor, kind, item, queue, value, aux, vtype, flags)

``t_ns``
    ``time.monotonic_ns()`` in the worker: a system-wide clock on Linux,
    macOS and Windows, so events of different processes can be merged.
``seq``
    per-process sequence number (0, 1, 2, ...), so a gap would show a loss.
``actor``
    index of the actor in the run's topology (``Topology.actors``).
``kind``
    an ``EventKind``.
``item``
    item id (``NO_ITEM`` when the event concerns no item).
``queue``
    queue index in ``Topology.queues`` (``NO_QUEUE`` when none).
``value``
    a small extra: an item count, payload bytes, exit code, or a text (an
    error message...), which travels in the batch's string table.
``aux``
    a second small integer: the priority of a put.
``vtype``, ``flags``
    how ``value`` travelled (``wire.VT_*``) and ``wire.FLAG_*`` bits, e.g.
    ``FLAG_CONSUMED`` on a GET_DONE whose item was used up at once.
"""

from __future__ import annotations

from enum import IntEnum

from qsim.model.wire import FLAG_CONSUMED, VT_INT, VT_NONE, VT_STR

Value = int | str | None
Event = tuple[int, int, int, int, int, int, Value, int, int, int]

T, SEQ, ACTOR, KIND, ITEM, QUEUE, VALUE, AUX, VTYPE, FLAGS = range(10)

NO_ITEM = 0
NO_QUEUE = -1
#: JOIN_WAIT/JOIN_DONE aux: a finished process waits at exit for its queues'
#: feeder threads to write what it put (value: what is left, in words)
EXIT_WAIT = 1
#: PIPE_SAMPLE flags: read after every process of the run had ended (nothing
#: will read or write the pipe again)
FINAL_SAMPLE = 1
#: PIPE_SAMPLE flags: what is left in the pipe could not all be read (too much)
LEFT_UNKNOWN = 2
#: LEFT_IN_PIPE flags: only the start of the item is in the pipe (torn)
TORN_TAIL = 1
#: PHASE value of a lane's actor waiting for the lanes before it to end
WAITING_TURN = "waiting its turn: one lane at a time"
#: ``seq`` of an event made in the controller's process, not sent by a worker
SEQ_LOCAL = 0xFFFFFFFF

#: item ids: ``producer_actor * ITEM_BASE + n`` with ``n`` from 1; sentinels
#: are negative so that they can never collide with data items.
ITEM_BASE = 1 << 32  # n never reaches it: a flat-out lane makes millions


def make_event(
    t: int,
    actor: int,
    kind: int,
    item: int = NO_ITEM,
    queue: int = NO_QUEUE,
    value: Value = None,
    aux: int = 0,
    flags: int = 0,
    seq: int = SEQ_LOCAL,
) -> Event:
    """An event made in this process (by the controller, or a test)."""
    vt = VT_NONE if value is None else VT_STR if isinstance(value, str) else VT_INT
    return (t, seq, actor, int(kind), item, queue, value, aux, vt, flags)


class EventKind(IntEnum):
    """What happened. The names are the words of ``multiprocessing``."""

    ACTOR_STARTED = 1
    ACTOR_EXITED = 2
    ACTOR_CRASHED = 3
    #: a traced program's process began (value: its name; item: its pid; aux:
    #: the parent's actor index or -1; flags: 2 if a Pool/manager/executor made it)
    PROCESS_STARTED = 4
    #: a traced program made a queue (queue: its index; value: the variable it
    #: was assigned to or ''; item: its kind, an index in QUEUE_KINDS; aux:
    #: maxsize; flags: 2 if a Pool/manager/executor made it)
    QUEUE_CREATED = 5
    PUT_ATTEMPT = 10  # not sent any more: a put reports once, when done or blocked
    PUT_BLOCKED = 11  # aux: the item's priority
    PUT_DONE = 12  # value: items in the entry (a batch has many); aux: priority
    PUT_TIMEOUT = 13  # queue.Full raised by put(timeout=...)
    #: an item left the putting process's feeder buffer into the queue's pipe:
    #: the write started (a Queue's feeder thread holds the write lock), value:
    #: its pickled bytes. A SimpleQueue's put writes it itself (no feeder).
    FEEDER_WRITE = 14
    GET_WAITING = 20
    GET_DONE = 21  # value: items; holding it is working on it (FLAG_CONSUMED: used up)
    GET_TIMEOUT = 22  # queue.Empty raised by get(timeout=...)
    #: a get() is reading an item whose bytes stopped coming: its writer died
    #: (or stopped) half-way through writing it. item: the item (0: unknown);
    #: value: how much of it came, in words
    GET_STALLED = 23
    TASK_DONE = 30
    TASK_DONE_ERROR = 31  # ValueError: task_done() called too many times
    JOIN_WAIT = 32
    JOIN_DONE = 33
    WORK_START = 40
    WORK_END = 41
    SENTINEL_SENT = 50
    SENTINEL_RECEIVED = 51
    ERROR = 60  # a failed item or an exception; value is the message
    ITEM_FAILED = 61  # a producer sent an error record instead of an item
    PAUSED = 70  # the actor is parked at the run's pause gate
    RESUMED = 71
    HUNG = 80  # a watchdog found the actor waiting with no hope of progress
    #: the controller read the queue's pipe: value unread bytes (FIONREAD),
    #: aux its capacity (0: unknown)
    PIPE_SAMPLE = 81
    #: the controller saw a queue's contents die (its manager process ended):
    #: value why, in words ("died with the manager (exit code -9)")
    QUEUE_LOST = 82
    #: once every process ended, the controller found this item whole in the
    #: queue's pipe (value: its bytes), or (flags TORN_TAIL) the start of it
    LEFT_IN_PIPE = 83
    MARK = 90  # a lesson-specific measurement (value is a "name=number" text)
    LINE = 91  # a traced process is on this line of the program (value: file; aux: line)
    PHASE = 92  # what a lane's actor is doing, in words ("waiting its turn", "plain")


#: QUEUE_CREATED's item: the kinds a traced program's queues can be
QUEUE_KINDS = ("Queue", "JoinableQueue", "SimpleQueue", "ManagerQueue", "PriorityQueue", "Pipe")
#: PROCESS_STARTED / QUEUE_CREATED flag: made by a Pool, a manager or an executor
FLAG_INTERNAL = 2
#: QUEUE_CREATED flags: the agents report where its items are (FEEDER_WRITE)
FLAG_OBSERVED = 4


class ItemKind(IntEnum):
    """What travels in a queue (first field of the tuple a worker puts)."""

    DATA = 0
    SENTINEL = 1
    ERROR_RECORD = 2
    BATCH = 3
    PLAIN_END = 4  # the end of a lane's plain-program phase (qsim.engine.plain)


def producer_item_id(actor: int, n: int) -> int:
    """Id of the ``n``-th item (from 1) made by producer ``actor``."""
    return actor * ITEM_BASE + n


def sentinel_id(actor: int, n: int) -> int:
    """Id of the ``n``-th sentinel (from 1) sent by ``actor``; always < 0."""
    return -(actor * ITEM_BASE + n)


def is_sentinel(item: int) -> bool:
    return item < 0


def item_origin(item: int) -> int:
    """The actor index that made ``item`` (a data item or a sentinel)."""
    return abs(item) // ITEM_BASE


def item_number(item: int) -> int:
    return abs(item) % ITEM_BASE


def describe_item(item: int, actor_names: list[str] | None = None) -> str:
    """Short label: ``P1#3`` for data, ``DONE(P1)`` for a sentinel."""
    origin = item_origin(item)
    name = actor_names[origin] if actor_names and origin < len(actor_names) else f"A{origin}"
    if is_sentinel(item):
        return f"STOP({name})"
    return f"{name}#{item_number(item)}"


def ends_item(e: Event) -> bool:
    """The actor is done with the item: WORK_END, or a get that used it up at once."""
    return e[3] == EventKind.WORK_END or (
        e[3] == EventKind.GET_DONE and bool(e[9] & FLAG_CONSUMED)
    )
