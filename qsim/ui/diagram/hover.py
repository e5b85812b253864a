"""Plain-words explanations of why an actor is in its state (no Qt here).

The diagram shows them as the actor's tooltip; they read the reducer only.
"""

from __future__ import annotations

import signal

from qsim.model import state as S
from qsim.model.events import describe_item, is_sentinel, item_number
from qsim.model.state import ActorState, Reducer
from qsim.model.topology import Topology
from qsim.model.traced import is_sentinel_repr
from qsim.ui.theme import STATE_LABELS


def display_state(a: ActorState) -> str:
    """What the actor is shown as: crashed and hung win over paused, paused over the rest."""
    if a.state == S.CRASHED:
        return a.state
    if a.hung:  # stays shown hung after the run was stopped for it
        return "hung"
    if a.state == S.FINISHED:
        return a.state
    if a.paused:
        return "paused"
    return a.state


def state_text(a: ActorState) -> str:
    """The label drawn on the actor, e.g. ``blocked on put`` or ``crashed (exit -9)``."""
    key = display_state(a)
    if key == S.CRASHED:
        return f"crashed (exit {a.exit_code})" if a.exit_code is not None else "crashed"
    if key == S.JOIN_WAIT and a.exit_wait:  # its code is done; its feeder thread is not
        return "can't exit yet"
    return STATE_LABELS[key][0] if key in STATE_LABELS else key


def exit_code_words(code: int | None, last_error: str = "") -> str:
    """``-9`` -> ``killed by SIGKILL``; ``1`` -> ``an exception escaped its loop``."""
    if code is None:
        return "its exit code is unknown"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        verb = "killed" if name == "SIGKILL" else "terminated" if name == "SIGTERM" else "stopped"
        return f"{verb} by {name}"
    if code == 1:
        return "an exception escaped its loop" + (f": {last_error}" if last_error else "")
    if code == 3:
        return "it called os._exit(3): an injected crash"
    return f"the process exited with status {code}"


def _names(actors: list[ActorState]) -> str:
    return ", ".join(a.name for a in actors)


def _readers(r: Reducer, topo: Topology, qi: int) -> list[ActorState]:
    return [r.actors[a.index] for a in topo.actors if a.input_queue == qi]


def _writers(r: Reducer, topo: Topology, qi: int) -> list[ActorState]:
    return [r.actors[a.index] for a in topo.actors if a.output_queue == qi]


def _summary(actors: list[ActorState], role: str) -> str:
    """How a group of actors is doing, in a few words."""
    if not actors:
        return f"there are no {role}s"
    alive = [a for a in actors if a.alive]
    if not alive:
        crashed = [a for a in actors if a.state == S.CRASHED]
        if crashed:
            return f"no {role} is left ({_names(crashed)} crashed)"
        return f"every {role} has finished"
    working = [a for a in alive if a.state == S.WORKING and not a.paused]
    if len(working) == len(alive):
        return (
            f"{role}s are busy working" if len(alive) > 1 else f"{alive[0].name} is busy working"
        )
    parts = []
    for label, group in (
        ("working", working),
        ("blocked on put", [a for a in alive if a.state == S.BLOCKED_PUT]),
        ("waiting on get", [a for a in alive if a.state == S.WAITING_GET]),
        ("paused", [a for a in alive if a.paused]),
    ):
        if group:
            parts.append(f"{_names(group[:4])}{'…' if len(group) > 4 else ''} {label}")
    return f"{role}s: " + ("; ".join(parts) if parts else "between operations")


def lost_items(r: Reducer, name: str) -> list[str]:
    """Items that were in ``name``'s hands when it crashed (from the accounting)."""
    tag = f"in {name}'s hands when it crashed"
    return [why.split(":", 1)[0] for why in r.acct.lost_reasons if tag in why]


