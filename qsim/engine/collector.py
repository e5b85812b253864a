"""The one bridge from worker processes to the GUI (or the headless CLI).

Each worker has its own pipe; a reader thread waits on all of them at once,
decodes each batch of binary records in bulk (``qsim.model.records``) and
keeps the events in a deque that the consumer drains at its own pace (the GUI
once per frame, with a time budget). No shared lock between workers: a worker
killed mid-write cannot stall the others' reports, and an event is in the pipe
as soon as ``send_bytes`` returns (no feeder thread to lose it).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection, Pipe, wait

import numpy as np

from qsim.engine.lifeline import close_controller_end, controller_only
from qsim.model.events import Event
from qsim.model.records import StringTable, decode, from_events, to_events
from qsim.model.wire import count_records

EofCallback = Callable[[int], None]
RecordsCallback = Callable[[np.ndarray], None]
DEFER_MAX_BYTES = 256 << 20  # beyond this a measured lane's batches are decoded at once
RELEASE_CHUNK = 4096  # released records go out in batches of this many


class Collector:
    """Reads event batches from worker pipes on a background thread."""

    def __init__(
        self,
        on_eof: EofCallback | None = None,
        on_records: RecordsCallback | None = None,
        actor_from_conn: bool = False,
    ) -> None:
        """``on_records`` sees every decoded batch, on the reader thread (a recorder).

        ``actor_from_conn``: the actor of a batch is the one its connection was
        added with, whatever its header says (a traced program's processes are
        not ours: the controller numbers them per connection).
        """
        self._actor_from_conn = actor_from_conn
        self._conns: dict[Connection, int] = {}
        self.strings = StringTable()
        self._on_records = on_records
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = Pipe(duplex=False)
        controller_only(self._wake_r, self._wake_w)
        #: decoded batches, kept as records (40 bytes an event) until drained
        self._batches: deque[np.ndarray] = deque()
        self._arrived = threading.Condition()
        self._on_eof = on_eof
        self._stopping = False
        self.received = 0
        #: measured lanes: actors whose batches are kept undecoded until released
        #: (``defer``/``release``), so this process does no work while they measure
        self._deferred: dict[int, list[bytes]] = {}
        self._deferred_bytes = 0
        #: events this process made about a deferred actor's lane (its queue's
        #: pipe samples), kept with its batches: shown only with them
        self._deferred_made: dict[int, list[np.ndarray]] = {}
        #: held by ``release`` until the records it frees are waiting: an event
        #: made meanwhile for the lane comes after them, not before
        self._releasing = threading.Lock()
        #: when the last batch arrived (monotonic ns; 0: none yet), kept back or not
        self.last_arrival_ns = 0
        #: ``release``'s callbacks: waiting for its records to be drained, then
        #: for the drainer to have taken them in (its next drain)
        self._when_drained: list[Callable[[], None]] = []
        self._drained: list[Callable[[], None]] = []
        #: process sentinels watched beside the pipes: sentinel -> called once it ends
        self._ends: dict[int, Callable[[], None]] = {}
        self._thread = threading.Thread(target=self._loop, name="qsim-collector", daemon=True)
        self._thread.start()

    def add(self, conn: Connection, actor: int) -> None:
        # a forked worker must not hold a read end: with no reader left, a
        # write into its event pipe fails instead of blocking forever
        controller_only(conn)
        with self._lock:
            self._conns[conn] = actor
        self._wake_w.send_bytes(b"+")

    def watch_process(self, sentinel: int, on_end: Callable[[], None]) -> None:
        """Call ``on_end`` (on the reader thread) when the process whose
        ``sentinel`` this is ends: a process that sends no events (the manager)."""
        with self._lock:
            self._ends[sentinel] = on_end
        self._wake_w.send_bytes(b"+")

    @property
    def open_count(self) -> int:
        with self._lock:
            return len(self._conns)

    def inject(self, events: list[Event], keep_with: int = -1) -> None:
        """Events made in this process (a crash seen by the controller, a hang).

        ``keep_with``: an actor whose lane they tell about; while its batches are
        kept back (``defer``), these are kept with them, so that the display
        does not move past the lane's first events before they are released.
        """
        self.last_arrival_ns = time.monotonic_ns()
        records = from_events(events, self.strings)
        if keep_with >= 0:
            with self._releasing, self._lock:
                if keep_with in self._deferred:
                    self._deferred_made.setdefault(keep_with, []).append(records)
                    return
        if self._on_records is not None:
            self._on_records(records)
        self._batches.append(records)
        with self._arrived:
            self._arrived.notify_all()

    def drain_records(self, max_events: int = 0) -> list[np.ndarray]:
        """Waiting batches as records, oldest first (about ``max_events``; 0: all)."""
        self._call_drained()
        out: list[np.ndarray] = []
        pop = self._batches.popleft
        n = 0
        try:
            while not max_events or n < max_events:
                out.append(pop())
                n += len(out[-1])
        except IndexError:
            pass
        if not self._batches and self._when_drained:
            self._all_drained()
        return out

    def _call_drained(self) -> None:
        """The drainer is back for more: what it took before has been taken in."""
        if self._drained:
            with self._lock:
                callbacks, self._drained = self._drained, []
            for callback in callbacks:
                callback()

    def _all_drained(self) -> None:
        """Nothing waits: ``release``'s callbacks are called at the next drain,
        once the drainer has applied what it took (a measured lane's replay
        must not take a core from the next lane while it measures)."""
        with self._lock:
            self._drained += self._when_drained
            self._when_drained = []

    # ------------------------------------------------------------ measured lanes
    def defer(self, actors: list[int]) -> None:
        """Keep these actors' batches as received bytes, decoding nothing, until
        ``release``: while a lane measures its speed, this process must not
        take a core from it (DEFER_MAX_BYTES caps what is kept)."""
        with self._lock:
            for a in actors:
                self._deferred.setdefault(a, [])

    def release(self, actors: list[int], then: Callable[[], None] | None = None) -> None:
        """Decode what ``defer`` kept of these actors, in time order, for draining;
        ``then`` is called once everything waiting has been drained and taken
        in (at the drain after the one that emptied the collector)."""
        with self._releasing:
            with self._lock:
                kept = [m for a in actors for m in self._deferred.pop(a, [])]
                self._deferred_bytes -= sum(len(m) for m in kept)
                made = [r for a in actors for r in self._deferred_made.pop(a, [])]
            parts = [decode(m, self.strings) for m in kept] + made
            if parts:
                records = np.concatenate(parts)
                records = records[np.argsort(records["t"], kind="stable")]
                for k in range(0, len(records), RELEASE_CHUNK):
                    self._keep(records[k : k + RELEASE_CHUNK])
            if then is not None:  # only now: its records are all waiting
                with self._lock:
                    self._when_drained.append(then)
                if not self._batches:  # drained already (a drain may arm it too)
                    self._all_drained()

    @property
    def deferring(self) -> bool:
        """Batches of a measuring lane are being kept back (see ``defer``)."""
        return self._deferred_bytes > 0

    def _hold(self, c: Connection, msg: bytes) -> bool:
        """Keep ``msg`` undecoded if its actor is deferred (and there is room)."""
        with self._lock:
            kept = self._deferred.get(self._conns.get(c, -1))
            if kept is None or self._deferred_bytes >= DEFER_MAX_BYTES:
                return False
            kept.append(msg)
            self._deferred_bytes += len(msg)
        self.received += count_records(msg)
        return True

    def _keep(self, records: np.ndarray) -> None:
        if self._on_records is not None:
            self._on_records(records)
        self._batches.append(records)
        with self._arrived:
            self._arrived.notify_all()

    def drain(self, max_events: int = 0) -> list[list[Event]]:
        """Waiting batches as ``Event`` tuples (see ``drain_records``)."""
        return [to_events(b, self.strings) for b in self.drain_records(max_events)]

    def peek_time(self) -> int | None:
        """Time of the first event waiting to be drained (None: nothing waits).
        Asked before a drain: it counts as the drainer being back for more."""
        self._call_drained()
        try:
            first = self._batches[0]
        except IndexError:
            return None
        return int(first["t"][0]) if len(first) else 0

    def pending(self) -> int:
        """Batches waiting to be drained."""
        return len(self._batches)

    def wait_for_data(self, timeout: float) -> bool:
        """Block (not in the GUI!) until a batch is waiting or ``timeout`` passes."""
        with self._arrived:
            if self._batches:
                return True
            return self._arrived.wait_for(lambda: bool(self._batches), timeout)

    def wait_all_closed(self, timeout: float) -> bool:
        with self._arrived:
            return self._arrived.wait_for(lambda: not self._conns, timeout)

    def _loop(self) -> None:
        while not self._stopping:
            with self._lock:
                conns = list(self._conns)
                ends = list(self._ends)
            ready = wait([*conns, *ends, self._wake_r], timeout=0.5)
            for c in ready:
                if isinstance(c, int):
                    with self._lock:
                        on_end = self._ends.pop(c, None)
                    if on_end is not None:
                        on_end()
                    continue
                if c is self._wake_r:
                    try:
                        self._wake_r.recv_bytes()
                    except (EOFError, OSError):
                        return
                    continue
                assert isinstance(c, Connection)
                try:
                    msg = c.recv_bytes()
                    self.last_arrival_ns = time.monotonic_ns()
                    if self._deferred and self._hold(c, msg):
                        continue
                    records = decode(msg, self.strings)
                except (EOFError, OSError, ValueError):
                    # closed, or torn by a worker killed in the middle of a send
                    self._close(c)
                    continue
                if self._actor_from_conn:
                    records["actor"] = self._conns.get(c, -1)
                self.received += len(records)
                self._keep(records)

    def _close(self, c: Connection) -> None:
        # the callback first (it may report a crash), and only then is the pipe
        # no longer counted open: "every pipe closed" must imply "all reported"
        actor = self._conns.get(c, -1)
        if self._on_eof is not None and actor >= 0:
            self._on_eof(actor)
        with self._lock:
            self._conns.pop(c, None)
        close_controller_end(c)
        with self._arrived:
            self._arrived.notify_all()

    def close(self) -> None:
        self._stopping = True
        with contextlib.suppress(OSError):
            self._wake_w.send_bytes(b"x")
        self._thread.join(2.0)
        with self._lock:
            for c in self._conns:
                close_controller_end(c)
            self._conns.clear()
            self._ends.clear()
        close_controller_end(self._wake_r)
        close_controller_end(self._wake_w)
        # no way back to the run any more: it is freed as soon as it is dropped
        # (its processes' pipes with it), not at the next garbage collection
        self._on_eof = None
