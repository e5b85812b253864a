"""Real queues, one factory per kind, and a uniform way for workers to use them.

Kinds:

* ``Queue``, ``JoinableQueue``, ``SimpleQueue``: ``multiprocessing``'s own.
* ``ManagerQueue``: a ``queue.Queue`` served by a manager process, what
  ``Manager().Queue()`` gives (every call is a round trip to the server).
* ``PriorityQueue``: a ``queue.PriorityQueue`` served the same way. The
  tutorial's ``Manager().list()`` + ``heapq`` does not work (``heappush`` on a
  ``ListProxy`` raises ``TypeError``); a registered ``PriorityQueue`` does.

The manager runs in our own server process (``serve_manager``) so that it,
too, exits when the process that started it dies.
"""

from __future__ import annotations

import os
import queue as stdqueue
import select
import threading
import time
from collections.abc import Callable
from functools import partial
from multiprocessing import current_process
from multiprocessing.connection import Connection, Pipe
from multiprocessing.context import BaseContext
from multiprocessing.managers import BaseManager
from multiprocessing.process import BaseProcess, parent_process
from multiprocessing.reduction import ForkingPickler
from typing import Any

from qsim.engine.feeder import FeederWatch
from qsim.engine.lifeline import watch
from qsim.engine.msgread import MessageReader, StallCallback
from qsim.model.scenario import QueueSpec

_loads = ForkingPickler.loads
Full = stdqueue.Full
Empty = stdqueue.Empty


class QsimManager(BaseManager):
    """Serves plain ``queue`` objects to every process of a run."""


QsimManager.register("Queue", stdqueue.Queue)
QsimManager.register("PriorityQueue", stdqueue.PriorityQueue)


def serve_manager(
    address_out: Connection, life_line: tuple[Connection | None, int] = (None, 0)
) -> None:
    """Target of the manager process: serve queues until told, or orphaned."""
    watch(*life_line, what="qsim-manager-life-line")
    mgr = QsimManager(authkey=bytes(current_process().authkey))
    server = mgr.get_server()
    address_out.send(server.address)
    address_out.close()
    parent = parent_process()

    def watch_parent() -> None:
        while parent is None or parent.is_alive():
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch_parent, daemon=True).start()
    server.serve_forever()


def start_manager(
    ctx: Any,
    stopping: Callable[[], bool],
    life_line: tuple[Connection | None, int] = (None, 0),
    timeout: float = 30.0,
) -> tuple[BaseProcess, QsimManager] | None:
    """Start our manager process and connect to it; None if ``stopping()`` said so first.

    ``life_line``: the run's and its owner's pid (``qsim.engine.lifeline``): the
    server ends with the run.
    """
    r, w = Pipe(duplex=False)
    p = ctx.Process(target=serve_manager, args=(w, life_line), name="qsim-manager", daemon=True)
    p.start()
    w.close()
    deadline = time.monotonic() + timeout
    while not r.poll(0.1):
        if stopping() or time.monotonic() > deadline:
            p.kill()
            p.join(2)
            r.close()
            if stopping():
                return None
            raise RuntimeError(f"the queue manager process did not start within {timeout:g} s")
    address = r.recv()
    r.close()
    mgr = QsimManager(address=address, authkey=bytes(current_process().authkey))
    mgr.connect()
    return p, mgr


def needs_manager(kind: str) -> bool:
    return kind in ("ManagerQueue", "PriorityQueue")


def make_queue(ctx: BaseContext, spec: QueueSpec, manager: QsimManager | None) -> Any:
    """Create the real queue for ``spec`` (a manager is needed for proxy kinds)."""
    if spec.kind == "Queue":
        return ctx.Queue(spec.maxsize)
    if spec.kind == "JoinableQueue":
        return ctx.JoinableQueue(spec.maxsize)
    if spec.kind == "SimpleQueue":
        return ctx.SimpleQueue()
    if manager is None:
        raise ValueError(f"queue {spec.id}: {spec.kind} needs a manager process")
    if spec.kind == "ManagerQueue":
        return manager.Queue(spec.maxsize)  # type: ignore[attr-defined]
    if spec.kind == "PriorityQueue":
        return manager.PriorityQueue(spec.maxsize)  # type: ignore[attr-defined]
    raise ValueError(f"queue {spec.id}: unknown kind {spec.kind}")


def _nothing() -> None:
    pass


def _put_blocking(q: Any, obj: Any, timeout: float) -> None:
    q.put(obj, True, timeout)


