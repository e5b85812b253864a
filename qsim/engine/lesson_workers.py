"""Worker loops that only some lessons need, beside the usual ones in ``workers``.

* ``shm_ref`` producer + ``read_payload`` consumer (pitfall-large-objects): send
  the *name* of a ``multiprocessing.shared_memory`` block instead of the data;
  the consumer reports the bytes that crossed the queue per item and its peak
  memory as ``MARK`` events.
* ``inspect_helper`` producer (inspect): the tutorial's debugging helper, which
  looks into a ``multiprocessing.Queue`` right after ``put()`` and can find it
  empty because the feeder thread has not written the items into the pipe yet.
* ``join_first_main`` (pitfall-join-before-drain): the main process starts the
  producers itself and ``join()``s them before draining their queue: the
  deadlock from the ``multiprocessing`` programming guidelines.

Like every worker, these are module-level functions with picklable arguments
(they run under ``spawn``), report everything as events, and leave on stop or
when their parent dies. Nothing here imports Qt.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from multiprocessing import current_process, get_context
from multiprocessing.connection import Connection, Pipe
from multiprocessing.process import parent_process
from multiprocessing.reduction import ForkingPickler
from multiprocessing.shared_memory import SharedMemory
from typing import Any

from qsim.engine.control import SLICE_S, RunControl, live_slot
from qsim.engine.queues import QueueAdapter
from qsim.engine.runtime import Runtime, StopRun
from qsim.engine.workers import _run_actor, consumer_main, producer_main
from qsim.model.events import EventKind, ItemKind, producer_item_id, sentinel_id
from qsim.model.lessons import mark
from qsim.model.scenario import ConsumerSpec, ProducerSpec

K = EventKind
_DATA, _SENTINEL = int(ItemKind.DATA), int(ItemKind.SENTINEL)
SHM_KEEP = 4  # shared-memory handles a producer keeps open (Windows frees closed blocks)


def producer_target(loop: str) -> Callable[..., None]:
    """The function a producer process runs (``loop`` from the scenario)."""
    return {"": producer_main, "shm_ref": shm_ref_producer, "inspect_helper": inspect_helper}[loop]


def consumer_target(loop: str) -> Callable[..., None]:
    """The function a consumer process runs (``loop`` from the scenario)."""
    return {"": consumer_main, "read_payload": read_payload_consumer}[loop]


def _producer_done(ctl: RunControl) -> None:
    with ctl.producers_done.get_lock():
        ctl.producers_done.value += 1


def _more(spec: ProducerSpec, n: int, t_end: float) -> bool:
    if spec.items:
        return n < spec.items and not (t_end and time.monotonic() >= t_end)
    return time.monotonic() < t_end


def _make_item(rt: Runtime, actor: int, n: int, interval: float, spec: ProducerSpec) -> int:
    item = producer_item_id(actor, n)
    if interval > 0:
        rt.emit(K.WORK_START, item, -1, None)
        rt.sleep(rt.draw(interval, spec.distribution))
        rt.emit(K.WORK_END, item, -1, None)
    return item


def _send_stops(rt: Runtime, qa: QueueAdapter, qi: int, actor: int, n: int) -> None:
    for s in range(1, (rt.ctl.claim_stops(qi, n) if n else 0) + 1):
        sid = sentinel_id(actor, s)
        rt.put(qa, qi, (_SENTINEL, sid, 1 << 30, None))
        rt.emit(K.SENTINEL_SENT, sid, qi, None)


# ------------------------------------------------------------ shared memory
def _ignore(*_args: Any, **_kw: Any) -> None:
    return None


@contextlib.contextmanager
def _untracked() -> Iterator[None]:
    """Keep Python < 3.13's resource tracker out of our shared-memory blocks.

    It registers every ``SharedMemory``, even one that only attaches, and at
    exit unlinks (and warns about) blocks another process still owns. Ours have
    owners: the consumer unlinks what it read, the producer what was never read.
    """
    from multiprocessing import resource_tracker

    saved = resource_tracker.register, resource_tracker.unregister
    setattr(resource_tracker, "register", _ignore)  # noqa: B010 - a module function
    setattr(resource_tracker, "unregister", _ignore)  # noqa: B010
    try:
        yield
    finally:
        setattr(resource_tracker, "register", saved[0])  # noqa: B010
        setattr(resource_tracker, "unregister", saved[1])  # noqa: B010


def _shm(name: str | None = None, size: int = 0) -> SharedMemory:
    """Create (no ``name``) or attach a block without the resource tracker."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name, name is None, size, track=False)
    with _untracked():
        return SharedMemory(name, name is None, size)


