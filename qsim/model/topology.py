"""The actors and queues of a run, numbered: events refer to them by index."""

from __future__ import annotations

from dataclasses import dataclass

from qsim.model.scenario import Scenario

#: "process": a traced program's process (it may put and get on any queue)
ROLES = ("main", "producer", "consumer", "stage", "process")


@dataclass(frozen=True)
class ActorInfo:
    index: int
    name: str  # P1, C2, parse1, main
    role: str  # one of ROLES
    #: the spec id it comes from ("P", "C", "parse", "main"); traced: "program" or "internal"
    group: str
    input_queue: int  # queue index or -1
    output_queue: int  # queue index or -1


@dataclass(frozen=True)
class QueueInfo:
    index: int
    id: str
    kind: str
    maxsize: int
    internal: bool = False  # a traced program's Pool, manager or executor made it
    #: the run reports where its items are: feeder buffers, pipe (``internals``)
    observed: bool = False


#: a traced process's use of a queue: it put on it, got from it (bits of ``Use.how``)
PUT_ON, GOT_FROM = 1, 2


@dataclass(frozen=True)
class Use:
    """A traced process used a queue (the diagram draws an edge for it)."""

    actor: int
    queue: int
    how: int  # PUT_ON, GOT_FROM or both


@dataclass(frozen=True)
class Topology:
    actors: tuple[ActorInfo, ...]
    queues: tuple[QueueInfo, ...]
    #: a traced program's: grown from its events, not known up front
    traced: bool = False
    #: traced: which process used which queue, in the order first seen
    uses: tuple[Use, ...] = ()

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.actors]

    def queue_index(self, qid: str) -> int:
        for q in self.queues:
            if q.id == qid:
                return q.index
        raise KeyError(qid)

    def actors_in(self, group: str) -> list[ActorInfo]:
        return [a for a in self.actors if a.group == group]


def worker_name(group: str, n: int, count: int) -> str:
    """The name of worker ``n`` (from 1) of ``count`` in ``group``: ``P1``, ``parse``,
    ``parse2``. A group id ending in a digit gets a dash (``S1`` count 2: ``S1-1``), so
    that ``S1`` alone stays ``S1`` and never reads as ``S11``."""
    if group[-1:].isdigit():
        return f"{group}-{n}" if count > 1 else group
    return f"{group}{n}" if count > 1 or len(group) <= 2 else group


def build_topology(sc: Scenario, extra_workers: dict[str, int] | None = None) -> Topology:
    """Number the actors: 0 is ``main``, then producers, then consumers/stages.

    ``extra_workers`` reserves indexes for workers a stage may gain live
    (pipeline +/- buttons): ``{"parse": 4}`` numbers up to 4 more ``parse`` workers.
    """
    queues = tuple(
        QueueInfo(n, q.id, q.kind, q.maxsize, observed=q.internals)
        for n, q in enumerate(sc.queues)
    )
    qidx = {q.id: q.index for q in queues}
    actors = [ActorInfo(0, "main", "main", "main", -1, -1)]
    for p in sc.producers:
        for n in range(1, p.count + 1):
            actors.append(
                ActorInfo(
                    len(actors), worker_name(p.id, n, p.count), "producer", p.id, -1, qidx[p.queue]
                )
            )
    extra = extra_workers or {}
    for c in sc.consumers:
        total = c.count + extra.get(c.id, 0)
        for n in range(1, total + 1):
            role = "stage" if c.output else "consumer"
            out = qidx[c.output] if c.output else -1
            actors.append(
                ActorInfo(len(actors), worker_name(c.id, n, total), role, c.id, qidx[c.queue], out)
            )
    return Topology(tuple(actors), queues)


def lane_actors(topo: Topology, sc: Scenario) -> dict[int, list[int]]:
    """Lanes one at a time: per lane's queue (in producer order), the actors
    that put into it or get from it (``main`` aside)."""
    lanes: dict[int, list[int]] = {}
    for p in sc.producers:
        qi = topo.queue_index(p.queue)
        lanes[qi] = [
            a.index
            for a in topo.actors
            if qi in (a.input_queue, a.output_queue) and a.role != "main"
        ]
    return lanes
