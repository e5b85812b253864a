"""Patches of ``multiprocessing.queues``: Queue, JoinableQueue, SimpleQueue.

The methods are replaced on the classes themselves, so every queue (made
before or after, by the program or by a Pool) reports. A queue gets a
run-wide index when it is made (``_qsim_q``; -1: not traced) and keeps it
through pickling (``__getstate__``/``__setstate__``).

Blocking is observed, never guessed, as in scenario workers: a put or get
first tries without blocking; only if that fails does it report
PUT_BLOCKED / GET_WAITING, flush, and wait in slices (so pause and stop still
reach it). A put that does not block reports once (PUT_DONE, with the
object's short repr); a get once (GET_DONE, used up at once: traced programs
have no "work" phase we could see).
"""

from __future__ import annotations

import os
import select
import time
from collections import deque
from multiprocessing import queues as mq
from multiprocessing import synchronize
from multiprocessing.reduction import ForkingPickler
from queue import Empty, Full
from typing import Any

from qsim.agent import protocol as P
from qsim.agent import where
from qsim.agent.ending import note_puts
from qsim.agent.payload import priority_of, short_repr, unwrap
from qsim.agent.runtime import FLUSH_EVENTS, SLICE_S, Agent
from qsim.model.events import EXIT_WAIT, FLAG_OBSERVED
from qsim.model.events import EventKind as K
from qsim.model.wire import FLAG_CONSUMED, VT_INT, VT_STR

_now = time.monotonic_ns
_loads = ForkingPickler.loads
_PUT_DONE, _GET_DONE = int(K.PUT_DONE), int(K.GET_DONE)
_CONSUMED = VT_INT | FLAG_CONSUMED << 8
_STATE_TAG = "qsim-q"
SEM_VALUE_MAX: int = getattr(synchronize, "SEM_VALUE_MAX")  # noqa: B009  (untyped in typeshed)
MARK = P.MARK
#: kinds whose items the agent follows through feeder buffer and pipe (internals)
WATCHED_KINDS = ("Queue", "JoinableQueue", "SimpleQueue")
_FEEDER_WRITE = int(K.FEEDER_WRITE)


def message_bytes(payload: int) -> int:
    """A pickled object of ``payload`` bytes in the pipe, with its length prefix."""
    return payload + (4 if payload <= 0x7FFFFFFF else 12)


def _direct(q: Any, orig: Any, _qi: int, w: Any, *args: Any) -> None:
    orig(q, w, *args)


def patch(owner: Any, name: str, value: Any) -> None:
    """Replace ``owner.name`` (a class's method, a module's function)."""
    setattr(owner, name, value)


def _kind(q: Any) -> str:
    if isinstance(q, mq.JoinableQueue):
        return "JoinableQueue"
    return "SimpleQueue" if isinstance(q, mq.SimpleQueue) else "Queue"


def announce(
    A: Agent,
    key: str,
    kind: str,
    maxsize: int,
    depth: int = 3,
    skip: tuple[str, ...] = ("multiprocessing.queues",),
) -> tuple[int, str]:
    """Register a queue (or pipe) made here; QUEUE_CREATED if it is new."""
    internal = where.maker(depth, skip) == "internal"
    name = where.assigned_name(depth, skip)
    qi, new = A.registry.index(key)
    if new and qi >= 0:
        flags = P.FLAG_INTERNAL if internal else 0
        if A.internals and kind in WATCHED_KINDS:
            flags |= FLAG_OBSERVED
        A.emit(K.QUEUE_CREATED, P.QUEUE_KINDS.index(kind), qi, name, maxsize, flags)
    return qi, name