def _unlink(name: str) -> None:
    """Remove a block by name; a block already gone is fine."""
    try:
        shm = _shm(name)
    except FileNotFoundError:
        return
    with _untracked():
        shm.unlink()
    shm.close()


def _buf(shm: SharedMemory) -> memoryview:
    buf = shm.buf
    assert buf is not None  # only after close()
    return buf


def _read_payload(payload: Any) -> int:
    """What a consumer does with an item: a checksum over its data.

    A shared-memory block is read in place (no copy); inline bytes have been
    copied through the pipe and unpickled already.
    """
    if isinstance(payload, tuple) and payload and payload[0] == "shm":
        _, name, size = payload
        shm = _shm(name)
        try:
            return zlib.crc32(_buf(shm)[:size])
        finally:
            shm.close()
            with _untracked():
                shm.unlink()  # read once: the block's job is done
    return zlib.crc32(payload) if isinstance(payload, bytes | bytearray) else 0


def _peak_rss_mb() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes vs KiB


def shm_ref_producer(
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
    """Put a shared-memory block's name per item instead of the data itself."""
    rt = Runtime(actor, conn, ctl, seed)
    qa = QueueAdapter(q, kind)
    slot_interval = live_slot("producer", group, "interval")
    created: list[str] = []
    open_blocks: deque[SharedMemory] = deque()

    def body() -> None:
        size = max(1, spec.payload_bytes)
        data = b"x" * size
        t_end = time.monotonic() + spec.duration if spec.duration else 0.0
        n = 0
        while _more(spec, n, t_end):
            n += 1
            item = _make_item(rt, actor, n, ctl.live[slot_interval], spec)
            shm = _shm(size=size)
            _buf(shm)[:size] = data
            created.append(shm.name)
            open_blocks.append(shm)
            while len(open_blocks) > SHM_KEEP:
                open_blocks.popleft().close()
            if not rt.put(qa, qi, (_DATA, item, 0, ("shm", shm.name, size)), 1, spec.put_timeout):
                _unlink(shm.name)  # queue.Full: nobody will read it
        _send_stops(rt, qa, qi, actor, sentinels)
        _producer_done(ctl)

    def guarded() -> None:
        try:
            body()
        except StopRun:
            for name in created:  # what the consumer did not read is ours to remove
                _unlink(name)
            raise
        finally:
            for shm in open_blocks:
                shm.close()

    _run_actor(rt, [qa], guarded)


def read_payload_consumer(
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
    """Read every payload (inline bytes or a shared-memory name) and report
    the bytes that crossed the queue per item and this process's peak memory."""
    rt = Runtime(actor, conn, ctl, seed)
    qa = QueueAdapter(q, kind)
    slot_work = live_slot("consumer", group, "work_time")
    slot_fail = live_slot("consumer", group, "failure_rate")

    def body() -> None:
        measured = False
        while True:
            ok, obj = rt.get(qa, qi, spec.get_timeout)
            if not ok:
                continue
            ikind, item, _prio, payload = obj
            if ikind == _SENTINEL:
                rt.emit(K.SENTINEL_RECEIVED, item, qi, None)
                return
            if not measured:  # what Queue.put() pickled and sent through the pipe
                measured = True
                rt.emit(K.MARK, item, qi, mark(f"{spec.id}.bytes_per_item", _pickled(obj)))
            work = ctl.live[slot_work]
            if work > 0:
                rt.emit(K.WORK_START, item, qi, None)
                rt.sleep(rt.draw(work, spec.distribution))
            try:
                _read_payload(payload)
            except FileNotFoundError as e:  # removed by a stopping producer
                rt.emit(K.ERROR, item, qi, f"shared memory block gone: {e}")
            else:
                fail = ctl.live[slot_fail]
                if fail and rt.rng.random() < fail:
                    rt.emit(K.ERROR, item, qi, "processing failed")
            rt.emit(K.WORK_END, item, qi, None)

    def guarded() -> None:
        try:
            body()
        except StopRun:
            # refs still queued would leave their blocks behind: remove them
            for _ in range(10_000):
                ok, obj = qa.try_get()
                if not ok:
                    break
                payload = obj[3]
                if isinstance(payload, tuple) and payload and payload[0] == "shm":
                    _unlink(payload[1])
            raise
        finally:
            peak = _peak_rss_mb()
            if peak is not None:
                with contextlib.suppress(OSError, StopRun):
                    rt.emit(K.MARK, 0, qi, mark(f"{spec.id}.peak_rss_mb", round(peak, 1)))

    _run_actor(rt, [qa], guarded)


def _pickled(obj: Any) -> int:
    return len(ForkingPickler.dumps(obj))


# ------------------------------------------------------------ inspect
def inspect_helper(
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
    """The tutorial's debugging helper, run in a loop on its own queue.

    Each round puts 3 records, then at once lists the queue the way the helper
    does (``while not q.empty(): q.get_nowait()``) and compares: a
    ``multiprocessing.Queue`` hands items to a feeder thread, so right after
    ``put()`` they may not be in the pipe yet. The verdicts are ``MARK`` events
    ("Items match: False", ...), counted in the report's ``marks``.
    """
    rt = Runtime(actor, conn, ctl, seed)
    qa = QueueAdapter(q, kind)
    slot_interval = live_slot("producer", group, "interval")

    def body() -> None:
        numbers = max(1, spec.payload_bytes // 8)  # a record: a list of numbers
        t_end = time.monotonic() + spec.duration if spec.duration else 0.0
        n = 0
        while _more(spec, n, t_end):
            n += 1
            item = _make_item(rt, actor, n, ctl.live[slot_interval], spec)
            rt.check_stop()
            records = [(n, k, list(range(numbers))) for k in range(3)]
            for rec in records:
                q.put(rec)
            found = []
            while not q.empty():
                found.append(q.get_nowait())
            rt.emit(K.MARK, item, qi, f"Items match: {found == records}")
            if not found:
                rt.emit(K.MARK, item, qi, "queue looked empty right after put()")
            # take back what the helper missed, so that each round starts empty
            missing = len(records) - len(found)
            while missing:
                rt.check_stop()
                ok, _obj = qa.get_wait(SLICE_S)
                missing -= ok
        _producer_done(ctl)

    _run_actor(rt, [qa], body)


# ------------------------------------------------------------ join before drain
def start_join_first(run: Any, actor: int) -> None:
    """Start ``main`` of a ``join_producers_first`` scenario: it starts the
    producers itself (a process can only ``join()`` its own children).

    Each producer still reports through its own pipe to the run's collector:
    the run makes the pipes and ``main`` hands the write ends on.
    """
    sc, topo = run.scenario, run.topology
    groups = {p.id: n for n, p in enumerate(sc.producers)}
    producers = []
    ends = []
    for a in topo.actors:
        if a.role != "producer":
            continue
        spec = sc.producers[groups[a.group]]
        r, w = Pipe(duplex=False)
        run.collector.add(r, a.index)
        qi = a.output_queue
        qspec = sc.queues[qi]
        producers.append(
            (a.index, a.name, groups[a.group], spec, run.queues[qi], qspec.kind, qi, qspec.id)
        )
        ends.append(w)
    run._spawn(
        actor, join_first_main, (tuple(producers), tuple(ends)), (run.seed, run.start_method)
    )
    for w in ends:
        w.close()  # the producers hold theirs: EOF comes when they end


def join_first_main(
    actor: int,
    producers: tuple[tuple[int, str, int, ProducerSpec, Any, str, int, str], ...],
    ends: tuple[Connection, ...],
    conn: Connection,
    ctl: RunControl,
    seed: int,
    start_method: str,
) -> None:
    """Start the producers, ``join()`` each, and only then drain the queue."""
    rt = Runtime(actor, conn, ctl, seed)
    q0, kind0, qi0 = producers[0][4:7]
    qa = QueueAdapter(q0, kind0)
    children: list[tuple[str, Any]] = []
    # A daemonic process may not have children, because it would be killed
    # without cleaning them up. This one stops its children itself (below),
    # and they watch it, so it may.
    current_process().daemon = False
    ctx: Any = get_context(start_method)

    def body() -> None:
        for (pa, name, group, spec, q, kind, qi, qid), w in zip(producers, ends, strict=True):
            p = ctx.Process(
                target=_join_first_producer,
                args=(pa, spec, group, q, kind, qi, qid, w, ctl, seed),
                name=f"qsim-{name}",
                daemon=True,
            )
            p.start()
            w.close()
            children.append((name, p))
        for name, p in children:
            rt.emit(K.JOIN_WAIT, 0, -1, f"{name}.join()")
            rt.flush()
            while p.is_alive():
                rt.check_stop()
                p.join(SLICE_S)
            rt.emit(K.JOIN_DONE, 0, -1, f"{name}.join()")
        expected = sum(info[3].items for info in producers)
        got = 0
        while got < expected:
            _ok, obj = rt.get(qa, qi0)
            if obj[0] == _SENTINEL:
                rt.emit(K.SENTINEL_RECEIVED, obj[1], qi0, None)
                continue
            rt.emit(K.WORK_END, obj[1], qi0, None)
            got += 1

    def guarded() -> None:
        try:
            body()
        finally:
            for _, p in children:
                if p.is_alive():
                    p.terminate()
                    p.join(0.5)
                if p.is_alive():
                    p.kill()
                    p.join(1.0)

    _run_actor(rt, [qa], guarded)


def _guard_orphan(ctl: RunControl) -> None:
    """Leave if the run stops or the parent dies, even while stuck at exit
    (waiting for the feeder thread is not a place our loop can look)."""
    parent = parent_process()

    def watch() -> None:
        stop_seen = 0
        while True:
            time.sleep(0.1)
            stop_seen = stop_seen + 1 if ctl.stop.value else 0
            if stop_seen > 5 or (parent is not None and not parent.is_alive()):
                os._exit(0)

    threading.Thread(target=watch, name="qsim-orphan-guard", daemon=True).start()


def _join_first_producer(
    actor: int,
    spec: ProducerSpec,
    group: int,
    q: Any,
    kind: str,
    qi: int,
    qid: str,
    conn: Connection,
    ctl: RunControl,
    seed: int,
) -> None:
    """Put the items, then do explicitly what every process does at exit:
    wait for the queue's feeder thread to write them all into the pipe."""
    _guard_orphan(ctl)
    rt = Runtime(actor, conn, ctl, seed)
    qa = QueueAdapter(q, kind)
    slot_interval = live_slot("producer", group, "interval")

    def body() -> None:
        payload = b"x" * spec.payload_bytes if spec.payload_bytes else None
        for n in range(1, spec.items + 1):
            item = _make_item(rt, actor, n, ctl.live[slot_interval], spec)
            rt.put(qa, qi, (_DATA, item, 0, payload))
        _send_stops(rt, qa, qi, actor, spec.sentinels)
        if not hasattr(q, "join_thread"):
            return  # no feeder thread (a manager's queue): nothing to wait for
        q.close()
        flusher = threading.Thread(target=q.join_thread, daemon=True)
        flusher.start()
        flusher.join(0.1)
        if flusher.is_alive():
            what = f"{qid}.join_thread(): its feeder thread cannot write the rest into the pipe"
            rt.emit(K.JOIN_WAIT, 0, -1, what)
            rt.flush()
            while flusher.is_alive():
                rt.check_stop()
                flusher.join(SLICE_S)
            rt.emit(K.JOIN_DONE, 0, -1, f"{qid}.join_thread()")

    _run_actor(rt, [qa], body)
