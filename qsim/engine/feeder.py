"""Where a queue's items really are, seen from the process that puts them.

A ``multiprocessing.Queue`` is three places: ``put()`` appends the object to a
buffer in the putting process and returns; the queue's feeder thread pickles
it and writes it into the pipe (under the queue's write lock); ``get()`` in
another process reads it from the pipe. ``FeederWatch`` wraps the function
the feeder thread writes with (``Queue._send_bytes``, set before its first
put starts the thread) and notes, for each item, when it was wholly in the
pipe and how many bytes it is (a write longer than ``PIPE_BUF`` still waiting
for room after a moment is reported as begun: the item is partly in the pipe;
a shorter one goes in whole or not at all); the worker's runtime
sends those as ``FEEDER_WRITE`` events (from its own thread: the event buffer
is not shared with the feeder).
A ``SimpleQueue`` has no feeder: its ``put()`` pickles and writes at once,
under its lock, so the put itself is the write.

Only queues a lesson asks about are watched (``[[queues]] internals``): the
others keep their plain, unwrapped hot path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

from qsim.engine.msgread import ATOMIC

_dumps = ForkingPickler.dumps
_now = time.monotonic_ns


def message_bytes(payload: int) -> int:
    """What a pickled object of ``payload`` bytes takes in the pipe (with the
    length prefix ``Connection.send_bytes`` writes before it)."""
    return payload + (4 if payload <= 0x7FFFFFFF else 12)


class FeederWatch:
    """Notes the pipe writes of one queue in the putting process.

    The feeder thread notes only when each write began and ended and its
    size: its time is the queue's (it is the slowest thread of a flat-out
    producer). Which item a write was is worked out by the runtime: the
    feeder writes in put order, and ``order`` holds the ids of the items put.
    """

    def __init__(self, q: Any, qi: int, simple: bool) -> None:
        self.qi = qi
        #: ids of the items put whose write the runtime has not reported yet, in
        #: put order (the put notes it; ``take_written`` takes it); only the
        #: putting thread touches it
        self.order: list[int] = []
        #: when each write not reported yet ended, and its pickled bytes: two
        #: columns the feeder thread appends to (``ends`` first), so that the
        #: runtime packs them as they are (``EventBuffer.add_columns``)
        self.ends: list[int] = []
        self.sizes: list[int] = []
        self.q = q
        #: [when the write in progress began, its pickled bytes]; 0: no write
        self.began = [0, 0]
        self.reported_stuck: set[int] = set()  # items reported while their write waited
        if not simple:
            self._wrap_feeder(q)

    def _wrap_feeder(self, q: Any) -> None:
        send, ended, sized, began = q._send_bytes, self.ends.append, self.sizes.append, self.began

        def send_bytes(buf: Any) -> None:  # runs on the queue's feeder thread
            n = len(buf)
            if n <= ATOMIC:  # one write() the pipe takes whole or not at all:
                send(buf)  # never partly in the pipe, so no begin to note
            else:
                began[1] = n
                began[0] = _now()  # until the pipe has taken all of it (see ``stuck``)
                try:
                    send(buf)
                finally:
                    began[0] = 0
            ended(_now())  # wholly in the pipe from now
            sized(n)

        q._send_bytes = send_bytes

    def wrap_put(self, put: Callable[..., None]) -> Callable[..., None]:
        """``put(obj, ...)`` that tells the feeder which item it is about to write."""
        order = self.order

        def watched_put(obj: Any, *args: Any) -> None:
            order.append(obj[1])
            try:
                put(obj, *args)
            except BaseException:
                order.pop()  # it never reached the buffer
                raise

        return watched_put

    def take_written(self) -> tuple[list[int], list[int], list[int]]:
        """The writes ended since the last call: their end times, items and
        pickled bytes, three columns in write order (item 0: a put not seen)."""
        k = len(self.sizes)  # appended after ``ends``: k whole writes
        if not k:
            return [], [], []
        ends, sizes, order = self.ends, self.sizes, self.order
        times, nbytes, items = ends[:k], sizes[:k], order[:k]
        del ends[:k], sizes[:k], order[:k]  # the feeder appends only past them
        if len(items) < k:
            items += [0] * (k - len(items))
        return times, items, nbytes

    @property
    def unwritten(self) -> int:
        """Items this process put that are not (wholly) in the pipe yet."""
        return max(0, len(self.order) - len(self.sizes))

    def stuck(self, older_than_ns: int) -> tuple[int, int, int] | None:
        """``(began, item, pickled bytes)`` of the write in progress if it began
        longer ago than that: the pipe is full, the item is partly in it
        (reported as in the pipe from when it began)."""
        t, n = self.began
        if not t or _now() - t <= older_than_ns:
            return None
        k = len(self.sizes)  # the writes ended before it are still in order
        return (t, self.order[k] if len(self.order) > k else 0, n)

    def simple_put(self, obj: Any, *_block_timeout: Any) -> None:
        """``SimpleQueue.put`` (its own code), noting the write it makes. It is
        called as ``Queue.put`` is, and ignores ``block`` and ``timeout`` (a
        SimpleQueue has no maxsize)."""
        q = self.q
        buf = _dumps(obj)
        n = len(buf)  # pickled bytes, as the feeder wrapper notes them
        order, began = self.order, self.began
        order.append(obj[1])
        if n > ATOMIC:  # may be partly in the pipe while it waits (see the feeder's)
            began[1] = n
            began[0] = _now()
        try:
            if q._wlock is None:
                q._writer.send_bytes(buf)
            else:
                with q._wlock:
                    q._writer.send_bytes(buf)
        except BaseException:
            order.pop()  # nothing of it reached the pipe (or the put is lost)
            raise
        finally:
            began[0] = 0
        self.ends.append(_now())
        self.sizes.append(n)