def install(A: Agent) -> None:
    gate = A.gate
    seq = iter(range(1, 1 << 62))

    # --------------------------------------------------------------- identity
    def make_init(orig: Any) -> Any:
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            orig(self, *args, **kwargs)
            if self.__dict__.get("_qsim_q") is not None:
                return  # a subclass's __init__ called ours: already known
            if where.maker(2, ("multiprocessing.queues",)) == "multiprocessing":
                self._qsim_q = -1
                return
            maxsize = getattr(self, "_maxsize", 0)
            if maxsize >= SEM_VALUE_MAX:  # Queue() without a maxsize
                maxsize = 0
            key = f"q{os.getpid()}.{next(seq)}"
            self._qsim_q = qi = announce(A, key, _kind(self), maxsize)[0]
            if A.internals and qi >= 0 and _kind(self) in WATCHED_KINDS:
                A.probe_pipe(qi, self.__dict__.get("_reader"))
            if isinstance(self, mq.SimpleQueue):
                # a Pool sends and receives on these connections directly
                for conn in (self.__dict__["_reader"], self.__dict__["_writer"]):
                    patch(conn, "_qsim_q", qi)

        return __init__

    def make_getstate(cls: Any, orig: Any) -> Any:
        def __getstate__(self: Any) -> Any:
            state = orig(self)
            if type(self).__getstate__ is not __getstate__:
                return state  # a subclass's __getstate__ wraps the whole state
            return (_STATE_TAG, self.__dict__.get("_qsim_q", -1), state)

        return __getstate__

    def make_setstate(orig: Any) -> Any:
        def __setstate__(self: Any, state: Any) -> None:
            qi = -1
            if type(state) is tuple and len(state) == 3 and state[0] == _STATE_TAG:
                _, qi, state = state
            orig(self, state)
            if qi >= 0 or "_qsim_q" not in self.__dict__:
                self._qsim_q = qi

        return __setstate__

    for cls in (mq.Queue, mq.JoinableQueue, mq.SimpleQueue):
        d = cls.__dict__
        patch(cls, "_qsim_q", -1)
        if "__init__" in d:
            patch(cls, "__init__", make_init(d["__init__"]))
        patch(cls, "__getstate__", make_getstate(cls, d["__getstate__"]))
        patch(cls, "__setstate__", make_setstate(d["__setstate__"]))

    # --------------------------------------------------------------- internals
    def watch(q: Any, qi: int) -> Any:
        """The items this process put into ``q`` and its feeder has not written
        yet (a deque), watching the feeder's writes (``internals``: the GUI
        draws a Queue's feeder buffer and its pipe)."""
        order = q.__dict__.get("_qsim_order")
        if order is not None and q.__dict__.get("_qsim_order_pid") == os.getpid():
            return order
        order = deque()
        q._qsim_order, q._qsim_order_pid = order, os.getpid()
        send = q._send_bytes  # what the feeder thread writes with (bound at its start)
        if q._thread is not None:  # started before we could watch it: let it be
            return order

        def send_bytes(buf: Any) -> None:  # on the queue's feeder thread
            item = order.popleft() if order else 0
            # noted when wholly in the pipe; a write that waits for room is
            # reported as begun by the control thread (``report_stuck_writes``)
            began = (_now(), item, message_bytes(len(buf)), qi)
            key = id(order)
            A.writing[key] = began
            try:
                send(buf)
            finally:
                del A.writing[key]
            with A.lock:
                if item in A.stuck_reported:
                    A.stuck_reported.discard(item)  # told already, when it began
                else:
                    A.buf.pending.append((_now(), item, began[2], 0, qi, _FEEDER_WRITE, VT_INT))

        q._send_bytes = send_bytes
        note_puts(send_bytes)  # a write out of the pipe's sight: noted before the end
        return order

    def watched_put(q: Any, orig: Any, qi: int, w: Any, *args: Any) -> None:
        order = watch(q, qi)
        order.append(w[1])
        try:
            orig(q, w, *args)
        except BaseException:
            order.pop()  # never reached the feeder buffer
            raise

    # --------------------------------------------------------------- put
    def record_put(item: int, qi: int, obj: Any, prio: int) -> None:
        r = short_repr(obj)
        with A.lock:
            buf = A.buf
            pending, strings = buf.pending, buf.strings
            t = _now()
            pending.append((t, item, len(strings), prio, qi, _PUT_DONE, VT_STR))
            strings.append(r)
            if t >= A.flush_at or len(pending) >= FLUSH_EVENTS:
                A._flush_locked()
        if A.permit:
            A.done()

    def put_blocked(q: Any, orig: Any, w: Any, qi: int, obj: Any, timeout: Any) -> None:
        item = w[1]
        prio = priority_of(obj)
        A.give_back()
        A.where(3)
        A.emit(K.PUT_BLOCKED, item, qi, short_repr(obj), prio)
        A.flush()  # the GUI must learn that we block before we go quiet
        deadline = A.deadline(timeout)
        while True:
            A.check_stop()
            A.turn()
            wait = SLICE_S
            if deadline:
                left = deadline - time.monotonic()
                if left <= 0:
                    A.give_back()
                    A.emit(K.PUT_TIMEOUT, item, qi, round(timeout * 1000))
                    raise Full
                wait = min(wait, left)
            try:
                call = watched_put if A.internals else _direct
                if A.permit:
                    call(q, orig, qi, w, False)
                else:
                    call(q, orig, qi, w, True, wait)
            except Full:
                A.give_back()
                continue
            record_put(item, qi, obj, prio)
            return

    def make_put(orig: Any) -> Any:
        def put(self: Any, obj: Any, block: bool = True, timeout: float | None = None) -> None:
            qi = self._qsim_q
            if qi < 0:
                return orig(self, obj, block, timeout)
            if A.parked or gate[0]:
                A.turn()
            item = A.item_base + next(A.items)
            try:
                if A.internals:
                    watched_put(self, orig, qi, (MARK, item, obj), False)
                else:
                    orig(self, (MARK, item, obj), False)
            except Full:
                if not block:
                    A.give_back()
                    raise
                put_blocked(self, orig, (MARK, item, obj), qi, obj, timeout)
                return None
            r = short_repr(obj)  # record_put, inlined: the hot path
            with A.lock:
                buf = A.buf
                pending, strings = buf.pending, buf.strings
                t = _now()
                pending.append((t, item, len(strings), 0, qi, _PUT_DONE, VT_STR))
                strings.append(r)
                if t >= A.flush_at or len(pending) >= FLUSH_EVENTS:
                    A._flush_locked()
            if A.permit:
                A.done()
            return None

        return put

    for cls in (mq.Queue, mq.JoinableQueue):
        patch(cls, "put", make_put(cls.__dict__["put"]))
    note_puts(mq.Queue.put, put_blocked, watched_put, record_put)

    # --------------------------------------------------------------- get
    def record_get(qi: int, x: Any) -> Any:
        item, obj = unwrap(x)
        if item:
            with A.lock:
                pending = A.buf.pending
                t = _now()
                pending.append((t, item, 1, 0, qi, _GET_DONE, _CONSUMED))
                if t >= A.flush_at or len(pending) >= FLUSH_EVENTS:
                    A._flush_locked()
        if A.permit:
            A.done()
        return obj

    def poller(q: Any) -> Any:
        p = q.__dict__.get("_qsim_poll")
        if p is None:
            # Queue.get(block=False) polls through connection.wait(), which
            # builds a selector per call; one poll object answers the same
            p = select.poll()
            p.register(q._reader.fileno(), select.POLLIN)
            p = q._qsim_poll = p.poll
        return p

    def try_get(q: Any, wait: float) -> tuple[bool, Any]:
        """Queue.get's own steps (same locks, same semaphore), with a bounded wait."""
        if getattr(q, "_closed", False):
            raise ValueError(f"Queue {q!r} is closed")
        if not (q._rlock.acquire(True, wait) if wait > 0 else q._rlock.acquire(False)):
            return False, None
        try:
            if not poller(q)(int(wait * 1000)):
                return False, None
            res = q._reader.recv_bytes()
            sem = getattr(q, "_sem", None)
            if sem is not None:
                sem.release()
        finally:
            q._rlock.release()
        return True, _loads(res)

    def get_waiting(q: Any, qi: int, block: bool, timeout: Any) -> Any:
        A.give_back()
        A.where(3)
        A.emit(K.GET_WAITING, 0, qi)
        A.flush()
        deadline = A.deadline(timeout) if block else 0.0
        while True:
            A.check_stop()
            A.turn()
            wait = SLICE_S
            if deadline:
                left = deadline - time.monotonic()
                if left <= 0:
                    A.give_back()
                    A.emit(K.GET_TIMEOUT, 0, qi, round(timeout * 1000))
                    raise Empty
                wait = min(wait, left)
            ok, x = try_get(q, 0.0 if A.permit else wait)
            if ok:
                return record_get(qi, x)
            A.give_back()

    def make_get(orig: Any) -> Any:
        def get(self: Any, block: bool = True, timeout: float | None = None) -> Any:
            qi = self._qsim_q
            if qi < 0:
                return orig(self, block, timeout)
            if A.parked or gate[0]:
                A.turn()
            ok, x = try_get(self, 0.0)
            if ok:
                return record_get(qi, x)
            if not block:  # get_nowait(): found nothing in the pipe, raises Empty
                A.give_back()
                A.emit(K.GET_TIMEOUT, 0, qi, 0)
                raise Empty
            return get_waiting(self, qi, block, timeout)

        return get

    patch(mq.Queue, "get", make_get(mq.Queue.__dict__["get"]))

    orig_simple_get = mq.SimpleQueue.__dict__["get"]

    def simple_get(self: Any) -> Any:
        qi = self._qsim_q
        if qi < 0:
            return orig_simple_get(self)
        if A.parked or gate[0]:
            A.turn()
        ok, x = try_get(self, 0.0)
        if ok:
            return record_get(qi, x)
        return get_waiting(self, qi, True, None)

    patch(mq.SimpleQueue, "get", simple_get)

    orig_simple_put = mq.SimpleQueue.__dict__["put"]

    def simple_put(self: Any, obj: Any) -> None:
        qi = self._qsim_q
        if qi < 0:
            return orig_simple_put(self, obj)
        if A.parked or gate[0]:
            A.turn()
        w = (MARK, A.item_base + next(A.items), obj)
        if not select.select([], [self._writer], [], 0)[1]:  # the pipe is full
            A.where(2)
            A.emit(K.PUT_BLOCKED, w[1], qi, short_repr(obj))
            A.flush()
        orig_simple_put(self, w)
        if A.internals:  # no feeder: the put wrote the pipe itself, wholly
            size = message_bytes(len(ForkingPickler.dumps(w)))
            A.emit(K.FEEDER_WRITE, w[1], qi, size)
        record_put(w[1], qi, obj, 0)
        return None

    patch(mq.SimpleQueue, "put", simple_put)
    note_puts(simple_put)

    # --------------------------------------------------------------- joinable
    orig_task_done = mq.JoinableQueue.__dict__["task_done"]
    orig_join = mq.JoinableQueue.__dict__["join"]

    def task_done(self: Any) -> None:
        qi = self._qsim_q
        if qi < 0:
            return orig_task_done(self)
        try:
            orig_task_done(self)
        except ValueError as e:
            A.emit(K.TASK_DONE_ERROR, 0, qi, str(e))
            raise
        A.emit(K.TASK_DONE, 0, qi)
        return None

    def join(self: Any) -> None:
        qi = self._qsim_q
        if qi < 0:
            return orig_join(self)
        A.where(2)
        A.emit(K.JOIN_WAIT, 0, qi)
        A.flush()
        while True:
            A.check_stop()
            with self._cond:
                if self._unfinished_tasks._semlock._is_zero():
                    break
                self._cond.wait(SLICE_S)
        A.emit(K.JOIN_DONE, 0, qi)
        return None

    patch(mq.JoinableQueue, "task_done", task_done)
    patch(mq.JoinableQueue, "join", join)

    # --------------------------------------------------------------- feeder at exit
    orig_finalize_join = mq.Queue.__dict__["_finalize_join"].__func__

    def _finalize_join(twr: Any) -> None:
        thread = twr()
        if thread is None or A.conn is None:
            return orig_finalize_join(twr)
        thread.join(SLICE_S)
        if not thread.is_alive():
            return None
        # the process is ending, but its queue's feeder thread still has items
        # no reader took out of the pipe: it cannot end before they are read
        what = "its queue's feeder thread (items not yet written into the pipe)"
        A.at_end_of_target()
        A.emit(K.JOIN_WAIT, 0, -1, what, EXIT_WAIT)
        A.flush()
        while thread.is_alive():
            A.check_stop()
            thread.join(SLICE_S)
        A.emit(K.JOIN_DONE, 0, -1, "its feeder thread wrote everything", EXIT_WAIT)
        return None

    patch(mq.Queue, "_finalize_join", staticmethod(_finalize_join))
