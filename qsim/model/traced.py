"""The reducer's handlers for what only a traced program reports.

A scenario's topology is known before it runs; a traced program's is not: a
process appears when it starts (PROCESS_STARTED), a queue when it is made
(QUEUE_CREATED), and each process says which line of the program it is on
(LINE). ``TracedTopology`` is mixed into ``Reducer``: these handlers grow
``topology``, ``actors`` and ``queues``; the hot paths stay the reducer's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace

from qsim.model.entities import WORKING, ActorState, QueueState
from qsim.model.events import FLAG_INTERNAL, FLAG_OBSERVED, QUEUE_KINDS, Event, EventKind
from qsim.model.topology import GOT_FROM, PUT_ON, ActorInfo, QueueInfo, Topology, Use

#: item reprs kept for items no longer in any queue (the views' recent tokens)
REPRS_KEPT = 50_000
MAX_TRACED_INDEX = 1 << 15  # actor and queue fields are int16
#: events that show a process using a queue, and how (the diagram's edges)
USE_KINDS = {
    EventKind.PUT_DONE: PUT_ON,
    EventKind.PUT_BLOCKED: PUT_ON,
    EventKind.PUT_TIMEOUT: PUT_ON,
    EventKind.GET_DONE: GOT_FROM,
    EventKind.GET_WAITING: GOT_FROM,
    EventKind.GET_TIMEOUT: GOT_FROM,
    EventKind.TASK_DONE: GOT_FROM,
}
#: reprs a program's sentinel usually has: its token is drawn as a sentinel
SENTINEL_REPRS = frozenset(
    {"None", "'DONE'", "'STOP'", "'END'", "'QUIT'", "'EXIT'", "'SENTINEL'", "'POISON'"}
    | {"'done'", "'stop'", "'end'", "'quit'", "'exit'", "'sentinel'", "-1"}
)
TOKEN_CHARS = 16  # a token shows at most this many characters of a repr
_CLOSERS = {")": "(", "]": "[", "}": "{", ">": "<"}
_MAIN = "<__main__."


def is_sentinel_repr(text: str) -> bool:
    """``'DONE'``, ``None``, ``'STOP'``...: by convention, the end of a stream."""
    return text in SENTINEL_REPRS


def token_label(text: str, limit: int = TOKEN_CHARS) -> str:
    """What a token of a traced object says: its repr, at most ``limit`` characters.

    The one rule the painter and the tests share. A repr that fits is shown as
    it is, quotes and all (``'3'`` and ``3`` differ, and a sentinel shows its
    real value: ``'DONE'``, ``None``). A longer one is cut with "…" where it
    still reads as what it is: a string keeps its closing quote
    (``'user:alice:lo…'``), a container or an object its closing bracket, cut
    after a whole element where one ends late enough (``{'order': 3, …}``), a
    big number its last digits (neighbours differ there); ``<__main__.Job ...>``
    drops its module. The tooltip has the repr in full.
    """
    if text.startswith(_MAIN):
        text = "<" + text[len(_MAIN) :]
    if len(text) <= limit:
        return text
    if text.lstrip("-").isdigit():
        sign = "-" if text[0] == "-" else ""
        return sign + "…" + text[-(limit - 1 - len(sign)) :]
    last = text[-1]
    opener = _CLOSERS.get(last)
    quoted = last in "'\"" and last in text[:2]  # a str, or bytes: b'...'
    if not quoted and (opener is None or opener not in text[:-1]):
        return text[: limit - 1] + "…"
    head = text[: limit - 2]
    if opener is not None:  # after the last whole element, if it is not too early
        cut = head.rfind(", ")
        if cut >= limit // 2:
            head = head[: cut + 2]
    return head + "…" + last


def unique_name(name: str, taken: Iterable[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... if another actor or queue has it."""
    used = set(taken)
    if name not in used:
        return name
    n = 2
    while f"{name}-{n}" in used:
        n += 1
    return f"{name}-{n}"


