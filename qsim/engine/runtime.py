"""What every worker process has: its event reporter, the pause gate, sliced
sleeps, and instrumented put/get that *observe* blocking.

Blocking is observed, never guessed: a put first tries without blocking; only
if the queue is really full does the worker report ``PUT_BLOCKED``, flush its
buffer (so the GUI learns it *before* the worker stops sending) and then wait.
"""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from functools import partial
from multiprocessing.connection import Connection
from multiprocessing.process import parent_process
from typing import Any

from qsim.engine.control import SLICE_S, RunControl
from qsim.engine.feeder import FeederWatch, message_bytes
from qsim.engine.lifeline import watch
from qsim.engine.msgread import STALL_SLICE_S, torn_item_id
from qsim.engine.queues import EMPTY, Full, QueueAdapter
from qsim.model.events import EXIT_WAIT, EventKind, ItemKind, Value
from qsim.model.wire import FLAG_TASK_DONE, MAX_BATCH, VT_INT, VT_NONE, EventBuffer

K = EventKind
FLUSH_EVERY_NS = 10_000_000  # 10 ms
FLUSH_EVENTS = MAX_BATCH
#: while a lane measures its speed the window shows nothing of it (the
#: collector keeps its batches until the lane ends): fewer, bigger batches,
#: so that the controller is woken less often on the lane's cores
MEASURED_FLUSH_EVERY_NS = 50_000_000
MEASURED_FLUSH_EVENTS = 8 * MAX_BATCH
PARENT_CHECK_NS = 100_000_000
#: a feeder write still going after this long is reported as begun (the pipe is full)
STUCK_WRITE_NS = 20_000_000
#: how long a blocked put or get waits before it flushes to say so (see put)
BRIEF_S = 0.002
#: a get that waits this long for the rest of an item reports it (GET_STALLED)
STALL_REPORT_S = 0.2
_now = time.monotonic_ns
# plain ints for the hot paths (an enum attribute lookup costs more than the append)
_PUT_DONE, _GET_DONE, _PUT_BLOCKED = int(K.PUT_DONE), int(K.GET_DONE), int(K.PUT_BLOCKED)
_FEEDER_WRITE, _GET_WAITING = int(K.FEEDER_WRITE), int(K.GET_WAITING)
_BATCH, _DATA = int(ItemKind.BATCH), int(ItemKind.DATA)
#: a put's or get's record in the buffer: value (an item count) is an int
_COUNTED = VT_INT


class StopRun(Exception):
    """The run is being stopped (or the parent died): unwind and exit."""


class Retired(Exception):
    """The worker was asked to leave (``RunControl.retire``) while waiting on get."""


