"""What an actor waits for, and why it can no longer come: a hang's reason.

A run hangs when every live process waits and nothing moves. The verdict
names, for each, what it waits for and, where the events tell, why that
cannot happen any more: a producer that died, a consumer that is gone, an
item whose writer was killed half-way through it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qsim.model.entities import (
    BLOCKED_PUT,
    CRASHED,
    IDLE,
    JOIN_WAIT,
    WAITING_GET,
    WAITING_STATES,
    ActorState,
)
from qsim.model.events import WAITING_TURN

if TYPE_CHECKING:
    from qsim.model.state import Reducer


def waits(a: ActorState) -> bool:
    """``a`` is waiting for another process: a waiting state, ``main`` idle
    (it only ever idles waiting for the producers to end), or a lane's actor
    waiting for the lane before it to end."""
    return a.state in WAITING_STATES or (
        a.state == IDLE and (a.role == "main" or a.phase == WAITING_TURN)
    )


def _ended(r: Reducer, actors: list[ActorState]) -> str:
    """``actors`` have all ended: how, in words ("P1 died, exit code -9")."""
    dead = [a for a in actors if a.state == CRASHED]
    if not dead:
        return "they finished"
    return ", ".join(f"{a.name} died, exit code {a.exit_code}" for a in dead)


def wait_reason(r: Reducer, a: ActorState) -> str:
    """Why what ``a`` waits for cannot come, in words ("" if the events do not tell)."""
    if a.torn_queue >= 0:
        q = r.queues[a.torn_queue]
        writer = r._writer_of(a.torn_item, q.index)
        why = (
            f"{writer.name} died mid-put (exit code {writer.exit_code})"
            if writer is not None
            else "its writer stopped mid-put"
        )
        return f"stuck reading a half-written item from {q.id}: {why}"
    topo = r.topology
    if a.state in (WAITING_GET, BLOCKED_PUT) and a.queue >= 0:
        q = r.queues[a.queue]
        getting = a.state == WAITING_GET
        others = [
            r.actors[b.index]
            for b in topo.actors
            if (b.output_queue if getting else b.input_queue) == q.index
        ]
        main_may_put = getting and r.actors[0].alive  # main may still send STOPs
        if others and not main_may_put and not any(b.alive for b in others):
            if getting:  # what it seems to hold was never written (or is torn)
                return (
                    f"nothing more can come into {q.id}: its producers ended ({_ended(r, others)})"
                )
            if not getting:
                return f"{q.id} stays full: its consumers ended ({_ended(r, others)})"
    if a.role == "main" and a.state in (IDLE, JOIN_WAIT) and a.queue < 0:
        producers = [r.actors[b.index] for b in topo.actors if b.role == "producer"]
        stuck = [f"{b.name} is {b.state}" for b in producers if b.alive]
        if stuck:
            return "it waits for the producers to end: " + ", ".join(stuck)
    if a.phase == WAITING_TURN:
        return "its turn never comes: the lane before it never ended"
    return ""
