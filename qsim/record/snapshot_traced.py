"""What a snapshot adds for a traced program: the topology it had grown to.

A scenario's topology is the recording's, the same at every instant; a
traced program's grows from its events (processes, queues, which process used
which queue, in the order first seen), so a seek into the middle must restore
exactly the topology of that instant: the diagram draws what existed then,
laid out as it was. A snapshot of a traced reducer keeps that topology, and
the reprs of the items still somewhere (in a queue or a hand: the tokens
drawn), since a restored reducer has not seen their puts. Checked on decode
like the rest of a snapshot: it comes from a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qsim.model.events import QUEUE_KINDS
from qsim.model.state import Reducer
from qsim.model.topology import GOT_FROM, PUT_ON, ROLES, ActorInfo, QueueInfo, Topology, Use
from qsim.model.traced import MAX_TRACED_INDEX
from qsim.model.wire import MAX_STRING

_KINDS = frozenset(QUEUE_KINDS)
_HOW = (PUT_ON, GOT_FROM, PUT_ON | GOT_FROM)
MAX_NAME = MAX_STRING + 16  # a name as the program gave it, and a "-2" to tell it apart


def capture_traced(r: Reducer, live_items: list[int]) -> dict[str, Any]:
    """The grown topology of ``r`` and the reprs of ``live_items`` (items still somewhere)."""
    topo = r.topology
    reprs = r.item_repr
    items = [i for i in live_items if i in reprs]
    return {
        "actors": [[a.name, a.role, a.group, a.input_queue, a.output_queue] for a in topo.actors],
        "queues": [[q.id, q.kind, q.maxsize, q.internal, q.observed] for q in topo.queues],
        # uses: actor, queue, how: column after column, like the other triples
        "uses": [x for c in range(3) for x in (_use(u)[c] for u in topo.uses)],
        "tracking": getattr(r, "_use_bits", None) is not None,
        "repr_items": items,
        "reprs": [reprs[i] for i in items],
    }


def _use(u: Use) -> tuple[int, int, int]:
    return (u.actor, u.queue, u.how)


def traced_topology(t: dict[str, Any]) -> Topology:
    """The topology a captured traced state had grown to."""
    n = len(t["uses"]) // 3
    cols = [t["uses"][c * n : (c + 1) * n] for c in range(3)]
    return Topology(
        tuple(ActorInfo(i, *a) for i, a in enumerate(t["actors"])),
        tuple(QueueInfo(i, *q) for i, q in enumerate(t["queues"])),
        traced=True,
        uses=tuple(Use(a, q, how) for a, q, how in zip(*cols, strict=True)),
    )


def restore_traced(r: Reducer, t: dict[str, Any]) -> None:
    """After ``r`` was reset to ``traced_topology(t)``: which uses it knows (so it
    goes on learning new ones as live did), and the reprs of the items it holds."""
    if t["tracking"]:
        r.track_uses()
        bits = r._use_bits  # the dict the handlers' trackers hold: filled in place
        for u in r.topology.uses:
            bits[u.actor << 16 | u.queue] = u.how
    r.item_repr = dict(zip(t["repr_items"], t["reprs"], strict=True))


def encode_traced(t: dict[str, Any], ref: Callable[[list[int]], list[int]]) -> dict[str, Any]:
    """The long int lists into the snapshot's number block (``ref``)."""
    return {**t, "uses": ref(t["uses"]), "repr_items": ref(t["repr_items"])}


def check_traced(raw: Any, arr: Callable[[Any, int], list[int]]) -> dict[str, Any]:
    """A decoded traced part, field by field (``ValueError`` etc. if malformed);
    ``arr(ref, group)`` reads an int list from the number block."""
    actors, queues = raw["actors"], raw["queues"]
    if not (isinstance(actors, list) and isinstance(queues, list)):
        raise ValueError("traced actors and queues must be lists")
    if len(actors) > MAX_TRACED_INDEX or len(queues) > MAX_TRACED_INDEX:
        raise ValueError("more traced actors or queues than a program can have")
    nq = len(queues)
    out_q = []
    for q in queues:
        qid, kind, maxsize, internal, observed = q
        if not (_name(qid) and kind in _KINDS and type(maxsize) is int and 0 <= maxsize < 2**31):
            raise ValueError(f"a traced queue is malformed: {str(q)[:80]}")
        if not (isinstance(internal, bool) and isinstance(observed, bool)):
            raise ValueError("a traced queue's flags must be true or false")
        out_q.append([qid, kind, maxsize, internal, observed])
    out_a = []
    for a in actors:
        name, role, group, inq, outq = a
        if not (_name(name) and role in ROLES and _name(group)):
            raise ValueError(f"a traced actor is malformed: {str(a)[:80]}")
        if not all(type(x) is int and -1 <= x < nq for x in (inq, outq)):
            raise ValueError("a traced actor names a queue the snapshot does not have")
        out_a.append([name, role, group, inq, outq])
    uses = arr(raw["uses"], 3)
    n = len(uses) // 3
    if not (
        all(0 <= x < len(actors) for x in uses[:n])
        and all(0 <= x < nq for x in uses[n : 2 * n])
        and all(x in _HOW for x in uses[2 * n :])
    ):
        raise ValueError("a traced use names an actor or queue the snapshot does not have")
    tracking = raw["tracking"]
    if not isinstance(tracking, bool):
        raise ValueError("tracking must be true or false")
    items = arr(raw["repr_items"], 1)
    reprs = raw["reprs"]
    if not (
        isinstance(reprs, list)
        and len(reprs) == len(items)
        and all(isinstance(x, str) and len(x) <= MAX_STRING for x in reprs)
    ):
        raise ValueError("the item reprs do not match their items")
    return {
        "actors": out_a,
        "queues": out_q,
        "uses": uses,
        "tracking": tracking,
        "repr_items": items,
        "reprs": list(reprs),
    }


def _name(v: Any) -> bool:
    return isinstance(v, str) and 0 < len(v) <= MAX_NAME
