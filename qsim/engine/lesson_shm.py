"""The shared-memory reference lane (pitfall-large-objects).

The ``shm_ref`` producer sends the *name* of a
``multiprocessing.shared_memory`` block instead of the data; the
``read_payload`` consumer reads either kind of payload and reports the bytes
that crossed the queue per item and the most memory its objects took at once
(``MemoryProbe``) as ``MARK`` events.
Nothing here imports Qt.

The reader unlinks what it has read, so it must never take a name from
scenario data (a pipeline can turn the record ``"shm:x:8"`` into the payload
``("shm", "x", "8")``): blocks are named by qsim, ``<run prefix><actor>_<n>``
with a random part per run (``RunControl.shm_prefix``), and a reader accepts a
name only if that producer has made that many blocks (``RunControl.shm_made``).
"""

from __future__ import annotations

import contextlib
import re
import sys
import tracemalloc
import zlib
from collections import deque
from collections.abc import Iterator
from multiprocessing.connection import Connection
from multiprocessing.reduction import ForkingPickler
from multiprocessing.shared_memory import SharedMemory
from typing import Any, TypeGuard

from qsim.engine.control import RunControl, live_slot
from qsim.engine.runtime import Runtime, StopRun
from qsim.engine.workers import (
    _run_actor,
    produce_items,
    producer_done,
    send_stops,
    wait_for_turn,
)
from qsim.model.events import EventKind, ItemKind
from qsim.model.lessons import mark
from qsim.model.limits import MAX_PAYLOAD_BYTES
from qsim.model.scenario import ConsumerSpec, ProducerSpec

K = EventKind
_DATA, _SENTINEL = int(ItemKind.DATA), int(ItemKind.SENTINEL)
SHM_KEEP = 4  # shared-memory handles a producer keeps open (Windows frees closed blocks)


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


def _shm(name: str, size: int = 0) -> SharedMemory:
    """Create (``size`` > 0) or attach a block without the resource tracker."""
    create = size > 0
    if sys.version_info >= (3, 13):
        return SharedMemory(name, create, size, track=False)
    with _untracked():
        return SharedMemory(name, create, size)


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


class NotOurBlock(ValueError):
    """A payload names a shared-memory block this run did not make."""


def block_name(ctl: RunControl, actor: int, n: int) -> str:
    """The name of producer ``actor``'s ``n``-th block (from 1): short enough for
    macOS (31 characters) and unguessable by a scenario."""
    return f"{ctl.shm_prefix}{actor}_{n}"


def _is_ref(payload: Any) -> TypeGuard[tuple[Any, ...]]:
    return isinstance(payload, tuple) and len(payload) == 3 and payload[0] == "shm"


def own_block(ctl: RunControl, payload: tuple[Any, ...]) -> tuple[str, int]:
    """``(name, size)`` of a reference to a block this run made; else ``NotOurBlock``."""
    _, name, size = payload
    m = (
        re.fullmatch(re.escape(ctl.shm_prefix) + r"(\d{1,4})_(\d{1,12})", name, re.ASCII)
        if isinstance(name, str)
        else None
    )
    ok = m is not None and type(size) is int and 0 < size <= MAX_PAYLOAD_BYTES
    if m is not None:
        actor, n = int(m.group(1)), int(m.group(2))
        ok = ok and actor < len(ctl.shm_made) and 1 <= n <= ctl.shm_made[actor]
    if not ok:
        shown = repr(name)[:60] if isinstance(name, str) else type(name).__name__
        raise NotOurBlock(f"refused shared-memory block {shown}: not made by this run")
    return name, size


def _read_payload(ctl: RunControl, payload: Any) -> int:
    """What a consumer does with an item: a checksum over its data.

    A shared-memory block is read in place (no copy); inline bytes have been
    copied through the pipe and unpickled already.
    """
    if _is_ref(payload):
        name, size = own_block(ctl, payload)
        shm = _shm(name)
        try:
            return zlib.crc32(_buf(shm)[: min(size, shm.size)])
        finally:
            shm.close()
            with _untracked():
                shm.unlink()  # read once: the block's job is done
    return zlib.crc32(payload) if isinstance(payload, bytes | bytearray) else 0


