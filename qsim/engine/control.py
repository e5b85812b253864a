"""Run control shared between the controller and every worker process.

Pause, step, speed and stop reach the workers through shared primitives, not
messages, so a worker sees them at its next queue operation or sleep slice:

* ``paused`` / ``stop``: lock-free shared bytes, read on every queue operation
  (an ``Event.is_set()`` takes a lock: too slow for a flat-out hot loop).
* ``permits``: a semaphore of single-step permits. While paused, a worker must
  take a permit before a queue operation; a failed attempt (queue full or
  empty) gives it back, so one Step is exactly one *completed* operation.
* ``pending``: steps asked for and not yet used; while it is > 0 the paused
  workers' sleeps run on, so a step cannot wait forever on frozen work.
* ``speed``: the time scale (0.1x-10x) applied to work and production times.
* ``retire``: per actor, "finish your current item and leave" (the pipeline
  panel's - button); ``stop_adjust`` / ``stops_sent`` keep the STOP count of a
  queue right when its readers change live (see ``claim_stops``).
"""

from __future__ import annotations

import ctypes
import os
import secrets
from multiprocessing.connection import Connection
from multiprocessing.context import BaseContext
from typing import Any

from qsim.model.limits import MAX_GROUPS, MAX_QUEUES

#: longest a worker sleeps or blocks before it looks at stop/pause/parent again
SLICE_S = 0.02
MIN_SPEED, MAX_SPEED = 0.1, 10.0


class RunControl:
    """Picklable bundle of the run's shared primitives (pass it to workers)."""

    def __init__(self, ctx: BaseContext, n_actors: int, speed: float = 1.0) -> None:
        self.paused: Any = ctx.RawValue(ctypes.c_byte, 0)
        self.stop: Any = ctx.RawValue(ctypes.c_byte, 0)
        self.speed: Any = ctx.RawValue(ctypes.c_double, clamp_speed(speed))
        #: niceness workers add to themselves at start (the GUI keeps the CPU first)
        self.nice: Any = ctx.RawValue(ctypes.c_int, 0)
        #: flow control: microseconds a worker waits after each batch it sends,
        #: set by a viewer that cannot keep up (0: full speed)
        self.throttle_us: Any = ctx.RawValue(ctypes.c_int, 0)
        self.permits: Any = ctx.Semaphore(0)
        self.pending: Any = ctx.Value(ctypes.c_int, 0)
        #: events each actor has sent (each worker writes only its own slot)
        self.emitted: Any = ctx.RawArray(ctypes.c_longlong, n_actors)
        #: producers that have put everything (the main process waits on it)
        self.producers_done: Any = ctx.Value(ctypes.c_int, 0)
        #: live worker count per consumer group (pipeline stages forward STOPs)
        self.group_workers: Any = ctx.RawArray(ctypes.c_int, MAX_GROUPS)
        self.group_alive: Any = ctx.Array(ctypes.c_int, MAX_GROUPS)
        #: knobs that apply live (see ``live_slot``): time per item, failure rate
        self.live: Any = ctx.RawArray(ctypes.c_double, 4 * 2 * MAX_GROUPS)
        #: per actor: leave between items (a worker removed live)
        self.retire: Any = ctx.RawArray(ctypes.c_byte, n_actors)
        #: per queue: STOPs the first main/producer sender adds (workers added
        #: minus workers retired before any STOP went in), and whether one went in.
        #: Both are guarded by ``group_alive``'s lock.
        self.stop_adjust: Any = ctx.RawArray(ctypes.c_int, MAX_QUEUES)
        self.stops_sent: Any = ctx.RawArray(ctypes.c_byte, MAX_QUEUES)
        #: shared-memory blocks of this run are named ``<shm_prefix><actor>_<n>``
        #: (a random part: no scenario can name one), and ``shm_made[actor]`` is
        #: how many that producer has made: a reader touches nothing else
        self.shm_prefix = f"qs{os.getpid()}_{secrets.token_hex(3)}_"
        self.shm_made: Any = ctx.RawArray(ctypes.c_longlong, n_actors)
        #: lanes (``[run] lanes``): 0 all together, 1 one at a time, 2 one at a
        #: time after a plain-program phase each; ``lane_turn`` is the lane whose
        #: producer may run now (the controller moves it on as each lane ends)
        #: per queue: workers report where its items are (feeder buffer, pipe)
        self.observed: Any = ctx.RawArray(ctypes.c_byte, MAX_QUEUES)
        self.lane_mode: Any = ctx.RawValue(ctypes.c_int, 0)
        self.lane_turn: Any = ctx.RawValue(ctypes.c_int, 0)
        #: measured lanes: queue index -> a queue of the same kind for the lane's
        #: plain-program phase (its own feeder thread and pipe, never watched)
        self.plain_queues: dict[int, Any] = {}
        #: producer processes that have ended, however (the controller counts
        #: them): ``main`` stops waiting when all have, even if one died
        self.producers_ended: Any = ctx.RawValue(ctypes.c_int, 0)
        #: the read end of the run's life line (``qsim.engine.lifeline``):
        #: every process of the run ends when its controller is gone
        self.life_line: Connection | None = None
        self.life_line_owner = 0  # the controller's pid

    # controller side -------------------------------------------------------
    def pause(self) -> None:
        self.paused.value = 1

    def resume(self) -> None:
        with self.pending.get_lock():
            # unused permits must not leak into a later pause
            while self.permits.acquire(False):
                pass
            self.pending.value = 0
        self.paused.value = 0

    def step(self) -> None:
        """Allow exactly one more queue operation while paused."""
        with self.pending.get_lock():
            self.pending.value += 1
        self.permits.release()

    def set_speed(self, speed: float) -> float:
        self.speed.value = clamp_speed(speed)
        return float(self.speed.value)

    def request_stop(self) -> None:
        self.stop.value = 1

    # worker side -----------------------------------------------------------
    def claim_stops(self, qi: int, base: int) -> int:
        """How many STOPs a main/producer sender puts into queue ``qi`` instead of
        ``base``: the first sender also covers readers added or retired live."""
        with self.group_alive.get_lock():
            n = base + self.stop_adjust[qi]
            self.stop_adjust[qi] = min(0, n)
            self.stops_sent[qi] = 1
        return max(0, n)


LIVE_FIELDS = ("interval", "failure_rate", "work_time")


def live_slot(role: str, group: int, name: str) -> int:
    """Index in ``RunControl.live`` of a live knob (``role`` producer or consumer)."""
    base = 0 if role == "producer" else 4 * MAX_GROUPS
    return base + 4 * group + LIVE_FIELDS.index(name)


def clamp_speed(speed: float) -> float:
    return min(MAX_SPEED, max(MIN_SPEED, float(speed)))
