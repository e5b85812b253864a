"""Patches of pipes and manager queues.

* ``multiprocessing.Pipe()``: a pipe the *program* makes is a queue of kind
  ``Pipe``; ``send`` is a put, ``recv`` a get. Its two connections carry the
  pipe's index (``_qsim_q``), also through pickling (a reducer of our own).
  multiprocessing's own pipes (inside a Queue, a manager) stay untraced, and
  so does every ``send_bytes``/``recv_bytes``.
* manager queue proxies (``Manager().Queue()``, a registered
  ``PriorityQueue``): every call goes through ``BaseProxy._callmethod``;
  calls on a queue's proxy report like a Queue's. The queue's index is found
  from its token, so every process's proxy of one queue agrees.
"""

from __future__ import annotations

import select
import time
from multiprocessing import connection, managers, reduction
from queue import Empty, Full
from typing import Any

from qsim.agent import where
from qsim.agent.ending import note_puts
from qsim.agent.patch_queues import announce, patch
from qsim.agent.payload import Ranked, priority_of, short_repr, unwrap, wrap
from qsim.agent.runtime import SLICE_S, Agent
from qsim.model.events import EventKind as K
from qsim.model.wire import FLAG_CONSUMED

#: manager typeids that are queues, and the kind the model draws them as
PROXY_KINDS = {
    "Queue": "ManagerQueue",
    "JoinableQueue": "JoinableQueue",
    "PriorityQueue": "PriorityQueue",
    "LifoQueue": "ManagerQueue",
}
_MODS = ("multiprocessing.managers", "multiprocessing.queues")


def rebuild_tagged(fn: Any, args: Any, qi: int) -> Any:
    """Unpickle a traced connection: the connection, with its pipe's index."""
    conn = fn(*args)
    conn._qsim_q = qi
    return conn


def install(A: Agent) -> None:
    _install_pipes(A)
    _install_proxies(A)


def _install_pipes(A: Agent) -> None:
    gate = A.gate
    base = connection._ConnectionBase
    patch(base, "_qsim_q", -1)
    orig_pipe = connection.Pipe
    orig_send, orig_recv = base.send, base.recv
    counter = iter(range(1, 1 << 62))

    def Pipe(duplex: bool = True) -> tuple[Any, Any]:
        a, b = orig_pipe(duplex)
        if where.maker(2) != "user":  # a Queue's, a manager's, an executor's own pipe
            return a, b
        import os

        qi, _ = announce(A, f"p{os.getpid()}.{next(counter)}", "Pipe", 0, 3, ())
        patch(a, "_qsim_q", qi)
        patch(b, "_qsim_q", qi)
        return a, b

    def send(self: Any, obj: Any) -> None:
        qi = self._qsim_q
        if qi < 0:
            return orig_send(self, obj)
        if A.parked or gate[0]:
            A.turn()
        item = A.item_base + next(A.items)
        if not select.select([], [self], [], 0)[1]:  # the pipe is full: send() blocks
            A.where(2)
            A.emit(K.PUT_BLOCKED, item, qi, short_repr(obj))
            A.flush()
        orig_send(self, wrap(item, obj))
        A.emit(K.PUT_DONE, item, qi, short_repr(obj))
        A.done()
        return None

    def recv(self: Any) -> Any:
        qi = self._qsim_q
        if qi < 0:
            return orig_recv(self)
        if A.parked or gate[0]:
            A.turn()
        if not self.poll(0):
            A.give_back()
            A.where(2)
            A.emit(K.GET_WAITING, 0, qi)
            A.flush()
            while True:
                A.check_stop()
                A.turn()
                if self.poll(0 if A.permit else SLICE_S):
                    break
                A.give_back()
        item, obj = unwrap(orig_recv(self))
        if item:
            A.emit(K.GET_DONE, item, qi, 1, 0, FLAG_CONSUMED)
        A.done()
        return obj

    patch(connection, "Pipe", Pipe)
    patch(base, "send", send)
    note_puts(send)
    patch(base, "recv", recv)
    orig_reduce = getattr(reduction.ForkingPickler, "_extra_reducers", {}).get(
        connection.Connection
    )
    if orig_reduce is not None:

        def reduce_connection(conn: Any) -> Any:
            fn, args = orig_reduce(conn)
            return (fn, args) if conn._qsim_q < 0 else (rebuild_tagged, (fn, args, conn._qsim_q))

        reduction.register(connection.Connection, reduce_connection)