class TracedTopology:
    """Mixin of ``Reducer``: the topology of a traced program, built as it runs."""

    topology: Topology
    actors: list[ActorState]
    queues: list[QueueState]
    item_repr: dict[int, str]

    _handlers: list[Callable[[Event], None] | None]
    #: (actor << 16 | queue) -> how it used the queue so far (PUT_ON | GOT_FROM)
    _use_bits: dict[int, int]

    def _set(self, actor: ActorState, state: str, t: int) -> None:  # the Reducer's
        raise NotImplementedError

    # ------------------------------------------------------------ uses
    def track_uses(self) -> None:
        """Learn which process uses which queue (``topology.uses``) from now on.

        The put/get handlers get a wrapper, in this reducer only: a scenario
        run, whose edges are known up front, pays nothing for it."""
        if getattr(self, "_use_bits", None) is not None:
            return
        self._use_bits = {}
        for kind, how in USE_KINDS.items():
            orig = self._handlers[kind]
            if orig is not None:
                self._handlers[kind] = self._use_tracker(orig, how)

    def _use_tracker(self, orig: Callable[[Event], None], how: int) -> Callable[[Event], None]:
        bits = self._use_bits

        def handler(e: Event) -> None:
            if not bits.get(e[2] << 16 | e[5], 0) & how:
                self._add_use(e[2], e[5], how)
            orig(e)

        return handler

    def _add_use(self, actor: int, queue: int, how: int) -> None:
        if not (0 <= actor < len(self.actors) and 0 <= queue < len(self.queues)):
            return  # the handler reports the bad index
        key = actor << 16 | queue
        new = self._use_bits.get(key, 0) | how
        self._use_bits[key] = new
        uses = [u for u in self.topology.uses if (u.actor, u.queue) != (actor, queue)]
        old = [u for u in self.topology.uses if (u.actor, u.queue) == (actor, queue)]
        if old:  # keep its place in the order first seen
            at = self.topology.uses.index(old[0])
            uses.insert(at, Use(actor, queue, new))
        else:
            uses.append(Use(actor, queue, new))
        self.topology = replace(self.topology, uses=tuple(uses))

    # ------------------------------------------------------------ growth
    def grow_actors(self, index: int) -> bool:
        """Make room for actor ``index`` (placeholders until their PROCESS_STARTED)."""
        if not 0 <= index < MAX_TRACED_INDEX:
            return False
        infos = list(self.topology.actors)
        while len(self.actors) <= index:
            n = len(self.actors)
            infos.append(ActorInfo(n, f"process{n}", "process", "program", -1, -1))
            self.actors.append(ActorState(n, f"process{n}", "process"))
        self.topology = replace(self.topology, actors=tuple(infos), traced=True)
        return True

    def grow_queues(self, index: int) -> bool:
        if not 0 <= index < MAX_TRACED_INDEX:
            return False
        infos = list(self.topology.queues)
        while len(self.queues) <= index:
            n = len(self.queues)
            infos.append(QueueInfo(n, f"queue{n}", "Queue", 0))
            self.queues.append(QueueState(n, f"queue{n}", "Queue", 0))
        self.topology = replace(self.topology, queues=tuple(infos), traced=True)
        return True

    # ------------------------------------------------------------ handlers
    def _on_process_started(self, e: Event) -> None:
        idx = e[2]
        self.track_uses()
        self.grow_actors(idx)
        a = self.actors[idx]
        internal = bool(e[9] & FLAG_INTERNAL)
        others = (x.name for x in self.actors if x.index != idx)
        a.name = unique_name(str(e[6] or f"process{idx}"), others)
        a.role = "process"
        a.pid, a.parent, a.internal = e[4], e[7], internal
        a.started = a.sink = True  # a traced get uses its item up at once
        a.resume_state = WORKING  # between waits it runs the program's code
        self._set(a, WORKING, e[0])
        group = "internal" if internal else "program"
        actors = list(self.topology.actors)
        actors[idx] = ActorInfo(idx, a.name, "process", group, -1, -1)
        self.topology = replace(self.topology, actors=tuple(actors), traced=True)

    def _on_queue_created(self, e: Event) -> None:
        qi = e[5]
        self.track_uses()
        if not self.grow_queues(qi):
            return
        kind = QUEUE_KINDS[e[4]] if 0 <= e[4] < len(QUEUE_KINDS) else "Queue"
        internal = bool(e[9] & FLAG_INTERNAL)
        others = [q.id for q in self.queues if q.index != qi]
        if e[6]:
            name = unique_name(str(e[6]), others)
        else:  # not assigned to a variable we could find: Queue#1, Queue#2...
            n = 1 + sum(1 for q in self.queues[:qi] if q.kind == kind)
            name = unique_name(f"{kind}#{n}", others)
        q = self.queues[qi]
        q.id, q.kind, q.maxsize, q.internal = name, kind, int(e[7]), internal
        q.observed = bool(e[9] & FLAG_OBSERVED)
        q.__post_init__()  # cap, joinable, prioritised follow kind and maxsize
        queues = list(self.topology.queues)
        queues[qi] = QueueInfo(qi, name, kind, q.maxsize, internal, q.observed)
        self.topology = replace(self.topology, queues=tuple(queues), traced=True)

    def _on_line(self, e: Event) -> None:
        a = self.actors[e[2]]
        a.line_file, a.line_no = str(e[6]), e[7]

    # ------------------------------------------------------------ payloads
    def prune_reprs(self) -> None:
        """Forget the reprs of items long gone (memory stays bounded)."""
        keep = {i for q in self.queues for i in (*q.contents, *q.overflow)}
        keep.update(i for a in self.actors for i in a.holding)
        recent = list(self.item_repr)[-REPRS_KEPT:]
        old = self.item_repr
        self.item_repr = {i: old[i] for i in (*keep, *recent) if i in old}