class Runtime:
    def __init__(self, actor: int, conn: Connection, ctl: RunControl, seed: int) -> None:
        self.actor = actor
        self.conn = conn
        self.ctl = ctl
        self.events = EventBuffer(actor)
        # the hot paths append their records themselves (one tuple, no call)
        self._append = self.events.pending.append
        self._pending = self.events.pending
        self._gate = memoryview(ctl.paused).cast("B")
        self.sent = 0
        self._watches: list[FeederWatch] = []
        self.flush_at = time.monotonic_ns() + FLUSH_EVERY_NS
        self.parent_at = 0
        self.parent = parent_process()
        # the parent check above runs between queue operations; the life line
        # also ends a worker stuck in a system call when the controller dies
        watch(ctl.life_line, ctl.life_line_owner)
        self.rng = random.Random(seed * 7919 + actor)
        self.permit = False  # holding a step permit for the current operation
        self.parked = False
        self._sending = False
        self._terminated = False
        if hasattr(signal, "SIGTERM") and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_sigterm)
        niceness = int(ctl.nice.value)
        if niceness and hasattr(os, "nice"):
            # a flat-out lesson must not starve the window that draws it
            os.nice(niceness)
        self.may_retire = False  # get() may raise Retired when asked to leave
        #: a measured lane is never slowed down for the viewer: its figure must be
        #: the queue's real speed (the view catches up afterwards)
        self.measuring = bool(ctl.lane_mode.value)
        deferred = ctl.lane_mode.value == 2
        #: records that make a batch, and the longest a record waits to be sent
        self.flush_n = MEASURED_FLUSH_EVENTS if deferred else FLUSH_EVENTS
        self.flush_every_ns = MEASURED_FLUSH_EVERY_NS if deferred else FLUSH_EVERY_NS
        self.exit_reason = "finished"
        self._stall_said = False

    # ------------------------------------------------------------ events
    def emit(
        self,
        kind: int,
        item: int = 0,
        queue: int = -1,
        value: Value = None,
        aux: int = 0,
        flags: int = 0,
    ) -> None:
        t = self.events.add(kind, item, queue, value, aux, flags)
        if t >= self.flush_at or len(self._pending) >= self.flush_n:
            self.flush()
            if t >= self.parent_at:
                self._check_parent(t)

    def _send(self) -> None:
        """Send what the buffer holds as one batch."""
        n = len(self.events)
        msg = self.events.take()
        self._sending = True
        try:
            self.conn.send_bytes(msg)
        except OSError:  # the controller closed its end or died
            raise StopRun("controller gone") from None
        finally:
            self._sending = False
        self.sent += n
        self.ctl.emitted[self.actor] = self.sent

    def _emitted(self, t: int) -> None:
        """After a hot path appended its record at time ``t``."""
        if t >= self.flush_at or len(self._pending) >= self.flush_n:
            self.flush()
            if t >= self.parent_at:
                self._check_parent(t)

    def adapter(self, q: Any, kind: str, qi: int) -> QueueAdapter:
        """This worker's handle on queue ``qi``; it notes where the items are
        (``FeederWatch``) if the run observes that queue."""
        watch = None
        if 0 <= qi < len(self.ctl.observed) and self.ctl.observed[qi]:
            watch = FeederWatch(q, qi, kind == "SimpleQueue")
            self._watches.append(watch)
        qa = QueueAdapter(q, kind, watch)
        qa.on_stall(partial(self._read_stalled, qi))
        return qa

    def _read_stalled(self, qi: int, got: int, size: int, first: bytes, stalled: float) -> None:
        """A get waits for the rest of an item (``qsim.engine.msgread``): say so
        once, and leave on stop: if its writer died, it never comes."""
        if stalled < 2 * STALL_SLICE_S:  # a new stall
            self._stall_said = False
        if not self._stall_said and stalled >= STALL_REPORT_S:
            self._stall_said = True
            self.emit(K.GET_STALLED, torn_item_id(first), qi, f"{got:,} of {size:,} bytes came")
            self.flush()
        self.check_stop()

    def wait_for_feeders(self) -> None:
        """Before it exits, a process waits for its queues' feeder threads to write
        what it put into the pipes (Python does so at exit): said, and watched."""
        left = sum(w.unwritten for w in self._watches)
        if not left:
            return
        what = "item" if left == 1 else "items"
        self.emit(K.JOIN_WAIT, 0, -1, f"{left} {what} still in its feeder buffer", EXIT_WAIT)
        self.flush()
        while any(w.unwritten for w in self._watches):
            self.check_stop()  # reports each write as it begins
            time.sleep(SLICE_S)
        self.emit(K.JOIN_DONE, 0, -1, "its feeder thread wrote everything", EXIT_WAIT)

    def _report_writes(self) -> None:
        """Pipe writes the watched queues' feeder threads noted, as events (sent
        a batch at a time: a busy feeder may have noted many since the last)."""
        add, events = self.events.add, self.events
        kind, vt = _FEEDER_WRITE, VT_INT
        for w in self._watches:
            stuck = w.stuck(STUCK_WRITE_NS)
            if stuck is not None and stuck[1] not in w.reported_stuck:
                w.reported_stuck.add(stuck[1])  # partly in the pipe since it began
                add(kind, stuck[1], w.qi, message_bytes(stuck[2]), 0, 0, stuck[0])
            times, items, sizes = w.take_written()
            if not times:
                continue
            told = w.reported_stuck
            if told and not told.isdisjoint(items):  # told already, when its write began
                keep = [k for k, item in enumerate(items) if item not in told]
                told.difference_update(items)
                times = [times[k] for k in keep]
                items = [items[k] for k in keep]
                sizes = [sizes[k] for k in keep]
            # what each takes in the pipe: its length prefix too (``message_bytes``)
            values = [n + 4 if n <= 0x7FFFFFFF else n + 12 for n in sizes]
            events.add_columns(times, items, values, w.qi, kind, vt)
            if len(events) >= self.flush_n:
                self._send()

    def flush(self) -> None:
        if self._watches:
            self._report_writes()
        if len(self.events):
            self._send()
            throttle = self.ctl.throttle_us.value
            if throttle and not self.measuring:  # the viewer is behind: let it catch up
                time.sleep(throttle / 1e6)
        self.flush_at = time.monotonic_ns() + self.flush_every_ns
        if self._terminated:
            raise StopRun("terminated")

    def _on_sigterm(self, signum: int, frame: object) -> None:
        """``terminate()`` from the controller (a worker that did not notice the
        stop flag, e.g. stuck reading a message its dead writer never finished).
        Leave through StopRun so the buffered events are still sent; never tear
        a batch that is half-way into the pipe."""
        if self._sending:
            self._terminated = True
            return
        raise StopRun("terminated")

    def maybe_flush(self) -> None:
        t = time.monotonic_ns()
        if (len(self.events) or self._watches) and t >= self.flush_at:
            self.flush()
        if t >= self.parent_at:
            self._check_parent(t)

    def _check_parent(self, t: int) -> None:
        self.parent_at = t + PARENT_CHECK_NS
        if self.parent is not None and not self.parent.is_alive():
            raise StopRun("parent died")

    def check_stop(self) -> None:
        if self.ctl.stop.value:
            raise StopRun("stop")
        self.maybe_flush()

    # ------------------------------------------------------------ time
    def draw(self, mean: float, distribution: str) -> float:
        if mean <= 0:
            return 0.0
        if distribution == "uniform":
            return self.rng.uniform(0.0, 2.0 * mean)
        if distribution == "exponential":
            return self.rng.expovariate(1.0 / mean)
        return mean

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of scenario time (scaled by speed, frozen while paused)."""
        remaining = seconds
        ctl = self.ctl
        while remaining > 0:
            self.check_stop()
            if ctl.paused.value and ctl.pending.value <= 0:
                self._park()  # frozen mid-work: say so, so a pause can be seen to hold
                time.sleep(SLICE_S)
                continue
            if self.parked:
                self._unpark()
            speed = ctl.speed.value
            chunk = min(SLICE_S, remaining / speed)
            time.sleep(chunk)
            remaining -= chunk * speed

    # ------------------------------------------------------------ pause gate
    def _turn(self) -> None:
        """Before a queue operation: wait while paused, unless a step permit is free."""
        ctl = self.ctl
        if not ctl.paused.value:
            if self.parked:
                self._unpark()
            return
        self._park()
        while True:
            self.check_stop()
            if not ctl.paused.value:
                self._unpark()
                return
            if ctl.permits.acquire(True, SLICE_S):
                if ctl.paused.value:
                    self.permit = True
                    return
                ctl.permits.release()  # resumed meanwhile: not a step

    def _park(self) -> None:
        if not self.parked:
            self.parked = True
            self.emit(K.PAUSED)
            self.flush()

    def _unpark(self) -> None:
        self.parked = False
        self.emit(K.RESUMED)

    def _done(self) -> None:
        if self.permit:
            self.permit = False
            with self.ctl.pending.get_lock():
                self.ctl.pending.value -= 1

    def _give_back(self) -> None:
        if self.permit:
            self.permit = False
            self.ctl.permits.release()
            time.sleep(SLICE_S)  # let a worker that can use the step take it

    # ------------------------------------------------------------ queue ops
    def _got_late(self, obj: Any, qi: int, qa: QueueAdapter, consumed: int) -> Any:
        """GET_DONE of an item got after waiting (see ``get``)."""
        ik = obj[0]
        flags = consumed if ik in (_DATA, _BATCH) else 0
        if flags & FLAG_TASK_DONE:
            qa.task_done()
        t = _now()
        self._append(
            (t, obj[1], len(obj[3]) if ik == _BATCH else 1, 0, qi, _GET_DONE, VT_INT | flags << 8)
        )
        if t >= self.flush_at or len(self._pending) >= self.flush_n:
            self._emitted(t)
        return obj

    def put(
        self,
        qa: QueueAdapter,
        qi: int,
        obj: tuple[Any, ...],
        count: int = 1,
        timeout: float = 0.0,
    ) -> bool:
        """Put ``obj`` (an item tuple); False if ``timeout`` ran out (queue.Full).

        A put that does not block is reported once, when done (PUT_DONE); one
        that blocks reports PUT_BLOCKED first, and flushes, so the GUI learns
        it before the worker goes quiet.
        """
        if self.parked or self._gate[0]:
            self._turn()
        room = qa.has_room
        if room is None or room():  # else surely full: no need to try (and raise)
            direct, order = qa.put_positional, qa.put_order
            try:
                if direct is None:
                    qa.put_nowait(obj)
                elif order is None:
                    direct(obj, False)
                else:  # watched: the feeder writes in this order
                    order.append(obj[1])
                    try:
                        direct(obj, False)
                    except BaseException:
                        order.pop()  # it never reached the buffer
                        raise
            except Full:
                pass
            else:
                t = _now()
                self._append((t, obj[1], count, obj[2], qi, _PUT_DONE, _COUNTED))
                if t >= self.flush_at or len(self._pending) >= self.flush_n:
                    self._emitted(t)
                if self.permit:
                    self._done()
                return True
        item = obj[1]
        self._give_back()
        t = _now()  # a flat-out lane into a full queue blocks on every put: records, no calls
        self._append((t, item, 0, obj[2], qi, _PUT_BLOCKED, VT_NONE))
        if t >= self.flush_at or len(self._pending) >= self.flush_n:
            self._emitted(t)
        deadline = time.monotonic() + timeout / self.ctl.speed.value if timeout > 0 else 0.0
        # most blocks of a flat-out lane end within microseconds: wait a moment
        # before paying for a flush (the event keeps its exact time)
        brief = min(BRIEF_S, timeout / self.ctl.speed.value) if timeout > 0 else BRIEF_S
        if not self.permit and not self._gate[0] and qa.put_wait(obj, brief):
            t = _now()
            self._append((t, item, count, obj[2], qi, _PUT_DONE, _COUNTED))
            if t >= self.flush_at or len(self._pending) >= self.flush_n:
                self._emitted(t)
            return True
        return self._put_waiting(qa, qi, obj, count, timeout, deadline)

    def _put_waiting(
        self,
        qa: QueueAdapter,
        qi: int,
        obj: tuple[Any, ...],
        count: int,
        timeout: float,
        deadline: float,
    ) -> bool:
        """The rest of a blocked put (PUT_BLOCKED said) that a brief wait did not end."""
        item = obj[1]
        self.flush()  # the GUI must learn we block before we go quiet
        while True:
            self.check_stop()
            self._turn()
            wait = SLICE_S
            if deadline:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._give_back()
                    self.emit(K.PUT_TIMEOUT, item, qi, round(timeout * 1000))  # ms
                    return False
                wait = min(wait, left)
            ok = qa.try_put(obj) if self.permit else qa.put_wait(obj, wait)
            if ok:
                self.emit(K.PUT_DONE, item, qi, count, obj[2])
                self._done()
                return True
            self._give_back()

    def get(
        self, qa: QueueAdapter, qi: int, timeout: float = 0.0, consumed: int = 0
    ) -> tuple[bool, Any]:
        """Get an item tuple; ``(False, None)`` if ``timeout`` ran out (queue.Empty).

        ``consumed``: ``wire.FLAG_*`` bits for a data item the caller uses up at
        once (no work, nothing to pass on): FLAG_CONSUMED (no WORK_END follows),
        with FLAG_TASK_DONE if ``task_done()`` is to be called for it at once
        (done here, before the one GET_DONE that says all of it).
        """
        if self.parked or self._gate[0]:
            self._turn()
        obj = qa.get_nowait()
        if obj is not EMPTY:
            ik = obj[0]
            if consumed and ik in (_DATA, _BATCH):
                if consumed & FLAG_TASK_DONE:
                    qa.task_done()
                vf = VT_INT | consumed << 8
            else:
                vf = _COUNTED
            t = _now()
            self._append((t, obj[1], len(obj[3]) if ik == _BATCH else 1, 0, qi, _GET_DONE, vf))
            if t >= self.flush_at or len(self._pending) >= self.flush_n:
                self._emitted(t)
            if self.permit:
                self._done()
            return True, obj
        self._give_back()
        t = _now()
        self._append((t, 0, 0, 0, qi, _GET_WAITING, VT_NONE))
        if t >= self.flush_at or len(self._pending) >= self.flush_n:
            self._emitted(t)
        deadline = time.monotonic() + timeout / self.ctl.speed.value if timeout > 0 else 0.0
        brief = min(BRIEF_S, timeout / self.ctl.speed.value) if timeout > 0 else BRIEF_S
        if not self.permit and not self._gate[0] and not self.ctl.retire[self.actor]:
            ok, obj = qa.get_wait(brief)
            if ok:
                return True, self._got_late(obj, qi, qa, consumed)
        self.flush()  # the GUI must learn we wait before we go quiet
        while True:
            self.check_stop()
            self._turn()
            if self.may_retire and self.ctl.retire[self.actor]:
                self._give_back()
                raise Retired
            wait = SLICE_S
            if deadline:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._give_back()
                    self.emit(K.GET_TIMEOUT, 0, qi, round(timeout * 1000))  # ms
                    return False, None
                wait = min(wait, left)
            ok, obj = qa.try_get() if self.permit else qa.get_wait(wait)
            if ok:
                self._got_late(obj, qi, qa, consumed)
                self._done()
                return True, obj
            self._give_back()