def _install_proxies(A: Agent) -> None:
    gate = A.gate
    proxy = managers.BaseProxy
    orig_init, orig_call = proxy.__init__, proxy._callmethod

    def __init__(self: Any, token: Any, *args: Any, **kwargs: Any) -> None:
        orig_init(self, token, *args, **kwargs)
        kind = PROXY_KINDS.get(token.typeid)
        if kind is None:
            self._qsim_q, self._qsim_ranked = -1, False
            return
        key = f"m{token.address}:{token.id}"
        # maxsize is the server's business: 0 unless the program said so
        self._qsim_q = announce(A, key, kind, 0, 3, _MODS)[0]
        self._qsim_ranked = kind == "PriorityQueue"

    def _callmethod(self: Any, name: str, args: tuple[Any, ...] = (), kwds: Any = None) -> Any:
        kwds = kwds or {}
        qi = self.__dict__.get("_qsim_q", -1)
        if qi < 0 or name not in _HANDLED:
            return orig_call(self, name, args, kwds)
        if A.parked or gate[0]:
            A.turn()
        if name in ("put", "put_nowait"):
            return _put(self, qi, name, args, kwds)
        if name in ("get", "get_nowait"):
            return _get(self, qi, name, args, kwds)
        if name == "task_done":
            result = orig_call(self, name, args, kwds)
            A.emit(K.TASK_DONE, 0, qi)
            return result
        A.where(3)  # join: the server blocks; we can only say so first
        A.emit(K.JOIN_WAIT, 0, qi)
        A.flush()
        result = orig_call(self, name, args, kwds)
        A.emit(K.JOIN_DONE, 0, qi)
        return result

    def _put(self: Any, qi: int, name: str, args: Any, kwds: dict[str, Any]) -> None:
        args = list(args)
        obj = args.pop(0) if args else kwds.pop("item")
        block = name == "put" and (args.pop(0) if args else kwds.pop("block", True))
        timeout = args.pop(0) if args else kwds.pop("timeout", None)
        item = A.item_base + next(A.items)
        prio = priority_of(obj) if self._qsim_ranked else 0
        w = Ranked(item, obj) if self._qsim_ranked else wrap(item, obj)
        try:
            orig_call(self, "put", (w, False))
        except Full:
            if not block:
                A.give_back()
                raise
            A.give_back()
            A.where(4)
            A.emit(K.PUT_BLOCKED, item, qi, short_repr(obj), prio)
            A.flush()
            deadline = A.deadline(timeout)
            while True:
                A.check_stop()
                A.turn()
                wait = SLICE_S
                if deadline:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        A.emit(K.PUT_TIMEOUT, item, qi, round(timeout * 1000))
                        raise Full from None
                    wait = min(wait, left)
                try:
                    orig_call(self, "put", (w, not A.permit, wait))
                    break
                except Full:
                    A.give_back()
        A.emit(K.PUT_DONE, item, qi, short_repr(obj), prio)
        A.done()

    def _get(self: Any, qi: int, name: str, args: Any, kwds: dict[str, Any]) -> Any:
        args = list(args)
        block = name == "get" and (args.pop(0) if args else kwds.pop("block", True))
        timeout = args.pop(0) if args else kwds.pop("timeout", None)
        try:
            x = orig_call(self, "get", (False,))
        except Empty:
            if not block:
                A.give_back()
                raise
            A.give_back()
            A.where(4)
            A.emit(K.GET_WAITING, 0, qi)
            A.flush()
            deadline = A.deadline(timeout)
            while True:
                A.check_stop()
                A.turn()
                wait = SLICE_S
                if deadline:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        A.emit(K.GET_TIMEOUT, 0, qi, round(timeout * 1000))
                        raise Empty from None
                    wait = min(wait, left)
                try:
                    x = orig_call(self, "get", (not A.permit, wait))
                    break
                except Empty:
                    A.give_back()
        item, obj = unwrap(x)
        if item:
            A.emit(K.GET_DONE, item, qi, 1, 0, FLAG_CONSUMED)
        A.done()
        return obj

    patch(proxy, "__init__", __init__)
    patch(proxy, "_callmethod", _callmethod)
    note_puts(_put)


_HANDLED = frozenset(("put", "put_nowait", "get", "get_nowait", "task_done", "join"))
