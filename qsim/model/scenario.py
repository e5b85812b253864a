"""Scenario schema: what a run is made of, as plain frozen data.

A scenario is a TOML file (see ``resources/scenarios/*.toml``). Loading lives in
``qsim.model.scenario_io``; this module only says what a valid scenario is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

QueueKind = Literal["Queue", "SimpleQueue", "JoinableQueue", "PriorityQueue", "ManagerQueue"]
QUEUE_KINDS: tuple[str, ...] = (
    "Queue",
    "SimpleQueue",
    "JoinableQueue",
    "PriorityQueue",
    "ManagerQueue",
)
#: how each kind is written in Python, for labels and lesson texts
QUEUE_KIND_LABELS = {
    "Queue": "Queue",
    "SimpleQueue": "SimpleQueue",
    "JoinableQueue": "JoinableQueue",
    "PriorityQueue": "PriorityQueue (manager)",
    "ManagerQueue": "Manager().Queue()",
}
DISTRIBUTIONS = ("constant", "uniform", "exponential")
START_METHODS = ("auto", "fork", "spawn", "forkserver")
TASK_DONE_MODES = ("always", "never", "twice")
ON_SENTINEL = ("stop", "requeue")
CRASH_MODES = ("exception", "exit", "kill")
#: how the lanes of a lesson run: all at once, or one after the other (each
#: lane alone on the machine: what a plain program of that lane would get)
LANE_MODES = ("together", "one at a time")


@dataclass(frozen=True)
class QueueSpec:
    id: str
    kind: str = "Queue"
    maxsize: int = 0  # 0 means unbounded, as in multiprocessing
    #: report where each item really is: in the putting process's feeder buffer,
    #: in the pipe, or taken (costs a little per item: on for the lessons about it)
    internals: bool = False

    @property
    def bounded(self) -> bool:
        return self.maxsize > 0 and self.kind != "SimpleQueue"


@dataclass(frozen=True)
class ProducerSpec:
    """``count`` producers that each put ``items`` items (or run ``duration``)."""

    id: str = "P"
    queue: str = "q"
    count: int = 1
    items: int = 10  # per producer; 0 with duration > 0 means "until duration"
    duration: float = 0.0
    interval: float = 0.1  # seconds per item (before speed)
    distribution: str = "constant"
    payload_bytes: int = 0
    batch_size: int = 1
    priorities: tuple[int, ...] = ()  # drawn per item; empty = no priority
    priority_weights: tuple[float, ...] = ()
    failure_rate: float = 0.0  # chance an item is sent as an error record
    #: after its first failed item (sent as an error record) make no more items;
    #: its sentinels still go out
    abort_on_failure: bool = False
    sentinels: int = 0  # sentinels each producer puts when done
    put_timeout: float = 0.0  # > 0: put(timeout=...) and count queue.Full
    records: tuple[str, ...] = ()  # payloads to send in order (pipeline lesson)
    crash_after: int = 0
    crash_mode: str = "exception"
    loop: str = ""  # a lesson's own producer loop (qsim.model.lessons.PRODUCER_LOOPS)
    #: before its lane: time ``pickle.dumps`` of a simple and a complex message
    #: (``qsim.model.measured``) and report sizes and times as MARKs
    measure_pickle: bool = False


@dataclass(frozen=True)
class ConsumerSpec:
    """``count`` consumers (or, with ``output``, workers of a pipeline stage)."""

    id: str = "C"
    queue: str = "q"
    count: int = 1
    output: str = ""  # a queue id: this is a pipeline stage that forwards items
    work_time: float = 0.2
    distribution: str = "constant"
    failure_rate: float = 0.0
    task_done: str = "always"  # only for JoinableQueue inputs
    get_timeout: float = 0.0  # > 0: get(timeout=...) and count queue.Empty
    on_sentinel: str = "stop"
    stop_after_timeouts: int = 0  # > 0: give up after that many Empty in a row
    function: str = ""  # a named transform (qsim.engine.transforms)
    crash_after: int = 0
    crash_mode: str = "exception"
    label: str = ""  # stage label in the diagram, e.g. "parse"
    loop: str = ""  # a lesson's own consumer loop (qsim.model.lessons.CONSUMER_LOOPS)


@dataclass(frozen=True)
class MainSpec:
    """What the main process does after starting the workers."""

    sentinels: int = 0  # put this many sentinels once every producer is done
    sentinel_queue: str = ""
    join: str = ""  # a JoinableQueue to join() once every producer is done
    join_producers_first: bool = False  # the join-before-drain pitfall


@dataclass(frozen=True)
class RunOptions:
    start_method: str = "auto"
    seed: int = 1
    duration: float = 30.0  # the run is stopped after this many seconds
    speed: float = 1.0
    hang_after: float = 3.0  # seconds with no progress before "hung" is shown
    lanes: str = "together"  # one of LANE_MODES
    #: each lane first runs the same puts and gets as a plain program (no qsim),
    #: so the lesson shows its instrumented figure next to the plain one
    measure_plain: bool = False


@dataclass(frozen=True)
class Knob:
    """A control a lesson offers: a field path, its range and whether it restarts."""

    name: str
    path: str  # e.g. "queues.q.maxsize" or "consumers.C.work_time"
    min: float
    max: float
    default: float
    tooltip: str = ""
    restart: bool = True
    step: float = 1.0


@dataclass(frozen=True)
class Scenario:
    id: str
    title: str
    queues: tuple[QueueSpec, ...]
    producers: tuple[ProducerSpec, ...] = ()
    consumers: tuple[ConsumerSpec, ...] = ()
    main: MainSpec = field(default_factory=MainSpec)
    run: RunOptions = field(default_factory=RunOptions)
    knobs: tuple[Knob, ...] = ()
    summary: str = ""
    lesson: str = ""  # lesson text (markdown)
    source: str = ""  # file it was loaded from, for messages

    def queue(self, qid: str) -> QueueSpec:
        for q in self.queues:
            if q.id == qid:
                return q
        raise KeyError(qid)
