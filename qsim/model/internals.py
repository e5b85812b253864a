"""A watched queue, opened up: what is in the pipe, what is still in feeder buffers.

For a queue whose run reports its internals (``QueueState.observed``), the
items put and not yet got are in one of two places: written into the pipe (in
write order: the reader takes them from the front), or still in the feeder
buffer of the process that put them (``put()`` returned; its feeder thread
has not written them yet). These functions give the views the order to draw
them in and the words that explain the state; no Qt.
"""

from __future__ import annotations

from dataclasses import dataclass

from qsim.model.entities import WAITING_GET
from qsim.model.events import item_origin
from qsim.model.state import QueueState, Reducer


@dataclass(frozen=True)
class Opened:
    """The first ``n`` items of a watched queue, front first, and where each is."""

    pipe: list[int]  # in the pipe, front (first to be read) first
    buffered: list[tuple[int, int]]  # (item, putting actor), grouped by process
    per_process: tuple[tuple[int, int], ...]  # (actor, items in its buffer): all of them
    pipe_bytes: int
    capacity: int  # 0: unknown
    fionread: int  # -1: unknown

    @property
    def items(self) -> list[int]:
        return [*self.pipe, *(i for i, _ in self.buffered)]


def opened(q: QueueState, n: int) -> Opened:
    """Where the first ``n`` items of ``q`` are (cheap: never walks the whole queue)."""
    pipe = list(q.pipe)[:n] if len(q.pipe) > n else list(q.pipe)
    left = n - len(pipe)
    buffered: list[tuple[int, int]] = []
    if left > 0 and q.buffered:
        for item in q.contents:  # put order
            actor = q.buffered.get(item)
            if actor is not None:
                buffered.append((item, actor))
                if len(buffered) >= left:
                    break
        # one run per process: "P1's feeder buffer", then P2's...
        first: dict[int, int] = {}
        for _, actor in buffered:
            first.setdefault(actor, len(first))
        buffered.sort(key=lambda x: first[x[1]])
    return Opened(pipe, buffered, buffered_by(q), q.pipe_bytes, q.pipe_capacity, q.fionread)


def buffered_by(q: QueueState) -> tuple[tuple[int, int], ...]:
    """(actor, items still in its feeder buffer), for every process that has some."""
    per: dict[int, int] = {}
    for actor in q.buffered.values():
        per[actor] = per.get(actor, 0) + 1
    return tuple(sorted(per.items()))


def pipe_writer(q: QueueState) -> int:
    """The actor whose item is the last one in the pipe (-1: the pipe is empty)."""
    return item_origin(q.pipe[-1]) if q.pipe else -1


def blocked_writer(r: Reducer, q: QueueState) -> str:
    """``"P1's feeder thread is blocked writing: the pipe is full (64 KiB) and nobody
    reads it"`` when the items written into ``q``'s pipe are more than it holds
    (the last write is stuck half-way); "" otherwise."""
    cap = q.pipe_capacity
    if not q.observed or not cap or q.pipe_bytes <= cap:
        return ""
    writer = pipe_writer(q)
    names = r.topology.names
    who = names[writer] if 0 <= writer < len(names) else "a producer"
    readers = [
        a
        for a in r.actors
        if a.state == WAITING_GET and a.queue == q.index and a.started and not a.hung
    ]
    tail = "until a consumer reads" if readers else "and nobody reads it"
    return f"{who}'s feeder thread is blocked writing: the pipe is full ({kib(cap)}) {tail}"


def kib(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n >= 10 * 1024 else f"{n / 1024:.1f} KiB"


def describe(r: Reducer, q: QueueState) -> str:
    """The queue's internals in words (its tooltip)."""
    names = r.topology.names
    lines = []
    for actor, n in buffered_by(q):
        who = names[actor] if 0 <= actor < len(names) else f"A{actor}"
        lines.append(
            f"In {who}'s feeder buffer: {n} item{'s' if n != 1 else ''} (put() returned; "
            "its feeder thread writes them into the pipe one by one)"
        )
    if q.kind == "SimpleQueue":
        lines.append("A SimpleQueue has no feeder thread: put() writes into the pipe itself.")
    gauge = f"{kib(min(q.pipe_bytes, q.pipe_capacity or q.pipe_bytes))}"
    if q.pipe_capacity:
        gauge += f" of {kib(q.pipe_capacity)}"
    lines.append(f"In the pipe: {len(q.pipe)} item{'s' if len(q.pipe) != 1 else ''}, {gauge}")
    if q.fionread >= 0:
        lines.append(f"The pipe itself says {kib(q.fionread)} unread (FIONREAD)")
    lines.append(f"Taken out by get(): {q.gets}")
    blocked = blocked_writer(r, q)
    if blocked:
        lines.append(blocked)
    return "\n".join(lines)


def cannot_exit(r: Reducer, actor: int) -> str:
    """``"P1 has finished its code but cannot exit: 19 items still in its feeder
    buffer"`` for a process waiting at exit for its feeder threads; "" otherwise."""
    a = r.actors[actor]
    if not a.exit_wait:
        return ""
    left = sum(1 for q in r.queues if q.observed for who in q.buffered.values() if who == actor)
    text = f"{a.name} has finished its code but cannot exit: "
    if not left:
        return text + "its feeder thread is still writing into a pipe"
    return text + f"{left} item{'s' if left != 1 else ''} still in its feeder buffer"


def story(r: Reducer) -> str:
    """What the watched queues' insides explain right now, in words ("" if nothing)."""
    parts = [cannot_exit(r, a.index) for a in r.actors if a.exit_wait]
    parts += [blocked_writer(r, q) for q in r.queues if q.observed]
    return "; ".join(p for p in parts if p)
