"""Worker loops: module-level functions with plain picklable arguments, so they
run the same under ``fork``, ``spawn`` and ``forkserver`` (and in a frozen app).

What travels in a queue is a tuple ``(item_kind, item_id, priority, payload)``
(see ``qsim.model.events.ItemKind``); a batch is one tuple whose payload is a
list. Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from typing import Any

from qsim.engine.control import SLICE_S, RunControl, live_slot
from qsim.engine.flat_puts import put_data
from qsim.engine.plain import plain_get, plain_put, plain_rate
from qsim.engine.queues import QueueAdapter
from qsim.engine.runtime import Retired, Runtime, StopRun
from qsim.model.events import WAITING_TURN, EventKind, ItemKind, producer_item_id, sentinel_id
from qsim.model.lessons import mark
from qsim.model.measured import pickle_marks
from qsim.model.scenario import ConsumerSpec, MainSpec, ProducerSpec
from qsim.model.transforms import TRANSFORMS
from qsim.model.wire import FLAG_CONSUMED, FLAG_TASK_DONE

K = EventKind
_WORK_END = int(K.WORK_END)
_DATA, _SENTINEL, _ERROR_RECORD, _BATCH = (int(k) for k in list(ItemKind)[:4])
EXIT_CRASH = 1  # an exception escaped the worker's loop
FAST_CHUNK = 256  # flat-out items between two looks at the live knobs
EXIT_INJECTED = 3  # os._exit() asked for by the scenario (crash_mode = "exit")


def _run_actor(rt: Runtime, queues: list[QueueAdapter], body: Callable[[], None]) -> None:
    """Common frame: started/exited events, stop handling, crash reporting."""
    rt.emit(K.ACTOR_STARTED, 0, -1, os.getpid())
    rt.flush()
    try:
        body()
        rt.wait_for_feeders()
    except StopRun as why:
        # buffered items may never reach a pipe nobody reads: do not hang on exit
        for qa in queues:
            qa.cancel_join_thread()
        _last_word(rt, K.ACTOR_EXITED, str(why))
        return
    except Exception as e:  # report the crash, then die with a crash exit code
        _last_word(rt, K.ERROR, f"{type(e).__name__}: {e}"[:300])
        sys.stderr.write(f"qsim worker {rt.actor} crashed: {type(e).__name__}: {e}\n")
        sys.stderr.flush()
        os._exit(EXIT_CRASH)
    _last_word(rt, K.ACTOR_EXITED, rt.exit_reason)


def _last_word(rt: Runtime, kind: int, value: str) -> None:
    with contextlib.suppress(OSError, StopRun):  # the controller is gone; nobody to tell
        rt.emit(kind, 0, -1, value)
        rt.flush()
    # all is said: from now on (e.g. waiting at exit for a feeder thread to
    # flush into a full pipe) terminate() may simply end the process
    if hasattr(signal, "SIGTERM"):
        with contextlib.suppress(ValueError):  # not the main thread
            signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _crash(rt: Runtime, mode: str, n: int) -> None:
    rt.emit(K.ERROR, 0, -1, f"injected crash ({mode}) after {n} items")
    rt.flush()
    if mode == "exit":
        os._exit(EXIT_INJECTED)
    if mode == "kill":
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))
        time.sleep(5)  # the signal is on its way
    raise RuntimeError(f"injected crash after {n} items")


def make_item(rt: Runtime, actor: int, n: int, interval: float, spec: ProducerSpec) -> int:
    """Item ``n`` of a producer, after ``interval`` (drawn) spent making it."""
    item = producer_item_id(actor, n)
    if interval > 0:
        rt.emit(K.WORK_START, item, -1, None)
        rt.sleep(rt.draw(interval, spec.distribution))
        rt.emit(K.WORK_END, item, -1, None)
    return item


def produce_items(
    rt: Runtime, actor: int, spec: ProducerSpec, slot_interval: int
) -> Iterator[tuple[int, int]]:
    """``(n, item)`` for each item a lesson producer makes: ``spec.items`` of
    them, or as many as ``spec.duration`` allows (whichever ends first)."""
    t_end = time.monotonic() + spec.duration if spec.duration else 0.0
    n = 0
    while _more(spec, n, t_end):
        n += 1
        yield n, make_item(rt, actor, n, rt.ctl.live[slot_interval], spec)


def _more(spec: ProducerSpec, n: int, t_end: float) -> bool:
    if spec.items:
        return n < spec.items and not (t_end and time.monotonic() >= t_end)
    return time.monotonic() < t_end


def _put_flat(
    rt: Runtime,
    qa: QueueAdapter,
    qi: int,
    base: int,
    n: int,
    total: int,
    batch_size: int,
    payload: Any,
    put_timeout: float,
) -> int:
    """Up to ``FAST_CHUNK`` puts of a flat-out producer; returns its new item count.

    The same puts as ``qsim.engine.plain.plain_put`` (a plain program), each
    through the runtime: one PUT_DONE per put.
    """
    put = rt.put
    k = FAST_CHUNK if not total else min(FAST_CHUNK, (total - n + batch_size - 1) // batch_size)
    if batch_size > 1:
        for _ in range(k):
            size = min(batch_size, total - n) if total else batch_size
            entries = [payload] * size if payload is not None else list(range(n + 1, n + size + 1))
            n += size
            put(qa, qi, (_BATCH, base + n, 0, entries), size, put_timeout)
        return n
    put_data(rt, qa, qi, base + n + 1, k, payload, put_timeout)
    return n + k


def wait_for_turn(rt: Runtime, ctl: RunControl, lane: int, qi: int) -> None:
    """Lanes one at a time: wait (idle, watching stop) until it is lane ``lane``'s turn."""
    if ctl.lane_turn.value >= lane:
        return
    rt.emit(K.PHASE, 0, qi, WAITING_TURN)
    rt.flush()
    while ctl.lane_turn.value < lane:
        rt.check_stop()
        time.sleep(SLICE_S)


