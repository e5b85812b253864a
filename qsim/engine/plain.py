"""The plain program of a measured lane: the same puts and gets with no qsim.

A measured lesson (``[run] measure_plain = true``) shows each lane's figure
next to what a plain program gets for the same operation on the same machine,
in the same run: before its instrumented phase, the lane's own two processes
put and get through the lane's own queue exactly as a plain program would
(``q.put(obj)`` in a loop, ``q.get()`` in a loop, ``task_done()`` for a
JoinableQueue), reporting nothing per item. The consumer times its gets and
reports the rate once, as a ``MARK``.

The loops look at the clock only once per ``CHUNK`` puts and twice in all on
the consumer side, so the plain figure is not slowed by the measuring itself.
"""

from __future__ import annotations

import time
from typing import Any

from qsim.model.events import ItemKind

CHUNK = 64
_DATA, _BATCH, _END = int(ItemKind.DATA), int(ItemKind.BATCH), int(ItemKind.PLAIN_END)


def plain_put(
    q: Any, payload: Any, batch_size: int, items: int, seconds: float, first: int = 1
) -> int:
    """Put ``items`` items (or as many as ``seconds`` allow), then the end mark;
    returns the items put. ``q`` is the real queue (any kind)."""
    put = q.put
    n = 0
    t_end = time.monotonic() + seconds if seconds else 0.0
    limit = items or 1 << 62
    while n < limit:
        k = min(CHUNK, (limit - n + batch_size - 1) // batch_size)
        if batch_size > 1:
            for _ in range(k):
                size = min(batch_size, limit - n)
                if payload is not None:
                    entries = [payload] * size
                else:
                    entries = list(range(first + n, first + n + size))
                put((_BATCH, n, 0, entries))
                n += size
        else:
            for i in range(first + n, first + n + k):
                put((_DATA, i, 0, payload))
            n += k
        if t_end and time.monotonic() >= t_end:
            break
    put((_END, n, 0, None))
    return n


def plain_get(q: Any, joinable: bool) -> tuple[int, float]:
    """Get until the end mark, as a plain consumer would; return the items got
    after the first entry and the seconds between the first and the last get."""
    get = q.get
    obj = get()
    t0 = time.monotonic()
    n = 0
    if joinable:
        q.task_done()
    if obj[0] == _END:
        return 0, 0.0
    if joinable:
        while True:
            obj = get()
            q.task_done()
            if obj[0] == _END:
                break
            n += len(obj[3]) if obj[0] == _BATCH else 1
    else:
        while True:
            obj = get()
            if obj[0] == _END:
                break
            n += len(obj[3]) if obj[0] == _BATCH else 1
    return n, time.monotonic() - t0


def plain_rate(n: int, seconds: float) -> float:
    return n / seconds if seconds > 0 else 0.0