try:  # what a Queue(maxsize=0) is bounded by
    import multiprocessing.synchronize as _sync

    SEM_VALUE_MAX: int = getattr(_sync, "SEM_VALUE_MAX", 2**31 - 1)
except ImportError:  # pragma: no cover - a platform without sem_open
    SEM_VALUE_MAX = 2**31 - 1

#: what ``QueueAdapter.get_nowait`` returns for an empty queue
EMPTY: Any = object()


def _room_check(q: Any) -> Callable[[], int] | None:
    """A cheap "is a slot free?" for a ``Queue``: its semaphore's value, where the
    platform can read it (not on macOS); None elsewhere."""
    if getattr(q, "_maxsize", 0) >= SEM_VALUE_MAX:  # unbounded: always room
        return None
    semlock = getattr(getattr(q, "_sem", None), "_semlock", None)
    get_value = getattr(semlock, "_get_value", None)
    if get_value is None:
        return None
    try:
        get_value()
    except (NotImplementedError, OSError):
        return None
    return get_value  # a free slot: a value above 0


class QueueAdapter:
    """Non-blocking and bounded-wait put/get over any kind, as workers need them.

    Workers never make an unbounded blocking call: they try without blocking,
    report that they are blocked, then wait in slices so that they still see
    stop, pause and a dead parent.
    """

    def __init__(self, q: Any, kind: str, watch: FeederWatch | None = None) -> None:
        """``watch``: note where this queue's items are (see ``qsim.engine.feeder``)."""
        self.q = q
        self.kind = kind
        self.watch = watch
        self.priority = kind == "PriorityQueue"
        self.simple = kind == "SimpleQueue"
        self._poller: Any = None
        self.reader: MessageReader | None = None
        if kind in ("Queue", "JoinableQueue", "SimpleQueue") and hasattr(select, "poll"):
            # Queue.get_nowait() polls through connection.wait(), which builds a
            # selector per call: that alone halves a flat-out consumer. One
            # poll object registered once answers the same question.
            self._poller = select.poll()
            self._poller.register(q._reader.fileno(), select.POLLIN)
            # (the read end stays blocking: a lesson's own code may call the
            # queue's get_nowait(), which polls, then reads the whole message)
            # reads a message as recv_bytes does, but notices (and survives) a
            # writer killed half-way through one: see msgread
            self.reader = MessageReader(q._reader)
            # bound once: this is the hot path of every flat-out consumer
            self._acquire, self._release = q._rlock.acquire, q._rlock.release
            self._poll, self._recv = self._poller.poll, self.reader.read
            self._recv_nowait = self.reader.read_nowait
            # a Queue's get() frees a slot of its maxsize; a SimpleQueue has none
            self._free_slot = q._sem.release if not self.simple else _nothing
        #: the hot paths, without blocking and with as few Python frames as
        #: possible: put or raise ``Full``; get, or ``EMPTY`` (no exception: an
        #: empty queue is the common case of a waiting consumer)
        self.put_nowait: Callable[[tuple[Any, ...]], None] = self._put_nowait_any
        self.get_nowait: Callable[[], Any] = self._get_nowait_any
        #: 0 (falsy) when a put would surely block now (no free slot), without
        #: raising ``Full`` to find out; None for kinds that cannot tell cheaply
        self.has_room: Callable[[], int] | None = None
        if self.simple:
            self.put_nowait = q.put  # unbounded: never Full (may wait on a full pipe)
        elif not self.priority:
            self.put_nowait = partial(q.put, block=False)
            self.has_room = _room_check(q)
        if self._poller is not None:
            self.get_nowait = self._get_nowait_polled
        self._put_blocking: Callable[[Any, float], None] = self._put_blocking_any
        #: ``q.put`` itself where ``put_nowait(obj)`` is ``q.put(obj, False)``: a
        #: flat-out producer calls it so (a partial with a keyword costs a
        #: tenth of a microsecond more, on the thread its feeder waits for)
        self.put_positional: Callable[..., None] | None = None
        #: for a watched queue, where ``put_positional``'s caller notes the item
        #: id before the put (``FeederWatch.order``: the feeder writes in put order)
        self.put_order: list[int] | None = None
        if kind in ("Queue", "JoinableQueue"):
            self.put_positional = q.put
        if watch is not None and kind in ("Queue", "JoinableQueue"):
            self.put_order = watch.order
            self.put_nowait = watch.wrap_put(self.put_nowait)
            self._put_blocking = watch.wrap_put(partial(_put_blocking, q))
        elif watch is not None and self.simple:
            # its own put, which takes (and ignores) block and timeout: called
            # directly by a flat-out producer's runs too (``flat_puts``)
            self.put_nowait = self._put_blocking = self.put_positional = watch.simple_put

    def _put_blocking_any(self, obj: Any, timeout: float) -> None:
        if self.simple:
            self.q.put(obj)
        else:
            self.q.put(self._wrap(obj), True, timeout)

    def _put_nowait_any(self, obj: tuple[Any, ...]) -> None:
        self.q.put_nowait(self._wrap(obj))

    def _get_nowait_any(self) -> Any:
        ok, obj = self.get_wait(0.0)
        return obj if ok else EMPTY

    def _get_nowait_polled(self) -> Any:
        # multiprocessing.Queue.get(block=False), asking the pipe without a poll
        if not self._acquire(False):
            return EMPTY  # another consumer is reading right now
        try:
            res = self._recv_nowait()
            if res is None:
                return EMPTY
            self._free_slot()
        finally:
            self._release()
        return _loads(res)

    def _get_polled(self, timeout: float) -> tuple[bool, Any]:
        # multiprocessing.Queue.get(True, timeout), with the cheaper poll
        deadline = time.monotonic() + timeout
        if not self._acquire(True, timeout):
            return False, None
        try:
            res = self._recv_nowait()
            if res is None:
                left = max(0.0, deadline - time.monotonic())
                if not self._poll(left * 1000.0):
                    return False, None
                res = self._recv()
            self._free_slot()
        finally:
            self._release()
        return True, _loads(res)

    def _wrap(self, obj: tuple[Any, ...]) -> Any:
        # (priority, time, item): FIFO among equal priorities, across producers
        return (obj[2], time.monotonic_ns(), obj) if self.priority else obj

    def try_put(self, obj: tuple[Any, ...]) -> bool:
        try:
            self.put_nowait(obj)
        except Full:
            return False
        return True

    def put_wait(self, obj: tuple[Any, ...], timeout: float) -> bool:
        direct = self.put_positional
        if direct is None:
            try:
                self._put_blocking(obj, timeout)
            except Full:
                return False
            return True
        # a Queue's put itself, with the feeder order noted first if watched
        order = self.put_order
        if order is not None:
            order.append(obj[1])
        try:
            direct(obj, True, timeout)
        except Full:
            if order is not None:
                order.pop()
            return False
        except BaseException:
            if order is not None:
                order.pop()  # it never reached the buffer
            raise
        return True

    def try_get(self) -> tuple[bool, Any]:
        obj = self.get_nowait()
        return (False, None) if obj is EMPTY else (True, obj)

    def get_wait(self, timeout: float) -> tuple[bool, Any]:
        if self._poller is not None and timeout > 0:
            return self._get_polled(timeout)
        if self.simple:
            return self._simple_get(timeout)
        try:
            obj = self.q.get_nowait() if timeout <= 0 else self.q.get(True, timeout)
        except Empty:
            return False, None
        return True, (obj[2] if self.priority else obj)

    def _simple_get(self, timeout: float) -> tuple[bool, Any]:
        # SimpleQueue.get() has no timeout; this is its own code with one:
        # take the read lock, poll, then read exactly as SimpleQueue.get does.
        q = self.q
        if not q._rlock.acquire(True, timeout) if timeout > 0 else not q._rlock.acquire(False):
            return False, None
        try:
            if not q._reader.poll(max(timeout, 0.0)):
                return False, None
            res = self.reader.read() if self.reader is not None else q._reader.recv_bytes()
        finally:
            q._rlock.release()
        return True, _loads(res)

    def on_stall(self, callback: StallCallback) -> None:
        """Call ``callback`` while a read waits for the rest of an item."""
        if self.reader is not None:
            self.reader.on_stall = callback

    def task_done(self) -> None:
        self.q.task_done()

    def feeder_flushed(self, timeout: float) -> bool:
        """Close this process's end for puts and wait up to ``timeout`` s for
        the feeder thread to write what it holds; True once all of it is in
        the pipe (what a process's exit waits for). Only when this process
        puts nothing more here."""
        q = self.q
        if self.kind not in ("Queue", "JoinableQueue") or q._thread is None:
            return True  # no feeder (its puts write at once), or nothing put
        if not q._closed:
            q.close()  # the feeder writes the rest, then ends
        q._thread.join(timeout)
        return not q._thread.is_alive()

    def cancel_join_thread(self) -> None:
        """On stop: do not wait for buffered items to reach the pipe."""
        cancel = getattr(self.q, "cancel_join_thread", None)
        if cancel is not None:
            cancel()