def put_stops(rt: Runtime, qa: QueueAdapter, qi: int, actor: int, n: int) -> None:
    """Put ``n`` STOP sentinels into queue ``qi``."""
    for s in range(1, n + 1):
        sid = sentinel_id(actor, s)
        rt.put(qa, qi, (_SENTINEL, sid, 1 << 30, None))
        rt.emit(K.SENTINEL_SENT, sid, qi, None)


def send_stops(rt: Runtime, qa: QueueAdapter, qi: int, actor: int, sentinels: int) -> None:
    """A producer's STOPs: ``sentinels`` of them, give or take the readers
    added or retired live (``RunControl.claim_stops``); none if 0."""
    put_stops(rt, qa, qi, actor, rt.ctl.claim_stops(qi, sentinels) if sentinels else 0)


def producer_done(rt: Runtime, ctl: RunControl, qa: QueueAdapter) -> None:
    """Count a producer as done (``main`` waits for all before its STOPs), once
    what it put is in the pipe: ``main`` stands for a program's ``p.join()``,
    which returns only after the producer's exit flushed its feeder, so its
    STOPs never overtake an item still in the producer's feeder buffer."""
    rt.wait_for_feeders()  # a watched queue's: said, and watched
    while not qa.feeder_flushed(SLICE_S):
        rt.check_stop()
    with ctl.producers_done.get_lock():
        ctl.producers_done.value += 1


