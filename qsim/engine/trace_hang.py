"""Is a traced program hung, and where: the rule the window and the CLI share.

A traced program is hung when every one of its own live processes waits
(in get, put or join) and nothing moved for a while. A manager's server or a
Pool's helpers do not count: they wait for the program by design.
"""

from __future__ import annotations

import os

from qsim.model.entities import WAITING_STATES, ActorState
from qsim.model.state import Reducer


def hung_processes(reducer: Reducer, now_ns: int, hang_after: float) -> list[ActorState]:
    """The program's own live processes, if all of them wait and nothing moved
    for ``hang_after`` seconds (none if any is paused or still running)."""
    live = [a for a in reducer.live_actors() if not a.internal]
    if not live or reducer.held or reducer.stalled_for_ns(now_ns) < hang_after * 1e9:
        return []
    if any(a.paused or a.state not in WAITING_STATES for a in live):
        return []
    return live


def where_stuck(r: Reducer, a: ActorState) -> str:
    """``waiting on get on q at prog.py:7``, in the words of the program."""
    what = a.state
    if 0 <= a.queue < len(r.queues) and a.state != "waiting in join()":
        what += f" on {r.queues[a.queue].id}"
    elif a.state == "waiting in join()" and a.join_what:
        what = f"waiting in {a.join_what}"
    if a.line:
        what += f" at {os.path.basename(a.line[0])}:{a.line[1]}"
    return what
