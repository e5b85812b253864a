"""The role each process of a traced program plays, from the queues it used.

A *producer* only put, a *consumer* only got, a *stage* did both; one that
used no queue yet is drawn small, apart (``main``). A queue's *level* is its
distance from the queues pure producers feed, with cycles (results sent back
to main) cut where they close, in the order the queues were made. No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from qsim.model.entities import ActorState
from qsim.model.topology import GOT_FROM, PUT_ON, ActorInfo, Topology

INTERNAL = " (internal)"  # appended to an internal queue's or process's drawn name


@dataclass(frozen=True)
class Roles:
    """What the uses say about each process and queue."""

    role: dict[int, str]  # actor -> producer / consumer / stage / main (idle)
    puts: dict[int, list[int]]  # actor -> queues it put on, in the order seen
    gets: dict[int, list[int]]  # actor -> queues it got from
    level: dict[int, int]  # queue -> column level


def roles(topo: Topology) -> Roles:
    puts: dict[int, list[int]] = {}
    gets: dict[int, list[int]] = {}
    for u in topo.uses:
        if u.how & PUT_ON:
            puts.setdefault(u.actor, []).append(u.queue)
        if u.how & GOT_FROM:
            gets.setdefault(u.actor, []).append(u.queue)
    role: dict[int, str] = {}
    for a in topo.actors:
        p, g = a.index in puts, a.index in gets
        role[a.index] = "stage" if p and g else "producer" if p else "consumer" if g else "main"
    return Roles(role, puts, gets, queue_levels(topo, role, puts, gets))


def queue_levels(
    topo: Topology, role: dict[int, str], puts: dict[int, list[int]], gets: dict[int, list[int]]
) -> dict[int, int]:
    """Longest distance of each queue from the roots, with cycles cut."""
    n = len(topo.queues)
    succ: dict[int, list[int]] = {q: [] for q in range(n)}
    for a, ins in gets.items():
        for qi in ins:
            for qo in puts.get(a, []):
                if qo != qi and qo not in succ[qi]:
                    succ[qi].append(qo)
    fed = {q for a, outs in puts.items() if role[a] == "producer" for q in outs}
    roots = [q for q in range(n) if q in fed] + [q for q in range(n) if q not in fed]
    order: list[int] = []  # a DFS post-order of the graph without its back edges
    keep: dict[int, list[int]] = {q: [] for q in range(n)}
    state = dict.fromkeys(range(n), 0)  # 0 new, 1 on the path, 2 done
    for root in roots:
        if state[root]:
            continue
        stack = [(root, 0)]
        state[root] = 1
        while stack:
            q, k = stack.pop()
            if k < len(succ[q]):
                stack.append((q, k + 1))
                nxt = succ[q][k]
                if state[nxt] == 0:
                    keep[q].append(nxt)
                    state[nxt] = 1
                    stack.append((nxt, 0))
                elif state[nxt] == 2:
                    keep[q].append(nxt)  # a cross edge: still forward
            else:
                state[q] = 2
                order.append(q)
    level = dict.fromkeys(range(n), 0)
    for q in reversed(order):  # a topological order of what is kept
        for nxt in keep[q]:
            level[nxt] = max(level[nxt], level[q] + 1)
    # a queue nobody has put on yet (results a worker sends at its very end, a
    # pipe back to main) goes after every queue that is fed: that is where it
    # will be once it is, so its readers need not move across the picture
    put_on = {q for outs in puts.values() for q in outs}
    if put_on:
        after = max(level[q] for q in put_on) + 1
        for q in range(n):
            if q not in put_on:
                level[q] = max(level[q], after)
    return level


def drawn_topology(topo: Topology) -> Topology:
    """``topo`` with each process in the role its uses give it, and internal
    parts named so (what the diagram, its animator and tooltips read)."""
    r = roles(topo)
    actors = []
    for a in topo.actors:
        ins, outs = r.gets.get(a.index, []), r.puts.get(a.index, [])
        name = a.name + (INTERNAL if a.group == "internal" and a.index else "")
        actors.append(
            ActorInfo(
                a.index,
                name,
                r.role[a.index],
                a.group,
                ins[-1] if ins else -1,
                outs[0] if outs else -1,
            )
        )
    queues = tuple(replace(q, id=q.id + INTERNAL) if q.internal else q for q in topo.queues)
    return replace(topo, actors=tuple(actors), queues=queues)


def traced_counter(a: ActorState) -> str:
    """A traced process's counter: what it put and got so far."""
    return f"put {a.puts} · got {a.items}" if a.puts or a.items else ""


def actor_column(a: ActorInfo, r: Roles) -> int:
    """Producers and stages just left of the first queue they put on;
    consumers just right of the farthest queue they get from."""
    outs = r.puts.get(a.index, [])
    if outs:
        return 2 * min(r.level[q] for q in outs)
    ins = r.gets.get(a.index, [])
    return 2 + 2 * max(r.level[q] for q in ins) if ins else -1