def producer_main(
    actor: int,
    spec: ProducerSpec,
    group: int,
    q: Any,
    kind: str,
    qi: int,
    conn: Connection,
    ctl: RunControl,
    seed: int,
    sentinels: int,
) -> None:
    rt = Runtime(actor, conn, ctl, seed)
    qa = rt.adapter(q, kind, qi)
    live = ctl.live
    slot_interval = live_slot("producer", group, "interval")
    slot_fail = live_slot("producer", group, "failure_rate")

    def body() -> None:
        payload = b"x" * spec.payload_bytes if spec.payload_bytes else None
        if spec.measure_pickle:  # once, before its lane: pickle.dumps size and time
            for text in pickle_marks():
                rt.emit(K.MARK, 0, qi, text)
            rt.flush()
        if ctl.lane_mode.value:
            wait_for_turn(rt, ctl, group, qi)
            if ctl.lane_mode.value == 2:  # first the same puts as a plain program
                rt.emit(K.PHASE, 0, qi, "plain program (no qsim)")
                rt.flush()
                plain = ctl.plain_queues.get(qi, q)
                plain_put(plain, payload, spec.batch_size, spec.items, spec.duration)
            rt.emit(K.PHASE, 0, qi, "")
            if spec.items:  # a lane of so many items: when its first put began
                rt.emit(
                    K.MARK, 0, qi, mark(f"{spec.id}.first_put_us", time.monotonic_ns() // 1000)
                )
        prios = spec.priorities
        weights = spec.priority_weights or None
        records = spec.records
        total = len(records) if records else spec.items
        t_end = time.monotonic() + spec.duration if spec.duration else 0.0
        batch: list[Any] = []
        n = 0
        put = rt.put
        batch_size, put_timeout, crash_after = spec.batch_size, spec.put_timeout, spec.crash_after
        base = producer_item_id(actor, 0)
        flat = not prios and not records and not crash_after
        while (total and n < total) or (not total and time.monotonic() < t_end):
            if total and t_end and time.monotonic() >= t_end:
                break
            if flat and not live[slot_interval] and not live[slot_fail]:
                # flat out: nothing to draw, time or fail per item. The clock and
                # the knobs that apply live are looked at every FAST_CHUNK puts.
                n = _put_flat(rt, qa, qi, base, n, total, batch_size, payload, put_timeout)
                continue
            n += 1
            item = base + n  # make_item(), inlined: the hot loop
            interval = live[slot_interval]
            if interval > 0:
                rt.emit(K.WORK_START, item, -1, None)
                rt.sleep(rt.draw(interval, spec.distribution))
                rt.emit(K.WORK_END, item, -1, None)
            prio = rt.rng.choices(prios, weights)[0] if prios else 0
            if records:
                body_: Any = records[n - 1]
            elif payload is not None or batch_size == 1:
                body_ = payload
            else:  # a batch of plain numbers, as _put_flat and a plain program make it
                body_ = n
            ikind = _DATA
            fail = live[slot_fail]
            abort = False
            if fail and rt.rng.random() < fail:
                ikind = _ERROR_RECORD
                body_ = f"error producing item {n}"
                rt.emit(K.ITEM_FAILED, item, qi, body_)
                abort = spec.abort_on_failure
            if batch_size > 1:
                batch.append(body_)
                if len(batch) < batch_size and n != total and not abort:
                    continue
                obj: tuple[Any, ...] = (_BATCH, item, prio, batch)
                count, batch = len(batch), []
            else:
                obj, count = (ikind, item, prio, body_), 1
            put(qa, qi, obj, count, put_timeout)
            if crash_after and n >= crash_after:
                _crash(rt, spec.crash_mode, n)
            if abort:  # the error record went out; the items after it are never made
                rt.exit_reason = f"aborted after item {n} failed"
                break
        if batch:
            rt.put(qa, qi, (_BATCH, producer_item_id(actor, n), 0, batch), len(batch))
        send_stops(rt, qa, qi, actor, sentinels)
        producer_done(rt, ctl, qa)

    _run_actor(rt, [qa], body)


def consumer_main(
    actor: int,
    spec: ConsumerSpec,
    group: int,
    q: Any,
    kind: str,
    qi: int,
    out_q: Any,
    out_kind: str,
    out_qi: int,
    next_group: int,
    conn: Connection,
    ctl: RunControl,
    seed: int,
    added: bool = False,
) -> None:
    """A consumer, or (with an output queue) a worker of a pipeline stage.

    ``added``: started live (pipeline + button) after the run began.
    """
    rt = Runtime(actor, conn, ctl, seed)
    qa = rt.adapter(q, kind, qi)
    out = rt.adapter(out_q, out_kind, out_qi) if out_q is not None else None
    joinable = kind == "JoinableQueue"
    live = ctl.live
    slot_work = live_slot("consumer", group, "work_time")
    slot_fail = live_slot("consumer", group, "failure_rate")
    transform = TRANSFORMS[spec.function] if spec.function else None

    def task_done(item: int) -> None:
        if not joinable or spec.task_done == "never":
            return
        for _ in range(2 if spec.task_done == "twice" else 1):
            try:
                qa.task_done()
            except ValueError as e:  # the real queue's own complaint: called too often
                rt.emit(K.TASK_DONE_ERROR, item, qi, f"ValueError: {e}")
            else:
                rt.emit(K.TASK_DONE, item, qi, None)

    def forward_stop() -> None:
        # the last worker of a stage to stop tells every worker of the next stage
        n_next = 0
        with ctl.group_alive.get_lock():
            ctl.group_alive[group] -= 1
            if out is not None and ctl.group_alive[group] == 0:
                n_next = max(1, ctl.group_workers[next_group]) if next_group >= 0 else 1
                ctl.stops_sent[out_qi] = 1
        if n_next:
            assert out is not None
            put_stops(rt, out, out_qi, actor, n_next)

    requeue = spec.on_sentinel == "requeue"

    def join_live() -> None:
        # a worker added live needs its own STOP: counted in by the sender if
        # none went in yet, else it puts one itself (as the sender would have)
        with ctl.group_alive.get_lock():
            own_stop = bool(ctl.stops_sent[qi]) and not requeue
            if not ctl.stops_sent[qi] and not requeue:
                ctl.stop_adjust[qi] += 1
            ctl.group_workers[group] += 1
        if own_stop:
            sid = sentinel_id(actor, 900_001)
            rt.put(qa, qi, (_SENTINEL, sid, 1 << 30, None))
            rt.emit(K.SENTINEL_SENT, sid, qi, None)

    def retire() -> bool:
        # removed live: leave between items, unless the STOPs are already in the
        # queue (then one would be left over): stay and stop at a STOP as usual
        rt.may_retire = False
        with ctl.group_alive.get_lock():
            if not requeue:
                if ctl.stops_sent[qi]:
                    return False
                ctl.stop_adjust[qi] -= 1
            ctl.group_workers[group] -= 1
        forward_stop()
        rt.exit_reason = "retired"
        return True

    def body() -> None:
        handled = 0
        timeouts = 0
        rt.may_retire = True
        if added:
            join_live()
        # locals: this loop is what a flat-out lesson's throughput is made of
        get, emit, retire_flags = rt.get, rt.emit, ctl.retire
        get_timeout, crash_after = spec.get_timeout, spec.crash_after
        plain = transform is None and out is None
        consumed = FLAG_CONSUMED
        if joinable and spec.task_done == "always":
            consumed |= FLAG_TASK_DONE
        if ctl.lane_mode.value == 2:  # a measured lane: first as a plain program
            n, seconds = plain_get(ctl.plain_queues.get(qi, q), joinable)
            rate = plain_rate(n, seconds)
            rt.emit(K.MARK, 0, qi, mark(f"{spec.id}.plain_items_per_s", round(rate, 1)))
        while True:
            if rt.may_retire and retire_flags[actor] and retire():
                return
            work, fail = live[slot_work], live[slot_fail]
            # an item with no work, no transform and nowhere to go is used up the
            # moment it is got: one event says both (GET_DONE, FLAG_CONSUMED),
            # and its task_done() too (FLAG_TASK_DONE)
            at_once = consumed if work <= 0 and not fail and plain else 0
            try:
                ok, obj = get(qa, qi, get_timeout, at_once)
            except Retired:
                if retire():
                    return
                continue
            if not ok:
                timeouts += 1
                if spec.stop_after_timeouts and timeouts >= spec.stop_after_timeouts:
                    rt.exit_reason = f"gave up after {timeouts} queue.Empty in a row"
                    forward_stop()
                    return
                continue
            timeouts = 0
            ikind, item, prio, payload = obj
            if ikind == _SENTINEL:
                rt.emit(K.SENTINEL_RECEIVED, item, qi, None)
                task_done(item)
                if spec.on_sentinel == "requeue":
                    rt.put(qa, qi, obj)
                    rt.emit(K.SENTINEL_SENT, item, qi, None)
                forward_stop()
                return
            if at_once and ikind in (_DATA, _BATCH):
                if joinable and not at_once & FLAG_TASK_DONE:
                    task_done(item)
                handled += 1
                if crash_after and handled >= crash_after:
                    _crash(rt, spec.crash_mode, handled)
                continue
            if work > 0:  # GET_DONE began the work: holding an item is working on it
                rt.sleep(rt.draw(work, spec.distribution))
            result: Any = payload
            if ikind == _ERROR_RECORD:
                emit(K.ERROR, item, qi, f"error record: {payload}")
            elif fail and rt.rng.random() < fail:
                emit(K.ERROR, item, qi, "processing failed")
            else:
                try:
                    if transform is not None:
                        result = transform(payload)
                except ValueError as e:  # a bad record: counted as failed, not a crash
                    rt.emit(K.ERROR, item, qi, f"{spec.function}: {e}")
                else:
                    if out is not None:
                        rt.put(out, out_qi, (ikind, item, prio, result), _count(obj))
                    elif isinstance(result, str) and transform is not None:
                        rt.emit(K.MARK, item, qi, result)
            emit(_WORK_END, item, qi, None)
            if joinable:
                task_done(item)
            handled += 1
            if crash_after and handled >= crash_after:
                _crash(rt, spec.crash_mode, handled)

    queues = [qa] if out is None else [qa, out]
    _run_actor(rt, queues, body)


def _count(obj: tuple[Any, ...]) -> int:
    return len(obj[3]) if obj[0] == ItemKind.BATCH else 1


def main_main(
    actor: int,
    spec: MainSpec,
    n_producers: int,
    sentinel_q: Any,
    sentinel_kind: str,
    sentinel_qi: int,
    join_q: Any,
    join_qi: int,
    conn: Connection,
    ctl: RunControl,
    seed: int,
) -> None:
    """The tutorial's main process: waits for the producers, sends the
    sentinels, and calls ``join()`` on a JoinableQueue."""
    rt = Runtime(actor, conn, ctl, seed)
    sq = rt.adapter(sentinel_q, sentinel_kind, sentinel_qi) if sentinel_q is not None else None

    def body() -> None:
        # what join() on each producer does: a producer that died has ended too
        # (the controller counts the ended ones), so a dead one cannot hold main
        while ctl.producers_done.value < n_producers and ctl.producers_ended.value < n_producers:
            rt.check_stop()
            time.sleep(SLICE_S)
        if sq is not None:
            put_stops(rt, sq, sentinel_qi, actor, ctl.claim_stops(sentinel_qi, spec.sentinels))
        if join_q is not None:
            rt.emit(K.JOIN_WAIT, 0, join_qi, None)
            rt.flush()
            # the real join(): it has no timeout, so it runs in a thread we watch
            waiter = threading.Thread(target=join_q.join, daemon=True)
            waiter.start()
            while waiter.is_alive():
                rt.check_stop()
                waiter.join(SLICE_S)
            rt.emit(K.JOIN_DONE, 0, join_qi, None)

    _run_actor(rt, [], body)
