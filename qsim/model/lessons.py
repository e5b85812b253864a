"""What the lessons measure and check, without processes or Qt.

* the names of the special worker loops some lessons need (the loops
  themselves are in ``qsim.engine.lesson_workers``), so that a scenario file
  can be validated without starting anything;
* lane figures: throughput of each producer -> queue -> consumer lane of a
  run (queue types, payload sizes, batch sizes, large objects side by side);
* measurement marks: workers report figures as ``MARK`` events whose text is
  ``"name=number"``; ``mark_figures`` reads them back;
* per-item timing from an event stream: when each item was put and got, and
  whether a priority queue served items by priority, FIFO among equals.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise

from qsim.model.events import Event, EventKind, is_sentinel
from qsim.model.scenario import Scenario
from qsim.model.state import ActorState, Reducer

K = EventKind

#: producer loops a lesson may ask for with ``loop = "..."`` (default: the usual producer)
PRODUCER_LOOPS: dict[str, str] = {
    "shm_ref": "puts a shared-memory block's name instead of the data itself",
    "inspect_helper": "puts records into its own queue and looks with get_nowait() at once",
}
#: consumer loops a lesson may ask for with ``loop = "..."``
CONSUMER_LOOPS: dict[str, str] = {
    "read_payload": "reads each payload (inline bytes or a shared-memory block) "
    "and reports bytes per item and its peak memory",
}


def mark(name: str, value: float) -> str:
    """The text of a measurement ``MARK``: ``"name=value"``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{name}={int(value)}"
    return f"{name}={value:g}"


def mark_figures(marks: Mapping[str, int]) -> dict[str, float]:
    """``{"C.peak_rss_mb": 31.5, ...}`` from a reducer's (or report's) ``marks``.

    Counted marks without a number (``"user_action"``) are left out.
    """
    out: dict[str, float] = {}
    for text in marks:
        name, sep, value = text.rpartition("=")
        if not sep:
            continue
        try:
            out[name] = float(value)
        except ValueError:
            continue
    return out


@dataclass(frozen=True)
class LaneFigure:
    """Throughput of one lane (a consumer and the producer feeding its queue)."""

    lane: str  # the consumer's actor name
    producer: str  # producer spec id feeding the lane's queue
    queue: str
    kind: str
    items: int  # items the consumer finished
    items_per_s: float
    bytes_per_s: float  # items_per_s * payload_bytes
    payload_bytes: int
    batch_size: int
    #: the same puts and gets as a plain program, measured in the same run
    #: (``[run] measure_plain``); 0 when not measured
    plain_items_per_s: float = 0.0

    @property
    def ratio(self) -> float:
        """Instrumented / plain items per second (0 when there is no plain figure)."""
        return self.items_per_s / self.plain_items_per_s if self.plain_items_per_s else 0.0


def lane_figures(sc: Scenario, r: Reducer) -> list[LaneFigure]:
    """One figure per consumer that is the only reader of its queue.

    The rate is measured between the lane's first and last finished item, so
    lanes that start a little apart (``spawn``) are still compared fairly.
    """
    topo = r.topology
    readers: dict[int, list[int]] = {}
    for info in topo.actors:
        if info.role in ("consumer", "stage"):
            readers.setdefault(info.input_queue, []).append(info.index)
    plain = mark_figures(r.marks)
    out = []
    for qi, actors in sorted(readers.items()):
        if len(actors) != 1:
            continue
        a = actors[0]
        qid = topo.queues[qi].id
        prod = next((p for p in sc.producers if p.queue == qid), None)
        if prod is None:
            continue
        rate = sink_rate(r.actors[a])
        out.append(
            LaneFigure(
                lane=topo.actors[a].name,
                producer=prod.id,
                queue=qid,
                kind=topo.queues[qi].kind,
                items=r.actors[a].items,
                items_per_s=rate,
                bytes_per_s=rate * prod.payload_bytes,
                payload_bytes=prod.payload_bytes,
                batch_size=prod.batch_size,
                plain_items_per_s=plain_rate(plain, topo.actors[a].group),
            )
        )
    return out


def plain_rate(marks: Mapping[str, float], group: str) -> float:
    """A measured lane's plain-program items/s, which its consumer reports under
    its group's id (the consumer ``C`` is the actor ``C1``)."""
    return marks.get(f"{group}.plain_items_per_s", 0.0)


