"""What the controller does when a process of its run ends.

A worker's pipe reports end-of-file: its exit code is read (a crash is
reported unless the stop ended it), ``main`` learns that a producer has
ended (so it does not wait for a dead one), and a lane that is over lets
the next one start. The manager, which sends no events, is watched by its
sentinel: if it dies, the items in its queues die with it. After a crash,
once everything has ended, what is left in each queue's pipe is read, so
that the reducer can tell where the rest of the items were
(``qsim.model.losses``). ``ProcessEnds`` is mixed into ``Run``.
"""

from __future__ import annotations

import threading
from multiprocessing.connection import wait
from multiprocessing.process import BaseProcess
from typing import Any

from qsim.engine.collector import Collector
from qsim.engine.control import RunControl
from qsim.engine.msgread import read_left
from qsim.engine.pipe_probe import pipe_capacity, unread_bytes
from qsim.engine.queues import needs_manager
from qsim.model.events import FINAL_SAMPLE, LEFT_UNKNOWN, TORN_TAIL, EventKind
from qsim.model.scenario import Scenario
from qsim.model.topology import Topology


class ProcessEnds:
    """Mixin of ``Run``: the ends of its processes."""

    scenario: Scenario
    topology: Topology
    control: RunControl
    collector: Collector
    processes: dict[int, BaseProcess]
    queues: list[Any]
    lanes: list[list[int]]
    exit_codes: dict[int, int | None]
    _lane_left: list[set[int]]
    _ended_by_us: set[int]
    _crashed: set[int]
    _manager_proc: BaseProcess | None
    _stopping: bool
    _reap_lock: threading.Lock

    def inject(
        self,
        actor: int,
        kind: EventKind,
        value: Any = None,
        queue: int = -1,
        aux: int = 0,
        flags: int = 0,
        item: int = 0,
    ) -> None:  # the Run's
        raise NotImplementedError

    def _on_eof(self, actor: int) -> None:
        if self.topology.actors[actor].role == "producer":
            ctl = self.control
            ctl.producers_ended.value += 1  # only this thread writes it
        for lane, left in enumerate(self._lane_left):
            if actor in left:
                left.discard(actor)
                if not left:  # the lane is over, however it ended: the next one
                    self._lane_over(lane)
        p = self.processes.get(actor)
        if p is None:
            return
        self._join(p, 2.0)
        code = p.exitcode
        self.exit_codes[actor] = code
        if code not in (0, None) and actor not in self._ended_by_us:
            self._crashed.add(actor)
            self.inject(actor, EventKind.ACTOR_CRASHED, code)
            for members in self.lanes:
                if actor in members and self.control.lane_mode.value == 2:
                    # its measurement is void: show at once what led to the crash
                    self.collector.release(members)

    def _on_manager_end(self) -> None:
        """The manager process ended. Unless we stopped it, every item in the
        queues it served died with it (and their users will fail next)."""
        mp = self._manager_proc
        if self._stopping or mp is None:
            return
        self._join(mp, 1.0)
        why = f"died with the manager (exit code {mp.exitcode})"
        for qi, spec in enumerate(self.scenario.queues):
            if needs_manager(spec.kind):
                self.inject(0, EventKind.QUEUE_LOST, why, qi)

    def _sample_pipes(self) -> None:
        """After a crash, once every process ended: what is left in each queue's
        pipe, item by item (``LEFT_IN_PIPE``), then ``FINAL_SAMPLE``. The
        reducer tells by it where the rest of the items were
        (``qsim.model.losses``, rule 4). Without a crash nothing is unaccounted."""
        if not self._crashed:
            return
        for qi, q in enumerate(self.queues):
            reader = getattr(q, "_reader", None)
            if reader is None or reader.closed:
                continue
            fd = reader.fileno()
            unread = unread_bytes(fd)
            if unread is None:
                continue
            whole, torn, complete = read_left(fd, unread)
            for item, size in whole:
                self.inject(0, EventKind.LEFT_IN_PIPE, size, qi, item=item)
            if torn is not None:
                self.inject(0, EventKind.LEFT_IN_PIPE, torn[1], qi, item=torn[0], flags=TORN_TAIL)
            flags = FINAL_SAMPLE if complete else FINAL_SAMPLE | LEFT_UNKNOWN
            self.inject(0, EventKind.PIPE_SAMPLE, unread, qi, pipe_capacity(fd), flags)

    def _lane_over(self, lane: int) -> None:
        def next_lane() -> None:
            turn = self.control.lane_turn
            turn.value = max(turn.value, lane + 1)

        if self.control.lane_mode.value == 2:
            # what the lane reported while it measured is decoded only now; the
            # next lane starts once the viewer has taken all of it in
            self.collector.release(self.lanes[lane], then=next_lane)
        else:
            next_lane()

    def _join(self, p: BaseProcess, timeout: float) -> bool:
        """Wait for ``p`` to end; True if it has. Safe from any thread: only one
        thread at a time reaps (two ``waitpid`` on one pid would lose its exit code).

        The sentinel is readable as soon as the dying process has closed its
        files, a moment *before* the kernel lets ``waitpid(WNOHANG)`` see it, so
        once the sentinel says so we reap with a blocking ``join()``.
        """
        with self._reap_lock:
            if p.exitcode is not None:
                return True
        if not wait([p.sentinel], timeout):
            return False
        with self._reap_lock:
            p.join()
        return True
