"""A flat-out producer's puts: the runtime's hottest path, kept apart.

A producer that puts as fast as it can shares its process's GIL with its
queue's feeder thread, so every microsecond spent here per put is taken from
the queue itself. ``put_data`` makes the same puts, and the same records, as
that many ``Runtime.put`` calls, with no call per put while nothing stands in
the way: a run of puts notes only their times and packs their records at
once (``EventBuffer.add_run``); a put into a full queue writes its two
records (PUT_BLOCKED, PUT_DONE) with no call between. A pause, a step or a
timeout hands the put to ``Runtime.put``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qsim.engine.queues import Full, QueueAdapter
from qsim.engine.runtime import (
    _COUNTED,
    _DATA,
    _PUT_BLOCKED,
    _PUT_DONE,
    BRIEF_S,
    _now,
)
from qsim.model.wire import MAX_RUN, VT_NONE

if TYPE_CHECKING:
    from qsim.engine.runtime import Runtime


def put_data(
    rt: Runtime, qa: QueueAdapter, qi: int, first: int, k: int, payload: Any, timeout: float
) -> None:
    """A flat-out producer's ``k`` puts of data items ``first``, ``first+1``...:
    each exactly as ``put`` does it (one PUT_DONE when done), without a call
    per item while nothing stands in the way (the producer's main thread
    shares its GIL with the feeder thread: every microsecond here is the
    queue's). Paused, stepping, full or blocked: that item goes through ``put``."""
    direct = qa.put_positional
    end = first + k
    rest = first
    if direct is not None:
        rest = _put_run(rt, qa.put_order, qi, first, end, payload, direct)
    if direct is None or timeout > 0:
        for i in range(rest, end):  # what stands in the way: through ``put``
            rt.put(qa, qi, (_DATA, i, 0, payload), 1, timeout)
        return
    # a full queue: most puts block for a moment, each said by two records
    # (PUT_BLOCKED, PUT_DONE) with no call in between (a lane into a small
    # queue is this loop, and each microsecond of it delays the feeder)
    room, order, gate, ap, pending = (
        qa.has_room,
        qa.put_order,
        rt._gate,
        rt._append,
        rt._pending,
    )
    flush_n = rt.flush_n
    for i in range(rest, end):
        obj = (_DATA, i, 0, payload)
        if rt.parked or gate[0] or rt.permit:
            rt.put(qa, qi, obj, 1, 0.0)
            continue
        if room is None or room():
            if order is not None:
                order.append(i)
            try:
                direct(obj, False)
            except Full:
                if order is not None:
                    order.pop()
            except BaseException:
                if order is not None:
                    order.pop()  # it never reached the buffer
                raise
            else:
                t = _now()
                ap((t, i, 1, 0, qi, _PUT_DONE, _COUNTED))
                if t >= rt.flush_at or len(pending) >= flush_n:
                    rt._emitted(t)
                continue
        t = _now()
        ap((t, i, 0, 0, qi, _PUT_BLOCKED, VT_NONE))
        if t >= rt.flush_at or len(pending) >= flush_n:
            rt._emitted(t)
        if order is not None:
            order.append(i)
        try:
            direct(obj, True, BRIEF_S)
        except Full:
            if order is not None:
                order.pop()
            rt._put_waiting(qa, qi, obj, 1, 0.0, 0.0)
            continue
        except BaseException:
            if order is not None:
                order.pop()
            raise
        t = _now()
        ap((t, i, 1, 0, qi, _PUT_DONE, _COUNTED))
        if t >= rt.flush_at or len(pending) >= flush_n:
            rt._emitted(t)


def _put_run(
    rt: Runtime,
    order: list[int] | None,
    qi: int,
    first: int,
    end: int,
    payload: Any,
    direct: Callable[[Any, bool], None],
) -> int:
    """``put_data``'s puts while nothing stands in the way (not paused, no
    step, a free slot); returns the first item it did not put. Their
    PUT_DONE times are noted in a list and packed at once. ``order``: a
    watched queue's feeder order, noted before each put."""
    gate, now, data = rt._gate, _now, _DATA
    add_run = rt.events.add_run
    times: list[int] = []
    stamp = times.append
    i = run_first = first
    try:
        while i < end and not (rt.parked or rt.permit):
            run_first, blocked = i, False
            stop = min(end, run_first + MAX_RUN)
            try:
                if order is None:
                    for i in range(run_first, stop):
                        if gate[0]:
                            blocked = True
                            break
                        direct((data, i, 0, payload), False)
                        stamp(now())
                    else:
                        i += 1
                else:
                    note = order.append
                    for i in range(run_first, stop):
                        if gate[0]:
                            blocked = True
                            break
                        note(i)
                        direct((data, i, 0, payload), False)
                        stamp(now())
                    else:
                        i += 1
            except Full:  # no free slot: item i was not put
                blocked = True
                if order is not None:
                    order.pop()
            t = times[-1] if times else now()
            add_run(times, run_first, 1, 0, qi, _PUT_DONE, _COUNTED)
            times.clear()
            if t >= rt.flush_at or len(rt.events) >= rt.flush_n:
                rt._emitted(t)
            if blocked:
                break
    finally:  # StopRun, or a put that raised: what was put is still said
        add_run(times, run_first, 1, 0, qi, _PUT_DONE, _COUNTED)
    return i