def sink_rate(a: ActorState) -> float:
    """Items/s a sink finished, between its first and its last finished item."""
    span = (a.last_done_t - a.first_done_t) / 1e9
    return (a.items - a.first_done_n) / span if span > 0 else 0.0


def _si(x: float) -> str:
    return f"{x / 1e6:.3g}M" if x >= 1e6 else f"{x / 1e3:.3g}k" if x >= 1e4 else f"{x:.0f}"


def lane_counter(a: ActorState, plain_items_per_s: float, payload_bytes: int) -> str:
    """A measured lane's figures as its consumer shows them: items/s (and MB/s)
    as measured here, next to the plain program's, e.g.
    ``"141k items/s (plain 146k)"``; "" before the lane has a rate."""
    rate = sink_rate(a)
    if not rate:
        return ""
    text = f"{_si(rate)} items/s"
    if plain_items_per_s:
        text += f" (plain {_si(plain_items_per_s)})"
    if payload_bytes:
        mb = rate * payload_bytes / 1e6
        text += f" · {mb:.3g} MB/s"
        if plain_items_per_s:
            text += f" (plain {plain_items_per_s * payload_bytes / 1e6:.3g})"
    return text


def lane_report(sc: Scenario, r: Reducer) -> list[dict[str, object]]:
    """Lane figures as plain JSON rows (for ``qsim run --headless --json``)."""
    return [
        {
            "lane": f.lane,
            "queue": f.queue,
            "kind": f.kind,
            "payload_bytes": f.payload_bytes,
            "batch_size": f.batch_size,
            "items": f.items,
            "items_per_s": round(f.items_per_s, 1),
            "mb_per_s": round(f.bytes_per_s / 1e6, 2),
            **(
                {
                    "plain_items_per_s": round(f.plain_items_per_s, 1),
                    "plain_mb_per_s": round(f.plain_items_per_s * f.payload_bytes / 1e6, 2),
                    "ratio": round(f.ratio, 3),
                }
                if f.plain_items_per_s
                else {}
            ),
        }
        for f in lane_figures(sc, r)
    ]


# ------------------------------------------------------------ per-item timing
@dataclass
class ItemLife:
    item: int
    queue: int
    priority: int = 0
    put_ns: int = 0
    get_ns: int = 0
    getter: int = -1

    @property
    def waited_s(self) -> float:
        """Time in the queue (put done -> get done), in seconds."""
        return max(0, self.get_ns - self.put_ns) / 1e9 if self.get_ns and self.put_ns else 0.0


def item_lives(events: Iterable[Event]) -> dict[int, ItemLife]:
    """Put and get of every data item, from a run's events (any order)."""
    lives: dict[int, ItemLife] = {}
    for e in sorted(events, key=lambda e: e[0]):
        kind, item = e[3], e[4]
        if item <= 0 or is_sentinel(item):
            continue
        if kind == K.PUT_DONE:
            life = lives.setdefault(item, ItemLife(item, e[5]))
            life.put_ns, life.priority = e[0], e[7]
        elif kind == K.GET_DONE:
            life = lives.setdefault(item, ItemLife(item, e[5]))
            life.get_ns, life.getter = e[0], e[2]
    return lives


def served_in_order(events: Iterable[Event], queue: int) -> tuple[int, list[str]]:
    """Check a priority queue's service order once nothing more is being put.

    After the last put into ``queue``, every get must take the item with the
    best (lowest) priority, FIFO among equal priorities. The first get after
    the last put is skipped (its call may have started before that put).
    Returns the number of gets checked and the problems found.
    """
    lives = [x for x in item_lives(events).values() if x.queue == queue and x.put_ns]
    if not lives:
        return 0, []
    last_put = max(x.put_ns for x in lives)
    got = sorted((x for x in lives if x.get_ns > last_put), key=lambda x: x.get_ns)[1:]
    problems = []
    for a, b in pairwise(got):
        if (a.priority, a.put_ns) > (b.priority, b.put_ns):
            problems.append(
                f"item {a.item} (priority {a.priority}) was served before "
                f"item {b.item} (priority {b.priority})"
            )
    return len(got), problems
