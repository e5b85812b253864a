"""Changes to a run while it runs: knobs that apply live, and workers of a
pipeline stage added or removed (the pipeline panel's + and - buttons).

``LiveChanges`` is mixed into ``Run``; it uses the run's scenario, topology,
control and processes.
"""

from __future__ import annotations

from dataclasses import replace
from multiprocessing.process import BaseProcess
from typing import Any

from qsim.engine.control import LIVE_FIELDS, RunControl, live_slot
from qsim.model.limits import MAX_ACTORS
from qsim.model.scenario import Scenario
from qsim.model.topology import ActorInfo, Topology, worker_name


class LiveChanges:
    """Mixin of ``Run``: knobs and workers changed while it runs."""

    scenario: Scenario
    topology: Topology
    control: RunControl
    processes: dict[int, BaseProcess]
    _stopping: bool

    def _start_consumer(self, a: ActorInfo, added: bool = False) -> None:  # the Run's
        raise NotImplementedError

    def set_live(self, path: str, value: float) -> bool:
        """Apply a knob without restarting, if it is a live one; True if applied.

        ``path`` is a knob path such as ``consumers.C.work_time``.
        """
        parts = path.split(".")
        if len(parts) != 3 or parts[2] not in LIVE_FIELDS:
            return False
        rows: tuple[Any, ...] = (
            self.scenario.producers if parts[0] == "producers" else self.scenario.consumers
        )
        role = "producer" if parts[0] == "producers" else "consumer"
        for n, row in enumerate(rows):
            if row.id == parts[1] and hasattr(row, parts[2]):
                self.control.live[live_slot(role, n, parts[2])] = float(value)
                return True
        return False

    # ------------------------------------------------------------ live workers
    def add_worker(self, group_id: str) -> int:
        """Start one more worker of consumer group (stage) ``group_id`` now.

        Returns the new actor's index (``self.topology`` grows by one actor), or
        -1 if the run is not live or that stage has already stopped.
        """
        sc = self.scenario
        n = next((k for k, c in enumerate(sc.consumers) if c.id == group_id), -1)
        if n < 0:
            raise KeyError(f"no consumer group {group_id!r} in {sc.id}")
        topo = self.topology
        if not self.processes or self._stopping or len(topo.actors) >= MAX_ACTORS:
            return -1
        ctl = self.control
        with ctl.group_alive.get_lock():
            if ctl.group_alive[n] <= 0:
                return -1
            # counted alive before it starts: the stage must not forward its
            # STOPs while the newcomer may still take items
            ctl.group_alive[n] += 1
        first = topo.actors_in(group_id)[0]
        names = set(topo.names)
        k = len(topo.actors_in(group_id)) + 1
        while worker_name(group_id, k, k) in names:
            k += 1
        info = replace(first, index=len(topo.actors), name=worker_name(group_id, k, k))
        self.topology = Topology((*topo.actors, info), topo.queues)
        self._start_consumer(info, added=True)
        return info.index

    def remove_worker(self, group_id: str) -> bool:
        """Ask the newest worker of ``group_id`` to finish its item and leave.

        A stage keeps at least one worker; False if none can be removed. A worker
        whose STOPs are already queued stays and stops at its STOP instead.
        """
        ctl = self.control
        busy = [
            a
            for a in self.topology.actors_in(group_id)
            if a.index in self.processes
            and self.processes[a.index].is_alive()
            and not ctl.retire[a.index]
        ]
        if len(busy) < 2 or self._stopping:
            return False
        ctl.retire[busy[-1].index] = 1
        return True
