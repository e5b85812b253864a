"""The agent in one process: its connection, event buffer, pause gate and exit.

One ``Agent`` per process of the traced program. It connects to the
controller (a Unix socket, authenticated with the run's key), learns its actor
index, and sends ``EventBuffer`` batches, the same binary format as scenario
workers: at most every 10 ms or 256 events, always before it may block, and
when the process ends. A control thread per process flushes what has waited
too long, samples the line the main thread is on, and ends the process when
the controller is gone (its socket reads EOF): no orphans.

Threads of the program may put and get at once (and a queue's feeder thread
exists), so the buffer is guarded by one lock (uncontended: ~0.1 us).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import sys
import threading
import time
import weakref
from multiprocessing.connection import Client, Connection
from typing import Any

from qsim.agent import protocol as P
from qsim.agent import where
from qsim.agent.control import ControlBlock, Registry
from qsim.agent.ending import Ending
from qsim.agent.lines import LineTracker
from qsim.agent.pipes import pipe_capacity, unread_bytes
from qsim.model.events import EventKind as K
from qsim.model.events import Value
from qsim.model.wire import VT_INT, VT_STR, EventBuffer

FLUSH_EVERY_NS = 10_000_000
#: a batch is sent when it is 10 ms old or this big. Bigger than a scenario
#: worker's 256: on a 2-core machine each send wakes the controller, and for a
#: flat-out program those wake-ups, not the bytes, were most of what tracing
#: cost (bench trace: ratio 0.53 with 256, 0.74 with 2048). The 10 ms bound
#: on latency is the same.
FLUSH_EVENTS = 4096
SLICE_S = 0.02  # longest a patched call waits before it looks at pause/stop again
SAMPLE_S = 0.05  # the control thread's beat: late flushes, line samples, EOF
#: a feeder write still going after this long is reported as begun (the pipe is full)
STUCK_WRITE_NS = 20_000_000
SEND_BUFFER = 4 << 20  # bytes asked for (the kernel may give less: net.core.wmem_max)
_now = time.monotonic_ns
_sleep = time.sleep  # the real one: the agent's own waits are never scaled


class Agent(Ending):
    def __init__(self, cfg: dict[str, str], user_dir: str) -> None:
        self.cfg = cfg
        self.user_dir = user_dir
        where.set_user_dir(user_dir)
        self.ctl = ControlBlock(cfg["dir"])
        self.registry = Registry(cfg["dir"])
        self.gate = self.ctl.mm  # gate[0]: paused (the hot path reads this byte)
        #: follow items through each Queue's feeder buffer and pipe (FEEDER_WRITE)
        self.internals = cfg.get("internals") == "1"
        self.lock = threading.Lock()
        self.lines = LineTracker()  # every line, while the window asks (see lines)
        self._reset(parent=-1)
        self.is_main = False
        os.register_at_fork(
            before=self._before_fork,
            after_in_parent=self._after_fork_parent,
            after_in_child=self._after_fork_child,
        )

    def _reset(self, parent: int) -> None:
        self.buf = EventBuffer(-1)
        self.actor = -1
        self.parent = parent
        self.conn: Connection | None = None
        self.name = ""
        self.sent = 0
        self.flush_at = 0
        self.item_base = 0
        self.items = itertools.count(1)  # next() is atomic under the GIL
        self.parked = False
        self.permit = False
        self.line: tuple[str, int] | None = None
        self.started_t = _now()
        self.finished = False
        self.sending = 0  # see Ending
        self.term_pending = 0
        self.holding = False
        self.thread: threading.Thread | None = None
        #: feeder writes in progress (began, item, bytes, queue) by queue
        self.writing: dict[int, tuple[int, int, int, int]] = {}
        self.stuck_reported: set[int] = set()
        self.child_orphaned = False
        #: watched queues made here: queue -> (its reader, pipe size, last unread count)
        self.pipes: dict[int, tuple[weakref.ref[Any], int, int]] = {}

    # ------------------------------------------------------------ connect
    def connect(self, name: str, parent: int, internal: bool = False) -> None:
        """Become an actor: announce the process (first event of this actor)."""
        if self.conn is not None:
            return
        conn = Client(
            self.cfg["address"], family="AF_UNIX", authkey=bytes.fromhex(self.cfg["key"])
        )
        (actor,) = P.HELLO.unpack(conn.recv_bytes())
        _widen(conn)
        with self.lock:
            self.conn, self.actor, self.name, self.parent = conn, actor, name, parent
            self.buf.actor = actor
            self.item_base = actor << 32
            strings = self.buf.strings
            flags = P.FLAG_INTERNAL if internal else 0
            # first of this actor's records, at the earliest time: the reducer
            # must know the actor before anything it did
            rec = (self.started_t, os.getpid(), len(strings), parent, -1)
            self.buf.pending.insert(0, (*rec, int(K.PROCESS_STARTED), VT_STR | flags << 8))
            strings.append(name)
            self._flush_locked()
        if self.ctl.lines:  # connect() runs in the process's main thread
            self.lines.want(True)
        self.thread = threading.Thread(target=self._control, name="qsim-agent", daemon=True)
        self.thread.start()

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
        with self.lock:
            t = self.buf.add(kind, item, queue, value, aux, flags)
            if t >= self.flush_at or len(self.buf.pending) >= FLUSH_EVENTS:
                self._flush_locked()

    def flush(self) -> None:
        with self.lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        lines = self.lines
        if lines.wanted != lines.on:
            lines.apply()  # settrace: only the main thread can switch itself
        if lines.on:  # the line it is on goes with the batch (never an event per line)
            ln = lines.current
            if ln is not None:
                self._add_line(ln)
        n = len(self.buf.pending)
        self.flush_at = _now() + FLUSH_EVERY_NS
        if not n or self.conn is None:
            return
        msg = self.buf.take()
        # counted first: a process killed after its send must not leave its
        # events uncounted (killed during the send, the torn batch is a loss)
        self.ctl.set_emitted(self.actor, self.sent + n)
        self.sending = threading.get_ident()
        try:
            self.conn.send_bytes(msg)
        except OSError:  # the controller is gone: nobody to report to, nobody to stop us
            self._controller_gone()
        finally:
            self.sending = 0
        self.sent += n
        if self.term_pending:  # a SIGTERM during the send: now it is answered
            self._terminated(self.term_pending)
        throttle = self.ctl.throttle_us()
        if throttle and not self.finished:  # the window is behind: let it catch up
            # not holding the lock: a SIGTERM meanwhile (a Pool's terminate())
            # must still be able to say goodbye
            self.lock.release()
            try:
                _sleep(throttle / 1e6)
            finally:
                self.lock.acquire()

    def where(self, depth: int = 2) -> None:
        """Report the user's line this call came from, if it changed (before blocking)."""
        ln = where.current_line(depth)
        if ln is not None:
            with self.lock:
                self._note_line(ln)

    def _note_line(self, ln: tuple[str, int]) -> None:
        """With the lock held: a LINE event if ``ln`` is not the last one said.
        The check and the event are one step: the control thread's sample and
        the main thread's own line must not cross (a sample of the line before
        ``p.join()``, said after the join's own line, stayed the last word)."""
        t = self._add_line(ln)
        if t and (t >= self.flush_at or len(self.buf.pending) >= FLUSH_EVENTS):
            self._flush_locked()

    def _add_line(self, ln: tuple[str, int]) -> int:
        """With the lock held: the LINE event's time, or 0 if ``ln`` was said last."""
        if ln == self.line:
            return 0
        self.line = ln
        return self.buf.add(K.LINE, 0, -1, ln[0], ln[1])

    def at_end_of_target(self) -> None:
        """The process ran off the end of its target and waits there (at exit):
        its line is the target's last line."""
        from multiprocessing import current_process

        code = getattr(getattr(current_process(), "_target", None), "__code__", None)
        if code is None or not where.is_user(code):
            return
        last = max((ln for _, _, ln in code.co_lines() if ln is not None), default=0)
        if last:
            with self.lock:
                self._note_line((code.co_filename, last))

    # ------------------------------------------------------------ gate
    def turn(self) -> None:
        """Before a queue operation: wait while paused, unless a step permit is free."""
        if self.term_pending:
            self.hold()
        gate, ctl = self.gate, self.ctl
        if not gate[P.PAUSED]:
            if self.parked:
                self.unpark()
            return
        self.check_stop()
        self.park(3)
        while True:
            self.check_stop()
            self.lines.apply()
            if not gate[P.PAUSED]:
                self.unpark()
                return
            if ctl.take_permit():
                if gate[P.PAUSED]:
                    self.permit = True
                    return
                ctl.give_back()  # resumed meanwhile: not a step
            _sleep(SLICE_S)

    def park(self, depth: int = 2) -> None:
        if not self.parked:
            self.parked = True
            self.where(depth + 1)
            self.emit(K.PAUSED)
            self.flush()

    def unpark(self) -> None:
        self.parked = False
        self.emit(K.RESUMED)

    def done(self) -> None:
        """The operation a step permit was taken for has completed."""
        if self.permit:
            self.permit = False
            self.ctl.step_used()

    def give_back(self) -> None:
        if self.permit:
            self.permit = False
            self.ctl.give_back()
            _sleep(SLICE_S)  # let a process that can use the step take it

    def check_stop(self) -> None:
        if self.term_pending:
            self.hold()
        if self.gate[P.STOP]:
            self.exit_now("stop", 0)

    def deadline(self, timeout: float | None) -> float:
        """A program's timeout in real seconds (scaled by speed, like its sleeps)."""
        if timeout is None:
            return 0.0
        return time.monotonic() + max(0.0, timeout) / self.ctl.speed

    def sleep(self, seconds: float) -> None:
        """``time.sleep`` of the program: scaled by speed, frozen while paused."""
        remaining = float(seconds)
        gate, ctl = self.gate, self.ctl
        while remaining > 0:
            self.check_stop()
            self.lines.apply()
            if gate[P.PAUSED] and ctl.pending() <= 0:
                self.park(3)
                _sleep(SLICE_S)
                continue
            if self.parked:
                self.unpark()
            chunk = min(SLICE_S, remaining / ctl.speed)
            _sleep(chunk)
            remaining -= chunk * ctl.speed

    # ------------------------------------------------------------ control thread
    def _control(self) -> None:
        conn = self.conn
        assert conn is not None
        main = threading.main_thread().ident
        while True:
            try:
                if conn.poll(SAMPLE_S):
                    conn.recv_bytes()  # nothing is sent after the hello: this is EOF
            except (EOFError, OSError):
                self._controller_gone()
                return
            if self.gate[P.STOP]:
                self.exit_now("stop", 0)
            if self.writing:
                self.report_stuck_writes()
            if self.pipes:
                self.sample_pipes()
            wanted = bool(self.gate[P.LINES])
            if wanted != self.lines.wanted:
                self.lines.want(wanted)
            if self.buf.pending and _now() >= self.flush_at:
                self.flush()
            with self.lock:  # sampled and said in one step (see _note_line)
                if self.lines.on:
                    ln = self.lines.current
                else:  # a sample: what the main thread runs now
                    ln = where.line_of(sys._current_frames().get(main or 0))
                if ln is not None:
                    self._note_line(ln)

    def report_stuck_writes(self) -> None:
        """A feeder write still waiting for room in the pipe (nobody reads it):
        the item is partly in the pipe, reported so from when its write began."""
        now = _now()
        with self.lock:
            for began, item, size, qi in list(self.writing.values()):
                if now - began > STUCK_WRITE_NS and item not in self.stuck_reported:
                    self.stuck_reported.add(item)
                    rec = (began, item, size, 0, qi, int(K.FEEDER_WRITE), VT_INT)
                    self.buf.pending.append(rec)

    def probe_pipe(self, qi: int, reader: Any) -> None:
        """Sample how many bytes wait unread in this queue's pipe (the process
        that made a queue samples it; the count belongs to the pipe)."""
        try:
            fd = reader.fileno()
        except (OSError, ValueError, AttributeError):
            return
        self.pipes[qi] = (weakref.ref(reader), pipe_capacity(fd), -1)

    def sample_pipes(self) -> None:
        """``PIPE_SAMPLE`` for each watched pipe whose unread count changed (a
        pipe whose queue is gone is forgotten)."""
        for qi, (ref, capacity, last) in list(self.pipes.items()):
            reader = ref()
            try:
                n = None if reader is None or reader.closed else unread_bytes(reader.fileno())
            except (OSError, ValueError):
                n = None
            if n is None:
                del self.pipes[qi]
            elif n != last:
                self.pipes[qi] = (ref, capacity, n)
                self.emit(K.PIPE_SAMPLE, 0, qi, n, capacity)

    # ------------------------------------------------------------ fork
    def _before_fork(self) -> None:
        self.flush()  # what happened before the fork is the parent's, and sent first
        self.lock.acquire()

    def _after_fork_parent(self) -> None:
        self.lock.release()

    def _after_fork_child(self) -> None:
        parent = self.actor
        if self.conn is not None:
            self.conn.close()  # our copy only: the parent keeps its connection
        self.lock = threading.Lock()
        self.ctl.after_fork()
        self.registry.after_fork()
        self.lines.after_fork()
        self.is_main = False
        self._reset(parent)


def _widen(conn: Connection) -> None:
    """A send buffer that absorbs bursts: on a busy machine the controller's
    reader may not run for a while, and a full buffer would stall the program."""
    with contextlib.suppress(OSError):
        s = socket.socket(fileno=os.dup(conn.fileno()))
        with s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)


AGENT: Agent | None = None