class MemoryProbe:
    """The most memory this process's Python objects take at once while it
    reads its first ``ITEMS`` items (``tracemalloc``'s peak).

    Not the process's resident size: a new process's high-water mark starts
    at its parent's size (fork copies the page tables; exec keeps the larger
    mark), and under fork malloc reuses pages the parent left resident, so
    neither shows the copies a message costs. Tracing costs time, so only
    the first items are traced: the lane's items/s is hardly touched.
    """

    ITEMS = 16

    def __init__(self) -> None:
        self.left = self.ITEMS
        tracemalloc.start(1)

    def item(self, name: str) -> list[str]:
        """After each item: the ``MARK`` text once the last traced one is done."""
        if self.left <= 0:
            return []
        self.left -= 1
        return self.finish(name) if self.left == 0 else []

    def finish(self, name: str) -> list[str]:
        """Stop tracing; the peak as a ``MARK`` text (none if already reported)."""
        if not tracemalloc.is_tracing():
            return []
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        self.left = 0
        return [mark(f"{name}.peak_alloc_mb", round(peak / 1e6, 2))]


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
    qa = rt.adapter(q, kind, qi)
    slot_interval = live_slot("producer", group, "interval")
    created: list[str] = []
    open_blocks: deque[SharedMemory] = deque()

    def body() -> None:
        size = max(1, spec.payload_bytes)
        data = b"x" * size
        if ctl.lane_mode.value:  # lanes one at a time: each has the machine to itself
            wait_for_turn(rt, ctl, group, qi)
            rt.emit(K.PHASE, 0, qi, "")
        for n, item in produce_items(rt, actor, spec, slot_interval):
            shm = _shm(block_name(ctl, actor, n), size)
            ctl.shm_made[actor] = n  # only this process writes its slot
            _buf(shm)[:size] = data
            created.append(shm.name)
            open_blocks.append(shm)
            while len(open_blocks) > SHM_KEEP:
                open_blocks.popleft().close()
            if not rt.put(qa, qi, (_DATA, item, 0, ("shm", shm.name, size)), 1, spec.put_timeout):
                _unlink(shm.name)  # queue.Full: nobody will read it
        send_stops(rt, qa, qi, actor, sentinels)
        producer_done(rt, ctl, qa)

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
    the bytes that crossed the queue per item and the most memory its objects
    took at once over its first items (``MemoryProbe``)."""
    rt = Runtime(actor, conn, ctl, seed)
    qa = rt.adapter(q, kind, qi)
    slot_work = live_slot("consumer", group, "work_time")
    slot_fail = live_slot("consumer", group, "failure_rate")

    probe = MemoryProbe()

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
            if work > 0:  # GET_DONE began the work
                rt.sleep(rt.draw(work, spec.distribution))
            try:
                _read_payload(ctl, payload)
            except FileNotFoundError as e:  # removed by a stopping producer
                rt.emit(K.ERROR, item, qi, f"shared memory block gone: {e}")
            except NotOurBlock as e:  # scenario data naming a block: never touched
                rt.emit(K.ERROR, item, qi, str(e))
            else:
                fail = ctl.live[slot_fail]
                if fail and rt.rng.random() < fail:
                    rt.emit(K.ERROR, item, qi, "processing failed")
            rt.emit(K.WORK_END, item, qi, None)
            for text in probe.item(spec.id):
                rt.emit(K.MARK, item, qi, text)

    def guarded() -> None:
        try:
            body()
        except StopRun:
            # refs still queued would leave their blocks behind: remove them,
            # and say so (they really leave the queue, into this worker's hands)
            for _ in range(10_000):
                ok, obj = qa.try_get()
                if not ok:
                    break
                with contextlib.suppress(OSError, StopRun):
                    rt.emit(K.GET_DONE, obj[1], qi, 1)
                payload = obj[3] if isinstance(obj, tuple) and len(obj) == 4 else None
                if _is_ref(payload):
                    with contextlib.suppress(NotOurBlock):
                        _unlink(own_block(ctl, payload)[0])
            raise
        finally:
            with contextlib.suppress(OSError, StopRun):
                for text in probe.finish(spec.id):
                    rt.emit(K.MARK, 0, qi, text)

    _run_actor(rt, [qa], guarded)


def _pickled(obj: Any) -> int:
    return len(ForkingPickler.dumps(obj))