def explain(r: Reducer, topo: Topology, i: int) -> str:
    """Why actor ``i`` is in its state, in one or two plain sentences."""
    a = r.actors[i]
    info = topo.actors[i]
    names = topo.names
    qname = r.queues[a.queue].id if 0 <= a.queue < len(r.queues) else "?"
    item = describe_item(a.item, names) if a.item else ""
    key = display_state(a)
    if key == S.CRASHED:
        text = f"{a.name} crashed with exit code {a.exit_code} ({exit_code_words(a.exit_code)})"
        lost = lost_items(r, a.name)
        if lost:
            text += f"; it held {', '.join(lost[:3])}, now lost"
        elif a.last_error and a.exit_code == 1:
            text += f": {a.last_error}"
        return text + "."
    if key == "hung":
        return (
            f"{a.name} is hung: it waits ({a.state}) and nothing in the run can ever wake it"
            " - a missing sentinel or a join() that can never return."
        )
    if key == "paused":
        return f"{a.name} is paused at the run's pause gate (was: {a.state}). Play resumes it."
    if key == S.FINISHED:
        why = a.exit_reason or "finished"
        if why == "finished":
            if info.role == "producer":
                sent = f" and {a.sentinels_sent} sentinel(s)" if a.sentinels_sent else ""
                return f"{a.name} finished: it put all {a.items} items{sent} and returned."
            if a.sentinels_received:
                return f"{a.name} finished: it got a sentinel after {a.items} items and returned."
            return f"{a.name} finished after {a.items} items."
        return f"{a.name} was stopped ({why}) after {a.items} items."
    if key == S.BLOCKED_PUT:
        q = r.queues[a.queue]
        readers = _summary(_readers(r, topo, a.queue), "consumer")
        return (
            f"{a.name} is blocked in put(): queue {q.id} is full ({q.depth}/{q.maxsize}); "
            f"{readers}. {item} waits in {a.name}'s hand."
        )
    if key == S.WAITING_GET:
        writers = _summary(_writers(r, topo, a.queue), "producer")
        return f"{a.name} is waiting in get(): queue {qname} is empty; {writers}."
    if key == S.JOIN_WAIT:
        q = r.queues[a.queue]
        return (
            f"{a.name} is waiting in {q.id}.join(): {q.unfinished} tasks unfinished "
            "(join() returns when every item put has had its task_done())."
        )
    if key == S.WORKING:
        if info.role == "producer":
            return f"{a.name} is making {item} (working; it will put() it into the queue next)."
        if info.role == "main":
            return f"{a.name} is working."
        return f"{a.name} is working on {item}; it has handled {a.items} items so far."
    if key == S.STARTING:
        return f"{a.name} is starting: its process was launched and has not reported yet."
    if info.role == "main":
        return f"{a.name} waits for the producers to finish."
    return f"{a.name} is idle: between two queue operations."


def counters_text(a: ActorState, role: str) -> str:
    """The small counter on an actor: items put or done (and failures)."""
    verb = "put" if role == "producer" else "done"
    text = f"{a.items} {verb}"
    if a.failed:
        text += f", {a.failed} failed"
    return text


def token_text(item: int, topo: Topology, r: Reducer | None) -> str:
    """A token's tooltip: whose item, which number, its priority, its batch."""
    name = describe_item(item, topo.names)
    if is_sentinel(item):
        return f"{name}: a sentinel; the consumer that gets it stops"
    shown = r.item_repr.get(item) if r is not None else None
    if shown is not None:  # a traced program's object: its repr in full
        who = name.split("#", 1)[0]
        return f"{shown}\nput by {who}" + (
            " (a sentinel, by its value)" if (is_sentinel_repr(shown)) else ""
        )
    text = f"item {item_number(item)} made by {name.split('#', 1)[0]}"
    if r is not None:
        prio = r.priority.get(item)
        if prio is not None:
            text += f", priority {prio}"
        size = r.entry_size.get(item, 1)
        if size > 1:
            text += f", a batch of {size} items"
    return text
