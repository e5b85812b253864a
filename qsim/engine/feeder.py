"""Where a queue's items really are, seen from the process that puts them.

A ``multiprocessing.Queue`` is three places: ``put()`` appends the object to a
buffer in the putting process and returns; the queue's feeder thread pickles
it and writes it into the pipe (under the queue's write lock); ``get()`` in
another process reads it from the pipe. ``FeederWatch`` wraps the function
the feeder thread writes with (``Queue._send_bytes``, set before its first
put starts the thread) and notes, for each item, when it was wholly in the
pipe and how many bytes it is (a write still waiting for room after a moment
is reported as begun: the item is partly in the pipe); the worker's runtime
sends those as ``FEEDER_WRITE`` events (from its own thread: the event buffer
is not shared with the feeder).
A ``SimpleQueue`` has no feeder: its ``put()`` pickles and writes at once,
under its lock, so the put itself is the write.

Only queues a lesson asks about are watched (``[[queues]] internals``): the
others keep their plain, unwrapped hot path.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from multiprocessing.reduction import ForkingPickler
from typing import Any

_dumps = ForkingPickler.dumps
_now = time.monotonic_ns


def message_bytes(payload: int) -> int:
    """What a pickled object of ``payload`` bytes takes in the pipe (with the
    length prefix ``Connection.send_bytes`` writes before it)."""
    return payload + (4 if payload <= 0x7FFFFFFF else 12)


class FeederWatch:
    """Notes the pipe writes of one queue in the putting process."""

    def __init__(self, q: Any, qi: int, simple: bool) -> None:
        self.qi = qi
        #: item ids put and not yet written, in put order (the feeder keeps it)
        self.order: deque[int] = deque()
        #: (time the write began, item, pickled bytes) not yet reported
        self.written: deque[tuple[int, int, int]] = deque()
        self.q = q
        #: the write the feeder thread is in (began, item, bytes), None: none
        self.writing: tuple[int, int, int] | None = None
        self.reported_stuck: set[int] = set()  # items reported while their write waited
        if not simple:
            self._wrap_feeder(q)

    def _wrap_feeder(self, q: Any) -> None:
        send = q._send_bytes
        order, written = self.order, self.written

        def send_bytes(buf: Any) -> None:  # runs on the queue's feeder thread
            # the feeder's own time is the queue's: as little as can be here
            # (the pickled size; message_bytes is worked out by the runtime)
            item = order.popleft() if order else 0  # 0: a put we did not see
            size = len(buf)
            # until the pipe has taken all of it: a write that waits for room is
            # reported (as begun) by the runtime, see ``stuck``
            self.writing = (_now(), item, size)
            try:
                send(buf)
            finally:
                self.writing = None
            written.append((_now(), item, size))  # wholly in the pipe from now

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

    @property
    def unwritten(self) -> int:
        """Items this process put that are not (wholly) in the pipe yet."""
        return len(self.order) + (self.writing is not None)

    def stuck(self, older_than_ns: int) -> tuple[int, int, int] | None:
        """The write in progress if it began longer ago than that: the pipe is full,
        the item is partly in it (reported as in the pipe from when it began)."""
        w = self.writing
        return w if w is not None and _now() - w[0] > older_than_ns else None

    def simple_put(self, obj: Any, *_timeout: Any) -> None:
        """``SimpleQueue.put`` (its own code), noting the write it makes."""
        q = self.q
        buf = _dumps(obj)
        size = len(buf)  # pickled bytes, as the feeder wrapper notes them
        self.writing = (_now(), obj[1], size)
        try:
            if q._wlock is None:
                q._writer.send_bytes(buf)
            else:
                with q._wlock:
                    q._writer.send_bytes(buf)
        finally:
            self.writing = None
        self.written.append((_now(), obj[1], size))
